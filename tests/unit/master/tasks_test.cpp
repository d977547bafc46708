// Tasks: launch to completion with acknowledgements, retried updates,
// kill, reconciliation.

#include "master_test_util.hpp"

namespace agora::master {
namespace {

// SchedulerTest.TaskRunning: offer -> accept -> RUNNING -> FINISHED.
TEST_F(MasterTest, TaskRunsToCompletionWithAcknowledgements) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));
  ASSERT_EQ(scheduler.outstandingOffers().size(), 1u);
  v1::Offer offer = scheduler.outstandingOffers()[0];
  EXPECT_EQ(offer.allocation_info().role(), "dev");
  EXPECT_EQ(resourcesOf(offer).unallocate(), Resources::parse("cpus:2;mem:1024").value());

  scheduler.accept({offer.id()}, {FakeScheduler::launch({FakeScheduler::commandTask("t1", *agent.agentId(), "cpus:1;mem:128", "dev")})});
  settle();
  ASSERT_EQ(agent.count("run_task"), 1u);
  EXPECT_EQ(metric("master/tasks_staging"), 1);
  EXPECT_EQ(master_->stateJson()["agents"][0]["used_resources"]["cpus"], 1.0);

  agent.sendStatus("t1", v1::TASK_STARTING);
  settle();
  ASSERT_EQ(scheduler.updates().size(), 1u);
  EXPECT_EQ(scheduler.updates()[0].state(), v1::TASK_STARTING);
  EXPECT_TRUE(scheduler.updates()[0].has_uuid());
  EXPECT_EQ(scheduler.updates()[0].agent_id().value(), *agent.agentId());
  agent.sendStatus("t1", v1::TASK_RUNNING);  // Queued behind the unacked STARTING.
  settle();
  EXPECT_EQ(scheduler.updates().size(), 1u);
  scheduler.acknowledge(scheduler.updates()[0]);
  settle();
  ASSERT_EQ(scheduler.updates().size(), 2u);
  EXPECT_EQ(scheduler.updates()[1].state(), v1::TASK_RUNNING);
  scheduler.acknowledge(scheduler.updates()[1]);
  settle();
  EXPECT_EQ(metric("master/tasks_running"), 1);

  size_t offersBefore = scheduler.offers().size();
  agent.sendStatus("t1", v1::TASK_FINISHED);
  settle();
  ASSERT_EQ(scheduler.updates().size(), 3u);
  EXPECT_EQ(scheduler.updates()[2].state(), v1::TASK_FINISHED);
  EXPECT_EQ(metric("master/tasks_finished"), 1);
  // Resources come back when the task is terminal, before the ack.
  ASSERT_GT(scheduler.offers().size(), offersBefore);
  EXPECT_GE(resourcesOf(scheduler.offers().back()).scalar("cpus"), Scalar::of(1));
  EXPECT_EQ(master_->stateJson()["frameworks"][0]["tasks"].size(), 1u);  // Not acked yet.

  scheduler.acknowledge(scheduler.updates()[2]);
  settle();
  EXPECT_EQ(agent.pendingUpdates(), 0u);
  auto framework = master_->stateJson()["frameworks"][0];
  EXPECT_EQ(framework["tasks"].size(), 0u);
  ASSERT_EQ(framework["completed_tasks"].size(), 1u);
  EXPECT_EQ(framework["completed_tasks"][0]["state"], "TASK_FINISHED");
  EXPECT_EQ(metric("master/valid_status_update_acknowledgements"), 3);
}

TEST_F(MasterTest, UpdateRetriedAfterDropIsForwardedOnceAcked) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));
  v1::Offer offer = scheduler.outstandingOffers()[0];
  scheduler.accept({offer.id()}, {FakeScheduler::launch({FakeScheduler::commandTask("t1", *agent.agentId(), "cpus:1;mem:128", "dev")})});
  settle();

  network_.drop({"status_update", agent.peer(), "master"}, 1);
  agent.sendStatus("t1", v1::TASK_RUNNING);
  settle();
  EXPECT_TRUE(scheduler.updates().empty());
  advance(std::chrono::seconds(10));  // The agent resends.
  ASSERT_EQ(scheduler.updates().size(), 1u);
  EXPECT_EQ(scheduler.updates()[0].state(), v1::TASK_RUNNING);
  scheduler.acknowledge(scheduler.updates()[0]);
  settle();
  EXPECT_EQ(agent.pendingUpdates(), 0u);
  advance(std::chrono::seconds(30));  // Nothing more is resent.
  EXPECT_EQ(scheduler.updates().size(), 1u);
}

TEST_F(MasterTest, KillRunningAndUnknownTasks) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));
  v1::Offer offer = scheduler.outstandingOffers()[0];
  scheduler.accept({offer.id()}, {FakeScheduler::launch({FakeScheduler::commandTask("t1", *agent.agentId(), "cpus:1;mem:128", "dev")})});
  settle();
  scheduler.kill("t1");
  settle();
  ASSERT_EQ(agent.count("kill_task"), 1u);
  scheduler.kill("nope", *agent.agentId());
  scheduler.kill("nope2");
  settle();
  ASSERT_EQ(scheduler.updates().size(), 2u);
  EXPECT_EQ(scheduler.updates()[0].state(), v1::TASK_LOST);  // Not partition-aware: GONE becomes LOST.
  EXPECT_EQ(scheduler.updates()[1].state(), v1::TASK_LOST);  // Unknown agent.
}

// ReconciliationTest: the mesos.md §6.7 table.
TEST_F(MasterTest, ReconciliationAnswers) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}, "", true, 3600));
  v1::Offer offer = scheduler.outstandingOffers()[0];
  scheduler.accept({offer.id()}, {FakeScheduler::launch({FakeScheduler::commandTask("t1", *agent.agentId(), "cpus:1;mem:128", "dev")})});
  settle();
  agent.sendStatus("t1", v1::TASK_RUNNING);
  settle();
  scheduler.acknowledge(scheduler.updates()[0]);
  settle();
  scheduler.clearEvents();

  scheduler.reconcile();  // Implicit.
  settle();
  ASSERT_EQ(scheduler.updates().size(), 1u);
  EXPECT_EQ(scheduler.updates()[0].task_id().value(), "t1");
  EXPECT_EQ(scheduler.updates()[0].state(), v1::TASK_RUNNING);
  EXPECT_EQ(scheduler.updates()[0].reason(), v1::TaskStatus::REASON_RECONCILIATION);
  EXPECT_EQ(scheduler.updates()[0].source(), v1::TaskStatus::SOURCE_MASTER);
  EXPECT_FALSE(scheduler.updates()[0].has_uuid());
  scheduler.clearEvents();

  scheduler.reconcile({{"t1", ""}, {"ghost", *agent.agentId()}, {"ghost", "m1-S99"}});
  settle();
  ASSERT_EQ(scheduler.updates().size(), 3u);
  EXPECT_EQ(scheduler.updates()[0].state(), v1::TASK_RUNNING);
  EXPECT_EQ(scheduler.updates()[1].state(), v1::TASK_GONE);
  EXPECT_EQ(scheduler.updates()[2].state(), v1::TASK_UNKNOWN);
  scheduler.clearEvents();

  // After a master failover the agent is "recovered": no answer until it
  // reregisters.
  startMaster("m2");
  FakeScheduler again(network_);
  v1::FrameworkInfo info = FakeScheduler::frameworkInfo("f", {"dev"}, "", true, 3600);
  info.mutable_id()->set_value(*scheduler.frameworkId());
  again.subscribe(info);
  settle();
  ASSERT_EQ(again.count(Event::SUBSCRIBED), 1u);
  again.reconcile({{"ghost", *agent.agentId()}});
  settle();
  EXPECT_TRUE(again.updates().empty());
  agent.start();
  settle();
  again.reconcile({{"ghost", *agent.agentId()}, {"t1", *agent.agentId()}});
  settle();
  ASSERT_EQ(again.updates().size(), 2u);
  EXPECT_EQ(again.updates()[0].state(), v1::TASK_GONE);
  EXPECT_EQ(again.updates()[1].state(), v1::TASK_RUNNING);
}

TEST_F(MasterTest, FrameworkMessagesBothWays) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));
  scheduler.message(*agent.agentId(), "e1", "hello");
  settle();
  ASSERT_EQ(agent.count("framework_to_executor"), 1u);
  EXPECT_EQ(agent.received().back().framework_to_executor().data(), "hello");
}

}  // namespace
}  // namespace agora::master
