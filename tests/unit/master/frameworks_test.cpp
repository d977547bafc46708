// Frameworks: subscription errors, heartbeats, failover within and after
// failover_timeout, across a master restart.

#include "master_test_util.hpp"

namespace agora::master {
namespace {

TEST_F(MasterTest, SubscribeAssignsIdAndSendsHeartbeats) {
  startMaster();
  FakeScheduler scheduler(network_);
  scheduler.subscribe(FakeScheduler::frameworkInfo("f", {"dev"}));
  settle();
  ASSERT_EQ(scheduler.count(Event::SUBSCRIBED), 1u);
  EXPECT_EQ(scheduler.frameworkId(), "m1-0000");
  EXPECT_EQ(scheduler.events()[0].subscribed().heartbeat_interval_seconds(), 15);
  EXPECT_EQ(scheduler.events()[0].subscribed().master_info().id(), "m1");
  advance(std::chrono::seconds(45));
  EXPECT_EQ(scheduler.count(Event::HEARTBEAT), 3u);
  auto state = master_->stateJson();
  ASSERT_EQ(state["frameworks"].size(), 1u);
  EXPECT_EQ(state["frameworks"][0]["roles"], nlohmann::json::array({"dev"}));
  EXPECT_EQ(state["frameworks"][0]["active"], true);
}

TEST_F(MasterTest, InvalidSubscriptionsGetErrors) {
  startMaster();
  FakeScheduler scheduler(network_);
  auto badRole = FakeScheduler::frameworkInfo("f", {"a/../b"});
  scheduler.subscribe(badRole);
  auto noRoles = FakeScheduler::frameworkInfo("f", {});
  scheduler.subscribe(noRoles);
  auto badSuppressed = FakeScheduler::frameworkInfo("f", {"dev"});
  scheduler.subscribe(badSuppressed, {"other"});
  auto badTimeout = FakeScheduler::frameworkInfo("f", {"dev"});
  badTimeout.set_failover_timeout(-1);
  scheduler.subscribe(badTimeout);
  settle();
  EXPECT_EQ(scheduler.errors().size(), 4u);
  EXPECT_EQ(scheduler.count(Event::SUBSCRIBED), 0u);
  EXPECT_EQ(metric("master/invalid_subscriptions"), 4);
  EXPECT_EQ(master_->stateJson()["frameworks"].size(), 0u);
}

TEST_F(MasterTest, FrameworkFailsOverWithinTimeout) {
  startMaster();
  FakeScheduler first(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  auto info = FakeScheduler::frameworkInfo("f", {"dev"}, "", false, 60);
  subscribeAndOffer(first, agent, info);
  first.accept({first.outstandingOffers()[0].id()},
               {FakeScheduler::launch({FakeScheduler::commandTask("t1", *agent.agentId(), "cpus:1;mem:128", "dev")})});
  settle();
  agent.sendStatus("t1", v1::TASK_RUNNING);
  settle();  // Forwarded, not acknowledged.

  // A second scheduler takes over while the first is still connected.
  FakeScheduler second(network_);
  info.mutable_id()->set_value(*first.frameworkId());
  second.subscribe(info);
  settle();
  ASSERT_EQ(second.count(Event::SUBSCRIBED), 1u);
  EXPECT_EQ(second.frameworkId(), first.frameworkId());
  EXPECT_EQ(first.errors(), std::vector<std::string>{"Framework failed over"});
  // Calls from the old peer are dropped now.
  double dropped = metric("master/dropped_messages");
  first.reconcile();
  settle();
  EXPECT_EQ(metric("master/dropped_messages"), dropped + 1);

  // The unacknowledged update reaches the new scheduler on the agent's retry.
  advance(std::chrono::seconds(10));
  ASSERT_FALSE(second.updates().empty());
  EXPECT_EQ(second.updates().back().state(), v1::TASK_RUNNING);

  // Disconnect, come back within the timeout: same framework, task kept.
  master_->disconnected(second.peer());
  settle();
  EXPECT_EQ(metric("master/frameworks_disconnected"), 1);
  advance(std::chrono::seconds(30));
  FakeScheduler third(network_);
  third.subscribe(info);
  settle();
  ASSERT_EQ(third.count(Event::SUBSCRIBED), 1u);
  advance(std::chrono::seconds(60));
  auto state = master_->stateJson();
  ASSERT_EQ(state["frameworks"].size(), 1u);
  EXPECT_EQ(state["frameworks"][0]["tasks"].size(), 1u);
  EXPECT_EQ(state["frameworks"][0]["connected"], true);
}

TEST_F(MasterTest, ACallFromTheLastPeerReconnectsADisconnectedFramework) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  auto info = FakeScheduler::frameworkInfo("f", {"dev"}, "", false, 60);
  subscribeAndOffer(scheduler, agent, info);
  ASSERT_EQ(scheduler.outstandingOffers().size(), 1u);

  // The transport reports the connection closed, but the driver is alive
  // and its next call arrives from the same peer.
  master_->disconnected(scheduler.peer());
  settle();
  EXPECT_EQ(metric("master/frameworks_disconnected"), 1);
  EXPECT_EQ(scheduler.count(Event::RESCIND), 0u);  // It could not be told.
  scheduler.reconcile();
  settle();
  EXPECT_EQ(metric("master/frameworks_disconnected"), 0);
  EXPECT_EQ(metric("master/framework_reconnections"), 1);

  // The failover timer was cancelled, heartbeats and offers resume.
  size_t heartbeats = scheduler.count(Event::HEARTBEAT);
  size_t offers = scheduler.count(Event::OFFERS);
  advance(std::chrono::seconds(61));
  auto state = master_->stateJson();
  ASSERT_EQ(state["frameworks"].size(), 1u);
  EXPECT_EQ(state["frameworks"][0]["active"], true);
  EXPECT_GT(scheduler.count(Event::HEARTBEAT), heartbeats);
  EXPECT_GT(scheduler.count(Event::OFFERS), offers);
}

TEST_F(MasterTest, FrameworkRemovedAfterFailoverTimeout) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  auto info = FakeScheduler::frameworkInfo("f", {"dev"}, "", false, 60);
  subscribeAndOffer(scheduler, agent, info);
  scheduler.accept({scheduler.outstandingOffers()[0].id()},
                   {FakeScheduler::launch({FakeScheduler::commandTask("t1", *agent.agentId(), "cpus:1;mem:128", "dev")})});
  settle();
  master_->disconnected(scheduler.peer());
  advance(std::chrono::seconds(61));
  auto state = master_->stateJson();
  EXPECT_EQ(state["frameworks"].size(), 0u);
  ASSERT_EQ(state["completed_frameworks"].size(), 1u);
  EXPECT_EQ(state["completed_frameworks"][0]["completed_tasks"][0]["state"], "TASK_KILLED");
  EXPECT_EQ(agent.count("shutdown_framework"), 1u);

  FakeScheduler late(network_);
  info.mutable_id()->set_value(*scheduler.frameworkId());
  late.subscribe(info);
  settle();
  EXPECT_EQ(late.errors(), std::vector<std::string>{"Framework has been removed"});
}

TEST_F(MasterTest, TeardownRemovesFrameworkAndFreesResources) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeScheduler other(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));
  scheduler.teardown();
  settle();
  EXPECT_EQ(master_->stateJson()["completed_frameworks"].size(), 1u);
  other.subscribe(FakeScheduler::frameworkInfo("g", {"dev"}));
  settle();
  EXPECT_EQ(other.outstandingOffers().size(), 1u);
}

TEST_F(MasterTest, FrameworkResubscribesAcrossMasterRestart) {
  startMaster();
  FakeScheduler scheduler(network_);
  auto info = FakeScheduler::frameworkInfo("f", {"dev"}, "", false, 60);
  scheduler.subscribe(info);
  settle();
  ASSERT_TRUE(scheduler.frameworkId());

  startMaster("m2");
  auto state = master_->stateJson();
  ASSERT_EQ(state["frameworks"].size(), 1u);
  EXPECT_EQ(state["frameworks"][0]["recovered"], true);
  FakeScheduler again(network_);
  info.mutable_id()->set_value(*scheduler.frameworkId());
  again.subscribe(info);
  settle();
  ASSERT_EQ(again.count(Event::SUBSCRIBED), 1u);
  EXPECT_EQ(again.frameworkId(), scheduler.frameworkId());

  // One that does not come back within its timeout is removed.
  startMaster("m3");
  advance(std::chrono::seconds(61));
  EXPECT_EQ(master_->stateJson()["frameworks"].size(), 0u);
}

}  // namespace
}  // namespace agora::master
