#include "agent_fixture.hpp"

namespace agora::agent {
namespace {

class ExecutorTest : public AgentTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(startAgent().ok());
    registerAgent();
    master_.clear();
  }

  internal::StatusUpdate lastUpdate() {
    auto updates = updatesAtMaster();
    EXPECT_FALSE(updates.empty());
    return updates.empty() ? internal::StatusUpdate() : updates.back();
  }

  testing::FakePeer executor_{network_, "executor:1"};
};

TEST_F(ExecutorTest, LaunchesTheCommandExecutorInItsSandbox) {
  runTask(commandTask("t1", "echo hello"));
  ASSERT_EQ(containerizer_.launches().size(), 1u);
  const ContainerConfig& launch = containerizer_.launches()[0];
  std::string expected =
      workDir_ + "/slaves/agent-1/frameworks/fw-1/executors/t1/runs/" + launch.containerId;
  EXPECT_EQ(launch.sandbox, expected);
  EXPECT_TRUE(std::filesystem::is_directory(expected));
  EXPECT_EQ(agent_->sandboxPath("fw-1", "t1"), expected);
  EXPECT_EQ(launch.argv, std::vector<std::string>{"/opt/agora/libexec/agora-executor"});
  EXPECT_EQ(launch.executorInfo.executor_id().value(), "t1");
  EXPECT_EQ(launch.env.at("AGORA_AGENT_ENDPOINT"), options_.executorEndpoint);
  EXPECT_EQ(launch.env.at("AGORA_FRAMEWORK_ID"), "fw-1");
  EXPECT_EQ(launch.env.at("AGORA_EXECUTOR_ID"), "t1");
  EXPECT_EQ(launch.env.at("AGORA_DIRECTORY"), expected);
  EXPECT_EQ(launch.env.at("AGORA_CHECKPOINT"), "1");
  EXPECT_EQ(launch.env.at("AGORA_RECOVERY_TIMEOUT"), "15mins");
  EXPECT_EQ(launch.env.at("AGORA_SUBSCRIPTION_BACKOFF_MAX"), "2secs");
  EXPECT_EQ(launch.env.at("AGORA_EXECUTOR_SHUTDOWN_GRACE_PERIOD"), "5secs");
  // The task's resources plus the command executor's 0.1 cpus and 32 MB.
  EXPECT_EQ(launch.resources.scalar("cpus").toDouble(), 1.1);
  EXPECT_EQ(launch.resources.scalar("mem").toDouble(), 160);
  EXPECT_EQ(launch.user, "nobody");

  subscribe(executor_, "t1");
  auto subscribed = executor_.ofType("executor_event.SUBSCRIBED");
  ASSERT_EQ(subscribed.size(), 1u);
  EXPECT_EQ(subscribed[0].executor_event().subscribed().container_id().value(), launch.containerId);
  EXPECT_EQ(subscribed[0].executor_event().subscribed().agent_info().id().value(), "agent-1");
  auto launches = executor_.ofType("executor_event.LAUNCH");
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].executor_event().launch().task().command().value(), "echo hello");
  EXPECT_EQ(metric("slave/executors_running"), 1);

  nlohmann::json state = agent_->stateJson();
  EXPECT_EQ(state["id"], "agent-1");
  EXPECT_EQ(state["isolation"], "posix");
  ASSERT_EQ(state["frameworks"].size(), 1u);
  EXPECT_EQ(state["frameworks"][0]["executors"][0]["directory"], expected);
  EXPECT_EQ(state["frameworks"][0]["executors"][0]["tasks"][0]["task_id"]["value"], "t1");
}

TEST_F(ExecutorTest, CustomExecutorGetsQueuedTasksAfterSubscribing) {
  v1::TaskInfo task = commandTask("t1");
  task.clear_command();
  v1::ExecutorInfo* info = task.mutable_executor();
  info->mutable_executor_id()->set_value("custom");
  info->mutable_command()->set_value("/usr/bin/my-executor --flag");
  info->set_type(v1::ExecutorInfo::CUSTOM);
  runTask(task);
  v1::TaskInfo second = task;
  second.mutable_task_id()->set_value("t2");
  runTask(second);
  ASSERT_EQ(containerizer_.launches().size(), 1u);  // One executor for both.
  EXPECT_EQ(containerizer_.launches()[0].argv,
            (std::vector<std::string>{"/bin/sh", "-c", "/usr/bin/my-executor --flag"}));
  EXPECT_EQ(executor_.count("executor_event.LAUNCH"), 0u);
  subscribe(executor_, "custom");
  EXPECT_EQ(executor_.count("executor_event.LAUNCH"), 2u);
  // A third task goes straight to the subscribed executor.
  v1::TaskInfo third = task;
  third.mutable_task_id()->set_value("t3");
  runTask(third);
  EXPECT_EQ(executor_.count("executor_event.LAUNCH"), 3u);
  // Its exit is reported to the master (custom executors only).
  containerizer_.exit(containerOf("custom"), 3);
  settle();
  EXPECT_EQ(master_.count("exited_executor"), 1u);
}

TEST_F(ExecutorTest, TaskGroupsRunOnTheDefaultExecutorAndArriveWhole) {
  v1::ExecutorInfo executor = defaultExecutorInfo("pod");
  auto runGroup = [&](const std::vector<v1::TaskInfo>& tasks) { runTaskGroup(executor, tasks); };
  runGroup({commandTask("web", "serve"), commandTask("sidecar", "tail")});
  ASSERT_EQ(containerizer_.launches().size(), 1u);
  const ContainerConfig& launch = containerizer_.launches()[0];
  EXPECT_EQ(launch.argv, (std::vector<std::string>{"/opt/agora/libexec/agora-executor", "--default"}));
  EXPECT_FALSE(launch.executorInfo.has_command()) << "the framework's ExecutorInfo is kept as given";
  // Both tasks plus the executor's own 0.1 cpus and 32 MB.
  EXPECT_EQ(launch.resources.scalar("cpus").toDouble(), 2.1);

  subscribe(executor_, "pod");
  EXPECT_EQ(executor_.count("executor_event.LAUNCH"), 1u) << "one LAUNCH_GROUP (a prefix count), no LAUNCH";
  auto groups = executor_.ofType("executor_event.LAUNCH_GROUP");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].executor_event().launch_group().task_group().tasks_size(), 2);

  // A second group goes straight to the running executor, whole.
  runGroup({commandTask("batch-1", "work"), commandTask("batch-2", "work")});
  EXPECT_EQ(containerizer_.launches().size(), 1u);
  groups = executor_.ofType("executor_event.LAUNCH_GROUP");
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1].executor_event().launch_group().task_group().tasks(0).task_id().value(), "batch-1");
  EXPECT_EQ(agent_->stateJson()["frameworks"][0]["executors"][0]["type"], "DEFAULT");
  // Each task of a group has its own sandbox inside the executor's.
  EXPECT_EQ(agent_->sandboxPath("fw-1", "web"), launch.sandbox + "/tasks/web");
  EXPECT_EQ(agent_->sandboxPath("fw-1", "batch-2"), launch.sandbox + "/tasks/batch-2");

  // Hostile: a task of a group with its own executor, a duplicate ID, a
  // non-DEFAULT executor: dropped, nothing launched.
  v1::TaskInfo withExecutor = commandTask("odd", "x");
  *withExecutor.mutable_executor() = executor;
  runGroup({withExecutor});
  runGroup({commandTask("dup", "x"), commandTask("dup", "x")});
  executor.set_type(v1::ExecutorInfo::CUSTOM);
  executor.mutable_executor_id()->set_value("other");
  runGroup({commandTask("custom", "x")});
  EXPECT_EQ(containerizer_.launches().size(), 1u);
  EXPECT_EQ(executor_.ofType("executor_event.LAUNCH_GROUP").size(), 2u);
  EXPECT_EQ(metric("slave/dropped_messages"), 3);
}

TEST_F(ExecutorTest, KillBeforeSubscriptionIsAnsweredByTheAgent) {
  runTask(commandTask("t1"));
  killTask("t1");
  internal::StatusUpdate update = lastUpdate();
  EXPECT_EQ(update.status().state(), v1::TASK_KILLED);
  EXPECT_EQ(update.status().reason(), v1::TaskStatus::REASON_TASK_KILLED_DURING_LAUNCH);
  EXPECT_EQ(update.status().source(), v1::TaskStatus::SOURCE_AGENT);
  // Nothing left for the executor: its container goes.
  ASSERT_EQ(containerizer_.destroyed().size(), 1u);
  EXPECT_EQ(containerizer_.destroyed()[0].first, containerOf("t1"));
  // A late subscription is told to shut down and gets no task.
  subscribe(executor_, "t1");
  EXPECT_EQ(executor_.count("executor_event.LAUNCH"), 0u);
}

TEST_F(ExecutorTest, KillOfALaunchedTaskGoesToTheExecutor) {
  v1::TaskInfo task = commandTask("t1");
  task.mutable_kill_policy()->mutable_grace_period()->set_nanoseconds(3'000'000'000);
  runTask(task);
  subscribe(executor_, "t1");
  killTask("t1");
  auto kills = executor_.ofType("executor_event.KILL");
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].executor_event().kill().task_id().value(), "t1");
  EXPECT_EQ(kills[0].executor_event().kill().kill_policy().grace_period().nanoseconds(), 3'000'000'000);
  EXPECT_TRUE(updatesAtMaster().empty());
}

TEST_F(ExecutorTest, ExecutorExitFailsItsTasks) {
  runTask(commandTask("t1"));
  subscribe(executor_, "t1");
  sendUpdate(executor_, "t1", "t1", v1::TASK_RUNNING);
  acknowledge(lastUpdate());
  master_.clear();
  containerizer_.exit(containerOf("t1"), 1);
  settle();
  internal::StatusUpdate update = lastUpdate();
  EXPECT_EQ(update.status().state(), v1::TASK_FAILED);
  EXPECT_EQ(update.status().reason(), v1::TaskStatus::REASON_EXECUTOR_TERMINATED);
  EXPECT_NE(update.status().message().find("exited with status 1"), std::string::npos) << update.status().message();
  EXPECT_EQ(master_.count("exited_executor"), 0u);  // Command executor.
  acknowledge(update);
  EXPECT_EQ(metric("slave/executors_terminated"), 1);
  EXPECT_EQ(agent_->stateJson()["frameworks"].size(), 0u);
  EXPECT_EQ(agent_->stateJson()["completed_frameworks"].size(), 1u);
  EXPECT_TRUE(agent_->sandboxPath("fw-1", "t1").has_value());
}

TEST_F(ExecutorTest, MemoryLimitationIsTheTerminalReason) {
  runTask(commandTask("t1"));
  subscribe(executor_, "t1");
  ContainerTermination termination;
  termination.message = "Memory limit exceeded: 200 MB used of 160 MB";
  termination.state = v1::TASK_FAILED;
  termination.reason = v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY;
  termination.limitation = Resources::parse("mem:160").value();
  containerizer_.terminate(containerOf("t1"), termination);
  settle();
  internal::StatusUpdate update = lastUpdate();
  EXPECT_EQ(update.status().state(), v1::TASK_FAILED);
  EXPECT_EQ(update.status().reason(), v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY);
  EXPECT_EQ(update.status().limitation().resources_size(), 1);
}

TEST_F(ExecutorTest, RegistrationTimeoutFailsTheTasks) {
  runTask(commandTask("t1"));
  advance(std::chrono::seconds(59));
  EXPECT_TRUE(updatesAtMaster().empty());
  advance(std::chrono::seconds(1));
  internal::StatusUpdate update = lastUpdate();
  EXPECT_EQ(update.status().state(), v1::TASK_FAILED);
  EXPECT_EQ(update.status().reason(), v1::TaskStatus::REASON_EXECUTOR_REGISTRATION_TIMEOUT);
  EXPECT_FALSE(containerizer_.alive(containerOf("t1")));
}

TEST_F(ExecutorTest, LaunchFailureFailsTheTasks) {
  containerizer_.failLaunches(true);
  runTask(commandTask("t1"));
  internal::StatusUpdate update = lastUpdate();
  EXPECT_EQ(update.status().state(), v1::TASK_FAILED);
  EXPECT_EQ(update.status().reason(), v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED);
}

TEST_F(ExecutorTest, ShutdownFrameworkShutsItsExecutorsDown) {
  runTask(commandTask("t1"));
  subscribe(executor_, "t1");
  internal::Envelope shutdown;
  shutdown.mutable_shutdown_framework()->mutable_framework_id()->set_value("fw-1");
  toAgent(shutdown);
  EXPECT_EQ(executor_.count("executor_event.SHUTDOWN"), 1u);
  EXPECT_TRUE(containerizer_.alive(containerOf("t1")));
  advance(std::chrono::seconds(5));  // The grace period.
  EXPECT_FALSE(containerizer_.alive(containerOf("t1")));
  settle();
  EXPECT_EQ(agent_->stateJson()["frameworks"].size(), 0u);
}

TEST_F(ExecutorTest, FrameworkMessagesBothWays) {
  runTask(commandTask("t1"));
  subscribe(executor_, "t1");
  internal::Envelope toExecutor;
  auto* message = toExecutor.mutable_framework_to_executor();
  message->mutable_agent_id()->set_value("agent-1");
  message->mutable_framework_id()->set_value("fw-1");
  message->mutable_executor_id()->set_value("t1");
  message->set_data("ping");
  toAgent(toExecutor);
  ASSERT_EQ(executor_.count("executor_event.MESSAGE"), 1u);
  internal::Envelope call = executorCall(v1::executor::Call::MESSAGE, "t1");
  call.mutable_executor_call()->mutable_message()->set_data("pong");
  executor_.send(agentPeer_, call);
  settle();
  ASSERT_EQ(master_.count("executor_to_framework"), 1u);
  EXPECT_EQ(master_.ofType("executor_to_framework")[0].executor_to_framework().data(), "pong");
}

TEST_F(ExecutorTest, ReconcileAnswersForUnknownTasks) {
  runTask(commandTask("t1"));
  internal::Envelope reconcile;
  reconcile.mutable_reconcile_tasks()->mutable_framework_id()->set_value("fw-1");
  reconcile.mutable_reconcile_tasks()->add_statuses()->mutable_task_id()->set_value("t1");
  reconcile.mutable_reconcile_tasks()->mutable_statuses(0)->set_state(v1::TASK_RUNNING);
  reconcile.mutable_reconcile_tasks()->add_statuses()->mutable_task_id()->set_value("ghost");
  reconcile.mutable_reconcile_tasks()->mutable_statuses(1)->set_state(v1::TASK_RUNNING);
  toAgent(reconcile);
  auto updates = updatesAtMaster();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].status().task_id().value(), "ghost");
  EXPECT_EQ(updates[0].status().state(), v1::TASK_LOST);
  EXPECT_EQ(updates[0].status().reason(), v1::TaskStatus::REASON_RECONCILIATION);
}

}  // namespace
}  // namespace agora::agent
