#include <fstream>

#include "agent_fixture.hpp"

namespace agora::agent {
namespace {

internal::Envelope reserve(const std::string& resources, const std::string& operationUuid = "op-uuid-0000001") {
  internal::Envelope envelope;
  auto* apply = envelope.mutable_apply_operation();
  apply->mutable_framework_id()->set_value("fw-1");
  apply->mutable_operation()->set_type(v1::Offer::Operation::RESERVE);
  Resources unreserved = Resources::parse(resources).value();
  Reservation reservation{Reservation::Type::kDynamic, "eng", "ops", {}};
  *apply->mutable_operation()->mutable_reserve()->mutable_resources() =
      unreserved.pushReservation(reservation).value().toProto();
  apply->mutable_operation_uuid()->set_value(operationUuid);
  apply->mutable_resource_version_uuid()->set_value("ignored");
  return envelope;
}

internal::Envelope unreserve(const std::string& resources, const std::string& operationUuid) {
  internal::Envelope envelope = reserve(resources, operationUuid);
  auto* operation = envelope.mutable_apply_operation()->mutable_operation();
  operation->set_type(v1::Offer::Operation::UNRESERVE);
  *operation->mutable_unreserve()->mutable_resources() = operation->reserve().resources();
  operation->clear_reserve();
  return envelope;
}

Resources checkpointedIn(const internal::ReregisterAgent& message) {
  return Resources::fromProto(message.checkpointed_resources()).value();
}

TEST_F(AgentTest, ReservationsAreCheckpointedAndReportedOnReregistration) {
  ASSERT_TRUE(startAgent().ok());
  registerAgent();
  toAgent(reserve("cpus:2;mem:512"));
  auto updates = master_.ofType("operation_status_update");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].operation_status_update().status().state(), v1::OPERATION_FINISHED);
  nlohmann::json state = agent_->stateJson();
  EXPECT_EQ(state["reserved_resources"]["eng"]["cpus"], 2.0);
  EXPECT_EQ(state["unreserved_resources"]["cpus"], 2.0);
  EXPECT_EQ(state["resources"]["cpus"], 4.0);

  // Retried until acknowledged.
  master_.clear();
  advance(std::chrono::seconds(10));
  ASSERT_EQ(master_.count("operation_status_update"), 1u);
  internal::Envelope ack;
  auto* a = ack.mutable_operation_status_update_acknowledgement();
  a->mutable_agent_id()->set_value("agent-1");
  *a->mutable_operation_uuid() = updates[0].operation_status_update().operation_uuid();
  *a->mutable_status_uuid() = updates[0].operation_status_update().status().uuid();
  toAgent(ack);
  master_.clear();
  advance(std::chrono::minutes(5));
  EXPECT_EQ(master_.count("operation_status_update"), 0u);

  ASSERT_TRUE(restartAgent().ok());
  reregisterAgent();
  internal::ReregisterAgent reregistration = master_.ofType("reregister_agent").back().reregister_agent();
  EXPECT_EQ(reregistration.agent_info().id().value(), "agent-1");
  Resources checkpointed = checkpointedIn(reregistration);
  EXPECT_EQ(checkpointed.scalar("cpus").toDouble(), 2);
  EXPECT_EQ(checkpointed.reservedTo("eng").scalar("mem").toDouble(), 512);

  // UNRESERVE half, then restart again.
  master_.clear();
  toAgent(unreserve("cpus:1", "op-uuid-0000002"));
  ASSERT_EQ(master_.ofType("operation_status_update").at(0).operation_status_update().status().state(),
            v1::OPERATION_FINISHED);
  ASSERT_TRUE(restartAgent().ok());
  master_.clear();
  reregisterAgent();
  checkpointed = checkpointedIn(master_.ofType("reregister_agent").back().reregister_agent());
  EXPECT_EQ(checkpointed.scalar("cpus").toDouble(), 1);
  EXPECT_EQ(checkpointed.scalar("mem").toDouble(), 512);
}

TEST_F(AgentTest, ReserveOfWhatTheAgentDoesNotHaveFails) {
  ASSERT_TRUE(startAgent().ok());
  registerAgent();
  toAgent(reserve("cpus:64"));
  auto updates = master_.ofType("operation_status_update");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].operation_status_update().status().state(), v1::OPERATION_FAILED);
  EXPECT_TRUE(agent_->stateJson()["reserved_resources"].empty());
}

TEST_F(AgentTest, ResourcesConflictingWithTheCheckpointStopTheAgent) {
  ASSERT_TRUE(startAgent().ok());
  registerAgent();
  toAgent(reserve("cpus:3"));
  options_.resources = "cpus:2;mem:4096;disk:10000;ports:[31000-32000]";
  Status status = restartAgent();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("--resources 'cpus:2;"), std::string::npos) << status;
  EXPECT_NE(status.message().find("checkpointed reservations"), std::string::npos) << status;
  EXPECT_NE(status.message().find("cpus(eng,dynamic:ops):3"), std::string::npos) << status;

  // Changing a static reservation is refused too.
  options_.resources = "cpus:4;cpus(db):1;mem:4096;disk:10000;ports:[31000-32000]";
  status = restartAgent();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("static reservations"), std::string::npos) << status;

  // The original flags still work.
  options_.resources = "cpus:4;mem:4096;disk:10000;ports:[31000-32000]";
  EXPECT_TRUE(restartAgent().ok());
}

TEST_F(AgentTest, CorruptCheckpointIsAClearErrorNotAFreshStart) {
  ASSERT_TRUE(startAgent().ok());
  registerAgent();
  agent_.reset();
  std::filesystem::remove(workDir_ + "/meta/agent.db-wal");
  std::filesystem::remove(workDir_ + "/meta/agent.db-shm");
  {
    std::ofstream out(workDir_ + "/meta/agent.db", std::ios::binary | std::ios::trunc);
    out << std::string(8192, '\x5a');
  }
  Status status = restartAgent();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(workDir_ + "/meta/agent.db"), std::string::npos) << status;
  EXPECT_EQ(status.code(), Status::Code::kCorruption) << status;
}

TEST_F(AgentTest, ReregistersAfterRestartWithItsTasksAndReconnectsExecutors) {
  ASSERT_TRUE(startAgent().ok());
  registerAgent();
  runTask(commandTask("t1"));
  testing::FakePeer executor(network_, "executor:1");
  subscribe(executor, "t1");
  sendUpdate(executor, "t1", "t1", v1::TASK_RUNNING);
  acknowledge(updatesAtMaster().back());
  std::string containerId = containerOf("t1");

  ASSERT_TRUE(restartAgent().ok());
  master_.clear();
  settle();
  // Executors come back by themselves when their connection does; one that
  // has not after a quarter of the reregistration timeout is asked to...
  EXPECT_EQ(executor.count("reconnect_executor"), 0u);
  advance(options_.executorReregistrationTimeout / 4);
  EXPECT_EQ(executor.count("reconnect_executor"), 1u);
  ASSERT_EQ(containerizer_.recovered().size(), 1u);
  EXPECT_EQ(containerizer_.recovered()[0].containerId, containerId);

  // ...and resubscribes with what the agent had not acknowledged.
  executor.clear();
  internal::Envelope resubscribe = executorCall(v1::executor::Call::SUBSCRIBE, "t1");
  auto* update = resubscribe.mutable_executor_call()->mutable_subscribe()->add_unacknowledged_updates();
  update->mutable_status()->mutable_task_id()->set_value("t1");
  update->mutable_status()->set_state(v1::TASK_FINISHED);
  update->mutable_status()->set_uuid(newUuidBytes());
  executor.send(agentPeer_, resubscribe);
  settle();
  EXPECT_EQ(executor.count("executor_event.SUBSCRIBED"), 1u);
  EXPECT_EQ(executor.count("executor_event.ACKNOWLEDGED"), 1u);
  EXPECT_EQ(executor.count("executor_event.LAUNCH"), 0u);  // Not launched twice.

  reregisterAgent();
  internal::ReregisterAgent reregistration = master_.ofType("reregister_agent").back().reregister_agent();
  ASSERT_EQ(reregistration.tasks_size(), 1);
  EXPECT_EQ(reregistration.tasks(0).task_id().value(), "t1");
  EXPECT_EQ(reregistration.tasks(0).state(), v1::TASK_FINISHED);
  ASSERT_EQ(reregistration.frameworks_size(), 1);
  EXPECT_EQ(reregistration.frameworks(0).id().value(), "fw-1");
  EXPECT_EQ(updatesAtMaster().back().status().state(), v1::TASK_FINISHED);
  // Past the reregistration timeout nothing happens to it.
  advance(std::chrono::seconds(5));
  EXPECT_TRUE(containerizer_.alive(containerId));
}

TEST_F(AgentTest, AGroupStillQueuedAcrossARestartIsDeliveredWhole) {
  ASSERT_TRUE(startAgent().ok());
  registerAgent();
  v1::ExecutorInfo executorInfo = defaultExecutorInfo("pod");
  runTaskGroup(executorInfo, {commandTask("web", "serve"), commandTask("sidecar", "tail")});
  ASSERT_EQ(containerizer_.launches().size(), 1u);

  // The agent restarts before the default executor subscribes: the group
  // is still queued, and goes out as one LAUNCH_GROUP all the same.
  ASSERT_TRUE(restartAgent().ok());
  settle();
  testing::FakePeer pod(network_, "executor:pod");
  subscribe(pod, "pod");
  auto groups = pod.ofType("executor_event.LAUNCH_GROUP");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].executor_event().launch_group().task_group().tasks_size(), 2);
  EXPECT_EQ(pod.count("executor_event.LAUNCH"), 1u) << "one LAUNCH_GROUP (a prefix count), no LAUNCH";

  // A later group is told apart from the recovered one.
  reregisterAgent();
  runTaskGroup(executorInfo, {commandTask("batch", "work")}, /*launchExecutor=*/false);
  groups = pod.ofType("executor_event.LAUNCH_GROUP");
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1].executor_event().launch_group().task_group().tasks_size(), 1);
}

TEST_F(AgentTest, AnExecutorThatResubscribesByItselfIsNotAskedToReconnect) {
  ASSERT_TRUE(startAgent().ok());
  registerAgent();
  runTask(commandTask("t1"));
  testing::FakePeer executor(network_, "executor:1");
  subscribe(executor, "t1");
  ASSERT_TRUE(restartAgent().ok());
  settle();
  executor.clear();
  executor.send(agentPeer_, executorCall(v1::executor::Call::SUBSCRIBE, "t1"));
  settle();
  EXPECT_EQ(executor.count("executor_event.SUBSCRIBED"), 1u);
  advance(options_.executorReregistrationTimeout);
  EXPECT_EQ(executor.count("reconnect_executor"), 0u);
  EXPECT_EQ(executor.count("executor_event.SHUTDOWN"), 0u);
}

TEST_F(AgentTest, ExecutorsThatDoNotReregisterAreShutDown) {
  ASSERT_TRUE(startAgent().ok());
  registerAgent();
  runTask(commandTask("t1"));
  testing::FakePeer executor(network_, "executor:1");
  subscribe(executor, "t1");
  sendUpdate(executor, "t1", "t1", v1::TASK_RUNNING);
  acknowledge(updatesAtMaster().back());

  options_.executorReregistrationTimeout = std::chrono::seconds(10);
  ASSERT_TRUE(restartAgent().ok());
  reregisterAgent();
  master_.clear();
  advance(std::chrono::seconds(7));
  EXPECT_TRUE(updatesAtMaster().empty());
  advance(std::chrono::seconds(1));
  auto updates = updatesAtMaster();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].status().state(), v1::TASK_LOST);
  EXPECT_EQ(updates[0].status().reason(), v1::TaskStatus::REASON_EXECUTOR_REREGISTRATION_TIMEOUT);
  EXPECT_FALSE(containerizer_.alive(containerOf("t1")));
}

TEST_F(AgentTest, ExecutorsThatDiedWhileTheAgentWasDownFailTheirTasks) {
  ASSERT_TRUE(startAgent().ok());
  registerAgent();
  runTask(commandTask("t1"));
  testing::FakePeer executor(network_, "executor:1");
  subscribe(executor, "t1");
  agent_.reset();
  containerizer_.killAll();
  ASSERT_TRUE(restartAgent().ok());
  master_.clear();
  reregisterAgent();
  auto updates = updatesAtMaster();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].status().state(), v1::TASK_FAILED);
  EXPECT_EQ(updates[0].status().reason(), v1::TaskStatus::REASON_EXECUTOR_TERMINATED);
}

TEST_F(AgentTest, RecoverCleanupKillsEverything) {
  ASSERT_TRUE(startAgent().ok());
  registerAgent();
  runTask(commandTask("t1"));
  testing::FakePeer executor(network_, "executor:1");
  subscribe(executor, "t1");
  options_.recover = "cleanup";
  ASSERT_TRUE(restartAgent().ok());
  EXPECT_FALSE(containerizer_.alive(containerOf("t1")));
  master_.clear();
  reregisterAgent();
  EXPECT_EQ(master_.ofType("reregister_agent").back().reregister_agent().tasks_size(), 0);
}

TEST_F(AgentTest, AfterARebootNoExecutorIsRecovered) {
  ASSERT_TRUE(startAgent().ok());
  registerAgent();
  runTask(commandTask("t1"));
  options_.bootId = "boot-2";
  ASSERT_TRUE(restartAgent().ok());
  EXPECT_TRUE(containerizer_.recovered().empty());
  master_.clear();
  reregisterAgent();
  auto updates = updatesAtMaster();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].status().state(), v1::TASK_FAILED);
}

}  // namespace
}  // namespace agora::agent
