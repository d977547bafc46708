// Frameworks: subscribe, resubscribe and failover, disconnection, removal,
// heartbeats, suppress and revive.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "agora/common/check.hpp"
#include "agora/common/id.hpp"
#include "process.hpp"

namespace agora::master {

namespace {

Event errorEvent(const std::string& message) {
  Event event;
  event.set_type(Event::ERROR);
  event.mutable_error()->set_message(message);
  return event;
}

}  // namespace

bool FrameworkEntry::partitionAware() const {
  return hasCapability(info, v1::FrameworkInfo::Capability::PARTITION_AWARE);
}

allocator::FrameworkInfo MasterProcess::allocatorInfo(const FrameworkEntry& framework) const {
  allocator::FrameworkInfo result;
  result.roles = framework.roles;
  result.suppressedRoles = framework.suppressedRoles;
  result.capabilities.revocableResources =
      hasCapability(framework.info, v1::FrameworkInfo::Capability::REVOCABLE_RESOURCES);
  result.capabilities.reservationRefinement =
      hasCapability(framework.info, v1::FrameworkInfo::Capability::RESERVATION_REFINEMENT);
  for (const auto& [role, filters] : framework.info.offer_filters()) {
    if (framework.roles.count(role) == 0 || !filters.has_min_allocatable_resources()) continue;
    auto& sets = result.minAllocatable[role];
    for (const auto& quantities : filters.min_allocatable_resources().quantities()) {
      ResourceQuantities set;
      for (const auto& [name, scalar] : quantities.quantities()) {
        if (auto value = Scalar::fromDouble(scalar.value()); value.ok()) set.set(name, *value);
      }
      sets.push_back(std::move(set));
    }
  }
  return result;
}

FrameworkEntry& MasterProcess::addRecoveredFramework(const v1::FrameworkInfo& info) {
  auto framework = std::make_unique<FrameworkEntry>();
  framework->id = info.id().value();
  framework->info = info;
  framework->roles = frameworkRoles(info);
  framework->recovered = true;
  framework->registeredTime = clock_.wallNow();
  FrameworkEntry& entry = *framework;
  frameworks_[entry.id] = std::move(framework);
  allocator_.addFramework(entry.id, allocatorInfo(entry), false);
  return entry;
}

void MasterProcess::subscribe(const PeerId& from, const Call& call) {
  const auto& subscribe = call.subscribe();
  std::string id;
  if (subscribe.framework_info().has_id()) {
    id = subscribe.framework_info().id().value();
  } else if (call.has_framework_id()) {
    id = call.framework_id().value();
  }
  auto it = id.empty() ? frameworks_.end() : frameworks_.find(id);
  FrameworkEntry* existing = it == frameworks_.end() ? nullptr : it->second.get();

  auto refuse = [&](const std::string& why) {
    counters_["master/invalid_subscriptions"] += 1;
    log_->warn("Refusing subscription from {}: {}", quoteForLog(from), why);
    internal::Envelope envelope;
    *envelope.mutable_scheduler_event() = errorEvent(why);
    send(from, std::move(envelope));
  };
  if (Status s = validateSubscribe(call, existing); !s.ok()) return refuse(s.message());
  if (existing == nullptr && !id.empty()) {
    for (const auto& completed : completedFrameworks_) {
      if (completed->id == id) return refuse("Framework has been removed");
    }
  }

  FrameworkEntry* framework = existing;
  if (framework != nullptr) {
    // Resubscription or failover. user and checkpoint never change.
    if (framework->connected && framework->peer != from) {
      log_->info("Framework {} failed over from {} to {}", id, quoteForLog(framework->peer), quoteForLog(from));
      sendEvent(*framework, errorEvent("Framework failed over"));
    }
    if (!framework->peer.empty()) frameworkByPeer_.erase(framework->peer);
    for (const auto& offerId : std::set<std::string>(framework->offers)) removeOffer(offerId, true, std::nullopt, true);
    v1::FrameworkInfo info = subscribe.framework_info();
    info.set_user(framework->info.user());
    info.set_checkpoint(framework->info.checkpoint());
    info.mutable_id()->set_value(id);
    framework->info = std::move(info);
    framework->roles = frameworkRoles(framework->info);
    clock_.cancel(framework->failoverTimer);
    clock_.cancel(framework->heartbeatTimer);
    framework->failoverTimer = 0;
    framework->recovered = false;
    framework->unregisteredTime.reset();
    counters_["master/framework_reregistrations"] += 1;
  } else {
    auto created = std::make_unique<FrameworkEntry>();
    created->id = id.empty() ? fmt::format("{}-{:04}", info_.id(), nextFramework_++) : id;
    created->info = subscribe.framework_info();
    created->info.mutable_id()->set_value(created->id);
    created->roles = frameworkRoles(created->info);
    created->registeredTime = clock_.wallNow();
    framework = created.get();
    frameworks_[framework->id] = std::move(created);
    counters_["master/framework_registrations"] += 1;
  }
  framework->suppressedRoles = {subscribe.suppressed_roles().begin(), subscribe.suppressed_roles().end()};
  framework->peer = from;
  framework->connected = true;
  framework->active = true;
  frameworkByPeer_[from] = framework->id;

  // Durable before SUBSCRIBED, so a master restart still knows the ID.
  persistFramework(*framework, std::nullopt);
  if (existing != nullptr) {
    allocator_.updateFramework(framework->id, allocatorInfo(*framework));
    allocator_.activateFramework(framework->id);
  } else {
    allocator_.addFramework(framework->id, allocatorInfo(*framework), true);
  }
  log_->info("{} framework {} ({}) at {} with roles {}", existing ? "Resubscribed" : "Subscribed", framework->id,
             quoteForLog(framework->info.name()), quoteForLog(from), fmt::join(framework->roles, ","));

  Event subscribed;
  subscribed.set_type(Event::SUBSCRIBED);
  subscribed.mutable_subscribed()->mutable_framework_id()->set_value(framework->id);
  subscribed.mutable_subscribed()->set_heartbeat_interval_seconds(
      std::chrono::duration<double>(options_.heartbeatInterval).count());
  *subscribed.mutable_subscribed()->mutable_master_info() = info_;
  sendEvent(*framework, std::move(subscribed));
  std::string frameworkId = framework->id;
  framework->heartbeatTimer = clock_.schedule(options_.heartbeatInterval, [this, frameworkId] { heartbeat(frameworkId); });
  allocate(allocator::Scope::frameworks({frameworkId}));
}

void MasterProcess::persistFramework(const FrameworkEntry& framework, std::optional<WallTime> failoverDeadline) {
  internal::RegistryFramework record;
  *record.mutable_framework_info() = framework.info;
  *record.mutable_registered_time() = toTimeInfo(framework.registeredTime);
  if (failoverDeadline) *record.mutable_failover_deadline() = toTimeInfo(*failoverDeadline);
  if (Status s = registrar_.putFramework(record); !s.ok()) registryFailed(s);
}

void MasterProcess::heartbeat(const std::string& frameworkId) {
  auto it = frameworks_.find(frameworkId);
  if (it == frameworks_.end() || !it->second->connected) return;
  Event event;
  event.set_type(Event::HEARTBEAT);
  sendEvent(*it->second, std::move(event));
  it->second->heartbeatTimer =
      clock_.schedule(options_.heartbeatInterval, [this, frameworkId] { heartbeat(frameworkId); });
}

void MasterProcess::disconnectFramework(FrameworkEntry& framework) {
  if (!framework.connected) return;
  log_->info("Framework {} disconnected; failover timeout {}", framework.id,
             formatDuration(failoverTimeoutOf(framework.info)));
  frameworkByPeer_.erase(framework.peer);
  framework.lastPeer = std::move(framework.peer);
  framework.peer.clear();
  framework.connected = false;
  framework.active = false;
  framework.unregisteredTime = clock_.wallNow();
  clock_.cancel(framework.heartbeatTimer);
  framework.heartbeatTimer = 0;
  for (const auto& offerId : std::set<std::string>(framework.offers)) removeOffer(offerId, true, std::nullopt, false);
  allocator_.deactivateFramework(framework.id);
  Duration timeout = failoverTimeoutOf(framework.info);
  persistFramework(framework, clock_.wallNow() + std::chrono::duration_cast<WallTime::duration>(timeout));
  startFailoverTimer(framework, timeout);
}

// A call from the very peer a disconnected framework was connected from: the
// driver is alive and its connection is back (the transport's disconnect
// notice can be early or, rarely, wrong: see Router). It speaks for the
// framework again, as if it had resubscribed; offers rescinded meanwhile
// stay rescinded (an ACCEPT of one fails with REASON_INVALID_OFFERS).
void MasterProcess::reconnectFramework(FrameworkEntry& framework, const PeerId& from) {
  log_->info("Framework {} is back at {} before its failover timeout", framework.id, quoteForLog(from));
  clock_.cancel(framework.failoverTimer);
  framework.failoverTimer = 0;
  framework.peer = from;
  framework.connected = true;
  framework.active = true;
  framework.unregisteredTime.reset();
  frameworkByPeer_[from] = framework.id;
  persistFramework(framework, std::nullopt);
  allocator_.activateFramework(framework.id);
  counters_["master/framework_reconnections"] += 1;
  std::string frameworkId = framework.id;
  clock_.cancel(framework.heartbeatTimer);
  framework.heartbeatTimer =
      clock_.schedule(options_.heartbeatInterval, [this, frameworkId] { heartbeat(frameworkId); });
}

void MasterProcess::startFailoverTimer(FrameworkEntry& framework, Duration after) {
  clock_.cancel(framework.failoverTimer);
  std::string id = framework.id;
  framework.failoverTimer = clock_.schedule(after, [this, id] {
    auto it = frameworks_.find(id);
    if (it == frameworks_.end() || it->second->connected) return;
    it->second->failoverTimer = 0;
    removeFramework(id, "failover timeout elapsed");
  });
}

void MasterProcess::teardown(FrameworkEntry& framework) { removeFramework(framework.id, "torn down"); }

void MasterProcess::removeFramework(const std::string& frameworkId, std::string_view why) {
  auto it = frameworks_.find(frameworkId);
  AGORA_CHECK(it != frameworks_.end());
  FrameworkEntry& framework = *it->second;
  log_->info("Removing framework {} ({}): {}", frameworkId, quoteForLog(framework.info.name()), why);
  if (Status s = registrar_.removeFramework(frameworkId); !s.ok()) registryFailed(s);

  for (const auto& offerId : std::set<std::string>(framework.offers)) removeOffer(offerId, false, std::nullopt, false);
  std::set<std::string> agentsToTell;
  for (auto& [taskId, task] : framework.tasks) {
    if (!isTerminal(task.task.state())) {
      task.task.set_state(v1::TASK_KILLED);
      countTaskState(framework, v1::TASK_KILLED);
    }
    auto agent = agents_.find(task.task.agent_id().value());
    if (agent != agents_.end()) {
      agent->second->tasks.erase(frameworkId);
      agentsToTell.insert(agent->first);
    }
    framework.completedTasks.push_back(task.task);
  }
  framework.tasks.clear();
  while (framework.completedTasks.size() > static_cast<size_t>(options_.maxCompletedTasksPerFramework)) {
    framework.completedTasks.pop_front();
  }
  for (auto& [agentId, agent] : agents_) {
    if (agent->executors.erase(frameworkId) > 0) agentsToTell.insert(agentId);
  }
  for (const auto& agentId : agentsToTell) {
    internal::Envelope shutdown;
    shutdown.mutable_shutdown_framework()->mutable_framework_id()->set_value(frameworkId);
    send(agents_.at(agentId)->peer, std::move(shutdown));
  }
  if (framework.connected) frameworkByPeer_.erase(framework.peer);
  framework.connected = false;
  framework.active = false;
  framework.unregisteredTime = clock_.wallNow();
  clock_.cancel(framework.heartbeatTimer);
  clock_.cancel(framework.failoverTimer);
  allocator_.removeFramework(frameworkId);

  completedFrameworks_.push_back(std::move(it->second));
  frameworks_.erase(it);
  while (completedFrameworks_.size() > static_cast<size_t>(options_.maxCompletedFrameworks)) {
    completedFrameworks_.pop_front();
  }
}

void MasterProcess::suppress(FrameworkEntry& framework, const Call::Suppress& suppress) {
  std::set<std::string> roles;
  for (const auto& role : suppress.roles()) {
    if (framework.roles.count(role) > 0) roles.insert(role);
  }
  if (suppress.roles_size() > 0 && roles.empty()) return;
  for (const auto& role : roles.empty() ? framework.roles : roles) framework.suppressedRoles.insert(role);
  allocator_.suppressOffers(framework.id, roles);
}

void MasterProcess::revive(FrameworkEntry& framework, const Call::Revive& revive) {
  std::set<std::string> roles;
  for (const auto& role : revive.roles()) {
    if (framework.roles.count(role) > 0) roles.insert(role);
  }
  if (revive.roles_size() > 0 && roles.empty()) return;
  for (const auto& role : roles.empty() ? framework.roles : roles) framework.suppressedRoles.erase(role);
  allocator_.reviveOffers(framework.id, roles);
  allocate(allocator::Scope::frameworks({framework.id}));
}

}  // namespace agora::master
