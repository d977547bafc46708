#include "agent_fixture.hpp"

namespace agora::agent {
namespace {

TEST_F(AgentTest, RegistersWithRetriesAfterDroppedRegisterAgent) {
  network_.drop({"register_agent", "", "master"}, 1);
  ASSERT_TRUE(startAgent().ok());
  advance(std::chrono::seconds(1));  // The first attempt is within [0, 1s]...
  EXPECT_EQ(master_.count("register_agent"), 0u);  // ...and was dropped.
  EXPECT_EQ(metric("slave/registered"), 0);
  advance(std::chrono::seconds(2));  // The retry is within [0, 2s] after it.
  ASSERT_GE(master_.count("register_agent"), 1u);
  internal::RegisterAgent registration = master_.ofType("register_agent").front().register_agent();
  EXPECT_EQ(registration.agent_info().hostname(), "agent1.example");
  EXPECT_FALSE(registration.agent_info().has_id());
  auto resources = Resources::fromProto(registration.agent_info().resources()).value();
  EXPECT_EQ(resources.scalar("cpus").toDouble(), 4);
  EXPECT_EQ(resources.ranges("ports").count(), 1001u);

  internal::Envelope reply;
  reply.mutable_agent_registered()->mutable_agent_id()->set_value("agent-7");
  toAgent(std::move(reply));
  EXPECT_TRUE(agent_->registered());
  EXPECT_EQ(agent_->agentId(), "agent-7");
  EXPECT_EQ(metric("slave/registered"), 1);

  // Registered: no more attempts.
  master_.clear();
  advance(std::chrono::minutes(2));
  EXPECT_EQ(master_.count("register_agent"), 0u);
}

TEST_F(AgentTest, RegistrationBackoffGrowsToAMinute) {
  network_.drop({"register_agent", "", "master"});
  ASSERT_TRUE(startAgent().ok());
  advance(std::chrono::minutes(10));
  size_t attempts = static_cast<size_t>(metric("slave/registration_attempts"));
  // Doubling bounds (2, 4, ... 60 s): far fewer attempts than one a second,
  // and at least one a minute once capped.
  EXPECT_GE(attempts, 10u);
  EXPECT_LE(attempts, 200u);
}

TEST_F(AgentTest, ARestartedAgentReregistersAtOnceThenBacksOffAtRandom) {
  ASSERT_TRUE(startAgent().ok());
  registerAgent();
  network_.drop({"reregister_agent", "", "master"}, 1);
  ASSERT_TRUE(restartAgent().ok());
  // No time passes: the first attempt is not drawn from [0, 1s].
  settle();
  EXPECT_EQ(metric("slave/registration_attempts"), 1);
  EXPECT_EQ(master_.count("reregister_agent"), 0u);  // Dropped: retried after a random wait.
  advance(std::chrono::seconds(2));
  ASSERT_EQ(master_.count("reregister_agent"), 1u);
  EXPECT_EQ(master_.ofType("reregister_agent").back().reregister_agent().agent_info().id().value(), "agent-1");

  // A new agent (no checkpointed ID) still waits a random delay: with this
  // seed, not zero.
  options_.workDir = workDir_ + "/fresh";
  ASSERT_TRUE(restartAgent().ok());
  settle();
  EXPECT_EQ(metric("slave/registration_attempts"), 0);
}

TEST_F(AgentTest, AnswersPingsAndReregistersAfterMissingThem) {
  int lost = 0;
  options_.onMasterLost = [&] { ++lost; };
  ASSERT_TRUE(startAgent().ok());
  registerAgent();
  internal::Envelope ping;
  ping.mutable_ping()->set_connected(true);
  toAgent(ping);
  EXPECT_EQ(master_.count("pong"), 1u);
  advance(std::chrono::seconds(70));
  toAgent(ping);  // Resets the watchdog.
  advance(std::chrono::seconds(70));
  EXPECT_EQ(lost, 0);
  EXPECT_TRUE(agent_->registered());
  advance(std::chrono::seconds(10));  // 80 s without a ping.
  EXPECT_EQ(lost, 1);
  EXPECT_FALSE(agent_->registered());
  advance(std::chrono::seconds(3));
  ASSERT_GE(master_.count("reregister_agent"), 1u);
  EXPECT_EQ(master_.ofType("reregister_agent").back().reregister_agent().agent_info().id().value(), "agent-1");
}

TEST_F(AgentTest, MessagesBeforeRegistrationOrFromStrangersAreDropped) {
  ASSERT_TRUE(startAgent().ok());
  // RunTask before registration.
  internal::Envelope run;
  *run.mutable_run_task()->mutable_framework_info() = frameworkInfo();
  run.mutable_run_task()->mutable_task()->set_name("t");
  run.mutable_run_task()->mutable_task()->mutable_task_id()->set_value("t");
  run.mutable_run_task()->mutable_task()->mutable_agent_id()->set_value("x");
  toAgent(run);
  EXPECT_TRUE(containerizer_.launches().empty());
  // A master message from an executor peer, and an agent message.
  testing::FakePeer stranger(network_, "executor:evil");
  internal::Envelope registered;
  registered.mutable_agent_registered()->mutable_agent_id()->set_value("stolen");
  stranger.send(agentPeer_, registered);
  internal::Envelope pong;
  pong.mutable_pong();
  master_.send(agentPeer_, pong);
  settle();
  EXPECT_EQ(agent_->agentId(), "");
  EXPECT_EQ(metric("slave/dropped_messages"), 3);
}

TEST_F(AgentTest, ShutdownAgentKillsEverythingAndForgetsTheId) {
  std::string reason;
  options_.onShutdown = [&](const std::string& why) { reason = why; };
  ASSERT_TRUE(startAgent().ok());
  registerAgent();
  runTask(commandTask("t1"));
  internal::Envelope shutdown;
  shutdown.mutable_shutdown_agent()->set_message("agent is gone");
  toAgent(shutdown);
  EXPECT_EQ(reason, "agent is gone");
  EXPECT_FALSE(containerizer_.alive(containerOf("t1")));
  // The next start registers afresh.
  ASSERT_TRUE(restartAgent().ok());
  EXPECT_EQ(agent_->agentId(), "");
}

}  // namespace
}  // namespace agora::agent
