// What the operator API shows: /roles, /state-summary, /weights, /quota, the
// v1 GET_* responses, and /allocator/explain.

#include <algorithm>

#include <fmt/format.h>

#include "agora/common/id.hpp"
#include "agora/common/role.hpp"
#include "process.hpp"

namespace agora::master {

namespace {

using nlohmann::json;
using Response = v1::master::Response;

double seconds(WallTime t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

json quantitiesJson(const ResourceQuantities& quantities) {
  json out = json::object();
  for (const auto& [name, value] : quantities) out[name] = value.toDouble();
  return out;
}

json scalarMapJson(const google::protobuf::Map<std::string, v1::Value::Scalar>& values) {
  json out = json::object();
  for (const auto& [name, scalar] : values) out[name] = scalar.value();
  return out;
}

std::string stateKey(v1::TaskState state) { return v1::TaskState_Name(state); }

}  // namespace

// --- Roles --------------------------------------------------------------------------

std::vector<RoleView> MasterProcess::roleViews() const {
  std::map<std::string, RoleView> roles;
  auto role = [&](const std::string& name) -> RoleView& {
    RoleView& view = roles[name];
    view.name = name;
    return view;
  };
  for (const auto& [name, weight] : weights_) role(name);
  for (const auto& [name, config] : quotas_) role(name);
  for (const auto& [id, framework] : frameworks_) {
    for (const auto& name : framework->roles) role(name).frameworks.push_back(id);
    for (const auto& [taskId, task] : framework->tasks) {
      if (task.released) continue;
      for (const auto& name : task.resources.allocationRoles()) {
        role(name).allocated += task.resources.filter([&](const Resource& r) { return r.allocationRole == name; });
      }
    }
  }
  for (const auto& [id, offer] : offers_) role(offer.role).offered += offer.resources;
  ResourceQuantities total;
  for (const auto& [id, agent] : agents_) {
    total += agent->total.scalarQuantities();
    for (const auto& [name, reserved] : agent->total.reservations()) role(name).reserved += reserved;
  }
  std::vector<RoleView> out;
  for (auto& [name, view] : roles) {
    auto weight = weights_.find(name);
    view.weight = weight == weights_.end() ? 1.0 : weight->second;
    // Hierarchical DRF: a role's share counts its whole subtree.
    ResourceQuantities used;
    for (const auto& [other, otherView] : roles) {
      if (isRoleOrSubrole(other, name)) used += (otherView.allocated + otherView.offered).scalarQuantities();
    }
    double share = 0;
    for (const auto& [resource, amount] : used) {
      double of = total.get(resource).toDouble();
      if (of > 0) share = std::max(share, amount.toDouble() / of);
    }
    view.dominantShare = share / view.weight;
    if (auto quota = quotas_.find(name); quota != quotas_.end()) view.quota = quota->second;
    view.consumed = consumedQuota(name);
    out.push_back(std::move(view));
  }
  return out;
}

nlohmann::json MasterProcess::rolesJson() const {
  json roles = json::array();
  for (const RoleView& view : roleViews()) {
    json role = {{"name", view.name},
                 {"weight", view.weight},
                 {"frameworks", view.frameworks},
                 {"resources", resourcesJson(view.allocated.unallocate())},
                 {"allocated", resourcesJson(view.allocated.unallocate())},
                 {"offered", resourcesJson(view.offered.unallocate())},
                 {"reserved", resourcesJson(view.reserved)},
                 {"dominant_share", view.dominantShare}};
    json quota = {{"role", view.name}, {"consumed", quantitiesJson(view.consumed)}};
    quota["guarantee"] = view.quota ? scalarMapJson(view.quota->guarantees()) : json::object();
    quota["limit"] = view.quota ? scalarMapJson(view.quota->limits()) : json::object();
    role["quota"] = quota;
    roles.push_back(std::move(role));
  }
  return {{"roles", roles}};
}

// --- /state-summary -----------------------------------------------------------------

nlohmann::json MasterProcess::stateSummaryJson() const {
  std::map<std::string, std::map<std::string, int64_t>> agentTasks;
  std::map<std::string, std::set<std::string>> agentFrameworks;
  json frameworks = json::array();
  std::map<std::string, int64_t> clusterTasks;
  for (const auto& [id, framework] : frameworks_) {
    std::map<std::string, int64_t> counts;
    std::set<std::string> agentIds;
    Resources used;
    for (const auto& [taskId, task] : framework->tasks) {
      const std::string state = stateKey(task.task.state());
      counts[state] += 1;
      clusterTasks[state] += 1;
      agentTasks[task.task.agent_id().value()][state] += 1;
      agentFrameworks[task.task.agent_id().value()].insert(id);
      agentIds.insert(task.task.agent_id().value());
      if (!task.released) used += task.resources;
    }
    for (const auto& task : framework->completedTasks) clusterTasks[stateKey(task.state())] += 1;
    counts[stateKey(v1::TASK_UNREACHABLE)] += static_cast<int64_t>(framework->unreachableTasks.size());
    clusterTasks[stateKey(v1::TASK_UNREACHABLE)] += static_cast<int64_t>(framework->unreachableTasks.size());
    Resources offered;
    for (const auto& offerId : framework->offers) offered += offers_.at(offerId).resources;
    json entry = {{"id", id},
                  {"name", framework->info.name()},
                  {"roles", framework->roles},
                  {"principal", framework->info.principal()},
                  {"active", framework->active},
                  {"connected", framework->connected},
                  {"used_resources", resourcesJson(used.unallocate())},
                  {"offered_resources", resourcesJson(offered.unallocate())},
                  {"slave_ids", agentIds}};
    for (const auto& [state, count] : counts) entry[state] = count;
    frameworks.push_back(std::move(entry));
  }
  json agents = json::array();
  Resources total;
  for (const auto& [id, agent] : agents_) {
    total += agent->total;
    json entry = {{"id", id},
                  {"hostname", agent->info.hostname()},
                  {"port", agent->info.port()},
                  {"active", agent->active},
                  {"connected", agent->connected},
                  {"registered_time", seconds(agent->registeredTime)},
                  {"resources", resourcesJson(agent->total)},
                  {"unreserved_resources", resourcesJson(agent->total.unreserved())},
                  {"framework_ids", agentFrameworks[id]}};
    for (const auto& [state, count] : agentTasks[id]) entry[state] = count;
    agents.push_back(std::move(entry));
  }
  json tasks = json::object();
  for (const auto& [state, count] : clusterTasks) tasks[state] = count;
  return {{"hostname", info_.hostname()},
          {"id", info_.id()},
          {"version", info_.version()},
          {"start_time", seconds(startTime_)},
          {"agents_active", static_cast<int64_t>(std::count_if(agents_.begin(), agents_.end(),
                                                               [](const auto& a) { return a.second->active; }))},
          {"agents_unreachable", unreachable_.size()},
          {"agents_recovered", recoveredAgents_.size()},
          {"frameworks_active", frameworks_.size()},
          {"frameworks_completed", completedFrameworks_.size()},
          {"outstanding_offers", offers_.size()},
          {"resources", resourcesJson(total)},
          {"tasks", tasks},
          {"slaves", agents},
          {"frameworks", frameworks}};
}

// --- Weights and quota ----------------------------------------------------------------

std::vector<v1::WeightInfo> MasterProcess::weightInfos() const {
  std::vector<v1::WeightInfo> out;
  for (const auto& [role, weight] : weights_) {
    v1::WeightInfo info;
    info.set_role(role);
    info.set_weight(weight);
    out.push_back(std::move(info));
  }
  return out;
}

v1::QuotaStatus MasterProcess::quotaStatus() const {
  v1::QuotaStatus status;
  for (const auto& [role, config] : quotas_) *status.add_configs() = config;
  return status;
}

// --- v1 GET_* responses -----------------------------------------------------------------

Response::GetExecutors MasterProcess::getExecutors() const {
  Response::GetExecutors out;
  for (const auto& [id, agent] : agents_) {
    for (const auto& [frameworkId, executors] : agent->executors) {
      for (const auto& [executorId, info] : executors) {
        auto* executor = out.add_executors();
        *executor->mutable_executor_info() = info;
        *executor->mutable_agent_id() = agent->info.id();
      }
    }
  }
  return out;
}

Response::GetAgents MasterProcess::getAgents() const {
  Response::GetAgents out;
  for (const auto& [id, agent] : agents_) {
    auto* entry = out.add_agents();
    *entry->mutable_agent_info() = agent->info;
    entry->set_active(agent->active);
    entry->set_deactivated(agent->deactivated);
    entry->set_version(agent->version);
    entry->set_pid(agent->peer);
    *entry->mutable_registered_time() = toTimeInfo(agent->registeredTime);
    agent->total.toProto(entry->mutable_total_resources());
    Resources allocated;
    for (const auto& [frameworkId, taskIds] : agent->tasks) {
      auto framework = frameworks_.find(frameworkId);
      if (framework == frameworks_.end()) continue;
      for (const auto& taskId : taskIds) {
        auto task = framework->second->tasks.find(taskId);
        if (task != framework->second->tasks.end() && !task->second.released) allocated += task->second.resources;
      }
    }
    allocated.toProto(entry->mutable_allocated_resources());
    Resources offered;
    for (const auto& offerId : agent->offers) offered += offers_.at(offerId).resources;
    offered.toProto(entry->mutable_offered_resources());
  }
  for (const auto& [id, info] : recoveredAgents_) *out.add_recovered_agents() = info;
  return out;
}

Response::GetFrameworks MasterProcess::getFrameworks() const {
  Response::GetFrameworks out;
  auto fill = [&](const FrameworkEntry& framework, Response::GetFrameworks::Framework* entry) {
    *entry->mutable_framework_info() = framework.info;
    entry->set_active(framework.active);
    entry->set_connected(framework.connected);
    entry->set_recovered(framework.recovered);
    *entry->mutable_registered_time() = toTimeInfo(framework.registeredTime);
    if (framework.unregisteredTime) *entry->mutable_unregistered_time() = toTimeInfo(*framework.unregisteredTime);
    Resources offered;
    for (const auto& offerId : framework.offers) {
      const OfferEntry& offer = offers_.at(offerId);
      *entry->add_offers() = offer.offer;
      offered += offer.resources;
    }
    offered.toProto(entry->mutable_offered_resources());
    Resources allocated;
    for (const auto& [taskId, task] : framework.tasks) {
      if (!task.released) allocated += task.resources;
    }
    allocated.toProto(entry->mutable_allocated_resources());
  };
  for (const auto& [id, framework] : frameworks_) fill(*framework, out.add_frameworks());
  for (const auto& framework : completedFrameworks_) fill(*framework, out.add_completed_frameworks());
  return out;
}

Response::GetTasks MasterProcess::getTasks() const {
  Response::GetTasks out;
  auto add = [&](const FrameworkEntry& framework) {
    for (const auto& [taskId, task] : framework.tasks) *out.add_tasks() = task.task;
    for (const auto& [taskId, task] : framework.unreachableTasks) *out.add_unreachable_tasks() = task;
    for (const auto& task : framework.completedTasks) *out.add_completed_tasks() = task;
  };
  for (const auto& [id, framework] : frameworks_) add(*framework);
  for (const auto& framework : completedFrameworks_) add(*framework);
  return out;
}

Response::GetRoles MasterProcess::getRoles() const {
  Response::GetRoles out;
  for (const RoleView& view : roleViews()) {
    v1::Role* role = out.add_roles();
    role->set_name(view.name);
    role->set_weight(view.weight);
    for (const auto& id : view.frameworks) role->add_frameworks()->set_value(id);
    view.allocated.toProto(role->mutable_resources());
  }
  return out;
}

// --- /allocator/explain ---------------------------------------------------------------

Result<nlohmann::json> MasterProcess::explainJson(const std::string& frameworkId) {
  auto it = frameworks_.find(frameworkId);
  if (it == frameworks_.end()) return Status::NotFound("No active framework " + quoteForLog(frameworkId));
  const FrameworkEntry& framework = *it->second;
  allocator::FrameworkExplanation explanation = allocator_.explain(frameworkId);
  const TimePoint now = clock_.now();
  json reasons = json::array();
  if (!framework.connected) reasons.push_back("The framework is disconnected: it gets no offers until it resubscribes");
  if (!framework.active) reasons.push_back("The framework is inactive");
  if (agents_.empty()) reasons.push_back("No agent is registered");

  allocator::FrameworkInfo info = allocatorInfo(framework);
  std::vector<ResourceQuantities> defaultMin;
  if (auto options = allocatorOptions(options_); options.ok()) defaultMin = options->minAllocatable;

  json roles = json::array();
  for (const allocator::RoleExplanation& role : explanation.roles) {
    json filters = json::array();
    std::set<std::string> filteredAgents;
    for (const auto& filter : role.filters) {
      filteredAgents.insert(filter.agentId);
      filters.push_back({{"agent_id", filter.agentId},
                         {"refused", resourcesJson(filter.refused)},
                         {"expires_in_seconds", std::max(0.0, std::chrono::duration<double>(filter.expiry - now).count())},
                         {"survives_next_batch", filter.survivesNextBatch}});
    }
    // Min allocatable: which active agents have enough free for this role.
    const auto& sets = info.minAllocatable.count(role.role) > 0 ? info.minAllocatable.at(role.role) : defaultMin;
    json belowMin = json::array();
    size_t meeting = 0;
    for (const auto& [agentId, agent] : agents_) {
      if (!agent->active) continue;
      ResourceQuantities free = allocator_.available(agentId).allocatableTo(role.role).quantities();
      bool ok = sets.empty() ? !free.empty()
                             : std::any_of(sets.begin(), sets.end(), [&](const auto& set) { return free.contains(set); });
      if (ok) {
        ++meeting;
      } else {
        belowMin.push_back(agentId);
      }
    }
    json minSets = json::array();
    for (const auto& set : sets) minSets.push_back(quantitiesJson(set));
    json entry = {{"role", role.role},
                  {"suppressed", role.suppressed},
                  {"dominant_share", role.roleShare},
                  {"rank", role.roleRank == SIZE_MAX ? json(nullptr) : json(role.roleRank)},
                  {"framework_share", role.frameworkShare},
                  {"framework_rank", role.frameworkRank == SIZE_MAX ? json(nullptr) : json(role.frameworkRank)},
                  {"weight", weights_.count(role.role) > 0 ? weights_.at(role.role) : 1.0},
                  {"consumed", quantitiesJson(role.consumed)},
                  {"limits_reached", role.limitsReached},
                  {"allocated", quantitiesJson(role.allocated)},
                  {"filters", filters},
                  {"min_allocatable", minSets},
                  {"agents_with_allocatable_resources", meeting},
                  {"agents_below_min_allocatable", belowMin}};
    if (role.quota) {
      entry["quota"] = {{"guarantee", quantitiesJson(role.quota->guarantees)},
                        {"limit", quantitiesJson(role.quota->limits)}};
    }
    roles.push_back(std::move(entry));

    const std::string& r = role.role;
    if (role.suppressed) reasons.push_back(fmt::format("Role '{}' is suppressed: the framework must REVIVE", r));
    if (!role.limitsReached.empty()) {
      std::string names;
      for (const auto& name : role.limitsReached) names += (names.empty() ? "" : ", ") + name;
      reasons.push_back(fmt::format("Role '{}' reached its quota limit on {}", r, names));
    }
    if (!agents_.empty() && filteredAgents.size() >= agents_.size()) {
      reasons.push_back(fmt::format("Role '{}': refuse filters (declines) cover every agent", r));
    } else if (!filteredAgents.empty()) {
      reasons.push_back(fmt::format("Role '{}': refuse filters on {} of {} agents", r, filteredAgents.size(),
                                    agents_.size()));
    }
    if (!agents_.empty() && meeting == 0) {
      reasons.push_back(fmt::format("Role '{}': no agent has the minimum allocatable resources free", r));
    }
  }
  json lastOffers = json::array();
  for (const auto& [agentId, last] : framework.lastOffers) {
    lastOffers.push_back({{"agent_id", agentId}, {"role", last.first}, {"time", seconds(last.second)}});
  }
  if (reasons.empty()) {
    reasons.push_back(framework.offers.empty() ? "Nothing stops offers; the framework is next when resources free up"
                                               : "The framework holds outstanding offers");
  }
  return json{{"framework_id", frameworkId},
              {"name", framework.info.name()},
              {"active", framework.active},
              {"connected", framework.connected},
              {"outstanding_offers", framework.offers.size()},
              {"roles", roles},
              {"last_offers", lastOffers},
              {"reasons", reasons}};
}

}  // namespace agora::master
