// Per-framework metrics, as Mesos's master/frameworks/<name>/<id>/...
// (reference/mesos.md §9): calls received and events sent by type, offers
// sent / accepted / declined / rescinded, tasks by state, subscription and
// suppression. They live as long as the framework is in frameworks_ (Mesos
// drops them when the framework is removed).

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "agora/common/http.hpp"
#include "process.hpp"

namespace agora::master {

namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// "TASK_RUNNING" -> "task_running", as Mesos names its task metrics.
std::string stateName(v1::TaskState state) { return lowercase(v1::TaskState_Name(state)); }

constexpr v1::TaskState kActiveStates[] = {v1::TASK_STAGING, v1::TASK_STARTING, v1::TASK_RUNNING, v1::TASK_KILLING,
                                           v1::TASK_UNREACHABLE};
constexpr v1::TaskState kTerminalStates[] = {v1::TASK_FINISHED, v1::TASK_FAILED, v1::TASK_KILLED,
                                             v1::TASK_LOST,     v1::TASK_ERROR,  v1::TASK_DROPPED,
                                             v1::TASK_GONE,     v1::TASK_GONE_BY_OPERATOR};

}  // namespace

std::string frameworkMetricPrefix(const FrameworkEntry& framework) {
  // The name percent-encoded, as Mesos does: it may hold '/' or spaces.
  return fmt::format("master/frameworks/{}/{}/", percentEncode(framework.info.name()), framework.id);
}

void MasterProcess::countFrameworkCall(FrameworkEntry& framework, Call::Type type) {
  framework.counters["calls"] += 1;
  framework.counters["calls/" + lowercase(Call::Type_Name(type))] += 1;
}

void MasterProcess::countFrameworkEvent(FrameworkEntry& framework, Event::Type type) {
  framework.counters["events"] += 1;
  framework.counters["events/" + lowercase(Event::Type_Name(type))] += 1;
}

void MasterProcess::addFrameworkMetrics(std::map<std::string, double>& metrics) const {
  for (const auto& [id, framework] : frameworks_) {
    const std::string prefix = frameworkMetricPrefix(*framework);
    metrics[prefix + "subscribed"] = framework->connected ? 1 : 0;
    for (const char* name : {"calls", "events", "offers/sent", "offers/accepted", "offers/declined", "offers/rescinded"}) {
      metrics[prefix + name] = 0;
    }
    for (v1::TaskState state : kActiveStates) metrics[prefix + "tasks/active/" + stateName(state)] = 0;
    for (v1::TaskState state : kTerminalStates) metrics[prefix + "tasks/terminal/" + stateName(state)] = 0;
    for (const auto& [name, value] : framework->counters) metrics[prefix + name] = value;
    for (const auto& [taskId, task] : framework->tasks) {
      if (!isTerminal(task.task.state())) metrics[prefix + "tasks/active/" + stateName(task.task.state())] += 1;
    }
    metrics[prefix + "tasks/active/task_unreachable"] += static_cast<double>(framework->unreachableTasks.size());
    for (const auto& role : framework->roles) {
      metrics[prefix + "roles/" + role + "/suppressed"] = framework->suppressedRoles.count(role) > 0 ? 1 : 0;
    }
  }
}

}  // namespace agora::master
