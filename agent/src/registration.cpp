// Registration with the master, pings, reconciliation and ShutdownAgent.

#include <fmt/format.h>

#include "agent_impl.hpp"
#include "agora/common/id.hpp"

namespace agora::agent {
namespace {

constexpr const char* kAgoraVersion = "0.1.0";

void addCapabilities(google::protobuf::RepeatedPtrField<v1::AgentInfo::Capability>* out) {
  for (auto type : {v1::AgentInfo::Capability::MULTI_ROLE, v1::AgentInfo::Capability::HIERARCHICAL_ROLE,
                    v1::AgentInfo::Capability::RESERVATION_REFINEMENT}) {
    out->Add()->set_type(type);
  }
}

}  // namespace

void AgentImpl::startRegistration(bool immediately) {
  if (registration_ == Registration::kShuttingDown) return;
  registration_ = Registration::kRegistering;
  updates_->pause();
  if (registrationTimer_) clock_.cancel(*registrationTimer_);
  registrationTimer_.reset();
  // Mesos: the first attempt after a random delay in [0, factor], then the
  // bound doubles up to a minute. `immediately`: the first one at once (a
  // restarted agent with a master to go back to); the retries as above.
  registrationBackoff_ = options_.registrationBackoffFactor;
  std::uniform_int_distribution<int64_t> jitter(0, registrationBackoff_.count());
  registrationTimer_ = clock_.schedule(immediately ? Duration::zero() : Duration(jitter(random_)), [this] {
    registrationTimer_.reset();
    sendRegistration();
  });
}

void AgentImpl::sendRegistration() {
  if (registration_ != Registration::kRegistering) return;
  ++counters_.registrationAttempts;
  internal::Envelope envelope;
  if (!info_.has_id()) {
    internal::RegisterAgent* message = envelope.mutable_register_agent();
    *message->mutable_agent_info() = info_;
    checkpointed_.toProto(message->mutable_checkpointed_resources());
    message->set_version(kAgoraVersion);
    addCapabilities(message->mutable_capabilities());
    message->mutable_resource_version_uuid()->set_value(resourceVersion_);
    message->set_http_address(httpAddress());
    log_->info("Registering with the master (attempt {})", counters_.registrationAttempts);
  } else {
    *envelope.mutable_reregister_agent() = reregistration();
    log_->info("Reregistering agent {} with the master (attempt {})", info_.id().value(),
               counters_.registrationAttempts);
  }
  sendToMaster(std::move(envelope));
  scheduleRegistrationRetry();
}

void AgentImpl::scheduleRegistrationRetry() {
  registrationBackoff_ = std::min(registrationBackoff_ * 2, Duration(kRegistrationBackoffMax));
  std::uniform_int_distribution<int64_t> jitter(0, registrationBackoff_.count());
  registrationTimer_ = clock_.schedule(Duration(jitter(random_)), [this] {
    registrationTimer_.reset();
    sendRegistration();
  });
}

std::string AgentImpl::httpAddress() const {
  const std::string& ip = options_.ip;
  std::string host = ip.empty() || ip == "0.0.0.0" || ip == "::" ? info_.hostname() : ip;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return host + ":" + std::to_string(info_.port());
}

internal::ReregisterAgent AgentImpl::reregistration() const {
  internal::ReregisterAgent message;
  *message.mutable_agent_info() = info_;
  checkpointed_.toProto(message.mutable_checkpointed_resources());
  message.set_version(kAgoraVersion);
  addCapabilities(message.mutable_capabilities());
  message.mutable_resource_version_uuid()->set_value(resourceVersion_);
  message.set_http_address(httpAddress());
  for (const auto& [frameworkId, framework] : frameworks_) {
    *message.add_frameworks() = framework.info;
    for (const auto& [executorId, executor] : framework.executors) {
      if (!executor.commandExecutor) *message.add_executor_infos() = executor.info;
      for (const auto& [taskId, task] : executor.tasks) *message.add_tasks() = task.task;
    }
  }
  for (const FrameworkRecord& framework : completedFrameworks_) {
    internal::CompletedFramework* completed = message.add_completed_frameworks();
    *completed->mutable_framework_info() = framework.info;
    for (const ExecutorRecord& executor : framework.completedExecutors) {
      for (const v1::Task& task : executor.completedTasks) *completed->add_tasks() = task;
    }
  }
  return message;
}

void AgentImpl::onAgentRegistered(const PeerId& from, internal::Envelope& envelope) {
  const internal::AgentRegistered& message = envelope.agent_registered();
  if (registration_ != Registration::kRegistering || info_.has_id()) {
    // A late or duplicate answer: the agent is registered (or reregistering
    // with its ID); the master will see the reregistration.
    if (info_.has_id() && info_.id().value() == message.agent_id().value()) return;
    drop(from, envelope, "not registering");
    return;
  }
  if (Status valid = validateId(message.agent_id().value(), "agent ID"); !valid.ok()) {
    drop(from, envelope, valid.message());
    return;
  }
  v1::AgentInfo info = info_;
  *info.mutable_id() = message.agent_id();
  internal::AgentCheckpoint checkpoint;
  *checkpoint.mutable_agent_info() = info;
  checkpoint.set_boot_id(bootId_);
  checkpoint.set_agora_version(kAgoraVersion);
  // Durable before the ID is used anywhere (sandboxes, updates).
  if (Status written = store_->writeAgent(checkpoint); !written.ok()) {
    log_->error("{}; registration not completed", written.message());
    return;
  }
  info_ = std::move(info);
  log_->info("Registered with the master as agent {}", info_.id().value());
  onRegistered(message.agent_id(), message.total_ping_timeout_seconds());
}

void AgentImpl::onAgentReregistered(const PeerId& from, internal::Envelope& envelope) {
  const internal::AgentReregistered& message = envelope.agent_reregistered();
  if (!info_.has_id() || message.agent_id().value() != info_.id().value()) {
    drop(from, envelope, "for another agent ID");
    return;
  }
  if (registration_ == Registration::kRegistering) {
    log_->info("Reregistered with the master as agent {}", info_.id().value());
    onRegistered(message.agent_id(), message.total_ping_timeout_seconds());
  }
  for (const internal::ReconcileTasks& reconcile : message.reconciliations()) this->reconcile(reconcile);
}

void AgentImpl::onRegistered(const v1::AgentID&, double pingTimeoutSeconds) {
  if (registrationTimer_) clock_.cancel(*registrationTimer_);
  registrationTimer_.reset();
  registration_ = Registration::kRegistered;
  if (pingTimeoutSeconds > 0) {
    pingTimeout_ = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(pingTimeoutSeconds));
  }
  // Also persist the boot ID of this run for an agent recovered with its ID.
  internal::AgentCheckpoint checkpoint;
  *checkpoint.mutable_agent_info() = info_;
  checkpoint.set_boot_id(bootId_);
  checkpoint.set_agora_version(kAgoraVersion);
  if (Status written = store_->writeAgent(checkpoint); !written.ok()) log_->error("{}", written.message());
  resetPingWatchdog();
  updates_->resume();
  for (auto& [uuid, operation] : operations_) forwardOperationUpdate(uuid);
}

void AgentImpl::onPing(const PeerId&, internal::Envelope& envelope) {
  internal::Envelope pong;
  pong.mutable_pong();
  sendToMaster(std::move(pong));
  if (registration_ == Registration::kRegistered) {
    resetPingWatchdog();
    if (envelope.ping().has_connected() && !envelope.ping().connected()) {
      // The master does not know us (it restarted or removed us): reregister.
      log_->warn("The master considers this agent disconnected; reregistering");
      startRegistration();
    }
  }
}

void AgentImpl::resetPingWatchdog() {
  if (pingTimer_) clock_.cancel(*pingTimer_);
  pingTimer_ = clock_.schedule(pingTimeout_, [this] {
    pingTimer_.reset();
    onMasterLost();
  });
}

void AgentImpl::onMasterLost() {
  if (registration_ != Registration::kRegistered) return;
  log_->warn("No ping from the master for {}; detecting the master again", formatDuration(pingTimeout_));
  if (options_.onMasterLost) options_.onMasterLost();
  startRegistration();
}

void AgentImpl::onReconcileTasks(const PeerId&, internal::Envelope& envelope) {
  reconcile(envelope.reconcile_tasks());
}

void AgentImpl::reconcile(const internal::ReconcileTasks& reconcile) {
  const std::string& frameworkId = reconcile.framework_id().value();
  FrameworkRecord* framework = this->framework(frameworkId);
  bool dropped = framework != nullptr && partitionAware(framework->info);
  for (const v1::TaskStatus& status : reconcile.statuses()) {
    const std::string& taskId = status.task_id().value();
    if (executorOfTask(frameworkId, taskId) != nullptr || updates_->hasStream({frameworkId, taskId})) continue;
    // Unknown here: the master's RunTask was lost, or the task finished and
    // was forgotten. Reliable, like any update of the agent.
    internal::StatusUpdate update =
        makeAgentUpdate(reconcile.framework_id(), status.task_id(), nullptr,
                        dropped ? v1::TASK_DROPPED : v1::TASK_LOST, v1::TaskStatus::REASON_RECONCILIATION,
                        "Task unknown to the agent");
    if (Status recorded = updates_->update(update); !recorded.ok()) {
      log_->error("Failed to record a reconciliation update for task {}: {}", quoteForLog(taskId),
                  recorded.message());
    }
  }
}

void AgentImpl::onShutdownAgent(const PeerId&, internal::Envelope& envelope) {
  if (registration_ == Registration::kShuttingDown) return;
  shutdownReason_ = envelope.shutdown_agent().message();
  log_->warn("The master asked this agent to shut down: {}", quoteForLog(shutdownReason_, 200));
  registration_ = Registration::kShuttingDown;
  if (registrationTimer_) clock_.cancel(*registrationTimer_);
  registrationTimer_.reset();
  if (pingTimer_) clock_.cancel(*pingTimer_);
  pingTimer_.reset();
  updates_->pause();
  std::vector<std::string> frameworkIds;
  for (auto& [id, framework] : frameworks_) frameworkIds.push_back(id);
  for (const std::string& id : frameworkIds) {
    internal::Envelope shutdown;
    shutdown.mutable_shutdown_framework()->mutable_framework_id()->set_value(id);
    onShutdownFramework(kMasterPeer, shutdown);
  }
  maybeFinishShutdown();
}

void AgentImpl::maybeFinishShutdown() {
  if (registration_ != Registration::kShuttingDown) return;
  for (const auto& [id, framework] : frameworks_) {
    for (const auto& [executorId, executor] : framework.executors) {
      if (executor.state != ExecutorRecord::State::kTerminated) return;
    }
  }
  // Forget the agent's ID (the master refuses it from now on) and every run;
  // checkpointed reservations survive (Mesos).
  Status status = store_->clearRuns();
  if (status.ok()) status = store_->removeAgent();
  if (!status.ok()) log_->error("{}", status.message());
  log_->warn("Agent shut down");
  if (options_.onShutdown) {
    auto done = std::move(options_.onShutdown);
    options_.onShutdown = nullptr;
    done(shutdownReason_);
  }
}

}  // namespace agora::agent
