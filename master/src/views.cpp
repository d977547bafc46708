// What the HTTP endpoints show: /master/info, /health, /state, metrics.

#include <fmt/format.h>

#include "agora/common/id.hpp"
#include "process.hpp"

namespace agora::master {

namespace {

using nlohmann::json;

double seconds(WallTime t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

}  // namespace

json resourcesJson(const Resources& resources) {
  json out = json::object();
  for (const Resource& r : resources) {
    switch (r.type()) {
      case Resource::Type::kScalar: break;
      case Resource::Type::kRanges: out[r.name] = resources.ranges(r.name).toString(); continue;
      case Resource::Type::kSet: {
        std::string items;
        for (const auto& item : resources.items(r.name)) items += (items.empty() ? "" : ",") + item;
        out[r.name] = "{" + items + "}";
        continue;
      }
    }
    out[r.name] = resources.scalar(r.name).toDouble();
  }
  for (const char* name : {"cpus", "mem", "disk", "gpus"}) {
    if (!out.contains(name)) out[name] = 0.0;
  }
  return out;
}

namespace {

json attributesJson(const google::protobuf::RepeatedPtrField<v1::Attribute>& attributes) {
  json out = json::object();
  for (const auto& attribute : attributes) {
    switch (attribute.type()) {
      case v1::Value::SCALAR: out[attribute.name()] = attribute.scalar().value(); break;
      case v1::Value::TEXT: out[attribute.name()] = attribute.text().value(); break;
      case v1::Value::RANGES: {
        std::string text;
        for (const auto& range : attribute.ranges().range()) {
          text += fmt::format("{}{}-{}", text.empty() ? "" : ",", range.begin(), range.end());
        }
        out[attribute.name()] = "[" + text + "]";
        break;
      }
      case v1::Value::SET: {
        std::string text;
        for (const auto& item : attribute.set().item()) text += (text.empty() ? "" : ",") + item;
        out[attribute.name()] = "{" + text + "}";
        break;
      }
    }
  }
  return out;
}

json taskJson(const v1::Task& task) {
  json statuses = json::array();
  for (const auto& status : task.statuses()) {
    json entry = {{"state", v1::TaskState_Name(status.state())}, {"timestamp", status.timestamp()}};
    if (status.has_healthy()) entry["healthy"] = status.healthy();
    statuses.push_back(std::move(entry));
  }
  auto resources = Resources::fromProto(task.resources());
  return {{"id", task.task_id().value()},
          {"name", task.name()},
          {"framework_id", task.framework_id().value()},
          {"executor_id", task.has_executor_id() ? task.executor_id().value() : ""},
          {"agent_id", task.agent_id().value()},
          {"slave_id", task.agent_id().value()},
          {"state", v1::TaskState_Name(task.state())},
          {"resources", resourcesJson(resources.ok() ? resources->unallocate() : Resources())},
          {"statuses", statuses}};
}

}  // namespace

v1::MasterInfo MasterProcess::masterInfo() const { return info_; }

nlohmann::json MasterProcess::health() const { return {{"healthy", true}, {"recovered", recovered_}}; }

nlohmann::json MasterProcess::stateJson() const {
  json agents = json::array();
  for (const auto& [id, agent] : agents_) {
    Resources used;
    for (const auto& [frameworkId, taskIds] : agent->tasks) {
      auto framework = frameworks_.find(frameworkId);
      if (framework == frameworks_.end()) continue;
      for (const auto& taskId : taskIds) {
        auto task = framework->second->tasks.find(taskId);
        if (task != framework->second->tasks.end() && !task->second.released) used += task->second.resources;
      }
    }
    Resources offered;
    for (const auto& offerId : agent->offers) offered += offers_.at(offerId).resources;
    json reserved = json::object();
    for (const auto& [role, resources] : agent->total.reservations()) reserved[role] = resourcesJson(resources);
    agents.push_back({{"id", id},
                      {"pid", agent->peer},
                      {"hostname", agent->info.hostname()},
                      {"port", agent->info.port()},
                      {"http_address", agent->httpAddress},
                      {"version", agent->version},
                      {"registered_time", seconds(agent->registeredTime)},
                      {"resources", resourcesJson(agent->total)},
                      {"used_resources", resourcesJson(used.unallocate())},
                      {"offered_resources", resourcesJson(offered.unallocate())},
                      {"reserved_resources", reserved},
                      {"unreserved_resources", resourcesJson(agent->total.unreserved())},
                      {"attributes", attributesJson(agent->info.attributes())},
                      {"active", agent->active},
                      {"deactivated", agent->deactivated},
                      {"connected", agent->connected}});
  }
  json unreachable = json::array();
  for (const auto& [id, entry] : unreachable_) unreachable.push_back({{"id", id}, {"timestamp", seconds(entry.time)}});
  json recovered = json::array();
  for (const auto& [id, info] : recoveredAgents_) recovered.push_back({{"id", id}, {"hostname", info.hostname()}});

  auto frameworkJson = [&](const FrameworkEntry& framework) {
    json tasks = json::array();
    for (const auto& [taskId, task] : framework.tasks) tasks.push_back(taskJson(task.task));
    json unreachableTasks = json::array();
    for (const auto& [taskId, task] : framework.unreachableTasks) unreachableTasks.push_back(taskJson(task));
    json completedTasks = json::array();
    for (const auto& task : framework.completedTasks) completedTasks.push_back(taskJson(task));
    json offers = json::array();
    Resources offered;
    for (const auto& offerId : framework.offers) {
      const OfferEntry& offer = offers_.at(offerId);
      offered += offer.resources;
      offers.push_back({{"id", offerId},
                        {"agent_id", offer.agentId},
                        {"role", offer.role},
                        {"resources", resourcesJson(offer.resources.unallocate())}});
    }
    Resources used;
    for (const auto& [taskId, task] : framework.tasks) {
      if (!task.released) used += task.resources;
    }
    json result = {{"id", framework.id},
                   {"name", framework.info.name()},
                   {"user", framework.info.user()},
                   {"roles", framework.roles},
                   {"principal", framework.info.principal()},
                   {"hostname", framework.info.hostname()},
                   {"failover_timeout", framework.info.failover_timeout()},
                   {"checkpoint", framework.info.checkpoint()},
                   {"active", framework.active},
                   {"connected", framework.connected},
                   {"recovered", framework.recovered},
                   {"registered_time", seconds(framework.registeredTime)},
                   {"used_resources", resourcesJson(used.unallocate())},
                   {"offered_resources", resourcesJson(offered.unallocate())},
                   {"tasks", tasks},
                   {"unreachable_tasks", unreachableTasks},
                   {"completed_tasks", completedTasks},
                   {"offers", offers}};
    if (framework.unregisteredTime) result["unregistered_time"] = seconds(*framework.unregisteredTime);
    return result;
  };
  json frameworks = json::array();
  for (const auto& [id, framework] : frameworks_) frameworks.push_back(frameworkJson(*framework));
  json completed = json::array();
  for (const auto& framework : completedFrameworks_) completed.push_back(frameworkJson(*framework));

  return {{"id", info_.id()},
          {"hostname", info_.hostname()},
          {"version", info_.version()},
          {"pid", info_.pid()},
          {"zmq_endpoint", info_.zmq_endpoint()},
          {"start_time", seconds(startTime_)},
          {"leader", info_.pid()},
          {"activated_slaves", agents_.size()},
          {"unreachable_slaves", unreachable_.size()},
          {"agents", agents},
          {"slaves", agents},
          {"unreachable_agents", unreachable},
          {"recovered_agents", recovered},
          {"frameworks", frameworks},
          {"completed_frameworks", completed}};
}

std::optional<std::string> MasterProcess::agentHttpAddress(const std::string& agentId) const {
  auto agent = agents_.find(agentId);
  if (agent == agents_.end()) return std::nullopt;
  return agent->second->httpAddress;
}

std::map<std::string, double> MasterProcess::metrics() const {
  std::map<std::string, double> m;
  for (const char* name :
       {"master/dropped_messages", "master/slave_registrations", "master/slave_reregistrations",
        "master/slave_removals", "master/slave_removals/reason_unhealthy", "master/slave_unreachable_completed",
        "master/framework_registrations", "master/framework_reregistrations", "master/invalid_subscriptions",
        "master/valid_status_updates", "master/invalid_status_updates",
        "master/valid_status_update_acknowledgements", "master/invalid_status_update_acknowledgements",
        "master/valid_framework_to_executor_messages", "master/invalid_framework_to_executor_messages",
        "master/valid_executor_to_framework_messages", "master/invalid_executor_to_framework_messages",
        "master/invalid_accepts", "master/invalid_tasks", "master/invalid_operations", "master/offers_sent",
        "master/offers_accepted", "master/offers_declined", "master/offers_rescinded", "master/offers_timed_out",
        "master/tasks_finished", "master/tasks_failed", "master/tasks_killed", "master/tasks_lost",
        "master/tasks_error", "master/tasks_dropped", "master/tasks_gone", "master/tasks_gone_by_operator"}) {
    m[name] = 0;
  }
  for (const auto& [name, value] : counters_) m[name] = value;
  m["master/elected"] = 1;
  addFrameworkMetrics(m);
  m["master/uptime_secs"] = std::chrono::duration<double>(clock_.wallNow() - startTime_).count();

  double active = 0, connected = 0;
  Resources total, used;
  for (const auto& [id, agent] : agents_) {
    active += agent->active ? 1 : 0;
    connected += agent->connected ? 1 : 0;
    total += agent->total;
  }
  m["master/slaves_active"] = active;
  m["master/slaves_inactive"] = static_cast<double>(agents_.size()) - active;
  m["master/slaves_connected"] = connected;
  m["master/slaves_disconnected"] = static_cast<double>(agents_.size()) - connected;
  m["master/slaves_unreachable"] = static_cast<double>(unreachable_.size());
  m["master/recovery_slave_removals"] = 0;

  double frameworksActive = 0, frameworksConnected = 0;
  std::map<v1::TaskState, double> states;
  for (const auto& [id, framework] : frameworks_) {
    frameworksActive += framework->active ? 1 : 0;
    frameworksConnected += framework->connected ? 1 : 0;
    for (const auto& [taskId, task] : framework->tasks) {
      states[task.task.state()] += 1;
      if (!task.released) used += task.resources;
    }
    states[v1::TASK_UNREACHABLE] += static_cast<double>(framework->unreachableTasks.size());
  }
  m["master/frameworks_active"] = frameworksActive;
  m["master/frameworks_inactive"] = static_cast<double>(frameworks_.size()) - frameworksActive;
  m["master/frameworks_connected"] = frameworksConnected;
  m["master/frameworks_disconnected"] = static_cast<double>(frameworks_.size()) - frameworksConnected;
  m["master/tasks_staging"] = states[v1::TASK_STAGING];
  m["master/tasks_starting"] = states[v1::TASK_STARTING];
  m["master/tasks_running"] = states[v1::TASK_RUNNING];
  m["master/tasks_killing"] = states[v1::TASK_KILLING];
  m["master/tasks_unreachable"] = states[v1::TASK_UNREACHABLE];
  m["master/outstanding_offers"] = static_cast<double>(offers_.size());
  for (const char* name : {"cpus", "mem", "disk", "gpus"}) {
    double t = total.scalar(name).toDouble();
    double u = used.scalar(name).toDouble();
    m[fmt::format("master/{}_total", name)] = t;
    m[fmt::format("master/{}_used", name)] = u;
    m[fmt::format("master/{}_percent", name)] = t > 0 ? u / t : 0;
  }

  // Allocator (reference/mesos.md §5.5).
  m["allocator/mesos/allocation_runs"] += 0;
  m["allocator/mesos/allocation_run_ms"] = lastAllocationMs_;
  m["allocator/mesos/allocation_run_ms/max"] = maxAllocationMs_;
  Resources offeredOrAllocated = used;
  for (const auto& [id, offer] : offers_) offeredOrAllocated += offer.resources;
  for (const auto& [name, amount] : total.scalarQuantities()) {
    m[fmt::format("allocator/mesos/resources/{}/total", name)] = amount.toDouble();
    m[fmt::format("allocator/mesos/resources/{}/offered_or_allocated", name)] =
        offeredOrAllocated.scalar(name).toDouble();
  }
  for (const RoleView& role : roleViews()) {
    m[fmt::format("allocator/mesos/roles/{}/shares/dominant", role.name)] = role.dominantShare;
    if (!role.quota) continue;
    for (const auto& [name, value] : role.quota->guarantees()) {
      m[fmt::format("allocator/mesos/quota/roles/{}/resources/{}/guarantee", role.name, name)] = value.value();
    }
    for (const auto& [name, value] : role.quota->limits()) {
      m[fmt::format("allocator/mesos/quota/roles/{}/resources/{}/limit", role.name, name)] = value.value();
    }
    for (const auto& [name, value] : role.consumed) {
      m[fmt::format("allocator/mesos/quota/roles/{}/resources/{}/offered_or_allocated", role.name, name)] =
          value.toDouble();
    }
  }

  // Registrar.
  const RegistrarStats& registrar = registrar_.stats();
  m["registrar/state_fetch_ms"] = registrar.fetchMs;
  m["registrar/state_store_ms"] = registrar.lastWriteMs;
  m["registrar/state_store_ms/max"] = registrar.maxWriteMs;
  m["registrar/state_store_ms/count"] = static_cast<double>(registrar.writes);
  m["registrar/state_store_ms/mean"] = registrar.writes > 0 ? registrar.totalWriteMs / registrar.writes : 0;
  return m;
}

}  // namespace agora::master
