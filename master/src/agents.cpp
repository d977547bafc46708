// Agents: registration, reregistration, health checks, unreachable and gone.

#include <fmt/format.h>

#include "agora/common/check.hpp"
#include "agora/common/id.hpp"
#include "process.hpp"

namespace agora::master {

namespace {

// The entry for an agent (re)registering with `message` (a RegisterAgent or
// ReregisterAgent): its info with `id`, and what it reports of itself.
template <typename Message>
std::unique_ptr<AgentEntry> newAgentEntry(const std::string& id, const PeerId& from, const Message& message,
                                          Resources total, WallTime now) {
  auto agent = std::make_unique<AgentEntry>();
  agent->id = id;
  agent->info = message.agent_info();
  agent->info.mutable_id()->set_value(id);
  agent->peer = from;
  agent->version = message.version();
  agent->httpAddress = httpAddressOf(message.agent_info(), message.http_address());
  agent->total = std::move(total);
  agent->checkpointed = Resources::fromProto(message.checkpointed_resources()).valueOr(Resources());
  agent->registeredTime = now;
  return agent;
}

}  // namespace

AgentEntry* MasterProcess::agentOf(const PeerId& from, const v1::AgentID* claimed, std::string_view type) {
  auto byPeer = agentByPeer_.find(from);
  if (byPeer == agentByPeer_.end()) {
    drop(from, type, "not a registered agent");
    return nullptr;
  }
  if (claimed != nullptr && claimed->value() != byPeer->second) {
    drop(from, type, "agent ID does not match the sender");
    return nullptr;
  }
  auto it = agents_.find(byPeer->second);
  AGORA_CHECK(it != agents_.end());
  return it->second.get();
}

void MasterProcess::registerAgent(const PeerId& from, const internal::RegisterAgent& message) {
  if (Status s = validateAgentInfo(message.agent_info()); !s.ok()) return drop(from, "register_agent", s.message());
  auto total = agentTotal(message.agent_info(), message.checkpointed_resources());
  if (!total.ok()) return drop(from, "register_agent", total.error().message());

  // A retried registration from an agent we already admitted: same answer.
  if (auto byPeer = agentByPeer_.find(from); byPeer != agentByPeer_.end()) {
    internal::Envelope reply;
    reply.mutable_agent_registered()->mutable_agent_id()->set_value(byPeer->second);
    reply.mutable_agent_registered()->set_total_ping_timeout_seconds(
        std::chrono::duration<double>(options_.agentPingTimeout * options_.maxAgentPingTimeouts).count());
    return send(from, std::move(reply));
  }

  auto agent = newAgentEntry(fmt::format("{}-S{}", info_.id(), nextAgent_++), from, message, *total, clock_.wallNow());

  // Durable before anyone hears of it.
  if (Status s = registrar_.admitAgent(agent->info); !s.ok()) registryFailed(s);
  counters_["master/slave_registrations"] += 1;
  log_->info("Registered agent {} at {} ({}) with {}", agent->id, quoteForLog(from),
             quoteForLog(agent->info.hostname()), agent->total.toString());

  AgentEntry& entry = *agent;
  agentByPeer_[from] = entry.id;
  agents_[entry.id] = std::move(agent);
  addAgentToAllocator(entry);

  internal::Envelope reply;
  *reply.mutable_agent_registered()->mutable_agent_id() = entry.info.id();
  reply.mutable_agent_registered()->set_total_ping_timeout_seconds(
      std::chrono::duration<double>(options_.agentPingTimeout * options_.maxAgentPingTimeouts).count());
  send(from, std::move(reply));
  pingAgent(entry.id);
  allocate(allocator::Scope::agents({entry.id}));
}

void MasterProcess::reregisterAgent(const PeerId& from, const internal::ReregisterAgent& message) {
  const v1::AgentInfo& info = message.agent_info();
  if (!info.has_id() || !validateId(info.id().value(), "agent ID").ok()) {
    return drop(from, "reregister_agent", "missing or invalid agent ID");
  }
  if (Status s = validateAgentInfo(info); !s.ok()) return drop(from, "reregister_agent", s.message());
  const std::string& id = info.id().value();

  if (gone_.count(id) > 0) {
    log_->warn("Refusing agent {} at {}: it was marked gone", quoteForLog(id), quoteForLog(from));
    internal::Envelope shutdown;
    shutdown.mutable_shutdown_agent()->set_message("Agent " + id + " was marked gone");
    return send(from, std::move(shutdown));
  }
  auto total = agentTotal(info, message.checkpointed_resources());
  if (!total.ok()) return drop(from, "reregister_agent", total.error().message());

  auto reply = [&](AgentEntry& agent, std::vector<internal::ReconcileTasks> reconciliations) {
    internal::Envelope envelope;
    auto* reregistered = envelope.mutable_agent_reregistered();
    *reregistered->mutable_agent_id() = agent.info.id();
    reregistered->set_total_ping_timeout_seconds(
        std::chrono::duration<double>(options_.agentPingTimeout * options_.maxAgentPingTimeouts).count());
    for (auto& r : reconciliations) *reregistered->add_reconciliations() = std::move(r);
    send(agent.peer, std::move(envelope));
  };

  // Already registered: a retry, or the agent restarted with a new peer.
  if (auto it = agents_.find(id); it != agents_.end()) {
    AgentEntry& agent = *it->second;
    if (agent.peer != from) {
      agentByPeer_.erase(agent.peer);
      agent.peer = from;
      agentByPeer_[from] = id;
    }
    agent.httpAddress = httpAddressOf(info, message.http_address());
    agent.connected = true;
    agent.pongReceived = true;
    agent.missedPongs = 0;
    if (!agent.active && !agent.deactivated) {
      agent.active = true;
      allocator_.activateAgent(id);
    }
    // Tasks we launched there that the agent does not know: it must answer
    // with TASK_DROPPED/LOST (REASON_RECONCILIATION).
    std::set<std::pair<std::string, std::string>> reported;
    for (const auto& task : message.tasks()) reported.emplace(task.framework_id().value(), task.task_id().value());
    std::vector<internal::ReconcileTasks> reconciliations;
    for (const auto& [frameworkId, taskIds] : agent.tasks) {
      internal::ReconcileTasks reconcile;
      reconcile.mutable_framework_id()->set_value(frameworkId);
      auto framework = frameworks_.find(frameworkId);
      for (const auto& taskId : taskIds) {
        if (reported.count({frameworkId, taskId}) > 0 || framework == frameworks_.end()) continue;
        auto task = framework->second->tasks.find(taskId);
        if (task == framework->second->tasks.end()) continue;
        auto* status = reconcile.add_statuses();
        status->mutable_task_id()->set_value(taskId);
        status->set_state(task->second.task.state());
        *status->mutable_agent_id() = agent.info.id();
      }
      if (reconcile.statuses_size() > 0) reconciliations.push_back(std::move(reconcile));
    }
    counters_["master/slave_reregistrations"] += 1;
    reply(agent, std::move(reconciliations));
    resendKills(agent);
    return;
  }

  bool wasUnreachable = unreachable_.count(id) > 0;
  auto agent = newAgentEntry(id, from, message, *total, clock_.wallNow());

  if (Status s = registrar_.admitAgent(agent->info, deactivatedAgents_.count(id) > 0); !s.ok()) registryFailed(s);
  unreachable_.erase(id);
  recoveredAgents_.erase(id);
  counters_["master/slave_reregistrations"] += 1;
  log_->info("Reregistered agent {} at {} ({}){}", id, quoteForLog(from), quoteForLog(info.hostname()),
             wasUnreachable ? " after being unreachable" : "");

  AgentEntry& entry = *agent;
  agentByPeer_[from] = id;
  agents_[id] = std::move(agent);
  addReportedTasks(entry, message, wasUnreachable);
  addAgentToAllocator(entry);
  reply(entry, {});
  resendKills(entry);

  // Frameworks that were removed while the agent was away.
  for (const auto& framework : message.frameworks()) {
    if (!framework.has_id() || frameworks_.count(framework.id().value()) > 0) continue;
    internal::Envelope shutdown;
    *shutdown.mutable_shutdown_framework()->mutable_framework_id() = framework.id();
    send(from, std::move(shutdown));
  }
  pingAgent(id);
  allocate(allocator::Scope::agents({id}));
}

void MasterProcess::addReportedTasks(AgentEntry& agent, const internal::ReregisterAgent& message,
                                     bool reregistered) {
  std::map<std::string, const v1::FrameworkInfo*> infos;
  for (const auto& framework : message.frameworks()) {
    if (framework.has_id()) infos[framework.id().value()] = &framework;
  }
  for (const auto& executor : message.executor_infos()) {
    if (!executor.has_framework_id()) continue;
    agent.executors[executor.framework_id().value()][executor.executor_id().value()] = executor;
  }
  for (const v1::Task& reported : message.tasks()) {
    const std::string& frameworkId = reported.framework_id().value();
    const std::string& taskId = reported.task_id().value();
    if (!validateId(frameworkId).ok() || !validateId(taskId).ok()) {
      log_->warn("Agent {} reported a task with an invalid ID; ignored", agent.id);
      continue;
    }
    auto it = frameworks_.find(frameworkId);
    if (it == frameworks_.end()) {
      auto info = infos.find(frameworkId);
      if (info == infos.end() || !validateSubscribeInfo(*info->second).ok()) {
        log_->warn("Agent {} reported task {} of unknown framework {}; ignored", agent.id, quoteForLog(taskId),
                   quoteForLog(frameworkId));
        continue;
      }
      FrameworkEntry& recovered = addRecoveredFramework(*info->second);
      startFailoverTimer(recovered, failoverTimeoutOf(recovered.info));
      it = frameworks_.find(frameworkId);
    }
    FrameworkEntry& framework = *it->second;
    if (framework.tasks.count(taskId) > 0) continue;
    auto resources = Resources::fromProto(reported.resources());
    if (!resources.ok()) {
      log_->warn("Agent {} reported task {} with invalid resources; ignored", agent.id, quoteForLog(taskId));
      continue;
    }
    v1::Task task = reported;
    *task.mutable_agent_id() = agent.info.id();
    framework.unreachableTasks.erase(taskId);
    Resources allocated = withAllocationRole(*resources, *framework.roles.begin());
    addTask(framework, agent, std::move(task), allocated);
    if (auto kill = framework.unreachableKills.find(taskId); kill != framework.unreachableKills.end()) {
      TaskEntry& added = framework.tasks.at(taskId);
      added.killRequested = true;
      added.killPolicy = kill->second;
      framework.unreachableKills.erase(kill);
    }
    if (reregistered) {
      const v1::Task& added = framework.tasks.at(taskId).task;
      sendMasterUpdate(framework, taskId, agent.id, added.state(), v1::TaskStatus::REASON_AGENT_REREGISTERED,
                       "Agent reregistered");
    }
  }
}

void MasterProcess::addAgentToAllocator(AgentEntry& agent) {
  std::map<std::string, Resources> used;
  for (const auto& [frameworkId, taskIds] : agent.tasks) {
    auto framework = frameworks_.find(frameworkId);
    if (framework == frameworks_.end()) continue;
    for (const auto& taskId : taskIds) {
      auto task = framework->second->tasks.find(taskId);
      if (task == framework->second->tasks.end() || task->second.released) continue;
      bool inRoles = true;
      for (const auto& role : task->second.resources.allocationRoles()) {
        inRoles = inRoles && framework->second->roles.count(role) > 0;
      }
      if (inRoles && agent.total.contains((used[frameworkId] + task->second.resources).unallocate())) {
        used[frameworkId] += task->second.resources;
      } else {
        task->second.released = true;  // Not accountable; never returned.
      }
    }
  }
  allocator_.addAgent(agent.id, agent.total, used);
  if (deactivatedAgents_.count(agent.id) > 0) {  // The operator's DEACTIVATE_AGENT outlives reregistration.
    agent.deactivated = true;
    agent.active = false;
    allocator_.deactivateAgent(agent.id);
  }
}

void MasterProcess::unregisterAgent(const PeerId& from, const internal::UnregisterAgent& message) {
  AgentEntry* agent = agentOf(from, &message.agent_id(), "unregister_agent");
  if (agent == nullptr) return;
  removeAgent(agent->id, false, "agent unregistered");
}

void MasterProcess::pong(const PeerId& from) {
  AgentEntry* agent = agentOf(from, nullptr, "pong");
  if (agent != nullptr) agent->pongReceived = true;
}

void MasterProcess::pingAgent(const std::string& agentId) {
  auto it = agents_.find(agentId);
  if (it == agents_.end()) return;
  AgentEntry& agent = *it->second;
  agent.pingTimer = 0;
  if (agent.pongReceived) {
    agent.missedPongs = 0;
  } else if (++agent.missedPongs >= options_.maxAgentPingTimeouts) {
    counters_["master/slave_removals/reason_unhealthy"] += 1;
    return removeAgent(agentId, true, fmt::format("no pong for {} pings", agent.missedPongs));
  }
  agent.pongReceived = false;
  internal::Envelope ping;
  ping.mutable_ping()->set_connected(true);
  send(agent.peer, std::move(ping));
  agent.pingTimer = clock_.schedule(options_.agentPingTimeout, [this, agentId] { pingAgent(agentId); });
}

void MasterProcess::removeAgent(const std::string& agentId, bool unreachable, std::string_view why,
                                bool byOperator) {
  auto it = agents_.find(agentId);
  AGORA_CHECK(it != agents_.end());
  AgentEntry& agent = *it->second;
  WallTime now = clock_.wallNow();
  Status s = unreachable ? registrar_.markUnreachable(agent.info.id(), now, agent.deactivated) : registrar_.removeAgent(agent.info.id());
  if (!s.ok()) registryFailed(s);
  log_->warn("Agent {} ({}) {}: {}", agentId, quoteForLog(agent.info.hostname()),
             unreachable ? "is unreachable" : "removed", why);
  counters_["master/slave_removals"] += 1;
  if (unreachable) counters_["master/slave_unreachable_completed"] += 1;

  for (const auto& offerId : std::set<std::string>(agent.offers)) removeOffer(offerId, false, std::nullopt, true);

  for (const auto& [frameworkId, taskIds] : agent.tasks) {
    auto fit = frameworks_.find(frameworkId);
    if (fit == frameworks_.end()) continue;
    FrameworkEntry& framework = *fit->second;
    for (const auto& taskId : taskIds) {
      auto task = framework.tasks.find(taskId);
      if (task == framework.tasks.end()) continue;
      task->second.released = true;  // The allocator forgets the agent's allocations.
      bool terminal = isTerminal(task->second.task.state());
      if (!terminal) {
        v1::TaskState state = unreachable ? v1::TASK_UNREACHABLE : byOperator ? v1::TASK_GONE_BY_OPERATOR : v1::TASK_GONE;
        if (!framework.partitionAware()) state = v1::TASK_LOST;
        sendMasterUpdate(framework, taskId, agentId, state,
                         byOperator ? v1::TaskStatus::REASON_AGENT_REMOVED_BY_OPERATOR : v1::TaskStatus::REASON_AGENT_REMOVED,
                         fmt::format("Agent {} removed: {}", agentId, why));
      }
      v1::Task moved = framework.tasks.at(taskId).task;
      framework.tasks.erase(taskId);
      if (unreachable && !terminal) {
        moved.set_state(v1::TASK_UNREACHABLE);
        if (framework.unreachableTasks.size() < static_cast<size_t>(options_.maxUnreachableTasksPerFramework)) {
          framework.unreachableTasks[taskId] = std::move(moved);
        }
      } else {
        framework.completedTasks.push_back(std::move(moved));
        while (framework.completedTasks.size() > static_cast<size_t>(options_.maxCompletedTasksPerFramework)) {
          framework.completedTasks.pop_front();
        }
      }
    }
  }
  for (auto& [frameworkId, framework] : frameworks_) {
    Event failure;
    failure.set_type(Event::FAILURE);
    *failure.mutable_failure()->mutable_agent_id() = agent.info.id();
    sendEvent(*framework, std::move(failure));
  }
  clock_.cancel(agent.pingTimer);
  allocator_.removeAgent(agentId);
  if (unreachable) {
    unreachable_[agentId] = UnreachableEntry{agent.info.id(), now};
  } else {
    deactivatedAgents_.erase(agentId);
  }
  agentByPeer_.erase(agent.peer);
  agents_.erase(it);
}

void MasterProcess::recoveredAgentTimeout() {
  reregisterTimer_ = 0;
  WallTime now = clock_.wallNow();
  for (const auto& [id, info] : recoveredAgents_) {
    if (Status s = registrar_.markUnreachable(info.id(), now, deactivatedAgents_.count(id) > 0); !s.ok()) {
      registryFailed(s);
    }
    unreachable_[id] = UnreachableEntry{info.id(), now};
    counters_["master/slave_unreachable_completed"] += 1;
    log_->warn("Agent {} did not reregister within {}; it is unreachable", id,
               formatDuration(options_.agentReregisterTimeout));
  }
  recoveredAgents_.clear();
}

}  // namespace agora::master
