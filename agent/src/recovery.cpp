// recover(): the checkpoint, the resources check, and the executors that
// survived (or did not survive) the agent's restart.

#include <unistd.h>

#include <array>
#include <fstream>

#include <fmt/format.h>

#include "agent_impl.hpp"
#include "agora/common/id.hpp"

namespace agora::agent {
namespace {

std::string readBootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

std::string systemHostname() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof(buffer) - 1) != 0) return "localhost";
  return buffer;
}

// The resources a checkpointed resource was made from: without its dynamic
// reservations and without persistence.
Resource baseOf(Resource resource) {
  if (resource.disk && !resource.disk->persistenceId.empty()) {
    resource.disk->persistenceId.clear();
    resource.disk->persistencePrincipal.clear();
    resource.disk->containerPath.clear();
    resource.disk->readOnly = false;
    if (resource.disk->source == DiskInfo::Source::kRoot && resource.disk->sourceRoot.empty()) resource.disk.reset();
  }
  while (!resource.reservations.empty() && resource.reservations.back().type == Reservation::Type::kDynamic) {
    resource.reservations.pop_back();
  }
  resource.allocationRole.reset();
  return resource;
}

Resources staticReservations(const Resources& resources) {
  return resources.filter([](const Resource& r) {
    return r.isReserved() && r.reservations.front().type == Reservation::Type::kStatic;
  });
}

}  // namespace

Resources basesOf(const Resources& checkpointed) {
  Resources bases;
  for (const Resource& resource : checkpointed) bases.add(baseOf(resource));
  return bases;
}

Status AgentImpl::computeResources() {
  Resources given;
  if (!options_.resources.empty()) {
    AGORA_ASSIGN_OR_RETURN(given, Resources::parse(options_.resources, options_.defaultRole));
  }
  Result<Resources> detected = options_.machineFacts
                                   ? missingResources(given, *options_.machineFacts, options_.defaultRole)
                                   : detectMissingResources(given, options_.workDir, options_.defaultRole);
  if (!detected.ok()) return detected.error().withContext("Failed to detect resources");
  configured_ = given + *detected;
  return Status::OK();
}

Status AgentImpl::checkResourcesAgainstCheckpoint(const internal::CheckpointedResources& checkpointed) {
  auto parsed = Resources::fromProto(checkpointed.resources());
  if (!parsed.ok()) {
    return parsed.error().withContext("Invalid checkpointed resources in '" + store_->path() + "'");
  }
  Resources bases = basesOf(*parsed);
  if (!configured_.contains(bases)) {
    return Status::FailedPrecondition(fmt::format(
        "--resources '{}' (with detection: {}) conflicts with the checkpointed reservations {} in '{}': they "
        "need {} but the agent would only have {}; restore --resources or remove the reservations first",
        options_.resources, configured_.toString(), parsed->toString(), store_->path(), bases.toString(),
        (configured_ - (configured_ - bases)).toString()));
  }
  checkpointed_ = *parsed;
  resourceVersion_ = checkpointed.has_resource_version_uuid() ? checkpointed.resource_version_uuid().value()
                                                              : newUuidBytes();
  return Status::OK();
}

Status AgentImpl::recover() {
  AGORA_RETURN_IF_ERROR(validateAgentOptions(options_));
  AGORA_ASSIGN_OR_RETURN(CheckpointStore store, CheckpointStore::open(options_.workDir));
  store_.emplace(std::move(store));
  AGORA_ASSIGN_OR_RETURN(CheckpointSnapshot snapshot, store_->load());
  AGORA_RETURN_IF_ERROR(computeResources());

  bootId_ = options_.bootId.empty() ? readBootId() : options_.bootId;
  info_.set_hostname(options_.hostname.empty() ? systemHostname() : options_.hostname);
  info_.set_port(static_cast<int32_t>(options_.port));
  configured_.toProto(info_.mutable_resources());
  AGORA_ASSIGN_OR_RETURN(std::vector<v1::Attribute> attributes, parseAttributes(options_.attributes));
  for (v1::Attribute& attribute : attributes) *info_.add_attributes() = std::move(attribute);

  if (snapshot.agent) {
    const v1::AgentInfo& previous = snapshot.agent->agent_info();
    auto previousResources = Resources::fromProto(previous.resources());
    if (!previousResources.ok()) {
      return previousResources.error().withContext("Invalid agent record in '" + store_->path() + "'");
    }
    Resources before = staticReservations(*previousResources);
    Resources now = staticReservations(configured_);
    if (!(before == now)) {
      return Status::FailedPrecondition(fmt::format(
          "--resources '{}' conflicts with the checkpointed static reservations of agent {} in '{}': it "
          "reserves {} where the agent registered with {}; static reservations cannot change while the "
          "agent keeps its ID",
          options_.resources, previous.id().value(), store_->path(), now.toString(), before.toString()));
    }
    *info_.mutable_id() = previous.id();
  }
  if (snapshot.resources) {
    AGORA_RETURN_IF_ERROR(checkResourcesAgainstCheckpoint(*snapshot.resources));
  } else {
    resourceVersion_ = newUuidBytes();
  }

  updates_ = std::make_unique<StatusUpdateManager>(
      clock_, *store_,
      [this](const internal::StatusUpdate& update) {
        internal::Envelope envelope;
        *envelope.mutable_status_update() = update;
        sendToMaster(std::move(envelope));
      },
      [this](const TaskKey& key) { onStreamClosed(key); });

  if (options_.recover == "cleanup") {
    std::vector<RecoveredContainer> containers;
    for (const ExecutorRow& row : snapshot.executors) {
      if (row.checkpoint.sentinel()) continue;
      containers.push_back({row.checkpoint.container_id().value(), row.checkpoint.framework_id(),
                            row.checkpoint.executor_info(), std::nullopt, row.checkpoint.directory()});
    }
    AGORA_ASSIGN_OR_RETURN(std::set<std::string> alive, containerizer_.recover(containers));
    for (const std::string& containerId : alive) {
      log_->info("Destroying container {} (--recover=cleanup)", containerId);
      containerizer_.destroy(containerId, Duration::zero());
    }
    AGORA_RETURN_IF_ERROR(store_->clearRuns());
  } else {
    AGORA_RETURN_IF_ERROR(recoverRuns(snapshot));
  }

  registration_ = Registration::kDisconnected;
  // Recovered with an agent ID: the master it reregisters with is known (the
  // daemon resolved it before recovery), so the first attempt goes at once,
  // on the loop's first turn; a new agent waits a random delay as in Mesos,
  // so that agents starting together do not all register at the same moment.
  startRegistration(/*immediately=*/info_.has_id());
  return Status::OK();
}

Status AgentImpl::recoverRuns(const CheckpointSnapshot& snapshot) {
  for (const internal::FrameworkCheckpoint& checkpoint : snapshot.frameworks) {
    FrameworkRecord& framework = frameworks_[checkpoint.framework_info().id().value()];
    framework.info = checkpoint.framework_info();
  }
  std::vector<RecoveredContainer> containers;
  for (const ExecutorRow& row : snapshot.executors) {
    const internal::ExecutorCheckpoint& checkpoint = row.checkpoint;
    const std::string& frameworkId = checkpoint.framework_id().value();
    const std::string& executorId = checkpoint.executor_info().executor_id().value();
    FrameworkRecord* framework = this->framework(frameworkId);
    if (framework == nullptr) {
      ++counters_.recoveryErrors;
      log_->error("Checkpointed executor {} of unknown framework {}; ignoring it", quoteForLog(executorId),
                  quoteForLog(frameworkId));
      continue;
    }
    auto existing = framework->executors.find(executorId);
    if (existing != framework->executors.end() && checkpoint.sentinel()) continue;  // An older run.
    ExecutorRecord executor;
    executor.frameworkId = checkpoint.framework_id();
    executor.info = checkpoint.executor_info();
    executor.containerId = checkpoint.container_id().value();
    executor.directory = checkpoint.directory();
    executor.commandExecutor = !checkpoint.executor_info().has_type() ||
                               checkpoint.executor_info().type() == v1::ExecutorInfo::UNKNOWN;
    executor.peer = row.peer;
    if (checkpoint.has_pid()) executor.pid = checkpoint.pid();
    executor.state = checkpoint.sentinel() ? ExecutorRecord::State::kTerminated : ExecutorRecord::State::kRegistering;
    executor.recovered = true;
    auto resources = Resources::fromProto(checkpoint.executor_info().resources());
    if (resources.ok()) executor.resources = *resources;
    if (!checkpoint.sentinel()) {
      containers.push_back({executor.containerId, executor.frameworkId, executor.info, executor.pid,
                            executor.directory});
    }
    framework->executors[executorId] = std::move(executor);
  }
  for (const TaskRow& row : snapshot.tasks) {
    const internal::TaskCheckpoint& checkpoint = row.checkpoint;
    ExecutorRecord* executor = this->executor(checkpoint.framework_id().value(), checkpoint.executor_id().value());
    if (executor == nullptr || executor->containerId != checkpoint.container_id().value()) {
      ++counters_.recoveryErrors;
      log_->error("Checkpointed task {} of framework {} has no executor run; ignoring it",
                  quoteForLog(checkpoint.task().task_id().value()), quoteForLog(checkpoint.framework_id().value()));
      continue;
    }
    TaskRecord& task = executor->tasks[checkpoint.task().task_id().value()];
    task.task = checkpoint.task();
    task.info = row.info;
    task.launched = row.launched;
    task.group = checkpoint.task_group();
    nextTaskGroup_ = std::max(nextTaskGroup_, task.group + 1);
    if (auto resources = Resources::fromProto(task.task.resources()); resources.ok()) executor->resources += *resources;
  }

  updates_->recover(snapshot.streams);
  // A crash between recording an update and rewriting its task leaves the
  // task behind its stream: the stream is the truth.
  for (auto& [frameworkId, framework] : frameworks_) {
    for (auto& [executorId, executor] : framework.executors) {
      for (auto& [taskId, task] : executor.tasks) {
        std::vector<internal::StatusUpdate> pending = updates_->pending({frameworkId, taskId});
        if (!pending.empty()) task.task.set_state(pending.back().status().state());
      }
    }
  }

  bool rebooted = snapshot.agent && snapshot.agent->boot_id() != bootId_;
  std::set<std::string> alive;
  if (rebooted) {
    log_->warn("The host rebooted since the last checkpoint; no executor survived");
  } else {
    auto recovered = containerizer_.recover(containers);
    if (!recovered.ok()) return recovered.error().withContext("Failed to recover containers");
    alive = *recovered;
  }

  std::vector<std::array<std::string, 3>> nudge;  // (framework, executor, container)
  for (auto& [frameworkId, framework] : frameworks_) {
    std::vector<std::string> executorIds;
    for (auto& [id, executor] : framework.executors) executorIds.push_back(id);
    for (const std::string& executorId : executorIds) {
      ExecutorRecord& executor = framework.executors.at(executorId);
      if (executor.state == ExecutorRecord::State::kTerminated) {
        maybeCompleteExecutor(frameworkId, executorId);
        continue;
      }
      if (!alive.count(executor.containerId)) {
        log_->info("Executor {} of framework {} is gone", quoteForLog(executorId), quoteForLog(frameworkId));
        ContainerTermination termination;
        termination.message = "Executor terminated while the agent was down";
        onExecutorTerminated(frameworkId, executorId, executor.containerId, termination);
        continue;
      }
      watchContainer(executor);
      bool subscribedBefore = !executor.peer.empty();
      Duration timeout =
          subscribedBefore ? options_.executorReregistrationTimeout : options_.executorRegistrationTimeout;
      std::string containerId = executor.containerId;
      if (subscribedBefore) nudge.push_back({frameworkId, executorId, containerId});
      executor.timer = clock_.schedule(timeout, [this, frameworkId, executorId, containerId, subscribedBefore] {
        ExecutorRecord* e = this->executor(frameworkId, executorId);
        if (e == nullptr || e->containerId != containerId) return;
        e->timer.reset();
        if (e->state != ExecutorRecord::State::kRegistering) return;
        FrameworkRecord* f = this->framework(frameworkId);
        if (subscribedBefore) {
          terminateExecutor(*e,
                            {partitionAware(f->info) ? v1::TASK_GONE : v1::TASK_LOST,
                             v1::TaskStatus::REASON_EXECUTOR_REREGISTRATION_TIMEOUT,
                             "Executor did not reregister within " +
                                 formatDuration(options_.executorReregistrationTimeout)},
                            Duration::zero(), false);
        } else {
          terminateExecutor(*e,
                            {v1::TASK_FAILED, v1::TaskStatus::REASON_EXECUTOR_REGISTRATION_TIMEOUT,
                             "Executor did not register within " +
                                 formatDuration(options_.executorRegistrationTimeout)},
                            Duration::zero(), false);
        }
      });
    }
  }
  // Executors resubscribe by themselves as soon as their connection to the
  // agent's socket comes back (the SDK's driver does). Asking them is the
  // fallback for one that did not notice the restart, sent a quarter of the
  // reregistration timeout in (0.5 s at most): sent now, the request would
  // mostly fail (the executor is not connected yet) or repeat what it does
  // anyway, 200 messages in the middle of a restart with 200 executors.
  if (!nudge.empty()) {
    Duration after = std::min<Duration>(std::chrono::milliseconds(500), options_.executorReregistrationTimeout / 4);
    clock_.schedule(after, [this, nudge = std::move(nudge)] {
      for (const auto& [frameworkId, executorId, containerId] : nudge) {
        ExecutorRecord* executor = this->executor(frameworkId, executorId);
        if (executor == nullptr || executor->containerId != containerId ||
            executor->state != ExecutorRecord::State::kRegistering) {
          continue;
        }
        log_->info("Asking executor {} of framework {} to reconnect", quoteForLog(executorId),
                   quoteForLog(frameworkId));
        internal::Envelope envelope;
        *envelope.mutable_reconnect_executor()->mutable_agent_id() = info_.id();
        messenger_.send(executor->peer, std::move(envelope));
      }
    });
  }
  return Status::OK();
}

}  // namespace agora::agent
