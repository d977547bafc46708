#include "agent_fixture.hpp"

namespace agora::agent {
namespace {

class StatusUpdateTest : public AgentTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(startAgent().ok());
    registerAgent();
    runTask(commandTask("t1"));
    subscribe(executor_, "t1");
    ASSERT_EQ(executor_.count("executor_event.SUBSCRIBED"), 1u);
    ASSERT_EQ(executor_.count("executor_event.LAUNCH"), 1u);
    master_.clear();
  }

  testing::FakePeer executor_{network_, "executor:1"};
};

TEST_F(StatusUpdateTest, ForwardsOnlyTheHeadAndTheAckOfTheHeadForwardsTheNext) {
  std::string starting = sendUpdate(executor_, "t1", "t1", v1::TASK_STARTING);
  std::string running = sendUpdate(executor_, "t1", "t1", v1::TASK_RUNNING);
  std::string finished = sendUpdate(executor_, "t1", "t1", v1::TASK_FINISHED);
  // Each is acknowledged to the executor once recorded.
  EXPECT_EQ(executor_.count("executor_event.ACKNOWLEDGED"), 3u);
  // Only the head went to the master, with the newest state known.
  auto updates = updatesAtMaster();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].uuid(), starting);
  EXPECT_EQ(updates[0].status().state(), v1::TASK_STARTING);
  EXPECT_EQ(updates[0].latest_state(), v1::TASK_STARTING);  // All it knew then.
  EXPECT_EQ(updates[0].status().source(), v1::TaskStatus::SOURCE_EXECUTOR);
  EXPECT_EQ(updates[0].agent_id().value(), "agent-1");

  // The retry of the head carries the newest state.
  master_.clear();
  advance(std::chrono::seconds(10));
  updates = updatesAtMaster();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].uuid(), starting);
  EXPECT_EQ(updates[0].latest_state(), v1::TASK_FINISHED);

  master_.clear();
  acknowledge(updates[0]);
  updates = updatesAtMaster();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].uuid(), running);

  // An acknowledgement of something else than the head changes nothing.
  master_.clear();
  internal::StatusUpdate stale = updates[0];
  stale.set_uuid(finished);
  acknowledge(stale);
  EXPECT_TRUE(updatesAtMaster().empty());

  acknowledge(updates[0]);
  updates = updatesAtMaster();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].uuid(), finished);
  EXPECT_EQ(metric("slave/tasks_finished"), 1);
  EXPECT_EQ(metric("slave/status_update_streams"), 1);
  acknowledge(updates[0]);
  EXPECT_EQ(metric("slave/status_update_streams"), 0);
  EXPECT_EQ(metric("slave/valid_status_updates"), 3);
}

TEST_F(StatusUpdateTest, RetriedWithBackoffAfterADroppedCopy) {
  network_.drop({"status_update", "", "master"}, 1);
  sendUpdate(executor_, "t1", "t1", v1::TASK_RUNNING);
  EXPECT_TRUE(updatesAtMaster().empty());
  advance(std::chrono::seconds(9));
  EXPECT_TRUE(updatesAtMaster().empty());
  advance(std::chrono::seconds(1));  // 10 s: the first retry.
  ASSERT_EQ(updatesAtMaster().size(), 1u);
  advance(std::chrono::seconds(19));
  EXPECT_EQ(updatesAtMaster().size(), 1u);
  advance(std::chrono::seconds(1));  // Then 20 s later.
  ASSERT_EQ(updatesAtMaster().size(), 2u);
  EXPECT_EQ(updatesAtMaster()[0].uuid(), updatesAtMaster()[1].uuid());
  acknowledge(updatesAtMaster()[0]);
  master_.clear();
  advance(std::chrono::minutes(30));
  EXPECT_TRUE(updatesAtMaster().empty());
}

TEST_F(StatusUpdateTest, DuplicateUuidIsDroppedButAcknowledged) {
  std::string uuid = sendUpdate(executor_, "t1", "t1", v1::TASK_RUNNING);
  sendUpdate(executor_, "t1", "t1", v1::TASK_RUNNING, uuid);
  EXPECT_EQ(executor_.count("executor_event.ACKNOWLEDGED"), 2u);
  acknowledge(updatesAtMaster().at(0));
  master_.clear();
  advance(std::chrono::seconds(30));
  EXPECT_TRUE(updatesAtMaster().empty());  // Nothing queued behind it.
  EXPECT_EQ(metric("slave/valid_status_updates"), 1);
}

TEST_F(StatusUpdateTest, OrderIsPerTask) {
  runTask(commandTask("t2"));
  testing::FakePeer executor2(network_, "executor:2");
  subscribe(executor2, "t2");
  master_.clear();
  sendUpdate(executor_, "t1", "t1", v1::TASK_RUNNING);
  sendUpdate(executor_, "t1", "t1", v1::TASK_FINISHED);
  sendUpdate(executor2, "t2", "t2", v1::TASK_RUNNING);
  // Both heads are out although t1's stream is longer.
  auto updates = updatesAtMaster();
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[0].status().task_id().value(), "t1");
  EXPECT_EQ(updates[0].status().state(), v1::TASK_RUNNING);
  EXPECT_EQ(updates[1].status().task_id().value(), "t2");
}

TEST_F(StatusUpdateTest, DurableBeforeForwardSurvivesAnAgentCrash) {
  auto rule = network_.drop({"status_update", "", "master"});
  std::string uuid = sendUpdate(executor_, "t1", "t1", v1::TASK_RUNNING);
  ASSERT_EQ(executor_.count("executor_event.ACKNOWLEDGED"), 1u);  // The executor forgets it now.
  ASSERT_TRUE(restartAgent().ok());
  network_.removeRule(rule);
  // The only copy is the checkpoint's; it goes out after reregistration.
  reregisterAgent();
  auto updates = updatesAtMaster();
  ASSERT_FALSE(updates.empty());
  EXPECT_EQ(updates.back().uuid(), uuid);
  EXPECT_EQ(updates.back().status().state(), v1::TASK_RUNNING);
}

TEST_F(StatusUpdateTest, HostileUpdatesAreDroppedAndCounted) {
  runTask(commandTask("t2"));
  testing::FakePeer executor2(network_, "executor:2");
  subscribe(executor2, "t2");
  master_.clear();
  double droppedBefore = metric("slave/dropped_messages");
  // TASK_STAGING from an executor.
  sendUpdate(executor_, "t1", "t1", v1::TASK_STAGING);
  // No uuid; a malformed uuid.
  sendUpdate(executor_, "t1", "t1", v1::TASK_RUNNING, "");
  sendUpdate(executor_, "t1", "t1", v1::TASK_RUNNING, "short");
  // Executor t1 claims executor t2's task.
  sendUpdate(executor_, "t1", "t2", v1::TASK_FINISHED);
  // Executor t2's peer speaking for executor t1.
  sendUpdate(executor2, "t1", "t1", v1::TASK_FAILED);
  // An unknown framework and an unknown executor.
  sendUpdate(executor_, "t1", "t1", v1::TASK_RUNNING, newUuidBytes(), "fw-unknown");
  sendUpdate(executor_, "nope", "t1", v1::TASK_RUNNING);
  EXPECT_EQ(metric("slave/invalid_status_updates"), 7);
  EXPECT_EQ(metric("slave/valid_status_updates"), 0);
  EXPECT_EQ(metric("slave/dropped_messages") - droppedBefore, 7);
  EXPECT_TRUE(updatesAtMaster().empty());
  EXPECT_EQ(executor_.count("executor_event.ACKNOWLEDGED"), 0u);
  // The agent still works.
  sendUpdate(executor_, "t1", "t1", v1::TASK_RUNNING);
  EXPECT_EQ(updatesAtMaster().size(), 1u);
}

}  // namespace
}  // namespace agora::agent
