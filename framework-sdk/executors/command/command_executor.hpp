#pragma once

// The command executor (`agora-executor`): runs the command of exactly one
// task (TaskInfo.command) for the agent, as Mesos's command executor does
// (reference/mesos.md §2):
//
//   LAUNCH   -> TASK_STARTING, start `/bin/sh -c value` (shell) or exec
//               `value` with `arguments` in a new session, TASK_RUNNING.
//   exit     -> status 0: TASK_FINISHED; non-zero: TASK_FAILED "Command
//               exited with status N"; signal: TASK_FAILED "Command
//               terminated with signal NAME"; after a kill: TASK_KILLED;
//               past max_completion_time: TASK_FAILED with
//               REASON_MAX_COMPLETION_TIME_REACHED.
//   KILL     -> (TASK_KILLING if the framework has TASK_KILLING_STATE)
//               SIGTERM to the whole process group, SIGKILL after the grace
//               period: the kill-time KillPolicy, else the task's, else 3 s;
//               a later kill can only shorten the remaining time.
//   SHUTDOWN -> kill as above with the shutdown grace period less 1 s.
//   second LAUNCH -> TASK_FAILED "Attempted to run multiple tasks using a
//               "command" executor" for that task.
//
// Health checks (TaskInfo.health_check) and checks (TaskInfo.check) run
// from TASK_RUNNING until the task exits or a kill starts (task_checks.hpp):
// a change of health is a TASK_RUNNING update with `healthy` and reason
// REASON_TASK_HEALTH_CHECK_STATUS_UPDATED; after `consecutive_failures` the
// task is killed as by a KILL (its kill policy) and ends TASK_KILLED with
// healthy=false. A change of a check's result is a TASK_RUNNING update with
// `check_status` and reason REASON_TASK_CHECK_STATUS_UPDATED (the first
// TASK_RUNNING carries the check's type only). Every later update carries
// the last known `healthy` and `check_status`. A malformed check fails the
// task before its command starts.
//
// A terminal update after the command exited carries its exit status as the
// label "exit_status" (kExitStatusLabel), e.g. "3", so that `agora run` and
// other frameworks need not parse the message.
//
// After the terminal update it waits for the agent's ACKNOWLEDGED of it (at
// most `terminalAckTimeout`) and stops the driver; the process then exits.
// The task's stdout and stderr are appended to `directory`/stdout and
// `directory`/stderr; it runs in `directory`.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agora/common/clock.hpp"
#include "agora/executor.hpp"
#include "agora/task_helpers.hpp"
#include "process_runner.hpp"
#include "task_checks.hpp"

namespace agora::sdk {

struct CommandExecutorOptions {
  // The sandbox (AGORA_DIRECTORY). "" keeps the executor's working directory
  // and output.
  std::string directory;
  // The environment the task inherits before CommandInfo.environment is
  // applied ("NAME=value"; usually the executor's own).
  std::vector<std::string> environment;
  // AGORA_EXECUTOR_SHUTDOWN_GRACE_PERIOD.
  Duration shutdownGracePeriod = std::chrono::seconds(5);
  // Kill grace period when neither the kill nor the task gives one.
  Duration defaultKillGracePeriod = std::chrono::seconds(3);
  // How long to wait for the agent to acknowledge the terminal update.
  Duration terminalAckTimeout = std::chrono::seconds(60);
  // The program behind HTTP and TCP probes (agora-executor itself:
  // "/proc/self/exe"). The probes' outcome files go into `directory`
  // (".agora-health", ".agora-check"); without one, HTTP probes fail.
  std::string probeProgram = "/proc/self/exe";
};

class CommandExecutor final : public Executor {
 public:
  // `clock` and `runner` must outlive the executor; both belong to the
  // driver's loop.
  CommandExecutor(Clock& clock, ProcessRunner& runner, CommandExecutorOptions options);
  ~CommandExecutor() override;

  void subscribed(ExecutorDriver& driver, const v1::ExecutorInfo& executorInfo,
                  const v1::FrameworkInfo& frameworkInfo, const v1::AgentInfo& agentInfo) override;
  void launch(ExecutorDriver& driver, const v1::TaskInfo& task) override;
  void kill(ExecutorDriver& driver, const v1::TaskID& taskId, const std::optional<v1::KillPolicy>& killPolicy) override;
  void acknowledged(ExecutorDriver& driver, const v1::TaskID& taskId, const std::string& uuid) override;
  void frameworkMessage(ExecutorDriver& driver, const std::string& data) override;
  void shutdown(ExecutorDriver& driver) override;
  void error(ExecutorDriver& driver, const std::string& message) override;

  // A kill the executor decides on (not the agent's): as kill() with the
  // task's kill policy, and the terminal update's message starts with
  // `reason`. Nothing when no task runs or a kill is under way.
  void killBecause(ExecutorDriver& driver, const std::string& reason);

  // The task's process while it runs.
  std::optional<int> pid() const { return pid_; }

  // The command as it is run: ProcessSpec for `task` (public for tests).
  ProcessSpec specFor(const v1::TaskInfo& task) const;

 private:
  void onExit(int waitStatus);
  void startKill(Duration grace);
  void escalate();
  void sendStatus(v1::TaskState state, const std::string& message,
                  std::optional<v1::TaskStatus::Reason> reason = std::nullopt);
  void sendTerminal(v1::TaskState state, const std::string& message,
                    std::optional<v1::TaskStatus::Reason> reason = std::nullopt);
  void finish();
  // Starts the task's health check and check; false (and the task failed)
  // when one is malformed.
  bool prepareChecks(const ProcessSpec& spec);
  void stopChecks();
  void healthChanged(const HealthChecker::Health& health);
  void checkChanged(const v1::CheckStatusInfo& status);
  ProbeEnvironment probeEnvironment(const std::string& name) const;

  Clock& clock_;
  ProcessRunner& runner_;
  CommandExecutorOptions options_;

  ExecutorDriver* driver_ = nullptr;  // Set by the first callback; the driver outlives us.
  v1::FrameworkInfo framework_;
  std::optional<v1::TaskInfo> task_;  // The one task, once launched.
  std::optional<int> pid_;            // While the command runs.
  std::optional<int> exitStatus_;     // Once the command exited normally (not by a signal).
  bool killing_ = false;              // A kill (or shutdown) was requested.
  bool timedOut_ = false;             // max_completion_time passed.
  bool terminalSent_ = false;
  std::string terminalUuid_;          // Of the terminal update, to match ACKNOWLEDGED.
  TimePoint killDeadline_{};          // When SIGKILL is due (killing_ only).
  TimerId escalateTimer_ = 0;         // SIGKILL after the grace period.
  TimerId completionTimer_ = 0;       // max_completion_time.
  TimerId ackTimer_ = 0;              // Gives up waiting for the terminal acknowledgement.
  std::unique_ptr<HealthChecker> healthChecker_;
  std::unique_ptr<Checker> checker_;
  std::string killReason_;                        // Why the executor itself killed the task.
  std::optional<bool> healthy_;                   // The last known health.
  std::optional<v1::CheckStatusInfo> checkStatus_;  // The last known check result.
};

}  // namespace agora::sdk
