#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agora/common/clock.hpp"
#include "agora/executor_core.hpp"
#include "sdk_test_util.hpp"

namespace agora::sdk {
namespace {

using namespace std::chrono_literals;
using testing::FakeAgent;
using testing::IdIs;
using testing::InMemoryNetwork;
using testing::MockExecutor;
using ::testing::_;
using ::testing::Invoke;
using ::testing::NiceMock;
using Call = v1::executor::Call;

ExecutorEnvironment environment(bool checkpoint) {
  ExecutorEnvironment env;
  env.agentEndpoint = "ipc:///tmp/agent/executors.sock";
  env.frameworkId.set_value("fw-1");
  env.executorId.set_value("e1");
  env.directory = "/tmp/sandbox";
  env.checkpoint = checkpoint;
  env.recoveryTimeout = 15min;
  env.subscriptionBackoffMax = 2s;
  env.shutdownGracePeriod = 5s;
  return env;
}

v1::TaskInfo task(const std::string& id) {
  v1::TaskInfo t;
  t.set_name(id);
  t.mutable_task_id()->set_value(id);
  t.mutable_agent_id()->set_value("agent-1");
  t.mutable_command()->set_value("sleep 10");
  return t;
}

v1::TaskStatus status(const std::string& taskId, v1::TaskState state) {
  v1::TaskStatus s;
  s.mutable_task_id()->set_value(taskId);
  s.set_state(state);
  return s;
}

class ExecutorDriverTest : public ::testing::Test {
 protected:
  void makeDriver(bool checkpoint = true, ExecutorOptions options = {}) {
    messenger_ = network_.attach(peer_, [this](const PeerId& from, internal::Envelope&& envelope) {
      driver_->handle(from, std::move(envelope));
    });
    driver_ = std::make_unique<ExecutorDriverCore>(executor_, environment(checkpoint), clock_, *messenger_,
                                                   agent_.id(), options);
  }

  void subscribe(bool checkpoint = true, ExecutorOptions options = {}) {
    makeDriver(checkpoint, options);
    driver_->start();
    network_.settle();
    EXPECT_CALL(executor_, subscribed(_, _, _, _));
    agent_.subscribed(peer_);
    network_.settle();
    ASSERT_EQ(driver_->state(), ExecutorDriver::State::kSubscribed);
    ::testing::Mock::VerifyAndClearExpectations(&executor_);
    agent_.calls.clear();
  }

  // Subscribes, then the agent's socket closes (the driver tells the
  // executor); returns how many SUBSCRIBEs the agent had before the loss.
  size_t subscribeThenLoseAgent() {
    subscribe(/*checkpoint=*/true);
    size_t before = agent_.callsOfType(Call::SUBSCRIBE).size();
    EXPECT_CALL(executor_, disconnected(_));
    driver_->agentLost();
    return before;
  }

  // The agent asks the executor to reconnect: no SUBSCRIBE beyond the
  // `subscribes` already sent; then the agent answers SUBSCRIBED.
  void askToReconnectThenSubscribe(size_t subscribes) {
    agent_.reconnect(peer_);
    network_.settle();
    EXPECT_EQ(agent_.callsOfType(Call::SUBSCRIBE).size(), subscribes);
    EXPECT_CALL(executor_, subscribed(_, _, _, _));
    agent_.subscribed(peer_);
    network_.settle();
    EXPECT_EQ(driver_->state(), ExecutorDriver::State::kSubscribed);
  }

  FakeClock clock_;
  InMemoryNetwork network_;
  FakeAgent agent_{network_, "agent:1"};
  NiceMock<MockExecutor> executor_;
  PeerId peer_ = newExecutorPeerId();
  std::unique_ptr<Messenger> messenger_;
  std::unique_ptr<ExecutorDriverCore> driver_;
};

TEST_F(ExecutorDriverTest, SubscribeThenSubscribedCallback) {
  makeDriver();
  driver_->start();
  network_.settle();
  ASSERT_EQ(agent_.calls.size(), 1u);
  EXPECT_EQ(agent_.calls[0].first, peer_);
  const Call& call = agent_.calls[0].second;
  EXPECT_EQ(call.type(), Call::SUBSCRIBE);
  EXPECT_EQ(call.executor_id().value(), "e1");
  EXPECT_EQ(call.framework_id().value(), "fw-1");
  EXPECT_EQ(call.subscribe().unacknowledged_tasks_size(), 0);

  EXPECT_CALL(executor_, subscribed(_, _, _, _))
      .WillOnce(Invoke([](ExecutorDriver&, const v1::ExecutorInfo& executor, const v1::FrameworkInfo& framework,
                          const v1::AgentInfo& agent) {
        EXPECT_EQ(executor.executor_id().value(), "e1");
        EXPECT_EQ(framework.id().value(), "fw-1");
        EXPECT_EQ(agent.hostname(), "host1");
      }));
  agent_.subscribed(peer_);
  network_.settle();
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kSubscribed);
}

TEST_F(ExecutorDriverTest, SubscribeRetriedUntilSubscribed) {
  makeDriver();
  network_.drop({"executor_call", peer_, ""}, 2);
  driver_->start();
  clock_.advance(2s);
  clock_.advance(2s);
  network_.settle();
  EXPECT_GE(agent_.callsOfType(Call::SUBSCRIBE).size(), 1u);
  agent_.subscribed(peer_);
  network_.settle();
  size_t subscribes = agent_.callsOfType(Call::SUBSCRIBE).size();
  clock_.advance(1min);
  network_.settle();
  EXPECT_EQ(agent_.callsOfType(Call::SUBSCRIBE).size(), subscribes);
}

TEST_F(ExecutorDriverTest, LaunchKillMessageReachTheExecutor) {
  subscribe();
  ::testing::InSequence inOrder;
  EXPECT_CALL(executor_, launch(_, _)).WillOnce(Invoke([](ExecutorDriver&, const v1::TaskInfo& t) {
    EXPECT_EQ(t.task_id().value(), "t1");
  }));
  EXPECT_CALL(executor_, kill(_, IdIs("t1"), _))
      .WillOnce(Invoke([](ExecutorDriver&, const v1::TaskID&, const std::optional<v1::KillPolicy>& policy) {
        ASSERT_TRUE(policy.has_value());
        EXPECT_EQ(policy->grace_period().nanoseconds(), 1'000'000'000);
      }));
  EXPECT_CALL(executor_, frameworkMessage(_, "hello"));
  agent_.launch(peer_, task("t1"));
  agent_.kill(peer_, "t1", 1s);
  v1::executor::Event message;
  message.set_type(v1::executor::Event::MESSAGE);
  message.mutable_message()->set_data("hello");
  agent_.send(peer_, message);
  network_.settle();
}

TEST_F(ExecutorDriverTest, StatusUpdateIsFilledIn) {
  subscribe();
  ASSERT_TRUE(driver_->sendStatusUpdate(status("t1", v1::TASK_RUNNING)).ok());
  network_.settle();
  v1::TaskStatus sent = agent_.lastUpdate();
  EXPECT_EQ(sent.state(), v1::TASK_RUNNING);
  EXPECT_EQ(sent.uuid().size(), 16u);
  EXPECT_EQ(sent.source(), v1::TaskStatus::SOURCE_EXECUTOR);
  EXPECT_EQ(sent.executor_id().value(), "e1");
  // FakeClock's wall time starts at 2024-01-01T00:00:00Z.
  EXPECT_EQ(sent.timestamp(), 1704067200.0);
  auto updates = agent_.callsOfType(Call::UPDATE);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].executor_id().value(), "e1");
  EXPECT_EQ(updates[0].framework_id().value(), "fw-1");
}

TEST_F(ExecutorDriverTest, InvalidStatusUpdatesAreRefused) {
  subscribe();
  EXPECT_FALSE(driver_->sendStatusUpdate(status("t1", v1::TASK_STAGING)).ok());
  EXPECT_FALSE(driver_->sendStatusUpdate(v1::TaskStatus()).ok());
  v1::TaskStatus badUuid = status("t1", v1::TASK_RUNNING);
  badUuid.set_uuid("short");
  EXPECT_FALSE(driver_->sendStatusUpdate(badUuid).ok());
  network_.settle();
  EXPECT_TRUE(agent_.calls.empty());
}

TEST_F(ExecutorDriverTest, StatusUpdateRetransmittedUntilAcknowledged) {
  ExecutorOptions options;
  options.statusUpdateRetryInterval = 10s;
  subscribe(true, options);
  agent_.launch(peer_, task("t1"));
  network_.settle();
  ASSERT_TRUE(driver_->sendStatusUpdate(status("t1", v1::TASK_RUNNING)).ok());
  network_.settle();
  ASSERT_EQ(agent_.callsOfType(Call::UPDATE).size(), 1u);
  std::string uuid = agent_.lastUpdate().uuid();

  clock_.advance(9s);
  network_.settle();
  EXPECT_EQ(agent_.callsOfType(Call::UPDATE).size(), 1u);
  clock_.advance(1s);
  network_.settle();
  EXPECT_EQ(agent_.callsOfType(Call::UPDATE).size(), 2u);
  EXPECT_EQ(agent_.lastUpdate().uuid(), uuid) << "the same update, not a new one";
  clock_.advance(10s);
  network_.settle();
  EXPECT_EQ(agent_.callsOfType(Call::UPDATE).size(), 3u);

  EXPECT_CALL(executor_, acknowledged(_, IdIs("t1"), uuid));
  agent_.acknowledge(peer_, "t1", uuid);
  network_.settle();
  EXPECT_TRUE(driver_->unacknowledgedUpdates().empty());
  EXPECT_TRUE(driver_->unacknowledgedTasks().empty());
  clock_.advance(1min);
  network_.settle();
  EXPECT_EQ(agent_.callsOfType(Call::UPDATE).size(), 3u);
}

TEST_F(ExecutorDriverTest, ResubscribesWithUnacknowledgedTasksAndUpdatesAfterReconnect) {
  subscribe();
  agent_.launch(peer_, task("t1"));
  agent_.launch(peer_, task("t2"));
  network_.settle();
  ASSERT_TRUE(driver_->sendStatusUpdate(status("t1", v1::TASK_STARTING)).ok());
  ASSERT_TRUE(driver_->sendStatusUpdate(status("t1", v1::TASK_RUNNING)).ok());
  ASSERT_TRUE(driver_->sendStatusUpdate(status("t2", v1::TASK_STARTING)).ok());
  network_.settle();
  auto sent = agent_.callsOfType(Call::UPDATE);
  ASSERT_EQ(sent.size(), 3u);
  // The agent records t2's update, then restarts before acknowledging t1's.
  agent_.acknowledge(peer_, "t2", sent[2].update().status().uuid());
  network_.settle();

  FakeAgent restarted(network_, "agent:2");
  EXPECT_CALL(executor_, disconnected(_));
  restarted.reconnect(peer_);
  network_.settle();
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kSubscribing);

  auto subscribes = restarted.callsOfType(Call::SUBSCRIBE);
  ASSERT_EQ(subscribes.size(), 1u);
  const Call::Subscribe& subscribe = subscribes[0].subscribe();
  ASSERT_EQ(subscribe.unacknowledged_tasks_size(), 1);
  EXPECT_EQ(subscribe.unacknowledged_tasks(0).task_id().value(), "t1");
  ASSERT_EQ(subscribe.unacknowledged_updates_size(), 2);
  EXPECT_EQ(subscribe.unacknowledged_updates(0).status().state(), v1::TASK_STARTING);
  EXPECT_EQ(subscribe.unacknowledged_updates(1).status().state(), v1::TASK_RUNNING);
  EXPECT_EQ(subscribe.unacknowledged_updates(0).status().uuid(), sent[0].update().status().uuid());

  EXPECT_CALL(executor_, subscribed(_, _, _, _));
  restarted.subscribed(peer_);
  network_.settle();
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kSubscribed);
  // Updates now go to the restarted agent.
  ASSERT_TRUE(driver_->sendStatusUpdate(status("t1", v1::TASK_FINISHED)).ok());
  network_.settle();
  EXPECT_EQ(restarted.callsOfType(Call::UPDATE).size(), 1u);
}

TEST_F(ExecutorDriverTest, UpdatesSentWhileSubscribingGoOutWithSubscribe) {
  subscribe();
  driver_->agentLost();
  ASSERT_EQ(driver_->state(), ExecutorDriver::State::kSubscribing);
  ASSERT_TRUE(driver_->sendStatusUpdate(status("t1", v1::TASK_FAILED)).ok());
  network_.settle();
  EXPECT_TRUE(agent_.callsOfType(Call::UPDATE).empty());
  driver_->agentConnected();
  clock_.advance(2s);
  network_.settle();
  auto subscribes = agent_.callsOfType(Call::SUBSCRIBE);
  ASSERT_FALSE(subscribes.empty());
  ASSERT_EQ(subscribes.back().subscribe().unacknowledged_updates_size(), 1);
  EXPECT_EQ(subscribes.back().subscribe().unacknowledged_updates(0).status().state(), v1::TASK_FAILED);
}

TEST_F(ExecutorDriverTest, ALostAgentGetsOneSubscribeQueuedAtOnceAndNoSecondOnReconnecting) {
  // The SUBSCRIBE is sent when the loss is noticed, so that the transport
  // delivers it with the next handshake without waking the driver's loop;
  // the reconnection then sends nothing more.
  subscribe(/*checkpoint=*/true);
  size_t before = agent_.callsOfType(Call::SUBSCRIBE).size();
  driver_->agentConnected();  // Subscribed: nothing to do.
  network_.settle();
  EXPECT_EQ(agent_.callsOfType(Call::SUBSCRIBE).size(), before);
  EXPECT_CALL(executor_, disconnected(_));
  driver_->agentLost();
  network_.settle();
  EXPECT_EQ(agent_.callsOfType(Call::SUBSCRIBE).size(), before + 1);  // Not waiting for a backoff.
  // While the transport stays disconnected, retrying would only queue more.
  clock_.advance(1min);
  network_.settle();
  EXPECT_EQ(agent_.callsOfType(Call::SUBSCRIBE).size(), before + 1);
  driver_->agentConnected();
  network_.settle();
  EXPECT_EQ(agent_.callsOfType(Call::SUBSCRIBE).size(), before + 1);
  // Nor for the agent's reconnect request on this connection.
  askToReconnectThenSubscribe(before + 1);
}

TEST_F(ExecutorDriverTest, AnUpdateWhileTheAgentIsAwayMakesTheReconnectionSendAFreshSubscribe) {
  // The queued SUBSCRIBE lacks an update made after the loss: the
  // reconnection sends one that carries it (else it would wait for the
  // update retry interval after SUBSCRIBED).
  size_t before = subscribeThenLoseAgent();
  ASSERT_TRUE(driver_->sendStatusUpdate(status("t1", v1::TASK_FAILED)).ok());
  driver_->agentConnected();
  network_.settle();
  auto subscribes = agent_.callsOfType(Call::SUBSCRIBE);
  ASSERT_EQ(subscribes.size(), before + 2);
  EXPECT_EQ(subscribes[before].subscribe().unacknowledged_updates_size(), 0);
  ASSERT_EQ(subscribes.back().subscribe().unacknowledged_updates_size(), 1);
  EXPECT_EQ(subscribes.back().subscribe().unacknowledged_updates(0).status().state(), v1::TASK_FAILED);
}

TEST_F(ExecutorDriverTest, AConnectionThatBreaksBeforeSubscribedMakesTheNextOneSendAFreshSubscribe) {
  // The queued SUBSCRIBE may have left on the connection that broke.
  size_t before = subscribeThenLoseAgent();
  driver_->agentConnected();
  driver_->agentLost();
  driver_->agentConnected();
  network_.settle();
  EXPECT_EQ(agent_.callsOfType(Call::SUBSCRIBE).size(), before + 2);
}

TEST_F(ExecutorDriverTest, AReconnectRequestAfterSubscribingOnTheNewConnectionSendsNoSecondSubscribe) {
  // A restarted agent asks every executor it recovers to reconnect; one
  // that reconnected by itself has already subscribed on the connection.
  size_t before = subscribeThenLoseAgent();
  driver_->agentConnected();
  network_.settle();
  ASSERT_EQ(agent_.callsOfType(Call::SUBSCRIBE).size(), before + 1);
  askToReconnectThenSubscribe(before + 1);
  // Subscribed (it never noticed a disconnect): the request is news.
  EXPECT_CALL(executor_, disconnected(_));
  agent_.reconnect(peer_);
  network_.settle();
  EXPECT_EQ(agent_.callsOfType(Call::SUBSCRIBE).size(), before + 2);
}

TEST_F(ExecutorDriverTest, AgentLostWithoutCheckpointingStops) {
  subscribe(/*checkpoint=*/false);
  bool stopped = false;
  driver_->setStoppedHook([&] { stopped = true; });
  driver_->agentLost();
  EXPECT_TRUE(stopped);
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kStopped);
  EXPECT_EQ(clock_.pendingTimers(), 0u);
}

TEST_F(ExecutorDriverTest, AgentLostWithCheckpointingRetriesThenGivesUpAfterRecoveryTimeout) {
  subscribe(/*checkpoint=*/true);
  EXPECT_CALL(executor_, disconnected(_));
  driver_->agentLost();
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kSubscribing);
  driver_->agentConnected();  // Connected, but the agent never answers.
  clock_.advance(1min);
  network_.settle();
  // Backoff capped at AGORA_SUBSCRIPTION_BACKOFF_MAX (2s): at least 30 tries a minute.
  EXPECT_GE(agent_.callsOfType(Call::SUBSCRIBE).size(), 30u);
  clock_.advance(14min - 1s);
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kSubscribing);
  clock_.advance(1s);
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kStopped);
}

TEST_F(ExecutorDriverTest, ShutdownStopsAfterTheGracePeriodIfTheExecutorDoesNot) {
  subscribe();
  EXPECT_CALL(executor_, shutdown(_));
  agent_.shutdown(peer_);
  network_.settle();
  clock_.advance(4s);
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kSubscribed);
  clock_.advance(1s);
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kStopped);
}

TEST_F(ExecutorDriverTest, EventsFromStrangersAreDropped) {
  subscribe();
  FakeAgent stranger(network_, "agent:other");
  EXPECT_CALL(executor_, launch(_, _)).Times(0);
  stranger.launch(peer_, task("t1"));
  network_.settle();
}

TEST_F(ExecutorDriverTest, DefaultLaunchGroupFailsEveryTask) {
  subscribe();
  v1::TaskGroupInfo group;
  *group.add_tasks() = task("a");
  *group.add_tasks() = task("b");
  struct PlainExecutor : Executor {
    void subscribed(ExecutorDriver&, const v1::ExecutorInfo&, const v1::FrameworkInfo&, const v1::AgentInfo&) override {}
    void launch(ExecutorDriver&, const v1::TaskInfo&) override {}
    void kill(ExecutorDriver&, const v1::TaskID&, const std::optional<v1::KillPolicy>&) override {}
    void frameworkMessage(ExecutorDriver&, const std::string&) override {}
    void shutdown(ExecutorDriver&) override {}
    void error(ExecutorDriver&, const std::string&) override {}
  } plain;
  plain.launchGroup(*driver_, group);
  network_.settle();
  EXPECT_EQ(agent_.updateStates(), (std::vector<v1::TaskState>{v1::TASK_FAILED, v1::TASK_FAILED}));
}

TEST(ExecutorEnvironmentTest, ReadsTheAgentsVariables) {
  auto env = ExecutorEnvironment::fromMap({{"AGORA_AGENT_ENDPOINT", "ipc:///w/executors.sock"},
                                           {"AGORA_FRAMEWORK_ID", "fw-1"},
                                           {"AGORA_EXECUTOR_ID", "t1"},
                                           {"AGORA_DIRECTORY", "/w/sandbox"},
                                           {"AGORA_CHECKPOINT", "true"},
                                           {"AGORA_RECOVERY_TIMEOUT", "15mins"},
                                           {"AGORA_SUBSCRIPTION_BACKOFF_MAX", "2"},
                                           {"AGORA_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "5secs"}});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->agentEndpoint, "ipc:///w/executors.sock");
  EXPECT_EQ(env->frameworkId.value(), "fw-1");
  EXPECT_EQ(env->executorId.value(), "t1");
  EXPECT_EQ(env->directory, "/w/sandbox");
  EXPECT_TRUE(env->checkpoint);
  EXPECT_EQ(env->recoveryTimeout, 15min);
  EXPECT_EQ(env->subscriptionBackoffMax, 2s);
  EXPECT_EQ(env->shutdownGracePeriod, 5s);
}

TEST(ExecutorEnvironmentTest, DefaultsAndErrors) {
  auto env = ExecutorEnvironment::fromMap(
      {{"AGORA_AGENT_ENDPOINT", "ipc:///x"}, {"AGORA_FRAMEWORK_ID", "fw"}, {"AGORA_EXECUTOR_ID", "e"}});
  ASSERT_TRUE(env.ok());
  EXPECT_FALSE(env->checkpoint);
  EXPECT_EQ(env->recoveryTimeout, 15min);
  EXPECT_EQ(env->subscriptionBackoffMax, 2s);

  auto missing = ExecutorEnvironment::fromMap({{"AGORA_FRAMEWORK_ID", "fw"}, {"AGORA_EXECUTOR_ID", "e"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message(), ::testing::HasSubstr("AGORA_AGENT_ENDPOINT"));

  auto badDuration = ExecutorEnvironment::fromMap({{"AGORA_AGENT_ENDPOINT", "ipc:///x"},
                                                   {"AGORA_FRAMEWORK_ID", "fw"},
                                                   {"AGORA_EXECUTOR_ID", "e"},
                                                   {"AGORA_RECOVERY_TIMEOUT", "soon"}});
  ASSERT_FALSE(badDuration.ok());
  EXPECT_THAT(badDuration.error().message(), ::testing::HasSubstr("AGORA_RECOVERY_TIMEOUT"));

  auto badId = ExecutorEnvironment::fromMap(
      {{"AGORA_AGENT_ENDPOINT", "ipc:///x"}, {"AGORA_FRAMEWORK_ID", "fw"}, {"AGORA_EXECUTOR_ID", "a/b"}});
  EXPECT_FALSE(badId.ok());
}

}  // namespace
}  // namespace agora::sdk
