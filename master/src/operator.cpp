// The operator API's mutations (reference/mesos.md §3.1, §4.4, §5.3):
// dynamic reservations, weights, quota, teardown, agents gone, task kills.
// Each validates untrusted input first and answers with a Status the HTTP
// edge maps to a code: InvalidArgument 400, NotFound 404,
// FailedPrecondition 409 (e.g. not enough unreserved resources).

#include <cmath>

#include <fmt/format.h>

#include "agora/common/id.hpp"
#include "agora/common/role.hpp"
#include "process.hpp"

namespace agora::master {

namespace {

bool isCheckpointed(const Resource& r) { return r.isDynamicallyReserved() || r.isPersistentVolume(); }

// Resources of an operator request in unallocated form.
Result<Resources> requestResources(const google::protobuf::RepeatedPtrField<v1::Resource>& proto,
                                   std::string_view what) {
  if (proto.empty()) return Status::InvalidArgument(fmt::format("No {} given", what));
  auto parsed = Resources::fromProto(proto);
  if (!parsed.ok()) return parsed.error().withContext(fmt::format("Invalid {}", what));
  return parsed->unallocate();
}

// Mesos caps quota values: 1 EB for mem and disk (in MB), 1e12 otherwise.
Status validateQuotaScalars(const google::protobuf::Map<std::string, v1::Value::Scalar>& values,
                            std::string_view role, std::string_view what) {
  for (const auto& [name, scalar] : values) {
    if (name.empty()) return Status::InvalidArgument(fmt::format("Quota {} of role '{}': empty resource name", what, role));
    double v = scalar.value();
    if (!std::isfinite(v) || v < 0) {
      return Status::InvalidArgument(fmt::format("Quota {} of role '{}': '{}' must be a non-negative number", what,
                                                 role, quoteForLog(name)));
    }
    if (v > 1e12) {
      return Status::InvalidArgument(fmt::format("Quota {} of role '{}': '{}' is over 1e12", what, role,
                                                 quoteForLog(name)));
    }
  }
  return Status::OK();
}

ResourceQuantities quantitiesOf(const google::protobuf::Map<std::string, v1::Value::Scalar>& values) {
  ResourceQuantities out;
  for (const auto& [name, scalar] : values) {
    if (auto value = Scalar::fromDouble(scalar.value()); value.ok()) out.set(name, *value);
  }
  return out;
}

}  // namespace

allocator::Quota toAllocatorQuota(const v1::QuotaConfig& config) {
  return allocator::Quota{quantitiesOf(config.guarantees()), quantitiesOf(config.limits())};
}

// --- Reservations ----------------------------------------------------------------

void MasterProcess::convertAgentResources(AgentEntry& agent, const Resources& from, const Resources& to) {
  agent.total -= from;
  agent.total += to;
  agent.checkpointed -= from.filter(isCheckpointed);
  agent.checkpointed += to.filter(isCheckpointed);
}

void MasterProcess::sendCheckpointedResources(AgentEntry& agent) {
  internal::Envelope checkpoint;
  agent.checkpointed.toProto(checkpoint.mutable_checkpoint_resources()->mutable_resources());
  checkpoint.mutable_checkpoint_resources()->mutable_resource_version_uuid()->set_value(newUuidBytes());
  send(agent.peer, std::move(checkpoint));
}

bool MasterProcess::makeAvailable(AgentEntry& agent, const Resources& needed) {
  if (allocator_.available(agent.id).contains(needed)) return true;
  // As Mesos does: rescind outstanding offers on the agent, one at a time,
  // until what the operator needs is free.
  for (const auto& offerId : std::set<std::string>(agent.offers)) {
    removeOffer(offerId, true, std::nullopt, true);
    if (allocator_.available(agent.id).contains(needed)) return true;
  }
  return false;
}

Result<AgentEntry*> MasterProcess::operatorAgent(const std::string& agentId) {
  auto it = agents_.find(agentId);
  if (it == agents_.end()) {
    if (recoveredAgents_.count(agentId) > 0 || unreachable_.count(agentId) > 0) {
      return Status::FailedPrecondition("Agent " + quoteForLog(agentId) + " is not connected");
    }
    return Status::NotFound("No agent " + quoteForLog(agentId));
  }
  if (!it->second->connected) return Status::FailedPrecondition("Agent " + quoteForLog(agentId) + " is not connected");
  return it->second.get();
}

Status MasterProcess::applyOperatorConversion(AgentEntry& agent, const Resources& from, const Resources& to,
                                              std::string_view what) {
  if (!makeAvailable(agent, from)) {
    counters_["master/operator_operations_conflicting"] += 1;
    return Status::FailedPrecondition(fmt::format("Insufficient resources on agent {} for {} of {}: available {}",
                                                  agent.id, what, from.toString(),
                                                  allocator_.available(agent.id).toString()));
  }
  convertAgentResources(agent, from, to);
  allocator_.updateAgent(agent.id, agent.total);
  sendCheckpointedResources(agent);
  log_->info("Operator {} on agent {}: {} -> {}", what, agent.id, from.toString(), to.toString());
  allocate(allocator::Scope::agents({agent.id}));
  return Status::OK();
}

Status MasterProcess::operatorReserve(const v1::master::Call::ReserveResources& call) {
  AGORA_ASSIGN_OR_RETURN(AgentEntry * agent, operatorAgent(call.agent_id().value()));
  AGORA_ASSIGN_OR_RETURN(Resources to, requestResources(call.resources(), "resources to reserve"));
  for (const Resource& r : to) {
    if (!r.isDynamicallyReserved()) {
      return Status::InvalidArgument("Resources to reserve must carry a dynamic reservation on top: " + to.toString());
    }
    AGORA_RETURN_IF_ERROR(validateRole(r.reservations.back().role).withContext("Invalid reservation role"));
    if (r.reservations.back().role == kDefaultRole) return Status::InvalidArgument("Cannot reserve for role '*'");
  }
  Resources from;
  if (call.source_size() > 0) {
    AGORA_ASSIGN_OR_RETURN(from, requestResources(call.source(), "source resources"));
  } else {
    auto popped = to.popReservation();
    if (!popped.ok()) return popped.error().withContext("Invalid resources to reserve");
    from = *popped;
  }
  if (from.quantities() != to.quantities()) {
    return Status::InvalidArgument("Source " + from.toString() + " and reserved " + to.toString() +
                                   " differ in amount");
  }
  AGORA_RETURN_IF_ERROR(applyOperatorConversion(*agent, from, to, "RESERVE"));
  counters_["master/operator_reserves"] += 1;
  return Status::OK();
}

Status MasterProcess::operatorUnreserve(const v1::master::Call::UnreserveResources& call) {
  AGORA_ASSIGN_OR_RETURN(AgentEntry * agent, operatorAgent(call.agent_id().value()));
  AGORA_ASSIGN_OR_RETURN(Resources from, requestResources(call.resources(), "resources to unreserve"));
  for (const Resource& r : from) {
    if (!r.isDynamicallyReserved()) {
      return Status::InvalidArgument("Only dynamically reserved resources can be unreserved: " + from.toString());
    }
  }
  auto to = from.popReservation();
  if (!to.ok()) return to.error().withContext("Invalid resources to unreserve");
  AGORA_RETURN_IF_ERROR(applyOperatorConversion(*agent, from, *to, "UNRESERVE"));
  counters_["master/operator_unreserves"] += 1;
  return Status::OK();
}

// --- Weights and quota -------------------------------------------------------------

Status MasterProcess::updateWeights(const google::protobuf::RepeatedPtrField<v1::WeightInfo>& infos) {
  std::vector<v1::WeightInfo> weights;
  std::set<std::string> seen;
  for (const v1::WeightInfo& info : infos) {
    AGORA_RETURN_IF_ERROR(validateRole(info.role()).withContext("Invalid weight role"));
    if (info.role() == kDefaultRole) return Status::InvalidArgument("Cannot set the weight of role '*'");
    if (!std::isfinite(info.weight()) || info.weight() <= 0) {
      return Status::InvalidArgument(fmt::format("Weight of role '{}' must be a positive number", info.role()));
    }
    if (!seen.insert(info.role()).second) {
      return Status::InvalidArgument(fmt::format("Role '{}' is given twice", info.role()));
    }
    weights.push_back(info);
  }
  if (Status s = registrar_.putWeights(weights); !s.ok()) registryFailed(s);
  std::map<std::string, double> update;
  for (const auto& info : weights) {
    weights_[info.role()] = info.weight();
    update[info.role()] = info.weight();
  }
  allocator_.updateWeights(update);
  log_->info("Operator updated the weights of {} roles", weights.size());
  return Status::OK();
}

ResourceQuantities MasterProcess::consumedQuota(const std::string& role) const {
  ResourceQuantities consumed;
  for (const auto& [id, agent] : agents_) {
    consumed += agent->total.filter([&](const Resource& r) {
      return r.isReserved() && isRoleOrSubrole(r.role(), role);
    }).scalarQuantities();
  }
  auto unreservedIn = [&](const Resources& resources) {
    return resources.filter([&](const Resource& r) {
      return !r.isReserved() && !r.revocable && r.allocationRole && isRoleOrSubrole(*r.allocationRole, role);
    }).scalarQuantities();
  };
  for (const auto& [id, framework] : frameworks_) {
    for (const auto& [taskId, task] : framework->tasks) {
      if (!task.released) consumed += unreservedIn(task.resources);
    }
  }
  for (const auto& [id, offer] : offers_) consumed += unreservedIn(offer.resources);
  return consumed;
}

Status MasterProcess::updateQuota(const v1::master::Call::UpdateQuota& update) {
  std::set<std::string> seen;
  ResourceQuantities guaranteed;
  for (const auto& [role, config] : quotas_) {
    bool replaced = false;
    for (const auto& c : update.quota_configs()) replaced = replaced || c.role() == role;
    if (!replaced) guaranteed += quantitiesOf(config.guarantees());
  }
  for (const v1::QuotaConfig& config : update.quota_configs()) {
    AGORA_RETURN_IF_ERROR(validateRole(config.role()).withContext("Invalid quota role"));
    if (config.role() == kDefaultRole) return Status::InvalidArgument("Cannot set quota on role '*'");
    if (!seen.insert(config.role()).second) {
      return Status::InvalidArgument(fmt::format("Role '{}' is given twice", config.role()));
    }
    AGORA_RETURN_IF_ERROR(validateQuotaScalars(config.guarantees(), config.role(), "guarantee"));
    AGORA_RETURN_IF_ERROR(validateQuotaScalars(config.limits(), config.role(), "limit"));
    for (const auto& [name, guarantee] : config.guarantees()) {
      auto limit = config.limits().find(name);
      if (limit != config.limits().end() && limit->second.value() < guarantee.value()) {
        return Status::InvalidArgument(fmt::format("Quota of role '{}': the guarantee of '{}' is above its limit",
                                                   config.role(), quoteForLog(name)));
      }
    }
    guaranteed += quantitiesOf(config.guarantees());
    if (update.force()) continue;
    ResourceQuantities consumed = consumedQuota(config.role());
    for (const auto& [name, limit] : config.limits()) {
      auto value = Scalar::fromDouble(limit.value());
      if (value.ok() && consumed.get(name) > *value) {
        return Status::InvalidArgument(fmt::format(
            "Quota of role '{}': the limit of '{}' ({}) is below what the role consumes ({}); use force to set it",
            config.role(), quoteForLog(name), value->toString(), consumed.get(name).toString()));
      }
    }
  }
  if (!update.force()) {
    ResourceQuantities capacity;
    for (const auto& [id, agent] : agents_) capacity += agent->total.scalarQuantities();
    if (!capacity.contains(guaranteed)) {
      return Status::InvalidArgument("The guarantees (" + guaranteed.toString() +
                                     ") exceed the cluster's capacity (" + capacity.toString() +
                                     "); use force to set them");
    }
  }

  std::vector<v1::QuotaConfig> configs(update.quota_configs().begin(), update.quota_configs().end());
  if (Status s = registrar_.putQuotas(configs); !s.ok()) registryFailed(s);
  for (const v1::QuotaConfig& config : configs) {
    if (config.guarantees().empty() && config.limits().empty()) {
      quotas_.erase(config.role());
    } else {
      quotas_[config.role()] = config;
    }
    allocator_.updateQuota(config.role(), toAllocatorQuota(config));
    // New limits may be below what is offered: take back outstanding offers
    // in the role's subtree (without a filter) and offer again.
    if (!config.limits().empty()) {
      std::vector<std::string> rescind;
      for (const auto& [offerId, offer] : offers_) {
        if (isRoleOrSubrole(offer.role, config.role())) rescind.push_back(offerId);
      }
      for (const auto& offerId : rescind) removeOffer(offerId, true, std::nullopt, true);
    }
  }
  log_->info("Operator updated the quota of {} roles", configs.size());
  allocate(allocator::Scope::batch());
  return Status::OK();
}

// --- Frameworks, agents, tasks --------------------------------------------------------

Status MasterProcess::operatorTeardown(const std::string& frameworkId) {
  auto it = frameworks_.find(frameworkId);
  if (it == frameworks_.end()) return Status::NotFound("No active framework " + quoteForLog(frameworkId));
  Event error;
  error.set_type(Event::ERROR);
  error.mutable_error()->set_message("Framework torn down by the operator");
  sendEvent(*it->second, std::move(error));
  removeFramework(frameworkId, "torn down by the operator");
  counters_["master/operator_teardowns"] += 1;
  return Status::OK();
}

Status MasterProcess::markAgentGone(const std::string& agentId) {
  if (gone_.count(agentId) > 0) return Status::OK();  // Idempotent.
  auto agent = agents_.find(agentId);
  bool known = agent != agents_.end() || recoveredAgents_.count(agentId) > 0 || unreachable_.count(agentId) > 0;
  if (!known) return Status::NotFound("No agent " + quoteForLog(agentId));
  WallTime now = clock_.wallNow();
  v1::AgentID id;
  id.set_value(agentId);
  if (Status s = registrar_.markGone(id, now); !s.ok()) registryFailed(s);
  if (agent != agents_.end()) {
    PeerId peer = agent->second->peer;
    removeAgent(agentId, false, "marked gone by the operator", true);
    internal::Envelope shutdown;
    shutdown.mutable_shutdown_agent()->set_message("Agent " + agentId + " was marked gone by the operator");
    send(peer, std::move(shutdown));
  }
  recoveredAgents_.erase(agentId);
  unreachable_.erase(agentId);
  deactivatedAgents_.erase(agentId);
  gone_[agentId] = now;
  counters_["master/slave_removals/reason_gone_by_operator"] += 1;
  log_->warn("Operator marked agent {} gone", agentId);
  return Status::OK();
}

Status MasterProcess::setAgentDeactivated(const std::string& agentId, bool deactivated) {
  auto it = agents_.find(agentId);
  if (it == agents_.end()) {
    if (recoveredAgents_.count(agentId) > 0 || unreachable_.count(agentId) > 0) {
      return Status::FailedPrecondition("Agent " + quoteForLog(agentId) + " is not connected");
    }
    return Status::NotFound("No agent " + quoteForLog(agentId));
  }
  AgentEntry& agent = *it->second;
  if (agent.deactivated == deactivated) return Status::OK();  // Idempotent.
  if (Status s = registrar_.admitAgent(agent.info, deactivated); !s.ok()) registryFailed(s);
  agent.deactivated = deactivated;
  agent.active = !deactivated;
  if (deactivated) {
    deactivatedAgents_.insert(agentId);
    allocator_.deactivateAgent(agentId);
    for (const auto& offerId : std::set<std::string>(agent.offers)) removeOffer(offerId, true, std::nullopt, true);
    counters_["master/operator_agent_deactivations"] += 1;
  } else {
    deactivatedAgents_.erase(agentId);
    allocator_.activateAgent(agentId);
    counters_["master/operator_agent_reactivations"] += 1;
    allocate(allocator::Scope::agents({agentId}));
  }
  log_->info("Operator {} agent {}", deactivated ? "deactivated" : "reactivated", agentId);
  return Status::OK();
}

Status MasterProcess::operatorKill(const std::string& frameworkId, const std::string& taskId) {
  auto framework = frameworks_.find(frameworkId);
  if (framework == frameworks_.end()) return Status::NotFound("No active framework " + quoteForLog(frameworkId));
  auto task = framework->second->tasks.find(taskId);
  if (task == framework->second->tasks.end()) {
    // Completed (terminal and acknowledged): known, but nothing to kill.
    for (const v1::Task& done : framework->second->completedTasks) {
      if (done.task_id().value() == taskId) {
        return Status::FailedPrecondition("Task " + quoteForLog(taskId) + " is already " +
                                          v1::TaskState_Name(done.state()));
      }
    }
    return Status::NotFound("No task " + quoteForLog(taskId) + " in framework " + frameworkId);
  }
  if (isTerminal(task->second.task.state())) {
    return Status::FailedPrecondition("Task " + quoteForLog(taskId) + " is already " +
                                      v1::TaskState_Name(task->second.task.state()));
  }
  auto agent = agents_.find(task->second.task.agent_id().value());
  if (agent == agents_.end() || !agent->second->connected) {
    return Status::FailedPrecondition("The agent of task " + quoteForLog(taskId) + " is not connected");
  }
  Call::Kill kill;
  kill.mutable_task_id()->set_value(taskId);
  *kill.mutable_agent_id() = task->second.task.agent_id();
  this->kill(*framework->second, kill);
  counters_["master/operator_kills"] += 1;
  log_->info("Operator killed task {} of framework {}", quoteForLog(taskId), frameworkId);
  return Status::OK();
}

}  // namespace agora::master
