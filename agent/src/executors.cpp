// Tasks and executors: RunTask, the executor API (SUBSCRIBE, UPDATE,
// MESSAGE), kills, shutdowns, timeouts and container terminations.

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "agent_impl.hpp"
#include "agora/common/id.hpp"

namespace agora::agent {
namespace {

using ExecutorState = ExecutorRecord::State;

constexpr size_t kMaxCompletedTasksPerExecutor = 200;

bool partitionAware(const v1::FrameworkInfo& info) {
  for (const auto& capability : info.capabilities()) {
    if (capability.type() == v1::FrameworkInfo::Capability::PARTITION_AWARE) return true;
  }
  return false;
}

Resources resourcesOf(const google::protobuf::RepeatedPtrField<v1::Resource>& resources) {
  auto parsed = Resources::fromProto(resources);
  return parsed.ok() ? *parsed : Resources();
}

v1::executor::Event event(v1::executor::Event::Type type) {
  v1::executor::Event e;
  e.set_type(type);
  return e;
}

}  // namespace

internal::StatusUpdate AgentImpl::makeAgentUpdate(const v1::FrameworkID& frameworkId, const v1::TaskID& taskId,
                                                  const v1::ExecutorID* executorId, v1::TaskState state,
                                                  v1::TaskStatus::Reason reason, const std::string& message) const {
  internal::StatusUpdate update;
  double now = std::chrono::duration<double>(clock_.wallNow().time_since_epoch()).count();
  std::string uuid = newUuidBytes();
  *update.mutable_framework_id() = frameworkId;
  *update.mutable_agent_id() = info_.id();
  if (executorId != nullptr) *update.mutable_executor_id() = *executorId;
  update.set_timestamp(now);
  update.set_uuid(uuid);
  v1::TaskStatus* status = update.mutable_status();
  *status->mutable_task_id() = taskId;
  status->set_state(state);
  status->set_reason(reason);
  status->set_source(v1::TaskStatus::SOURCE_AGENT);
  status->set_message(message);
  *status->mutable_agent_id() = info_.id();
  if (executorId != nullptr) *status->mutable_executor_id() = *executorId;
  status->set_timestamp(now);
  status->set_uuid(uuid);
  return update;
}

// --- RunTask -------------------------------------------------------------------

void AgentImpl::onRunTask(const PeerId& from, internal::Envelope& envelope) {
  if (registration_ != Registration::kRegistered) {
    drop(from, envelope, "the agent is not registered");
    return;
  }
  const internal::RunTask& run = envelope.run_task();
  const v1::TaskInfo& task = run.task();
  const std::string& taskId = task.task_id().value();
  const v1::FrameworkInfo& frameworkInfo = run.framework_info();
  Status valid = frameworkInfo.has_id() ? validateId(frameworkInfo.id().value(), "framework ID")
                                        : Status::InvalidArgument("no framework ID");
  if (valid.ok()) valid = validateId(taskId, "task ID");
  if (valid.ok() && task.agent_id().value() != info_.id().value()) {
    valid = Status::InvalidArgument("for agent " + quoteForLog(task.agent_id().value()));
  }
  if (valid.ok() && task.has_command() == task.has_executor()) {
    valid = Status::InvalidArgument("a task needs exactly one of command and executor");
  }
  if (valid.ok() && task.has_executor()) {
    valid = validateId(task.executor().executor_id().value(), "executor ID");
    if (valid.ok() && !task.executor().has_command()) valid = Status::InvalidArgument("the executor has no command");
  }
  if (valid.ok()) {
    if (auto resources = Resources::fromProto(task.resources()); !resources.ok()) valid = resources.error();
  }
  if (!valid.ok()) {
    drop(from, envelope, valid.message());
    return;
  }
  const std::string& frameworkId = frameworkInfo.id().value();
  if (executorOfTask(frameworkId, taskId) != nullptr) {
    log_->info("Ignoring a second RunTask for task {} of framework {}", quoteForLog(taskId), frameworkId);
    return;
  }
  FrameworkRecord& framework = ensureFramework(frameworkInfo);
  v1::ExecutorInfo executorInfo = task.has_executor() ? task.executor() : commandExecutorInfo(frameworkInfo, task);
  *executorInfo.mutable_framework_id() = frameworkInfo.id();
  const std::string executorId = executorInfo.executor_id().value();

  auto refuse = [&](const std::string& why) {
    log_->warn("Dropping task {} of framework {}: {}", quoteForLog(taskId), frameworkId, why);
    internal::StatusUpdate update =
        makeAgentUpdate(frameworkInfo.id(), task.task_id(), &executorInfo.executor_id(),
                        partitionAware(frameworkInfo) ? v1::TASK_DROPPED : v1::TASK_LOST,
                        v1::TaskStatus::REASON_EXECUTOR_TERMINATED, why);
    if (Status s = updates_->update(update); !s.ok()) log_->error("{}", s.message());
  };
  if (framework.removing) {
    refuse("the framework is being removed");
    return;
  }

  auto existing = framework.executors.find(executorId);
  bool launch = existing == framework.executors.end();
  if (!launch && (existing->second.state == ExecutorState::kTerminating ||
                  existing->second.state == ExecutorState::kTerminated)) {
    refuse("executor " + quoteForLog(executorId) + " is terminating");
    return;
  }
  if (launch) {
    ExecutorRecord executor;
    executor.frameworkId = frameworkInfo.id();
    executor.info = executorInfo;
    executor.containerId = newUuid();
    executor.directory = sandboxDirectory(frameworkId, executorId, executor.containerId);
    executor.commandExecutor = !task.has_executor();
    executor.resources = resourcesOf(executorInfo.resources());
    existing = framework.executors.emplace(executorId, std::move(executor)).first;
  }
  ExecutorRecord& executor = existing->second;

  TaskRecord record;
  record.info = task;
  v1::Task& t = record.task;
  t.set_name(task.name());
  *t.mutable_task_id() = task.task_id();
  *t.mutable_framework_id() = frameworkInfo.id();
  *t.mutable_executor_id() = executorInfo.executor_id();
  *t.mutable_agent_id() = info_.id();
  t.set_state(v1::TASK_STAGING);
  *t.mutable_resources() = task.resources();
  if (task.has_labels()) *t.mutable_labels() = task.labels();
  if (task.has_health_check()) *t.mutable_health_check() = task.health_check();
  if (task.has_kill_policy()) *t.mutable_kill_policy() = task.kill_policy();
  std::string user = task.has_command() && task.command().has_user() ? task.command().user() : frameworkInfo.user();
  t.set_user(user);
  *t.mutable_limits() = task.limits();
  executor.resources += resourcesOf(task.resources());
  TaskRecord& stored = executor.tasks[taskId] = std::move(record);

  // Durable before anything runs: the executor run, then the task.
  Status written = store_->transaction([&] {
    checkpointExecutor(executor);
    checkpointTask(executor, stored);
    return Status::OK();
  });
  if (!written.ok()) log_->error("{}", written.message());

  log_->info("Launching task {} of framework {} in executor {}", quoteForLog(taskId), frameworkId,
             quoteForLog(executorId));
  if (launch) {
    launchExecutor(framework, executor);
  } else if (executor.state == ExecutorState::kRunning) {
    deliverQueuedTasks(executor);
  }
}

FrameworkRecord& AgentImpl::ensureFramework(const v1::FrameworkInfo& info) {
  FrameworkRecord& framework = frameworks_[info.id().value()];
  if (framework.info.SerializePartialAsString() != info.SerializePartialAsString()) {
    framework.info = info;
    internal::FrameworkCheckpoint checkpoint;
    *checkpoint.mutable_framework_info() = info;
    if (Status s = store_->writeFramework(checkpoint); !s.ok()) log_->error("{}", s.message());
  }
  return framework;
}

v1::ExecutorInfo AgentImpl::commandExecutorInfo(const v1::FrameworkInfo& framework, const v1::TaskInfo& task) const {
  v1::ExecutorInfo info;
  info.mutable_executor_id()->set_value(task.task_id().value());
  *info.mutable_framework_id() = framework.id();
  const v1::CommandInfo& command = task.command();
  std::string shown = command.shell() ? "sh -c '" + command.value() + "'" : command.value();
  info.set_name(fmt::format("Command Executor (Task: {}) (Command: {})", task.task_id().value(), shown));
  v1::CommandInfo* executorCommand = info.mutable_command();
  executorCommand->set_shell(false);
  executorCommand->set_value(options_.launcherDir + "/agora-executor");
  executorCommand->add_arguments("agora-executor");
  if (command.has_user()) executorCommand->set_user(command.user());
  Resources overhead = Resources::parse(kCommandExecutorOverhead).value();
  overhead.toProto(info.mutable_resources());
  if (task.has_labels()) *info.mutable_labels() = task.labels();
  if (task.has_kill_policy() && task.kill_policy().has_grace_period()) {
    // The executor needs the task's grace and a little to report it.
    info.mutable_shutdown_grace_period()->set_nanoseconds(task.kill_policy().grace_period().nanoseconds() +
                                                          std::chrono::nanoseconds(std::chrono::seconds(2)).count());
  }
  return info;
}

std::string AgentImpl::sandboxDirectory(const std::string& frameworkId, const std::string& executorId,
                                        const std::string& containerId) const {
  return fmt::format("{}/slaves/{}/frameworks/{}/executors/{}/runs/{}", options_.workDir, info_.id().value(),
                     frameworkId, executorId, containerId);
}

Duration AgentImpl::shutdownGracePeriod(const ExecutorRecord& executor) const {
  if (executor.info.has_shutdown_grace_period()) {
    return Duration(executor.info.shutdown_grace_period().nanoseconds());
  }
  return options_.executorShutdownGracePeriod;
}

void AgentImpl::launchExecutor(FrameworkRecord& framework, ExecutorRecord& executor) {
  const std::string frameworkId = executor.frameworkId.value();
  const std::string executorId = executor.info.executor_id().value();
  const std::string containerId = executor.containerId;

  std::error_code ec;
  std::filesystem::create_directories(executor.directory, ec);
  if (ec) {
    std::string message = fmt::format("Failed to create sandbox '{}': {}", executor.directory, ec.message());
    log_->error("{}", message);
    for (auto& [taskId, task] : executor.tasks) {
      agentUpdate(executor, taskId, v1::TASK_FAILED, v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED, message);
    }
    executor.state = ExecutorState::kTerminated;
    checkpointExecutor(executor);
    return;
  }

  ContainerConfig config;
  config.containerId = containerId;
  config.frameworkId = executor.frameworkId;
  config.executorInfo = executor.info;
  config.resources = executor.resources;
  config.sandbox = executor.directory;
  const v1::CommandInfo& command = executor.info.command();
  std::string user = command.has_user() ? command.user() : framework.info.user();
  if (!user.empty()) config.user = user;
  if (command.shell()) {
    config.argv = {"/bin/sh", "-c", command.value()};
  } else {
    config.argv.push_back(command.value());
    for (int i = 1; i < command.arguments_size(); ++i) config.argv.push_back(command.arguments(i));
  }
  config.env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& variable : command.environment().variables()) {
    if (variable.type() == v1::Environment::Variable::VALUE) config.env[variable.name()] = variable.value();
  }
  config.env["AGORA_AGENT_ENDPOINT"] = options_.executorEndpoint;
  config.env["AGORA_AGENT_ID"] = info_.id().value();
  config.env["AGORA_FRAMEWORK_ID"] = frameworkId;
  config.env["AGORA_EXECUTOR_ID"] = executorId;
  config.env["AGORA_CONTAINER_ID"] = containerId;
  config.env["AGORA_DIRECTORY"] = executor.directory;
  config.env["AGORA_SANDBOX"] = executor.directory;
  config.env["AGORA_CHECKPOINT"] = framework.info.checkpoint() ? "1" : "0";
  config.env["AGORA_RECOVERY_TIMEOUT"] = formatDuration(options_.recoveryTimeout);
  config.env["AGORA_SUBSCRIPTION_BACKOFF_MAX"] = formatDuration(options_.executorReregistrationTimeout);
  config.env["AGORA_EXECUTOR_SHUTDOWN_GRACE_PERIOD"] = formatDuration(shutdownGracePeriod(executor));

  executor.state = ExecutorState::kLaunching;
  executor.timer = clock_.schedule(options_.executorRegistrationTimeout, [this, frameworkId, executorId,
                                                                         containerId] {
    ExecutorRecord* e = this->executor(frameworkId, executorId);
    if (e == nullptr || e->containerId != containerId) return;
    e->timer.reset();
    if (e->state != ExecutorState::kLaunching && e->state != ExecutorState::kRegistering) return;
    log_->warn("Executor {} of framework {} did not subscribe within {}", quoteForLog(executorId), frameworkId,
               formatDuration(options_.executorRegistrationTimeout));
    terminateExecutor(*e,
                      {v1::TASK_FAILED, v1::TaskStatus::REASON_EXECUTOR_REGISTRATION_TIMEOUT,
                       "Executor did not register within " + formatDuration(options_.executorRegistrationTimeout)},
                      Duration::zero(), false);
  });

  containerizer_.launch(config, [this, frameworkId, executorId, containerId](Result<pid_t> pid) {
    ExecutorRecord* e = this->executor(frameworkId, executorId);
    if (e == nullptr || e->containerId != containerId) return;
    if (!pid.ok()) {
      std::string message = "Failed to launch the executor: " + pid.error().message();
      log_->error("Executor {} of framework {}: {}", quoteForLog(executorId), frameworkId, message);
      for (auto& [taskId, task] : e->tasks) {
        if (isTerminalState(task.task.state())) continue;
        agentUpdate(*e, taskId, v1::TASK_FAILED, v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED, message);
      }
      if (e->timer) clock_.cancel(*e->timer);
      e->timer.reset();
      e->state = ExecutorState::kTerminated;
      checkpointExecutor(*e);
      maybeCompleteExecutor(frameworkId, executorId);
      return;
    }
    e->pid = *pid;
    checkpointExecutor(*e);
    watchContainer(*e);
    if (e->state == ExecutorState::kLaunching) {
      e->state = ExecutorState::kRegistering;
    } else if (e->state == ExecutorState::kTerminating) {
      // Killed while it was being launched.
      containerizer_.destroy(containerId, Duration::zero());
    }
  });
}

void AgentImpl::watchContainer(const ExecutorRecord& executor) {
  std::string frameworkId = executor.frameworkId.value();
  std::string executorId = executor.info.executor_id().value();
  std::string containerId = executor.containerId;
  containerizer_.wait(containerId, [this, frameworkId, executorId, containerId](const ContainerTermination& t) {
    onExecutorTerminated(frameworkId, executorId, containerId, t);
  });
}

void AgentImpl::deliverQueuedTasks(ExecutorRecord& executor) {
  for (auto& [taskId, task] : executor.tasks) {
    if (task.launched || isTerminalState(task.task.state())) continue;
    v1::executor::Event launch = event(v1::executor::Event::LAUNCH);
    *launch.mutable_launch()->mutable_task() = task.info;
    sendToExecutor(executor, std::move(launch));
    task.launched = true;
    checkpointTask(executor, task);
  }
}

// --- Updates -------------------------------------------------------------------

void AgentImpl::agentUpdate(ExecutorRecord& executor, const std::string& taskId, v1::TaskState state,
                            v1::TaskStatus::Reason reason, const std::string& message) {
  auto it = executor.tasks.find(taskId);
  if (it == executor.tasks.end()) return;
  internal::StatusUpdate update = makeAgentUpdate(executor.frameworkId, it->second.task.task_id(),
                                                  &executor.info.executor_id(), state, reason, message);
  if (Status s = recordUpdate(executor, std::move(update)); !s.ok()) {
    log_->error("Failed to record the agent's update for task {}: {}", quoteForLog(taskId), s.message());
  }
}

Status AgentImpl::recordUpdate(ExecutorRecord& executor, internal::StatusUpdate update) {
  const std::string taskId = update.status().task_id().value();
  TaskRecord& task = executor.tasks.at(taskId);
  // Durable (and forwarded if it is the stream's head) first.
  AGORA_RETURN_IF_ERROR(updates_->update(update));
  v1::TaskState state = update.status().state();
  bool wasTerminal = isTerminalState(task.task.state());
  task.task.set_state(state);
  v1::TaskStatus* status = task.task.add_statuses();
  *status = update.status();
  status->clear_data();
  if (state == v1::TASK_STARTING || state == v1::TASK_RUNNING) task.launched = true;
  if (isTerminalState(state) && !wasTerminal) {
    ++counters_.terminalTasks[state];
    executor.resources -= resourcesOf(task.task.resources());
  }
  checkpointTask(executor, task);
  return Status::OK();
}

void AgentImpl::onStatusUpdateAcknowledgement(const PeerId& from, internal::Envelope& envelope) {
  const internal::StatusUpdateAcknowledgement& ack = envelope.status_update_acknowledgement();
  if (!info_.has_id() || ack.agent_id().value() != info_.id().value()) {
    drop(from, envelope, "for another agent");
    return;
  }
  TaskKey key{ack.framework_id().value(), ack.task_id().value()};
  auto acknowledged = updates_->acknowledge(key, ack.uuid());
  if (!acknowledged.ok()) {
    log_->error("Failed to record an acknowledgement for task {}: {}", quoteForLog(key.second),
                acknowledged.error().message());
  } else if (!*acknowledged) {
    log_->debug("Ignoring an acknowledgement for task {} that does not match its pending update",
                quoteForLog(key.second));
  }
}

void AgentImpl::onStreamClosed(const TaskKey& key) {
  ExecutorRecord* executor = executorOfTask(key.first, key.second);
  if (executor == nullptr) {
    // A stream of a task the agent did not have (reconciliation).
    maybeRemoveFramework(key.first);
    return;
  }
  auto it = executor->tasks.find(key.second);
  executor->completedTasks.push_back(it->second.task);
  if (executor->completedTasks.size() > kMaxCompletedTasksPerExecutor) executor->completedTasks.pop_front();
  executor->tasks.erase(it);
  if (Status s = store_->removeTask(key.first, key.second); !s.ok()) log_->error("{}", s.message());
  maybeCompleteExecutor(key.first, executor->info.executor_id().value());
}

// --- The executor API ------------------------------------------------------------

void AgentImpl::onExecutorCall(const PeerId& from, internal::Envelope& envelope) {
  const v1::executor::Call& call = envelope.executor_call();
  auto invalid = [&](const std::string& why) {
    if (call.type() == v1::executor::Call::UPDATE) ++counters_.invalidStatusUpdates;
    if (call.type() == v1::executor::Call::MESSAGE) ++counters_.invalidFrameworkMessages;
    drop(from, envelope, why);
  };
  ExecutorRecord* executor = this->executor(call.framework_id().value(), call.executor_id().value());
  if (executor == nullptr) {
    invalid(this->framework(call.framework_id().value()) == nullptr ? "unknown framework" : "unknown executor");
    return;
  }
  if (call.type() == v1::executor::Call::SUBSCRIBE) {
    onExecutorSubscribe(from, *executor, call);
    return;
  }
  if (executor->peer != from) {
    invalid("not the subscribed executor of " + quoteForLog(call.executor_id().value()));
    return;
  }
  switch (call.type()) {
    case v1::executor::Call::UPDATE:
      onExecutorUpdate(from, *executor, call);
      return;
    case v1::executor::Call::MESSAGE:
      onExecutorMessage(from, *executor, call);
      return;
    case v1::executor::Call::HEARTBEAT:
      return;
    default:
      invalid("unknown call type");
  }
}

void AgentImpl::onExecutorSubscribe(const PeerId& from, ExecutorRecord& executor, const v1::executor::Call& call) {
  const std::string executorId = executor.info.executor_id().value();
  if (executor.state == ExecutorState::kTerminating || executor.state == ExecutorState::kTerminated) {
    log_->warn("Executor {} subscribed while terminating; telling it to shut down", quoteForLog(executorId));
    internal::Envelope envelope;
    *envelope.mutable_executor_event() = event(v1::executor::Event::SHUTDOWN);
    messenger_.send(from, std::move(envelope));
    return;
  }
  if (executor.timer) clock_.cancel(*executor.timer);
  executor.timer.reset();
  bool resubscribe = !executor.peer.empty();
  executor.peer = from;
  executor.state = ExecutorState::kRunning;
  log_->info("Executor {} of framework {} {}subscribed", quoteForLog(executorId), executor.frameworkId.value(),
             resubscribe ? "re" : "");
  // The tasks the executor already has were delivered before a restart.
  for (const v1::TaskInfo& task : call.subscribe().unacknowledged_tasks()) {
    auto it = executor.tasks.find(task.task_id().value());
    if (it != executor.tasks.end() && !it->second.launched) {
      it->second.launched = true;
      checkpointTask(executor, it->second);
    }
  }
  checkpointExecutor(executor);

  FrameworkRecord* framework = this->framework(executor.frameworkId.value());
  v1::executor::Event subscribed = event(v1::executor::Event::SUBSCRIBED);
  *subscribed.mutable_subscribed()->mutable_executor_info() = executor.info;
  *subscribed.mutable_subscribed()->mutable_framework_info() = framework->info;
  *subscribed.mutable_subscribed()->mutable_agent_info() = info_;
  subscribed.mutable_subscribed()->mutable_container_id()->set_value(executor.containerId);
  sendToExecutor(executor, std::move(subscribed));

  // Updates the executor sent while the agent was away.
  for (const v1::executor::Call::Update& update : call.subscribe().unacknowledged_updates()) {
    v1::executor::Call replay;
    *replay.mutable_executor_id() = call.executor_id();
    *replay.mutable_framework_id() = call.framework_id();
    replay.set_type(v1::executor::Call::UPDATE);
    *replay.mutable_update() = update;
    onExecutorUpdate(from, executor, replay);
  }
  deliverQueuedTasks(executor);
}

void AgentImpl::onExecutorUpdate(const PeerId& from, ExecutorRecord& executor, const v1::executor::Call& call) {
  auto invalid = [&](const std::string& why) {
    ++counters_.invalidStatusUpdates;
    ++counters_.droppedMessages;
    log_->warn("Dropping a status update from executor {} ({}): {}", quoteForLog(call.executor_id().value()),
               quoteForLog(from), why);
  };
  auto acknowledge = [&](const v1::TaskStatus& status) {
    v1::executor::Event ack = event(v1::executor::Event::ACKNOWLEDGED);
    *ack.mutable_acknowledged()->mutable_task_id() = status.task_id();
    ack.mutable_acknowledged()->set_uuid(status.uuid());
    sendToExecutor(executor, std::move(ack));
  };
  if (!call.has_update()) {
    invalid("no update");
    return;
  }
  const v1::TaskStatus& status = call.update().status();
  if (!status.has_uuid() || status.uuid().size() != 16) {
    invalid("the update has no valid uuid");
    return;
  }
  if (status.state() == v1::TASK_STAGING) {
    invalid("executors may not send TASK_STAGING");
    return;
  }
  const std::string& taskId = status.task_id().value();
  if (!executor.tasks.count(taskId)) {
    for (const v1::Task& done : executor.completedTasks) {
      if (done.task_id().value() == taskId) {
        // Already recorded and acknowledged by the scheduler: let the
        // executor forget it.
        acknowledge(status);
        return;
      }
    }
    invalid("task " + quoteForLog(taskId) + " is not a task of this executor");
    return;
  }
  internal::StatusUpdate update;
  *update.mutable_framework_id() = executor.frameworkId;
  *update.mutable_executor_id() = executor.info.executor_id();
  *update.mutable_agent_id() = info_.id();
  *update.mutable_status() = status;
  v1::TaskStatus* s = update.mutable_status();
  s->set_source(v1::TaskStatus::SOURCE_EXECUTOR);
  *s->mutable_agent_id() = info_.id();
  *s->mutable_executor_id() = executor.info.executor_id();
  double now = std::chrono::duration<double>(clock_.wallNow().time_since_epoch()).count();
  if (!s->has_timestamp()) s->set_timestamp(now);
  update.set_timestamp(s->timestamp());
  update.set_uuid(status.uuid());

  Status recorded = recordUpdate(executor, std::move(update));
  if (recorded.ok()) {
    ++counters_.validStatusUpdates;
    acknowledge(status);
  } else if (recorded.code() == Status::Code::kAlreadyExists) {
    log_->debug("Duplicate update for task {}", quoteForLog(taskId));
    acknowledge(status);
  } else if (recorded.code() == Status::Code::kFailedPrecondition) {
    invalid(recorded.message());
    acknowledge(status);  // So that the executor stops resending it.
  } else {
    // Not durable: no acknowledgement, the executor resends.
    log_->error("Failed to record an update for task {}: {}", quoteForLog(taskId), recorded.message());
  }
}

void AgentImpl::onExecutorMessage(const PeerId&, ExecutorRecord& executor, const v1::executor::Call& call) {
  if (!call.has_message()) {
    ++counters_.invalidFrameworkMessages;
    return;
  }
  ++counters_.validFrameworkMessages;
  internal::Envelope envelope;
  internal::ExecutorToFramework* message = envelope.mutable_executor_to_framework();
  *message->mutable_agent_id() = info_.id();
  *message->mutable_framework_id() = executor.frameworkId;
  *message->mutable_executor_id() = executor.info.executor_id();
  message->set_data(call.message().data());
  sendToMaster(std::move(envelope));
}

void AgentImpl::onFrameworkToExecutor(const PeerId& from, internal::Envelope& envelope) {
  const internal::FrameworkToExecutor& message = envelope.framework_to_executor();
  ExecutorRecord* executor = this->executor(message.framework_id().value(), message.executor_id().value());
  if (executor == nullptr || executor->state != ExecutorState::kRunning) {
    ++counters_.invalidFrameworkMessages;
    drop(from, envelope, "no running executor " + quoteForLog(message.executor_id().value()));
    return;
  }
  ++counters_.validFrameworkMessages;
  v1::executor::Event e = event(v1::executor::Event::MESSAGE);
  e.mutable_message()->set_data(message.data());
  sendToExecutor(*executor, std::move(e));
}

// --- Kills and shutdowns -----------------------------------------------------------

void AgentImpl::onKillTask(const PeerId&, internal::Envelope& envelope) {
  const internal::KillTask& kill = envelope.kill_task();
  const std::string& frameworkId = kill.framework_id().value();
  const std::string& taskId = kill.task_id().value();
  ExecutorRecord* executor = executorOfTask(frameworkId, taskId);
  if (executor == nullptr) {
    log_->warn("Cannot kill unknown task {} of framework {}", quoteForLog(taskId), quoteForLog(frameworkId));
    return;
  }
  TaskRecord& task = executor->tasks.at(taskId);
  if (isTerminalState(task.task.state())) return;
  if (!task.launched) {
    // The executor never saw the task: the agent answers for it.
    agentUpdate(*executor, taskId, v1::TASK_KILLED, v1::TaskStatus::REASON_TASK_KILLED_DURING_LAUNCH,
                "Killed before delivery to the executor");
    bool anyLive = false;
    for (const auto& [id, t] : executor->tasks) anyLive |= !isTerminalState(t.task.state());
    if (!anyLive && executor->state != ExecutorState::kRunning) {
      terminateExecutor(*executor,
                        {v1::TASK_KILLED, v1::TaskStatus::REASON_TASK_KILLED_DURING_LAUNCH, "No tasks left"},
                        Duration::zero(), false);
    }
    return;
  }
  if (executor->state != ExecutorState::kRunning) return;  // Terminating: its tasks end with it.
  v1::executor::Event e = event(v1::executor::Event::KILL);
  *e.mutable_kill()->mutable_task_id() = kill.task_id();
  if (kill.has_kill_policy()) *e.mutable_kill()->mutable_kill_policy() = kill.kill_policy();
  else if (task.info.has_kill_policy()) *e.mutable_kill()->mutable_kill_policy() = task.info.kill_policy();
  sendToExecutor(*executor, std::move(e));
}

void AgentImpl::onShutdownFramework(const PeerId&, internal::Envelope& envelope) {
  const std::string frameworkId = envelope.shutdown_framework().framework_id().value();
  FrameworkRecord* framework = this->framework(frameworkId);
  if (framework == nullptr) return;
  log_->info("Shutting down framework {}", quoteForLog(frameworkId));
  framework->removing = true;
  std::vector<std::string> executorIds;
  for (auto& [id, executor] : framework->executors) executorIds.push_back(id);
  for (const std::string& id : executorIds) {
    ExecutorRecord* executor = this->executor(frameworkId, id);
    if (executor == nullptr) continue;
    terminateExecutor(*executor, {v1::TASK_KILLED, v1::TaskStatus::REASON_FRAMEWORK_REMOVED, "Framework removed"},
                      shutdownGracePeriod(*executor), true);
  }
  maybeRemoveFramework(frameworkId);
}

void AgentImpl::onShutdownExecutor(const PeerId& from, internal::Envelope& envelope) {
  const internal::ShutdownExecutor& shutdown = envelope.shutdown_executor();
  ExecutorRecord* executor = this->executor(shutdown.framework_id().value(), shutdown.executor_id().value());
  if (executor == nullptr) {
    drop(from, envelope, "unknown executor");
    return;
  }
  terminateExecutor(*executor,
                    {v1::TASK_KILLED, v1::TaskStatus::REASON_EXECUTOR_TERMINATED, "Executor shut down"},
                    shutdownGracePeriod(*executor), true);
}

void AgentImpl::onUpdateFramework(const PeerId&, internal::Envelope& envelope) {
  const internal::UpdateFramework& update = envelope.update_framework();
  if (framework(update.framework_id().value()) == nullptr) return;
  v1::FrameworkInfo info = update.framework_info();
  *info.mutable_id() = update.framework_id();
  ensureFramework(info);
}

void AgentImpl::terminateExecutor(ExecutorRecord& executor, ExecutorRecord::Termination termination, Duration grace,
                                  bool sendShutdown) {
  if (executor.state == ExecutorState::kTerminating || executor.state == ExecutorState::kTerminated) return;
  if (executor.timer) clock_.cancel(*executor.timer);
  executor.timer.reset();
  bool graceful = sendShutdown && executor.state == ExecutorState::kRunning && !executor.peer.empty();
  for (auto& [taskId, task] : executor.tasks) {
    if (isTerminalState(task.task.state())) continue;
    // A subscribed executor reports its delivered tasks itself.
    if (graceful && task.launched) continue;
    agentUpdate(executor, taskId, termination.state, termination.reason, termination.message);
  }
  executor.pendingTermination = termination;
  bool launching = executor.state == ExecutorState::kLaunching;
  executor.state = ExecutorState::kTerminating;
  const std::string containerId = executor.containerId;
  if (graceful) {
    sendToExecutor(executor, event(v1::executor::Event::SHUTDOWN));
    executor.timer = clock_.schedule(grace, [this, containerId] { containerizer_.destroy(containerId, Duration::zero()); });
  } else if (!launching) {
    containerizer_.destroy(containerId, grace);
  }
  // A launching container is destroyed once its launch returns.
}

void AgentImpl::onExecutorTerminated(const std::string& frameworkId, const std::string& executorId,
                                     const std::string& containerId, const ContainerTermination& termination) {
  ExecutorRecord* executor = this->executor(frameworkId, executorId);
  if (executor == nullptr || executor->containerId != containerId) return;
  if (executor->state == ExecutorState::kTerminated) return;
  if (executor->timer) clock_.cancel(*executor->timer);
  executor->timer.reset();
  log_->info("Executor {} of framework {} terminated: {}", quoteForLog(executorId), frameworkId,
             termination.message);
  for (auto& [taskId, task] : executor->tasks) {
    if (isTerminalState(task.task.state())) continue;
    v1::TaskState state = v1::TASK_FAILED;
    v1::TaskStatus::Reason reason = v1::TaskStatus::REASON_EXECUTOR_TERMINATED;
    std::string message = "Executor terminated: " + termination.message;
    if (termination.state || termination.reason) {
      state = termination.state.value_or(v1::TASK_FAILED);
      reason = termination.reason.value_or(v1::TaskStatus::REASON_CONTAINER_LIMITATION);
      message = termination.message;
    } else if (executor->pendingTermination) {
      state = executor->pendingTermination->state;
      reason = executor->pendingTermination->reason;
      message = executor->pendingTermination->message;
    }
    internal::StatusUpdate update = makeAgentUpdate(executor->frameworkId, task.task.task_id(),
                                                    &executor->info.executor_id(), state, reason, message);
    if (termination.limitation) termination.limitation->toProto(update.mutable_status()->mutable_limitation()->mutable_resources());
    if (Status s = recordUpdate(*executor, std::move(update)); !s.ok()) log_->error("{}", s.message());
  }
  executor->state = ExecutorState::kTerminated;
  ++counters_.executorsTerminated;
  checkpointExecutor(*executor);
  if (!executor->commandExecutor && registration_ == Registration::kRegistered) {
    internal::Envelope envelope;
    internal::ExitedExecutor* exited = envelope.mutable_exited_executor();
    *exited->mutable_agent_id() = info_.id();
    *exited->mutable_framework_id() = executor->frameworkId;
    *exited->mutable_executor_id() = executor->info.executor_id();
    exited->set_status(termination.waitStatus.value_or(-1));
    sendToMaster(std::move(envelope));
  }
  maybeCompleteExecutor(frameworkId, executorId);
  maybeRemoveFramework(frameworkId);
  maybeFinishShutdown();
}

// --- Bookkeeping -------------------------------------------------------------------

void AgentImpl::checkpointExecutor(const ExecutorRecord& executor) {
  internal::ExecutorCheckpoint checkpoint;
  *checkpoint.mutable_framework_id() = executor.frameworkId;
  *checkpoint.mutable_executor_info() = executor.info;
  checkpoint.mutable_container_id()->set_value(executor.containerId);
  if (executor.pid) checkpoint.set_pid(*executor.pid);
  checkpoint.set_directory(executor.directory);
  if (executor.state == ExecutorState::kTerminated) checkpoint.set_sentinel(true);
  if (Status s = store_->writeExecutor(checkpoint, executor.peer); !s.ok()) log_->error("{}", s.message());
}

void AgentImpl::checkpointTask(const ExecutorRecord& executor, const TaskRecord& task) {
  TaskRow row;
  *row.checkpoint.mutable_framework_id() = executor.frameworkId;
  *row.checkpoint.mutable_executor_id() = executor.info.executor_id();
  row.checkpoint.mutable_container_id()->set_value(executor.containerId);
  *row.checkpoint.mutable_task() = task.task;
  row.info = task.info;
  row.launched = task.launched;
  if (Status s = store_->writeTask(row); !s.ok()) log_->error("{}", s.message());
}

void AgentImpl::maybeCompleteExecutor(const std::string& frameworkId, const std::string& executorId) {
  FrameworkRecord* framework = this->framework(frameworkId);
  if (framework == nullptr) return;
  auto it = framework->executors.find(executorId);
  if (it == framework->executors.end()) return;
  ExecutorRecord& executor = it->second;
  if (executor.state != ExecutorState::kTerminated || !executor.tasks.empty()) return;
  if (Status s = store_->removeExecutor(frameworkId, executorId, executor.containerId); !s.ok()) {
    log_->error("{}", s.message());
  }
  framework->completedExecutors.push_back(std::move(executor));
  if (framework->completedExecutors.size() > kMaxCompletedExecutorsPerFramework) {
    framework->completedExecutors.pop_front();
  }
  framework->executors.erase(it);
  maybeRemoveFramework(frameworkId);
}

void AgentImpl::maybeRemoveFramework(const std::string& frameworkId) {
  auto it = frameworks_.find(frameworkId);
  if (it == frameworks_.end()) return;
  FrameworkRecord& framework = it->second;
  if (framework.removing) {
    for (const auto& [id, executor] : framework.executors) {
      if (executor.state != ExecutorState::kTerminated) return;
    }
    // Nobody will acknowledge the updates of a removed framework.
    if (Status s = updates_->cleanup(frameworkId); !s.ok()) log_->error("{}", s.message());
    for (auto& [id, executor] : framework.executors) {
      for (auto& [taskId, task] : executor.tasks) executor.completedTasks.push_back(task.task);
      executor.tasks.clear();
      framework.completedExecutors.push_back(std::move(executor));
    }
    framework.executors.clear();
  }
  if (!framework.executors.empty() || updates_->hasStreams(frameworkId)) return;
  if (Status s = store_->removeFramework(frameworkId); !s.ok()) log_->error("{}", s.message());
  completedFrameworks_.push_back(std::move(framework));
  if (completedFrameworks_.size() > kMaxCompletedFrameworks) completedFrameworks_.pop_front();
  frameworks_.erase(it);
}

}  // namespace agora::agent
