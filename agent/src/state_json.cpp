// Views: /state, the metrics snapshot and sandbox paths.

#include <google/protobuf/util/json_util.h>

#include "agent_impl.hpp"

namespace agora::agent {
namespace {

using ExecutorState = ExecutorRecord::State;

nlohmann::json protoJson(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) return nullptr;
  return nlohmann::json::parse(text, nullptr, false);
}

// Mesos's summary form: {"cpus": 4, "mem": 1024, "ports": "[31000-32000]"}.
nlohmann::json summary(const Resources& resources) {
  nlohmann::json out = nlohmann::json::object();
  for (const Resource& resource : resources) {
    switch (resource.type()) {
      case Resource::Type::kScalar:
        out[resource.name] = resources.scalar(resource.name).toDouble();
        break;
      case Resource::Type::kRanges:
        out[resource.name] = resources.ranges(resource.name).toString();
        break;
      case Resource::Type::kSet: {
        std::string text = "{";
        for (const std::string& item : resources.items(resource.name)) text += (text.size() > 1 ? "," : "") + item;
        out[resource.name] = text + "}";
        break;
      }
    }
  }
  return out;
}

const char* stateName(ExecutorState state) {
  switch (state) {
    case ExecutorState::kLaunching: return "LAUNCHING";
    case ExecutorState::kRegistering: return "REGISTERING";
    case ExecutorState::kRunning: return "RUNNING";
    case ExecutorState::kTerminating: return "TERMINATING";
    case ExecutorState::kTerminated: return "TERMINATED";
  }
  return "UNKNOWN";
}

nlohmann::json executorJson(const ExecutorRecord& executor) {
  nlohmann::json out;
  out["id"] = executor.info.executor_id().value();
  out["name"] = executor.info.name();
  out["framework_id"] = executor.frameworkId.value();
  out["container"] = executor.containerId;
  out["directory"] = executor.directory;
  out["state"] = stateName(executor.state);
  out["type"] = executor.commandExecutor                                ? "COMMAND"
                : executor.info.type() == v1::ExecutorInfo::DEFAULT ? "DEFAULT"
                                                                    : "CUSTOM";
  out["resources"] = summary(executor.resources);
  if (executor.pid) out["pid"] = *executor.pid;
  out["tasks"] = nlohmann::json::array();
  out["queued_tasks"] = nlohmann::json::array();
  for (const auto& [id, task] : executor.tasks) {
    nlohmann::json t = protoJson(task.task);
    t.erase("statuses");
    t["directory"] = executor.directory;
    (task.launched || isTerminalState(task.task.state()) ? out["tasks"] : out["queued_tasks"]).push_back(t);
  }
  out["completed_tasks"] = nlohmann::json::array();
  for (const v1::Task& task : executor.completedTasks) {
    nlohmann::json t = protoJson(task);
    t.erase("statuses");
    out["completed_tasks"].push_back(t);
  }
  return out;
}

nlohmann::json frameworkJson(const FrameworkRecord& framework) {
  nlohmann::json out;
  out["id"] = framework.info.id().value();
  out["name"] = framework.info.name();
  out["user"] = framework.info.user();
  out["roles"] = nlohmann::json::array();
  for (const std::string& role : framework.info.roles()) out["roles"].push_back(role);
  out["checkpoint"] = framework.info.checkpoint();
  out["executors"] = nlohmann::json::array();
  for (const auto& [id, executor] : framework.executors) out["executors"].push_back(executorJson(executor));
  out["completed_executors"] = nlohmann::json::array();
  for (const ExecutorRecord& executor : framework.completedExecutors) {
    out["completed_executors"].push_back(executorJson(executor));
  }
  return out;
}

}  // namespace

nlohmann::json AgentImpl::stateJson() const {
  nlohmann::json out;
  Resources total = totalResources();
  out["id"] = info_.has_id() ? info_.id().value() : "";
  out["hostname"] = info_.hostname();
  out["port"] = info_.port();
  out["registered"] = registration_ == Registration::kRegistered;
  out["resources"] = summary(total);
  out["unreserved_resources"] = summary(total.unreserved());
  out["reserved_resources"] = nlohmann::json::object();
  for (const auto& [role, reserved] : total.reservations()) out["reserved_resources"][role] = summary(reserved);
  out["reserved_resources_full"] = nlohmann::json::object();
  for (const auto& [role, reserved] : total.reservations()) {
    nlohmann::json list = nlohmann::json::array();
    for (const v1::Resource& resource : reserved.toProto()) list.push_back(protoJson(resource));
    out["reserved_resources_full"][role] = list;
  }
  out["checkpointed_resources"] = nlohmann::json::array();
  for (const v1::Resource& resource : checkpointed_.toProto()) out["checkpointed_resources"].push_back(protoJson(resource));
  out["attributes"] = nlohmann::json::object();
  for (const v1::Attribute& attribute : info_.attributes()) {
    switch (attribute.type()) {
      case v1::Value::SCALAR: out["attributes"][attribute.name()] = attribute.scalar().value(); break;
      case v1::Value::TEXT: out["attributes"][attribute.name()] = attribute.text().value(); break;
      default: out["attributes"][attribute.name()] = protoJson(attribute); break;
    }
  }
  out["isolation"] = containerizer_.isolation();
  out["work_dir"] = options_.workDir;
  out["frameworks"] = nlohmann::json::array();
  for (const auto& [id, framework] : frameworks_) out["frameworks"].push_back(frameworkJson(framework));
  out["completed_frameworks"] = nlohmann::json::array();
  for (const FrameworkRecord& framework : completedFrameworks_) {
    out["completed_frameworks"].push_back(frameworkJson(framework));
  }
  return out;
}

std::map<std::string, double> AgentImpl::metrics() const {
  std::map<std::string, double> m;
  m["slave/registered"] = registration_ == Registration::kRegistered ? 1 : 0;
  m["slave/uptime_secs"] = std::chrono::duration<double>(clock_.now() - startTime_).count();
  m["slave/frameworks_active"] = static_cast<double>(frameworks_.size());
  std::map<v1::TaskState, double> current;
  std::map<ExecutorState, double> executors;
  Resources used;
  for (const auto& [fid, framework] : frameworks_) {
    for (const auto& [eid, executor] : framework.executors) {
      ++executors[executor.state];
      if (executor.state != ExecutorState::kTerminated) used += executor.resources;
      for (const auto& [tid, task] : executor.tasks) ++current[task.task.state()];
    }
  }
  m["slave/tasks_staging"] = current[v1::TASK_STAGING];
  m["slave/tasks_starting"] = current[v1::TASK_STARTING];
  m["slave/tasks_running"] = current[v1::TASK_RUNNING];
  m["slave/tasks_killing"] = current[v1::TASK_KILLING];
  auto terminal = [&](v1::TaskState state) {
    auto it = counters_.terminalTasks.find(state);
    return it == counters_.terminalTasks.end() ? 0.0 : static_cast<double>(it->second);
  };
  m["slave/tasks_finished"] = terminal(v1::TASK_FINISHED);
  m["slave/tasks_failed"] = terminal(v1::TASK_FAILED);
  m["slave/tasks_killed"] = terminal(v1::TASK_KILLED);
  m["slave/tasks_lost"] = terminal(v1::TASK_LOST);
  m["slave/tasks_gone"] = terminal(v1::TASK_GONE);
  m["slave/tasks_dropped"] = terminal(v1::TASK_DROPPED);
  m["slave/tasks_error"] = terminal(v1::TASK_ERROR);
  m["slave/executors_registering"] = executors[ExecutorState::kLaunching] + executors[ExecutorState::kRegistering];
  m["slave/executors_running"] = executors[ExecutorState::kRunning];
  m["slave/executors_terminating"] = executors[ExecutorState::kTerminating];
  m["slave/executors_terminated"] = static_cast<double>(counters_.executorsTerminated);
  m["slave/valid_status_updates"] = static_cast<double>(counters_.validStatusUpdates);
  m["slave/invalid_status_updates"] = static_cast<double>(counters_.invalidStatusUpdates);
  m["slave/valid_framework_messages"] = static_cast<double>(counters_.validFrameworkMessages);
  m["slave/invalid_framework_messages"] = static_cast<double>(counters_.invalidFrameworkMessages);
  m["slave/recovery_errors"] = static_cast<double>(counters_.recoveryErrors);
  m["slave/dropped_messages"] = static_cast<double>(counters_.droppedMessages);
  m["slave/registration_attempts"] = static_cast<double>(counters_.registrationAttempts);
  m["slave/status_update_streams"] = updates_ ? static_cast<double>(updates_->streamCount()) : 0;
  m["slave/status_updates_pending"] = updates_ ? static_cast<double>(updates_->pendingCount()) : 0;
  Resources total = totalResources();
  for (const char* name : {"cpus", "mem", "disk", "gpus"}) {
    m[std::string("slave/") + name + "_total"] = total.scalar(name).toDouble();
    m[std::string("slave/") + name + "_used"] = used.scalar(name).toDouble();
    const double t = total.scalar(name).toDouble();
    m[std::string("slave/") + name + "_percent"] = t > 0 ? used.scalar(name).toDouble() / t : 0;
  }
  return m;
}

std::optional<std::string> AgentImpl::sandboxPath(const std::string& frameworkId, const std::string& taskId) const {
  auto it = frameworks_.find(frameworkId);
  // A task of the default executor (a task group) runs in its own
  // directory under the executor's, as in Mesos: that is its sandbox, with
  // its stdout and stderr.
  auto sandboxOf = [&taskId](const ExecutorRecord& executor) {
    return executor.info.type() == v1::ExecutorInfo::DEFAULT ? executor.directory + "/tasks/" + taskId
                                                              : executor.directory;
  };
  auto search = [&](const FrameworkRecord& framework) -> std::optional<std::string> {
    for (const auto& [eid, executor] : framework.executors) {
      if (executor.tasks.count(taskId)) return sandboxOf(executor);
      for (const v1::Task& task : executor.completedTasks) {
        if (task.task_id().value() == taskId) return sandboxOf(executor);
      }
    }
    for (const ExecutorRecord& executor : framework.completedExecutors) {
      for (const v1::Task& task : executor.completedTasks) {
        if (task.task_id().value() == taskId) return sandboxOf(executor);
      }
    }
    return std::nullopt;
  };
  if (it != frameworks_.end()) {
    if (auto found = search(it->second)) return found;
  }
  for (const FrameworkRecord& framework : completedFrameworks_) {
    if (framework.info.id().value() == frameworkId) {
      if (auto found = search(framework)) return found;
    }
  }
  return std::nullopt;
}

}  // namespace agora::agent
