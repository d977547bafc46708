#include "command_executor.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "agora/common/id.hpp"
#include "agora/common/logging.hpp"

namespace agora::sdk {

namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = agora::logger("command-executor");
  return logger;
}

bool hasCapability(const v1::FrameworkInfo& framework, v1::FrameworkInfo::Capability::Type type) {
  return std::any_of(framework.capabilities().begin(), framework.capabilities().end(),
                     [type](const v1::FrameworkInfo::Capability& c) { return c.type() == type; });
}

std::optional<Duration> gracePeriod(const v1::KillPolicy& policy) {
  if (!policy.has_grace_period()) return std::nullopt;
  return Duration(std::max<int64_t>(0, policy.grace_period().nanoseconds()));
}

// A program named without a '/' is looked up in the task's PATH, as
// execvp() does (and Mesos's command executor): `agora run -- echo hi`.
// Looked up before fork, where allocating is still allowed.
std::string resolveProgram(const std::string& program, const std::vector<std::string>& environment) {
  if (program.empty() || program.find('/') != std::string::npos) return program;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& variable : environment) {
    if (variable.rfind("PATH=", 0) == 0) path = variable.substr(5);
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return program;  // exec fails: TASK_FAILED "Failed to launch the command".
}

}  // namespace

CommandExecutor::CommandExecutor(Clock& clock, ProcessRunner& runner, CommandExecutorOptions options)
    : clock_(clock), runner_(runner), options_(std::move(options)) {}

CommandExecutor::~CommandExecutor() {
  for (TimerId timer : {escalateTimer_, completionTimer_, ackTimer_}) {
    if (timer != 0) clock_.cancel(timer);
  }
}

ProcessSpec CommandExecutor::specFor(const v1::TaskInfo& task) const {
  const v1::CommandInfo& command = task.command();
  ProcessSpec spec;
  spec.environment = options_.environment;
  if (command.has_environment()) {
    for (const v1::Environment::Variable& variable : command.environment().variables()) {
      if (variable.type() != v1::Environment::Variable::VALUE) continue;
      std::string prefix = variable.name() + "=";
      std::erase_if(spec.environment, [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
      spec.environment.push_back(prefix + variable.value());
    }
  }
  if (command.shell()) {
    spec.path = "/bin/sh";
    spec.argv = {"sh", "-c", command.value()};
  } else {
    spec.path = resolveProgram(command.value(), spec.environment);
    spec.argv.assign(command.arguments().begin(), command.arguments().end());
    if (spec.argv.empty()) spec.argv.push_back(command.value());
  }
  if (!options_.directory.empty()) {
    spec.workingDirectory = options_.directory;
    spec.stdoutPath = options_.directory + "/stdout";
    spec.stderrPath = options_.directory + "/stderr";
  }
  return spec;
}

void CommandExecutor::subscribed(ExecutorDriver& driver, const v1::ExecutorInfo& /*executorInfo*/,
                                 const v1::FrameworkInfo& frameworkInfo, const v1::AgentInfo& /*agentInfo*/) {
  driver_ = &driver;
  framework_ = frameworkInfo;
}

void CommandExecutor::launch(ExecutorDriver& driver, const v1::TaskInfo& task) {
  driver_ = &driver;
  if (task_) {
    log()->warn("Refusing task {}: this executor already runs task {}", quoteForLog(task.task_id().value()),
                quoteForLog(task_->task_id().value()));
    v1::TaskStatus status;
    *status.mutable_task_id() = task.task_id();
    status.set_state(v1::TASK_FAILED);
    status.set_message("Attempted to run multiple tasks using a \"command\" executor");
    (void)driver.sendStatusUpdate(std::move(status));
    return;
  }
  task_ = task;
  if (!task.has_command() || task.command().value().empty()) {
    sendTerminal(v1::TASK_FAILED, "The task has no command");
    return;
  }

  sendStatus(v1::TASK_STARTING, "");
  ProcessSpec spec = specFor(task);
  log()->info("Starting task {}: {}", quoteForLog(task.task_id().value()), quoteForLog(task.command().value(), 200));
  Result<int> pid = runner_.start(spec, [this](int waitStatus) { onExit(waitStatus); });
  if (!pid.ok()) {
    log()->error("Failed to start task {}: {}", quoteForLog(task.task_id().value()), pid.error().message());
    sendTerminal(v1::TASK_FAILED, "Failed to launch the command: " + pid.error().message());
    return;
  }
  pid_ = *pid;
  sendStatus(v1::TASK_RUNNING, "");

  if (task.has_max_completion_time()) {
    Duration limit(std::max<int64_t>(0, task.max_completion_time().nanoseconds()));
    completionTimer_ = clock_.schedule(limit, [this] {
      completionTimer_ = 0;
      if (!pid_) return;
      log()->warn("Task {} reached its max completion time; killing it", quoteForLog(task_->task_id().value()));
      timedOut_ = true;
      (void)runner_.signalGroup(*pid_, SIGKILL);
    });
  }
}

void CommandExecutor::kill(ExecutorDriver& driver, const v1::TaskID& taskId,
                           const std::optional<v1::KillPolicy>& killPolicy) {
  driver_ = &driver;
  if (!task_ || task_->task_id().value() != taskId.value()) {
    log()->warn("Kill of unknown task {} ignored", quoteForLog(taskId.value()));
    return;
  }
  if (!pid_) return;  // Not running (any more): its terminal update is on its way.

  std::optional<Duration> override = killPolicy ? gracePeriod(*killPolicy) : std::nullopt;
  if (killing_) {
    // A later kill may only bring SIGKILL forward.
    if (override && clock_.now() + *override < killDeadline_) {
      if (escalateTimer_ != 0) clock_.cancel(escalateTimer_);
      killDeadline_ = clock_.now() + *override;
      escalateTimer_ = clock_.schedule(*override, [this] { escalate(); });
    }
    return;
  }
  Duration grace = options_.defaultKillGracePeriod;
  if (override) {
    grace = *override;
  } else if (task_->has_kill_policy() && gracePeriod(task_->kill_policy())) {
    grace = *gracePeriod(task_->kill_policy());
  }
  if (hasCapability(framework_, v1::FrameworkInfo::Capability::TASK_KILLING_STATE)) {
    sendStatus(v1::TASK_KILLING, "");
  }
  startKill(grace);
}

void CommandExecutor::startKill(Duration grace) {
  killing_ = true;
  log()->info("Killing task {}: SIGTERM now, SIGKILL in {}", quoteForLog(task_->task_id().value()),
              formatDuration(grace));
  Status signalled = runner_.signalGroup(*pid_, SIGTERM);
  if (!signalled.ok()) log()->warn("{}", signalled.message());
  killDeadline_ = clock_.now() + grace;
  escalateTimer_ = clock_.schedule(grace, [this] { escalate(); });
}

void CommandExecutor::escalate() {
  escalateTimer_ = 0;
  if (!pid_) return;
  log()->warn("Task {} still running after the grace period; sending SIGKILL", quoteForLog(task_->task_id().value()));
  Status signalled = runner_.signalGroup(*pid_, SIGKILL);
  if (!signalled.ok()) log()->warn("{}", signalled.message());
}

void CommandExecutor::onExit(int waitStatus) {
  pid_.reset();
  for (TimerId* timer : {&escalateTimer_, &completionTimer_}) {
    if (*timer != 0) clock_.cancel(*timer);
    *timer = 0;
  }
  std::string message = describeWaitStatus(waitStatus);
  if (WIFEXITED(waitStatus)) exitStatus_ = WEXITSTATUS(waitStatus);
  log()->info("Task {}: {}", quoteForLog(task_->task_id().value()), message);
  if (timedOut_) {
    sendTerminal(v1::TASK_FAILED, "Task exceeded its max completion time; " + message,
                 v1::TaskStatus::REASON_MAX_COMPLETION_TIME_REACHED);
  } else if (killing_) {
    sendTerminal(v1::TASK_KILLED, message);
  } else if (WIFEXITED(waitStatus) && WEXITSTATUS(waitStatus) == 0) {
    sendTerminal(v1::TASK_FINISHED, message);
  } else {
    sendTerminal(v1::TASK_FAILED, message);
  }
}

void CommandExecutor::acknowledged(ExecutorDriver& driver, const v1::TaskID& /*taskId*/, const std::string& uuid) {
  driver_ = &driver;
  if (terminalSent_ && uuid == terminalUuid_) {
    log()->info("The agent has the terminal update; exiting");
    finish();
  }
}

void CommandExecutor::frameworkMessage(ExecutorDriver& /*driver*/, const std::string& data) {
  log()->info("Ignoring a framework message of {} bytes", data.size());
}

void CommandExecutor::shutdown(ExecutorDriver& driver) {
  driver_ = &driver;
  if (pid_) {
    Duration grace = std::max(Duration::zero(), options_.shutdownGracePeriod - std::chrono::seconds(1));
    if (!killing_) {
      startKill(grace);
    } else if (clock_.now() + grace < killDeadline_) {
      kill(driver, task_->task_id(), [&] {
        v1::KillPolicy policy;
        policy.mutable_grace_period()->set_nanoseconds(grace.count());
        return policy;
      }());
    }
    return;
  }
  if (terminalSent_) return;  // Waiting (bounded) for the agent to acknowledge it.
  finish();
}

void CommandExecutor::error(ExecutorDriver& /*driver*/, const std::string& message) {
  log()->error("Error from the agent: {}", quoteForLog(message, 200));
}

void CommandExecutor::sendStatus(v1::TaskState state, const std::string& message,
                                 std::optional<v1::TaskStatus::Reason> reason) {
  v1::TaskStatus status;
  *status.mutable_task_id() = task_->task_id();
  status.set_state(state);
  if (!message.empty()) status.set_message(message);
  if (reason) status.set_reason(*reason);
  Status sent = driver_->sendStatusUpdate(std::move(status));
  if (!sent.ok()) log()->warn("Failed to send {}: {}", v1::TaskState_Name(state), sent.message());
}

void CommandExecutor::sendTerminal(v1::TaskState state, const std::string& message,
                                   std::optional<v1::TaskStatus::Reason> reason) {
  v1::TaskStatus status;
  *status.mutable_task_id() = task_->task_id();
  status.set_state(state);
  status.set_message(message);
  if (reason) status.set_reason(*reason);
  if (exitStatus_) {
    v1::Label* label = status.mutable_labels()->add_labels();
    label->set_key(kExitStatusLabel);
    label->set_value(std::to_string(*exitStatus_));
  }
  terminalUuid_ = newUuidBytes();
  status.set_uuid(terminalUuid_);
  terminalSent_ = true;
  Status sent = driver_->sendStatusUpdate(std::move(status));
  if (!sent.ok()) {
    log()->error("Failed to send the terminal update: {}", sent.message());
    finish();
    return;
  }
  ackTimer_ = clock_.schedule(options_.terminalAckTimeout, [this] {
    ackTimer_ = 0;
    log()->warn("The agent did not acknowledge the terminal update within {}; exiting",
                formatDuration(options_.terminalAckTimeout));
    finish();
  });
}

void CommandExecutor::finish() {
  for (TimerId* timer : {&escalateTimer_, &completionTimer_, &ackTimer_}) {
    if (*timer != 0) clock_.cancel(*timer);
    *timer = 0;
  }
  if (driver_ != nullptr) driver_->stop();
}

}  // namespace agora::sdk
