// Agents: registration, reregistration after a master restart, health
// checks, unreachable and back.

#include "master_test_util.hpp"

namespace agora::master {
namespace {

TEST_F(MasterTest, RegistersAgentWithNewIdDurably) {
  startMaster();
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  agent.start();
  settle();
  ASSERT_EQ(agent.agentId(), "m1-S0");
  EXPECT_EQ(agent.count("agent_registered"), 1u);
  EXPECT_EQ(agent.count("ping"), 1u);
  EXPECT_EQ(metric("master/slave_registrations"), 1);
  EXPECT_EQ(metric("master/slaves_active"), 1);
  auto state = master_->stateJson();
  ASSERT_EQ(state["agents"].size(), 1u);
  EXPECT_EQ(state["agents"][0]["id"], "m1-S0");
  EXPECT_EQ(state["agents"][0]["hostname"], "a1");
  EXPECT_EQ(state["agents"][0]["resources"]["cpus"], 2.0);
  EXPECT_EQ(state["agents"][0]["resources"]["mem"], 1024.0);

  // A retried registration from the same peer gets the same ID.
  agent.start();
  settle();
  EXPECT_EQ(agent.agentId(), "m1-S0");
  EXPECT_EQ(metric("master/slave_registrations"), 1);
}

TEST_F(MasterTest, AgentReregistersAfterMasterRestart) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}, "", false, 3600));
  v1::Offer offer = scheduler.outstandingOffers().at(0);
  scheduler.accept({offer.id()}, {FakeScheduler::launch({FakeScheduler::commandTask("t1", *agent.agentId(), "cpus:1;mem:128", "dev")})});
  settle();
  agent.sendStatus("t1", v1::TASK_RUNNING);
  settle();

  startMaster("m2");
  auto state = master_->stateJson();
  ASSERT_EQ(state["recovered_agents"].size(), 1u);
  EXPECT_EQ(state["recovered_agents"][0]["id"], "m1-S0");
  EXPECT_EQ(state["agents"].size(), 0u);

  agent.start();  // Reregisters: it has an ID.
  settle();
  EXPECT_EQ(agent.count("agent_reregistered"), 1u);
  state = master_->stateJson();
  ASSERT_EQ(state["agents"].size(), 1u);
  EXPECT_EQ(state["agents"][0]["id"], "m1-S0");
  EXPECT_EQ(state["agents"][0]["used_resources"]["cpus"], 1.0);
  EXPECT_EQ(state["recovered_agents"].size(), 0u);
  ASSERT_EQ(state["frameworks"].size(), 1u);
  ASSERT_EQ(state["frameworks"][0]["tasks"].size(), 1u);
  EXPECT_EQ(state["frameworks"][0]["tasks"][0]["state"], "TASK_RUNNING");
}

TEST_F(MasterTest, RecoveredAgentThatNeverReturnsBecomesUnreachable) {
  startMaster();
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  agent.start();
  settle();
  options_.agentReregisterTimeout = std::chrono::minutes(1);
  startMaster("m2");
  advance(std::chrono::minutes(1));
  EXPECT_EQ(metric("master/slaves_unreachable"), 1);
  EXPECT_EQ(master_->stateJson()["recovered_agents"].size(), 0u);
}

TEST_F(MasterTest, MissedPongsMakeAgentUnreachableAndRescindOffers) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));
  agent.answerPings = false;
  // The first unanswered ping goes out one interval from now; the agent is
  // unreachable once that many pings in a row went unanswered.
  advance(options_.agentPingTimeout * options_.maxAgentPingTimeouts);
  EXPECT_EQ(metric("master/slaves_unreachable"), 0);
  advance(options_.agentPingTimeout);
  EXPECT_EQ(metric("master/slaves_unreachable"), 1);
  EXPECT_EQ(metric("master/slave_removals/reason_unhealthy"), 1);
  EXPECT_EQ(scheduler.count(Event::RESCIND), 1u);
  EXPECT_EQ(scheduler.count(Event::FAILURE), 1u);
  EXPECT_TRUE(scheduler.outstandingOffers().empty());
  EXPECT_EQ(master_->stateJson()["unreachable_agents"].size(), 1u);
}

// PartitionTest.ReregisterSlavePartitionAware / NotPartitionAware.
TEST_F(MasterTest, UnreachableTasksComeBackWhenAgentReregisters) {
  startMaster();
  FakeScheduler aware(network_);
  FakeScheduler plain(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  aware.subscribe(FakeScheduler::frameworkInfo("aware", {"a"}, "", true));
  plain.subscribe(FakeScheduler::frameworkInfo("plain", {"b"}));
  agent.start();
  settle();
  for (FakeScheduler* s : {&aware, &plain}) {
    auto offers = s->outstandingOffers();
    if (offers.empty()) {  // Offered to the other one first: decline there.
      FakeScheduler* other = s == &aware ? &plain : &aware;
      auto theirs = other->outstandingOffers();
      ASSERT_FALSE(theirs.empty());
      other->decline({theirs[0].id()}, 0);
      settle();
      offers = s->outstandingOffers();
    }
    ASSERT_FALSE(offers.empty());
    std::string role = offers[0].allocation_info().role();
    s->accept({offers[0].id()},
              {FakeScheduler::launch({FakeScheduler::commandTask("t-" + role, *agent.agentId(), "cpus:0.5;mem:64", role)})},
              0);
    settle();
    agent.sendStatus("t-" + role, v1::TASK_RUNNING);
    s->autoAcknowledge = true;
    settle();
  }
  aware.clearEvents();
  plain.clearEvents();

  agent.answerPings = false;
  advance(options_.agentPingTimeout * (options_.maxAgentPingTimeouts + 1));
  ASSERT_EQ(aware.updates().size(), 1u);
  EXPECT_EQ(aware.updates()[0].state(), v1::TASK_UNREACHABLE);
  EXPECT_EQ(aware.updates()[0].reason(), v1::TaskStatus::REASON_AGENT_REMOVED);
  EXPECT_TRUE(aware.updates()[0].has_unreachable_time());
  ASSERT_EQ(plain.updates().size(), 1u);
  EXPECT_EQ(plain.updates()[0].state(), v1::TASK_LOST);
  EXPECT_EQ(metric("master/tasks_unreachable"), 2);

  agent.answerPings = true;
  agent.start();
  settle();
  for (FakeScheduler* s : {&aware, &plain}) {
    ASSERT_EQ(s->updates().size(), 2u);
    EXPECT_EQ(s->updates()[1].state(), v1::TASK_RUNNING);
    EXPECT_EQ(s->updates()[1].reason(), v1::TaskStatus::REASON_AGENT_REREGISTERED);
  }
  EXPECT_EQ(metric("master/slaves_unreachable"), 0);
  EXPECT_EQ(metric("master/tasks_running"), 2);
}

TEST_F(MasterTest, AgentRestartWithNewPeerReregisters) {
  startMaster();
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  agent.start();
  settle();
  agent.restart();
  settle();
  EXPECT_EQ(agent.count("agent_reregistered"), 1u);
  EXPECT_EQ(master_->stateJson()["agents"][0]["pid"], agent.peer());
  // Pings now go to the new peer, which answers: still healthy.
  advance(options_.agentPingTimeout * (options_.maxAgentPingTimeouts + 2));
  EXPECT_EQ(metric("master/slaves_active"), 1);
}

TEST_F(MasterTest, AKillLostWithARestartingAgentIsSentAgainWhenItReregisters) {
  startMaster();
  FakeScheduler scheduler(network_);
  scheduler.autoAcknowledge = true;
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));
  scheduler.accept({scheduler.outstandingOffers()[0].id()},
                   {FakeScheduler::launch({FakeScheduler::commandTask("t1", *agent.agentId(), "cpus:1;mem:128", "dev")})});
  settle();
  agent.sendStatus("t1", v1::TASK_RUNNING);
  settle();

  agent.crash();  // kill -9: the kill below is lost with it.
  scheduler.kill("t1");
  settle();
  EXPECT_EQ(agent.count("kill_task"), 0u);

  agent.restart();
  settle();
  ASSERT_EQ(agent.count("agent_reregistered"), 1u);
  EXPECT_EQ(agent.count("kill_task"), 1u);
  EXPECT_EQ(metric("master/task_kills_resent"), 1);

  // Once the task is terminal, a later reregistration sends nothing.
  agent.sendStatus("t1", v1::TASK_KILLED);
  settle();
  agent.restart();
  settle();
  EXPECT_EQ(agent.count("kill_task"), 1u);
}

TEST_F(MasterTest, AKillOfAnUnreachableTaskReachesItsAgentWhenItComesBack) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}, "", true));
  scheduler.accept({scheduler.outstandingOffers()[0].id()},
                   {FakeScheduler::launch({FakeScheduler::commandTask("t1", *agent.agentId(), "cpus:1;mem:128", "dev")})});
  settle();
  agent.sendStatus("t1", v1::TASK_RUNNING);
  settle();

  agent.answerPings = false;
  advance(options_.agentPingTimeout * (options_.maxAgentPingTimeouts + 1));
  ASSERT_EQ(metric("master/tasks_unreachable"), 1);
  scheduler.kill("t1");
  settle();
  ASSERT_FALSE(scheduler.updates().empty());
  EXPECT_EQ(scheduler.updates().back().state(), v1::TASK_UNREACHABLE);
  EXPECT_EQ(agent.count("kill_task"), 0u);

  agent.answerPings = true;
  agent.start();
  settle();
  EXPECT_EQ(agent.count("kill_task"), 1u);
}

}  // namespace
}  // namespace agora::master
