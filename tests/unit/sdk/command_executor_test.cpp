#include <signal.h>
#include <sys/wait.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "agora/common/clock.hpp"
#include "agora/executor_core.hpp"
#include "command_executor.hpp"
#include "fake_runner.hpp"
#include "sdk_test_util.hpp"

namespace agora::sdk {
namespace {

using namespace std::chrono_literals;
using testing::FakeAgent;
using testing::InMemoryNetwork;
using ::testing::HasSubstr;

using testing::commandTask;
using testing::exited;
using testing::FakeRunner;
using testing::signalled;

class CommandExecutorTest : public testing::ExecutorHarness {
 protected:
  void start(v1::FrameworkInfo framework = FakeAgent::defaultFramework()) {
    CommandExecutorOptions options;
    options.directory = "/sandbox";
    options.environment = {"PATH=/usr/bin:/bin", "HOME=/home/alice"};
    executor_ = std::make_unique<CommandExecutor>(clock_, runner_, options);
    startDriver(*executor_, "t1", framework);
  }

  void launch(const v1::TaskInfo& task) {
    agent_.launch(peer_, task);
    network_.settle();
  }

  std::unique_ptr<CommandExecutor> executor_;
};

TEST_F(CommandExecutorTest, ExitZeroFinishesThenExitsOnAcknowledgement) {
  agent_.autoAcknowledge = true;
  start();
  launch(commandTask("t1", "echo hi"));
  EXPECT_EQ(agent_.updateStates(), (std::vector<v1::TaskState>{v1::TASK_STARTING, v1::TASK_RUNNING}));
  ASSERT_EQ(runner_.specs.size(), 1u);
  EXPECT_EQ(executor_->pid(), 100);

  runner_.exit(100, exited(0));
  network_.settle();
  EXPECT_EQ(agent_.updateStates(),
            (std::vector<v1::TaskState>{v1::TASK_STARTING, v1::TASK_RUNNING, v1::TASK_FINISHED}));
  EXPECT_EQ(agent_.lastUpdate().message(), "Command exited with status 0");
  EXPECT_EQ(agent_.lastUpdate().task_id().value(), "t1");
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kStopped) << "exits once the agent has the terminal update";
}

TEST_F(CommandExecutorTest, NonZeroExitFailsWithTheStatus) {
  agent_.autoAcknowledge = true;
  start();
  launch(commandTask("t1", "exit 3"));
  runner_.exit(100, exited(3));
  network_.settle();
  EXPECT_EQ(agent_.updateStates(), (std::vector<v1::TaskState>{v1::TASK_STARTING, v1::TASK_RUNNING, v1::TASK_FAILED}));
  EXPECT_EQ(agent_.lastUpdate().message(), "Command exited with status 3");
}

TEST_F(CommandExecutorTest, DeathBySignalFails) {
  agent_.autoAcknowledge = true;
  start();
  launch(commandTask("t1", "kill -SEGV $$"));
  runner_.exit(100, signalled(SIGSEGV));
  network_.settle();
  EXPECT_EQ(agent_.lastUpdate().state(), v1::TASK_FAILED);
  EXPECT_EQ(agent_.lastUpdate().message(), "Command terminated with signal Segmentation fault");
}

TEST_F(CommandExecutorTest, KillSendsTermThenKillAfterTheDefaultGracePeriod) {
  agent_.autoAcknowledge = true;
  start();
  launch(commandTask("t1", "sleep 100"));
  agent_.kill(peer_, "t1");
  network_.settle();
  EXPECT_EQ(runner_.signalsTo(100), std::vector<int>{SIGTERM});

  clock_.advance(3s - 1ms);
  EXPECT_EQ(runner_.signalsTo(100), std::vector<int>{SIGTERM});
  clock_.advance(1ms);
  EXPECT_EQ(runner_.signalsTo(100), (std::vector<int>{SIGTERM, SIGKILL}));

  runner_.exit(100, signalled(SIGKILL));
  network_.settle();
  EXPECT_EQ(agent_.updateStates(), (std::vector<v1::TaskState>{v1::TASK_STARTING, v1::TASK_RUNNING, v1::TASK_KILLED}));
  EXPECT_EQ(agent_.lastUpdate().message(), "Command terminated with signal Killed");
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kStopped);
}

TEST_F(CommandExecutorTest, KillThatEndsTheProcessGracefullyIsStillKilled) {
  agent_.autoAcknowledge = true;
  start();
  launch(commandTask("t1", "sleep 100"));
  agent_.kill(peer_, "t1");
  network_.settle();
  runner_.exit(100, exited(0));  // The command handled SIGTERM and exited cleanly.
  network_.settle();
  EXPECT_EQ(agent_.lastUpdate().state(), v1::TASK_KILLED);
  clock_.advance(1min);
  EXPECT_EQ(runner_.signalsTo(100), std::vector<int>{SIGTERM}) << "no SIGKILL after the exit";
}

TEST_F(CommandExecutorTest, KillPolicyOfTheTaskAndOfTheKillAndOnlyShortening) {
  start();
  v1::TaskInfo task = commandTask("t1", "sleep 100");
  task.mutable_kill_policy()->mutable_grace_period()->set_nanoseconds(Duration(10s).count());
  launch(task);

  agent_.kill(peer_, "t1", 5s);  // The kill's policy overrides the task's 10 s.
  network_.settle();
  agent_.kill(peer_, "t1", 30s);  // Cannot extend.
  network_.settle();
  clock_.advance(2s);
  agent_.kill(peer_, "t1", 1s);  // Can shorten: SIGKILL at 3 s instead of 5 s.
  network_.settle();
  clock_.advance(1s - 1ms);
  EXPECT_EQ(runner_.signalsTo(100), std::vector<int>{SIGTERM});
  clock_.advance(1ms);
  EXPECT_EQ(runner_.signalsTo(100), (std::vector<int>{SIGTERM, SIGKILL}));
  clock_.advance(1min);
  EXPECT_EQ(runner_.signalsTo(100).size(), 2u) << "one SIGKILL only";
}

TEST_F(CommandExecutorTest, TaskKillPolicyUsedWithoutAKillTimePolicy) {
  start();
  v1::TaskInfo task = commandTask("t1", "sleep 100");
  task.mutable_kill_policy()->mutable_grace_period()->set_nanoseconds(Duration(10s).count());
  launch(task);
  agent_.kill(peer_, "t1");
  network_.settle();
  clock_.advance(9s);
  EXPECT_EQ(runner_.signalsTo(100), std::vector<int>{SIGTERM});
  clock_.advance(1s);
  EXPECT_EQ(runner_.signalsTo(100), (std::vector<int>{SIGTERM, SIGKILL}));
}

TEST_F(CommandExecutorTest, TaskKillingOnlyForFrameworksThatAskForIt) {
  v1::FrameworkInfo framework = FakeAgent::defaultFramework();
  framework.add_capabilities()->set_type(v1::FrameworkInfo::Capability::TASK_KILLING_STATE);
  start(framework);
  launch(commandTask("t1", "sleep 100"));
  agent_.kill(peer_, "t1");
  network_.settle();
  EXPECT_EQ(agent_.updateStates(), (std::vector<v1::TaskState>{v1::TASK_STARTING, v1::TASK_RUNNING, v1::TASK_KILLING}));
}

TEST_F(CommandExecutorTest, SecondLaunchFailsThatTask) {
  start();
  launch(commandTask("t1", "sleep 100"));
  launch(commandTask("t2", "sleep 100"));
  EXPECT_EQ(agent_.updateStates(),
            (std::vector<v1::TaskState>{v1::TASK_STARTING, v1::TASK_RUNNING, v1::TASK_FAILED}));
  EXPECT_EQ(agent_.lastUpdate().task_id().value(), "t2");
  EXPECT_THAT(agent_.lastUpdate().message(), HasSubstr("multiple tasks"));
  EXPECT_EQ(runner_.specs.size(), 1u);
  EXPECT_EQ(executor_->pid(), 100) << "the first task keeps running";
}

TEST_F(CommandExecutorTest, ShellAndExecCommandsAndEnvironment) {
  start();
  v1::TaskInfo shell = commandTask("t1", "echo $GREETING");
  auto* variable = shell.mutable_command()->mutable_environment()->add_variables();
  variable->set_name("HOME");
  variable->set_value("/sandbox");
  ProcessSpec spec = executor_->specFor(shell);
  EXPECT_EQ(spec.path, "/bin/sh");
  EXPECT_EQ(spec.argv, (std::vector<std::string>{"sh", "-c", "echo $GREETING"}));
  EXPECT_EQ(spec.environment, (std::vector<std::string>{"PATH=/usr/bin:/bin", "HOME=/sandbox"}));
  EXPECT_EQ(spec.workingDirectory, "/sandbox");
  EXPECT_EQ(spec.stdoutPath, "/sandbox/stdout");
  EXPECT_EQ(spec.stderrPath, "/sandbox/stderr");

  v1::TaskInfo exec = commandTask("t1", "/bin/echo");
  exec.mutable_command()->set_shell(false);
  exec.mutable_command()->add_arguments("echo");
  exec.mutable_command()->add_arguments("a b");
  spec = executor_->specFor(exec);
  EXPECT_EQ(spec.path, "/bin/echo");
  EXPECT_EQ(spec.argv, (std::vector<std::string>{"echo", "a b"}));

  // A bare name is looked up in the task's PATH, as execvp() does.
  exec.mutable_command()->set_value("sh");
  spec = executor_->specFor(exec);
  EXPECT_TRUE(spec.path == "/usr/bin/sh" || spec.path == "/bin/sh") << spec.path;
  exec.mutable_command()->set_value("no-such-program-anywhere");
  EXPECT_EQ(executor_->specFor(exec).path, "no-such-program-anywhere");
}

TEST_F(CommandExecutorTest, LaunchFailureFailsTheTask) {
  agent_.autoAcknowledge = true;
  start();
  runner_.failStart = true;
  launch(commandTask("t1", "nope"));
  EXPECT_EQ(agent_.updateStates(), (std::vector<v1::TaskState>{v1::TASK_STARTING, v1::TASK_FAILED}));
  EXPECT_THAT(agent_.lastUpdate().message(), HasSubstr("not found"));
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kStopped);
}

TEST_F(CommandExecutorTest, MaxCompletionTimeFailsTheTask) {
  agent_.autoAcknowledge = true;
  start();
  v1::TaskInfo task = commandTask("t1", "sleep 100");
  task.mutable_max_completion_time()->set_nanoseconds(Duration(30s).count());
  launch(task);
  clock_.advance(30s);
  EXPECT_EQ(runner_.signalsTo(100), std::vector<int>{SIGKILL});
  runner_.exit(100, signalled(SIGKILL));
  network_.settle();
  EXPECT_EQ(agent_.lastUpdate().state(), v1::TASK_FAILED);
  EXPECT_EQ(agent_.lastUpdate().reason(), v1::TaskStatus::REASON_MAX_COMPLETION_TIME_REACHED);
}

TEST_F(CommandExecutorTest, ShutdownKillsWithTheShutdownGracePeriod) {
  agent_.autoAcknowledge = true;
  start();
  launch(commandTask("t1", "sleep 100"));
  agent_.shutdown(peer_);
  network_.settle();
  EXPECT_EQ(runner_.signalsTo(100), std::vector<int>{SIGTERM});
  clock_.advance(4s);  // 5 s shutdown grace less 1 s.
  EXPECT_EQ(runner_.signalsTo(100), (std::vector<int>{SIGTERM, SIGKILL}));
  runner_.exit(100, signalled(SIGKILL));
  network_.settle();
  EXPECT_EQ(agent_.lastUpdate().state(), v1::TASK_KILLED);
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kStopped);
}

TEST_F(CommandExecutorTest, ShutdownWithoutATaskStopsAtOnce) {
  start();
  agent_.shutdown(peer_);
  network_.settle();
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kStopped);
}

TEST_F(CommandExecutorTest, WaitsForTheTerminalAcknowledgementOnlySoLong) {
  start();  // The agent does not acknowledge anything.
  launch(commandTask("t1", "true"));
  runner_.exit(100, exited(0));
  network_.settle();
  EXPECT_EQ(agent_.lastUpdate().state(), v1::TASK_FINISHED);
  clock_.advance(59s);
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kSubscribed);
  clock_.advance(1s);
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kStopped);
}

TEST_F(CommandExecutorTest, AcknowledgementOfAnEarlierUpdateDoesNotStopTheExecutor) {
  start();
  launch(commandTask("t1", "sleep 1"));
  auto updates = agent_.callsOfType(v1::executor::Call::UPDATE);
  ASSERT_EQ(updates.size(), 2u);
  agent_.acknowledge(peer_, "t1", updates[1].update().status().uuid());  // RUNNING.
  network_.settle();
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kSubscribed);
}

// Health checks: the task's command is pid 100, each probe the next pid.
v1::TaskInfo healthCheckedTask() {
  v1::TaskInfo task = commandTask("t1", "serve");
  v1::HealthCheck* check = task.mutable_health_check();
  check->set_type(v1::HealthCheck::COMMAND);
  check->mutable_command()->set_value("probe-it");
  check->set_delay_seconds(1);
  check->set_interval_seconds(2);
  check->set_grace_period_seconds(0);
  check->set_consecutive_failures(2);
  task.mutable_kill_policy()->mutable_grace_period()->set_nanoseconds(Duration(4s).count());
  return task;
}

TEST_F(CommandExecutorTest, HealthChangesAreRunningUpdatesAndFailuresKillTheTask) {
  agent_.autoAcknowledge = true;
  start();
  launch(healthCheckedTask());
  EXPECT_FALSE(agent_.lastUpdate().has_healthy()) << "no health before the first probe";

  clock_.advance(1s);
  ASSERT_EQ(runner_.specs.size(), 2u);
  EXPECT_EQ(runner_.specs[1].argv, (std::vector<std::string>{"sh", "-c", "probe-it"}));
  EXPECT_EQ(runner_.specs[1].workingDirectory, "/sandbox");
  runner_.exit(101, exited(0));
  network_.settle();
  EXPECT_EQ(agent_.lastUpdate().state(), v1::TASK_RUNNING);
  EXPECT_TRUE(agent_.lastUpdate().healthy());
  EXPECT_EQ(agent_.lastUpdate().reason(), v1::TaskStatus::REASON_TASK_HEALTH_CHECK_STATUS_UPDATED);

  clock_.advance(2s);  // Healthy again: no update.
  runner_.exit(102, exited(0));
  network_.settle();
  EXPECT_EQ(agent_.updateStates().size(), 3u);

  clock_.advance(2s);  // First failure: unhealthy.
  runner_.exit(103, exited(1));
  network_.settle();
  EXPECT_EQ(agent_.updateStates().size(), 4u);
  EXPECT_FALSE(agent_.lastUpdate().healthy());
  EXPECT_EQ(agent_.lastUpdate().state(), v1::TASK_RUNNING);
  EXPECT_TRUE(runner_.signalsTo(100).empty());

  clock_.advance(2s);  // Second failure in a row: the task is killed with its policy.
  runner_.exit(104, exited(1));
  network_.settle();
  EXPECT_EQ(runner_.signalsTo(100), std::vector<int>{SIGTERM});
  clock_.advance(4s);
  EXPECT_EQ(runner_.signalsTo(100), (std::vector<int>{SIGTERM, SIGKILL}));
  EXPECT_EQ(runner_.specs.size(), 5u) << "no probe once the kill started";
  runner_.exit(100, signalled(SIGKILL));
  network_.settle();
  EXPECT_EQ(agent_.lastUpdate().state(), v1::TASK_KILLED);
  EXPECT_TRUE(agent_.lastUpdate().has_healthy());
  EXPECT_FALSE(agent_.lastUpdate().healthy());
  EXPECT_THAT(agent_.lastUpdate().message(), HasSubstr("2 consecutive failed health checks"));
}

TEST_F(CommandExecutorTest, HealthRecoveryIsReportedAndResetsTheCount) {
  start();
  launch(healthCheckedTask());
  clock_.advance(1s);
  runner_.exit(101, exited(1));  // Unhealthy (no grace period).
  network_.settle();
  EXPECT_FALSE(agent_.lastUpdate().healthy());
  clock_.advance(2s);
  runner_.exit(102, exited(0));  // Recovered.
  network_.settle();
  EXPECT_TRUE(agent_.lastUpdate().healthy());
  clock_.advance(2s);
  runner_.exit(103, exited(1));  // One failure again: not two in a row.
  network_.settle();
  EXPECT_FALSE(agent_.lastUpdate().healthy());
  EXPECT_TRUE(runner_.signalsTo(100).empty());
}

TEST_F(CommandExecutorTest, AMalformedHealthCheckFailsTheTaskBeforeItStarts) {
  agent_.autoAcknowledge = true;
  start();
  v1::TaskInfo task = commandTask("t1", "serve");
  task.mutable_health_check()->set_type(v1::HealthCheck::TCP);  // No port.
  launch(task);
  EXPECT_TRUE(runner_.specs.empty());
  EXPECT_EQ(agent_.lastUpdate().state(), v1::TASK_FAILED);
  EXPECT_THAT(agent_.lastUpdate().message(), HasSubstr("Invalid health check"));
}

TEST_F(CommandExecutorTest, CheckResultsComeAsCheckStatusOnChange) {
  start();
  v1::TaskInfo task = commandTask("t1", "serve");
  v1::CheckInfo* check = task.mutable_check();
  check->set_type(v1::CheckInfo::COMMAND);
  check->mutable_command()->mutable_command()->set_value("check-it");
  check->set_delay_seconds(0);
  check->set_interval_seconds(1);
  launch(task);
  ASSERT_TRUE(agent_.lastUpdate().has_check_status()) << "TASK_RUNNING carries the check's type";
  EXPECT_EQ(agent_.lastUpdate().check_status().type(), v1::CheckInfo::COMMAND);
  EXPECT_FALSE(agent_.lastUpdate().check_status().command().has_exit_code());

  clock_.advance(0s);
  runner_.exit(101, exited(3));
  network_.settle();
  EXPECT_EQ(agent_.lastUpdate().reason(), v1::TaskStatus::REASON_TASK_CHECK_STATUS_UPDATED);
  EXPECT_EQ(agent_.lastUpdate().check_status().command().exit_code(), 3);
  size_t updates = agent_.updateStates().size();
  clock_.advance(1s);
  runner_.exit(102, exited(3));  // Same result: no update.
  network_.settle();
  EXPECT_EQ(agent_.updateStates().size(), updates);
  runner_.exit(100, exited(0));
  network_.settle();
  EXPECT_EQ(agent_.lastUpdate().state(), v1::TASK_FINISHED);
  clock_.advance(10s);
  EXPECT_EQ(runner_.specs.size(), 3u) << "no probe after the task ended";
}

TEST(DescribeWaitStatusTest, ExitAndSignal) {
  EXPECT_EQ(describeWaitStatus(exited(0)), "Command exited with status 0");
  EXPECT_EQ(describeWaitStatus(exited(255)), "Command exited with status 255");
  EXPECT_EQ(describeWaitStatus(signalled(SIGTERM)), "Command terminated with signal Terminated");
}

}  // namespace
}  // namespace agora::sdk
