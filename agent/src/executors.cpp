// Tasks and executors: RunTask, launching executors into their containers,
// and the records kept about them (checkpoint, completion). The executor API
// is in executor_api.cpp, kills and terminations in terminations.cpp.

#include <filesystem>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "agent_impl.hpp"
#include "agora/common/id.hpp"

namespace agora::agent {
namespace {

using ExecutorState = ExecutorRecord::State;

}  // namespace

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

v1::executor::Event executorEvent(v1::executor::Event::Type type) {
  v1::executor::Event e;
  e.set_type(type);
  return e;
}

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
  v1::ExecutorInfo executorInfo = task.has_executor() ? task.executor() : commandExecutorInfo(frameworkInfo, task);
  runTasks(frameworkInfo, std::move(executorInfo), !task.has_executor(), {&task}, 0);
}

// --- RunTaskGroup ----------------------------------------------------------------

void AgentImpl::onRunTaskGroup(const PeerId& from, internal::Envelope& envelope) {
  if (registration_ != Registration::kRegistered) {
    drop(from, envelope, "the agent is not registered");
    return;
  }
  const internal::RunTaskGroup& run = envelope.run_task_group();
  const v1::FrameworkInfo& frameworkInfo = run.framework_info();
  const v1::ExecutorInfo& executorInfo = run.executor_info();
  Status valid = frameworkInfo.has_id() ? validateId(frameworkInfo.id().value(), "framework ID")
                                        : Status::InvalidArgument("no framework ID");
  if (valid.ok()) valid = validateId(executorInfo.executor_id().value(), "executor ID");
  if (valid.ok() && executorInfo.type() != v1::ExecutorInfo::DEFAULT) {
    valid = Status::InvalidArgument("task groups run only on the DEFAULT executor");
  }
  if (valid.ok() && run.task_group().tasks_size() == 0) valid = Status::InvalidArgument("an empty task group");
  std::vector<const v1::TaskInfo*> tasks;
  std::set<std::string> ids;
  for (const v1::TaskInfo& task : run.task_group().tasks()) {
    if (!valid.ok()) break;
    valid = validateId(task.task_id().value(), "task ID");
    if (valid.ok() && !ids.insert(task.task_id().value()).second) valid = Status::InvalidArgument("a duplicate task ID");
    if (valid.ok() && task.agent_id().value() != info_.id().value()) {
      valid = Status::InvalidArgument("for agent " + quoteForLog(task.agent_id().value()));
    }
    if (valid.ok() && (task.has_executor() || !task.has_command())) {
      valid = Status::InvalidArgument("a task of a group needs a command and no executor");
    }
    if (valid.ok()) {
      if (auto resources = Resources::fromProto(task.resources()); !resources.ok()) valid = resources.error();
    }
    tasks.push_back(&task);
  }
  if (valid.ok()) {
    if (auto resources = Resources::fromProto(executorInfo.resources()); !resources.ok()) valid = resources.error();
  }
  if (!valid.ok()) {
    drop(from, envelope, valid.message());
    return;
  }
  const std::string& frameworkId = frameworkInfo.id().value();
  for (const v1::TaskInfo* task : tasks) {
    if (executorOfTask(frameworkId, task->task_id().value()) != nullptr) {
      log_->info("Ignoring a second RunTaskGroup with task {} of framework {}", quoteForLog(task->task_id().value()),
                 frameworkId);
      return;
    }
  }
  runTasks(frameworkInfo, executorInfo, false, tasks, nextTaskGroup_++);
}

void AgentImpl::runTasks(const v1::FrameworkInfo& frameworkInfo, v1::ExecutorInfo executorInfo, bool commandExecutor,
                         const std::vector<const v1::TaskInfo*>& tasks, uint64_t group) {
  const std::string& frameworkId = frameworkInfo.id().value();
  FrameworkRecord& framework = ensureFramework(frameworkInfo);
  *executorInfo.mutable_framework_id() = frameworkInfo.id();
  const std::string executorId = executorInfo.executor_id().value();

  auto refuse = [&](const std::string& why) {
    for (const v1::TaskInfo* task : tasks) {
      log_->warn("Dropping task {} of framework {}: {}", quoteForLog(task->task_id().value()), frameworkId, why);
      internal::StatusUpdate update =
          makeAgentUpdate(frameworkInfo.id(), task->task_id(), &executorInfo.executor_id(),
                          partitionAware(frameworkInfo) ? v1::TASK_DROPPED : v1::TASK_LOST,
                          v1::TaskStatus::REASON_EXECUTOR_TERMINATED, why);
      if (Status s = updates_->update(update); !s.ok()) log_->error("{}", s.message());
    }
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
    executor.commandExecutor = commandExecutor;
    executor.resources = resourcesOf(executorInfo.resources());
    existing = framework.executors.emplace(executorId, std::move(executor)).first;
  }
  ExecutorRecord& executor = existing->second;

  std::vector<TaskRecord*> stored;
  for (const v1::TaskInfo* taskInfo : tasks) {
    const v1::TaskInfo& task = *taskInfo;
    TaskRecord record;
    record.info = task;
    record.group = group;
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
    stored.push_back(&(executor.tasks[task.task_id().value()] = std::move(record)));
  }

  // Durable before anything runs: the executor run, then the tasks.
  Status written = store_->transaction([&] {
    checkpointExecutor(executor);
    for (TaskRecord* task : stored) checkpointTask(executor, *task);
    return Status::OK();
  });
  if (!written.ok()) log_->error("{}", written.message());

  for (const v1::TaskInfo* task : tasks) {
    log_->info("Launching task {} of framework {} in executor {}", quoteForLog(task->task_id().value()), frameworkId,
               quoteForLog(executorId));
  }
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

v1::CommandInfo AgentImpl::defaultExecutorCommand() const {
  v1::CommandInfo command;
  command.set_shell(false);
  command.set_value(options_.launcherDir + "/agora-executor");
  command.add_arguments("agora-executor");
  command.add_arguments("--default");
  return command;
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

std::map<std::string, double> containerLimits(const ExecutorRecord& executor) {
  // A resource some task limits: the sum over tasks of each one's limit (its
  // request when it sets none) plus the executor's own request, as Mesos.
  std::map<std::string, double> limits;
  std::set<std::string> limited;
  for (const auto& [taskId, task] : executor.tasks) {
    for (const auto& [name, value] : task.info.limits()) limited.insert(name);
  }
  for (const std::string& name : limited) {
    double total = resourcesOf(executor.info.resources()).scalar(name).toDouble();
    for (const auto& [taskId, task] : executor.tasks) {
      auto it = task.info.limits().find(name);
      total += it != task.info.limits().end() ? it->second.value()
                                              : resourcesOf(task.info.resources()).scalar(name).toDouble();
    }
    limits[name] = total;  // Infinity stays infinity.
  }
  return limits;
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
  config.limits = containerLimits(executor);
  config.sandbox = executor.directory;
  const v1::CommandInfo command =
      executor.info.type() == v1::ExecutorInfo::DEFAULT ? defaultExecutorCommand() : executor.info.command();
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
  // A group goes out whole, in one LAUNCH_GROUP, also after an agent
  // restart (each task's checkpoint names its group).
  std::map<uint64_t, v1::executor::Event> groups;
  for (auto& [taskId, task] : executor.tasks) {
    if (task.launched || isTerminalState(task.task.state())) continue;
    if (task.group == 0) {
      v1::executor::Event launch = executorEvent(v1::executor::Event::LAUNCH);
      *launch.mutable_launch()->mutable_task() = task.info;
      sendToExecutor(executor, std::move(launch));
    } else {
      auto [group, added] = groups.try_emplace(task.group, executorEvent(v1::executor::Event::LAUNCH_GROUP));
      *group->second.mutable_launch_group()->mutable_task_group()->add_tasks() = task.info;
    }
    task.launched = true;
    checkpointTask(executor, task);
  }
  for (auto& [group, launch] : groups) sendToExecutor(executor, std::move(launch));
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
  if (task.group != 0) row.checkpoint.set_task_group(task.group);
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

