#include "command_executor.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "agora/common/id.hpp"
#include "agora/common/logging.hpp"
#include "command_spec.hpp"

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

}  // namespace

CommandExecutor::CommandExecutor(Clock& clock, ProcessRunner& runner, CommandExecutorOptions options)
    : clock_(clock), runner_(runner), options_(std::move(options)) {}

CommandExecutor::~CommandExecutor() {
  for (TimerId timer : {escalateTimer_, completionTimer_, ackTimer_}) {
    if (timer != 0) clock_.cancel(timer);
  }
}

ProcessSpec CommandExecutor::specFor(const v1::TaskInfo& task) const {
  ProcessSpec spec = commandSpec(task.command(), options_.environment, options_.directory);
  if (!options_.directory.empty()) {
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
  if (!prepareChecks(spec)) return;
  log()->info("Starting task {}: {}", quoteForLog(task.task_id().value()), quoteForLog(task.command().value(), 200));
  Result<int> pid = runner_.start(spec, [this](int waitStatus) { onExit(waitStatus); });
  if (!pid.ok()) {
    log()->error("Failed to start task {}: {}", quoteForLog(task.task_id().value()), pid.error().message());
    sendTerminal(v1::TASK_FAILED, "Failed to launch the command: " + pid.error().message());
    return;
  }
  pid_ = *pid;
  if (checker_) checkStatus_ = Checker::initialStatus(task.check());
  sendStatus(v1::TASK_RUNNING, "");
  if (healthChecker_) healthChecker_->start();
  if (checker_) checker_->start();

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
  stopChecks();
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
  stopChecks();
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
    sendTerminal(v1::TASK_KILLED, killReason_.empty() ? message : killReason_ + "; " + message);
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
  if (healthy_) status.set_healthy(*healthy_);
  if (checkStatus_) *status.mutable_check_status() = *checkStatus_;
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
  if (healthy_) status.set_healthy(*healthy_);
  if (checkStatus_) *status.mutable_check_status() = *checkStatus_;
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

ProbeEnvironment CommandExecutor::probeEnvironment(const std::string& name) const {
  ProbeEnvironment environment;
  environment.probeProgram = options_.probeProgram;
  if (!options_.directory.empty()) environment.resultPath = options_.directory + "/" + name;
  return environment;
}

bool CommandExecutor::prepareChecks(const ProcessSpec& spec) {
  if (task_->has_health_check()) {
    Result<ProbeSpec> probe = probeFor(task_->health_check(), spec);
    if (!probe.ok()) {
      sendTerminal(v1::TASK_FAILED, "Invalid health check: " + probe.error().message());
      return false;
    }
    healthChecker_ = std::make_unique<HealthChecker>(
        clock_, runner_, probeEnvironment(".agora-health"), task_->health_check(), std::move(*probe),
        [this](const HealthChecker::Health& health) { healthChanged(health); });
  }
  if (task_->has_check()) {
    Result<ProbeSpec> probe = probeFor(task_->check(), spec);
    if (!probe.ok()) {
      healthChecker_.reset();
      sendTerminal(v1::TASK_FAILED, "Invalid check: " + probe.error().message());
      return false;
    }
    checker_ = std::make_unique<Checker>(clock_, runner_, probeEnvironment(".agora-check"), task_->check(),
                                         std::move(*probe),
                                         [this](const v1::CheckStatusInfo& status) { checkChanged(status); });
  }
  return true;
}

void CommandExecutor::stopChecks() {
  if (healthChecker_) healthChecker_->stop();
  if (checker_) checker_->stop();
}

void CommandExecutor::healthChanged(const HealthChecker::Health& health) {
  if (!pid_ || killing_) return;
  healthy_ = health.healthy;
  log()->info("Task {} is {}: {}", quoteForLog(task_->task_id().value()), health.healthy ? "healthy" : "unhealthy",
              quoteForLog(health.message, 200));
  sendStatus(v1::TASK_RUNNING, health.message, v1::TaskStatus::REASON_TASK_HEALTH_CHECK_STATUS_UPDATED);
  if (!health.kill) return;
  killBecause(*driver_, "Task was unhealthy after " + std::to_string(health.consecutiveFailures) +
                            " consecutive failed health checks (" + health.message + ")");
}

void CommandExecutor::killBecause(ExecutorDriver& driver, const std::string& reason) {
  if (!task_ || !pid_ || killing_) return;
  killReason_ = reason;
  log()->warn("Killing task {}: {}", quoteForLog(task_->task_id().value()), reason);
  kill(driver, task_->task_id(), std::nullopt);
}

void CommandExecutor::checkChanged(const v1::CheckStatusInfo& status) {
  if (!pid_ || killing_) return;
  checkStatus_ = status;
  sendStatus(v1::TASK_RUNNING, "", v1::TaskStatus::REASON_TASK_CHECK_STATUS_UPDATED);
}

void CommandExecutor::finish() {
  for (TimerId* timer : {&escalateTimer_, &completionTimer_, &ackTimer_}) {
    if (*timer != 0) clock_.cancel(*timer);
    *timer = 0;
  }
  if (driver_ != nullptr) driver_->stop();
}

}  // namespace agora::sdk
