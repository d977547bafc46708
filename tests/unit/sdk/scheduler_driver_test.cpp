#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agora/common/clock.hpp"
#include "agora/scheduler_core.hpp"
#include "agora/task_helpers.hpp"
#include "sdk_test_util.hpp"

namespace agora::sdk {
namespace {

using namespace std::chrono_literals;
using testing::FakeMaster;
using testing::IdIs;
using testing::InMemoryNetwork;
using testing::MockScheduler;
using ::testing::_;
using ::testing::Invoke;
using ::testing::NiceMock;
using Call = v1::scheduler::Call;
using Event = v1::scheduler::Event;

v1::FrameworkInfo frameworkInfo() {
  v1::FrameworkInfo framework;
  framework.set_user("alice");
  framework.set_name("demo");
  framework.add_roles("dev");
  framework.add_roles("ops");
  return framework;
}

using testing::makeOffer;

v1::TaskStatus reliableStatus(const std::string& task, v1::TaskState state) {
  v1::TaskStatus status;
  status.mutable_task_id()->set_value(task);
  status.set_state(state);
  status.mutable_agent_id()->set_value("agent-1");
  status.set_uuid(std::string(16, 'u'));
  return status;
}

class SchedulerDriverTest : public ::testing::Test {
 protected:
  void makeDriver(SchedulerOptions options = {}, v1::FrameworkInfo framework = frameworkInfo()) {
    messenger_ = network_.attach(peer_, [this](const PeerId& from, internal::Envelope&& envelope) {
      driver_->handle(from, std::move(envelope));
    });
    driver_ = std::make_unique<SchedulerDriverCore>(scheduler_, std::move(framework), clock_, *messenger_,
                                                    std::move(options));
  }

  // Starts the driver and completes the subscription as framework "fw-1".
  void subscribe(SchedulerOptions options = {}, double heartbeatSeconds = 15) {
    makeDriver(std::move(options));
    driver_->start();
    network_.settle();
    EXPECT_CALL(scheduler_, subscribed(_, IdIs("fw-1"), _));
    master_.subscribed(peer_, "fw-1", heartbeatSeconds);
    network_.settle();
    ASSERT_EQ(driver_->state(), SchedulerDriver::State::kSubscribed);
    master_.calls.clear();
  }

  FakeClock clock_;
  InMemoryNetwork network_;
  FakeMaster master_{network_};
  NiceMock<MockScheduler> scheduler_;
  PeerId peer_ = newSchedulerPeerId();
  std::unique_ptr<Messenger> messenger_;
  std::unique_ptr<SchedulerDriverCore> driver_;
};

TEST_F(SchedulerDriverTest, PeerIdIsSchedulerUuid) {
  EXPECT_EQ(peer_.rfind("scheduler:", 0), 0u);
  EXPECT_EQ(peer_.size(), std::string("scheduler:").size() + 36);
}

TEST_F(SchedulerDriverTest, SubscribeThenSubscribedCallback) {
  makeDriver();
  EXPECT_EQ(driver_->state(), SchedulerDriver::State::kNotStarted);
  driver_->start();
  network_.settle();

  ASSERT_EQ(master_.calls.size(), 1u);
  EXPECT_EQ(master_.calls[0].first, peer_);
  const Call& call = master_.calls[0].second;
  EXPECT_EQ(call.type(), Call::SUBSCRIBE);
  EXPECT_FALSE(call.has_framework_id());
  EXPECT_EQ(call.subscribe().framework_info().name(), "demo");
  EXPECT_FALSE(call.subscribe().framework_info().has_id());
  EXPECT_EQ(driver_->state(), SchedulerDriver::State::kSubscribing);
  EXPECT_FALSE(driver_->frameworkId().has_value());

  EXPECT_CALL(scheduler_, subscribed(_, IdIs("fw-1"), _)).WillOnce(Invoke(
      [](SchedulerDriver&, const v1::FrameworkID&, const v1::MasterInfo& info) { EXPECT_EQ(info.id(), "master-1"); }));
  master_.subscribed(peer_, "fw-1");
  network_.settle();
  EXPECT_EQ(driver_->state(), SchedulerDriver::State::kSubscribed);
  ASSERT_TRUE(driver_->frameworkId().has_value());
  EXPECT_EQ(driver_->frameworkId()->value(), "fw-1");
  EXPECT_EQ(driver_->frameworkInfo().id().value(), "fw-1");
}

TEST_F(SchedulerDriverTest, SubscribeRetriedWithBackoffUntilSubscribed) {
  SchedulerOptions options;
  options.subscribeBackoffMin = 1s;
  options.subscribeBackoffMax = 4s;
  makeDriver(options);
  network_.drop({"scheduler_call", peer_, "master"}, 3);  // The master is not there yet.
  driver_->start();
  network_.settle();
  EXPECT_EQ(master_.calls.size(), 0u);

  // Retries at most 1s, 2s, 4s, 4s... apart: three dropped, the fourth arrives.
  clock_.advance(1s);
  clock_.advance(2s);
  clock_.advance(4s);
  network_.settle();
  EXPECT_GE(master_.calls.size(), 1u);
  EXPECT_EQ(network_.dropped(), 3u);

  master_.subscribed(peer_, "fw-1");
  network_.settle();
  size_t subscribes = master_.callsOfType(Call::SUBSCRIBE).size();
  clock_.advance(60s);
  network_.settle();
  EXPECT_EQ(master_.callsOfType(Call::SUBSCRIBE).size(), subscribes) << "no retry once subscribed";
}

TEST_F(SchedulerDriverTest, FailoverSubscribeCarriesFrameworkId) {
  v1::FrameworkInfo framework = frameworkInfo();
  framework.mutable_id()->set_value("fw-old");
  makeDriver({}, framework);
  driver_->start();
  network_.settle();
  ASSERT_EQ(master_.calls.size(), 1u);
  EXPECT_EQ(master_.calls[0].second.framework_id().value(), "fw-old");
  EXPECT_EQ(master_.calls[0].second.subscribe().framework_info().id().value(), "fw-old");
  EXPECT_EQ(driver_->frameworkId()->value(), "fw-old");
}

TEST_F(SchedulerDriverTest, OffersThenAcceptProducesAcceptCall) {
  subscribe();
  EXPECT_CALL(scheduler_, offers(_, _)).WillOnce(Invoke([](SchedulerDriver& driver, const std::vector<v1::Offer>& offers) {
    ASSERT_EQ(offers.size(), 1u);
    std::vector<Resources> slots = matchTasks(offers[0], {.cpus = 0.5, .mem = 64}, 2);
    ASSERT_EQ(slots.size(), 2u);
    std::vector<v1::TaskInfo> tasks;
    for (size_t i = 0; i < slots.size(); ++i) {
      tasks.push_back(TaskBuilder("t" + std::to_string(i))
                          .agent(offers[0].agent_id())
                          .shell("echo hi")
                          .resources(slots[i])
                          .build()
                          .value());
    }
    v1::Filters filters;
    filters.set_refuse_seconds(30);
    driver.launch({offers[0].id()}, tasks, filters);
  }));
  master_.offers(peer_, {makeOffer("o1", "agent-1", "cpus:1;mem:128")});
  network_.settle();

  auto accepts = master_.callsOfType(Call::ACCEPT);
  ASSERT_EQ(accepts.size(), 1u);
  const Call& call = accepts[0];
  EXPECT_EQ(call.framework_id().value(), "fw-1");
  ASSERT_EQ(call.accept().offer_ids_size(), 1);
  EXPECT_EQ(call.accept().offer_ids(0).value(), "o1");
  EXPECT_EQ(call.accept().filters().refuse_seconds(), 30);
  ASSERT_EQ(call.accept().operations_size(), 1);
  const v1::Offer::Operation& launch = call.accept().operations(0);
  EXPECT_EQ(launch.type(), v1::Offer::Operation::LAUNCH);
  ASSERT_EQ(launch.launch().task_infos_size(), 2);
  const v1::TaskInfo& task = launch.launch().task_infos(1);
  EXPECT_EQ(task.task_id().value(), "t1");
  EXPECT_EQ(task.agent_id().value(), "agent-1");
  EXPECT_EQ(task.command().value(), "echo hi");
  Resources resources = Resources::fromProto(task.resources()).value();
  EXPECT_EQ(resources.scalar("cpus"), Scalar::of(0.5));
  EXPECT_EQ(resources.scalar("mem"), Scalar::of(64));
  EXPECT_EQ(resources.allocationRoles(), std::set<std::string>{"dev"});
}

TEST_F(SchedulerDriverTest, AcceptWithReserveAndUnreserveOperations) {
  subscribe();
  Resources unreserved = Resources::parse("cpus:1;mem:128").value().allocate("dev");
  Reservation reservation{Reservation::Type::kDynamic, "dev", "ops", {}};
  Resources reserved = unreserved.pushReservation(reservation).value();

  v1::Offer::Operation reserve;
  reserve.set_type(v1::Offer::Operation::RESERVE);
  reserved.toProto(reserve.mutable_reserve()->mutable_resources());
  v1::Offer::Operation unreserve;
  unreserve.set_type(v1::Offer::Operation::UNRESERVE);
  reserved.toProto(unreserve.mutable_unreserve()->mutable_resources());
  v1::OfferID id;
  id.set_value("o1");
  driver_->accept({id}, {reserve, unreserve});
  network_.settle();

  auto accepts = master_.callsOfType(Call::ACCEPT);
  ASSERT_EQ(accepts.size(), 1u);
  ASSERT_EQ(accepts[0].accept().operations_size(), 2);
  EXPECT_EQ(accepts[0].accept().operations(0).type(), v1::Offer::Operation::RESERVE);
  EXPECT_EQ(accepts[0].accept().operations(1).type(), v1::Offer::Operation::UNRESERVE);
  EXPECT_EQ(Resources::fromProto(accepts[0].accept().operations(0).reserve().resources()).value(), reserved);
}

TEST_F(SchedulerDriverTest, ImplicitAcknowledgementAfterTheCallbackReturns) {
  subscribe();
  v1::TaskStatus status = reliableStatus("t1", v1::TASK_RUNNING);
  EXPECT_CALL(scheduler_, statusUpdate(_, _)).WillOnce(Invoke([&](SchedulerDriver&, const v1::TaskStatus& s) {
    EXPECT_EQ(s.task_id().value(), "t1");
    // Nothing acknowledged yet while the scheduler handles the update.
    EXPECT_EQ(network_.pending(), 0u);
    EXPECT_TRUE(master_.callsOfType(Call::ACKNOWLEDGE).empty());
  }));
  master_.update(peer_, status);
  network_.settle();

  auto acks = master_.callsOfType(Call::ACKNOWLEDGE);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].framework_id().value(), "fw-1");
  EXPECT_EQ(acks[0].acknowledge().agent_id().value(), "agent-1");
  EXPECT_EQ(acks[0].acknowledge().task_id().value(), "t1");
  EXPECT_EQ(acks[0].acknowledge().uuid(), status.uuid());
}

TEST_F(SchedulerDriverTest, UpdatesWithoutUuidAreNotAcknowledged) {
  subscribe();
  v1::TaskStatus status = reliableStatus("t1", v1::TASK_LOST);
  status.clear_uuid();
  status.set_reason(v1::TaskStatus::REASON_RECONCILIATION);
  EXPECT_CALL(scheduler_, statusUpdate(_, _));
  master_.update(peer_, status);
  network_.settle();
  EXPECT_TRUE(master_.callsOfType(Call::ACKNOWLEDGE).empty());
}

TEST_F(SchedulerDriverTest, ExplicitAcknowledgementMode) {
  SchedulerOptions options;
  options.implicitAcknowledgements = false;
  subscribe(options);
  v1::TaskStatus received;
  EXPECT_CALL(scheduler_, statusUpdate(_, _)).WillOnce(Invoke([&](SchedulerDriver&, const v1::TaskStatus& s) {
    received = s;
  }));
  master_.update(peer_, reliableStatus("t1", v1::TASK_FINISHED));
  network_.settle();
  EXPECT_TRUE(master_.callsOfType(Call::ACKNOWLEDGE).empty());

  driver_->acknowledge(received);  // E.g. once the scheduler persisted it.
  network_.settle();
  auto acks = master_.callsOfType(Call::ACKNOWLEDGE);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].acknowledge().uuid(), received.uuid());
}

TEST_F(SchedulerDriverTest, ExplicitAcknowledgeIsIgnoredInImplicitMode) {
  subscribe();
  driver_->acknowledge(reliableStatus("t1", v1::TASK_RUNNING));
  network_.settle();
  EXPECT_TRUE(master_.callsOfType(Call::ACKNOWLEDGE).empty());
}

TEST_F(SchedulerDriverTest, ReconnectsAfterMissedHeartbeatsWithFrameworkId) {
  SchedulerOptions options;
  options.subscribeBackoffMin = 1s;
  options.subscribeBackoffMax = 8s;
  subscribe(options, /*heartbeatSeconds=*/15);

  // Heartbeats keep the subscription alive well past five intervals.
  for (int i = 0; i < 10; ++i) {
    clock_.advance(15s);
    master_.heartbeat(peer_);
    network_.settle();
  }
  EXPECT_EQ(driver_->state(), SchedulerDriver::State::kSubscribed);

  // Then the master goes silent: disconnected after 5 intervals, not before.
  EXPECT_CALL(scheduler_, disconnected(_)).Times(0);
  clock_.advance(74s);
  ::testing::Mock::VerifyAndClearExpectations(&scheduler_);
  EXPECT_CALL(scheduler_, disconnected(_));
  clock_.advance(1s);
  ::testing::Mock::VerifyAndClearExpectations(&scheduler_);
  EXPECT_EQ(driver_->state(), SchedulerDriver::State::kSubscribing);

  // Calls are dropped while resubscribing.
  driver_->reconcile();
  clock_.advance(1s);  // The first resubscription attempt, after the backoff.
  network_.settle();
  EXPECT_TRUE(master_.callsOfType(Call::RECONCILE).empty());
  auto subscribes = master_.callsOfType(Call::SUBSCRIBE);
  ASSERT_EQ(subscribes.size(), 1u);
  EXPECT_EQ(subscribes[0].framework_id().value(), "fw-1");
  EXPECT_EQ(subscribes[0].subscribe().framework_info().id().value(), "fw-1");

  EXPECT_CALL(scheduler_, subscribed(_, IdIs("fw-1"), _));
  master_.subscribed(peer_, "fw-1");
  network_.settle();
  EXPECT_EQ(driver_->state(), SchedulerDriver::State::kSubscribed);
}

TEST_F(SchedulerDriverTest, AnyEventKeepsTheMasterAlive) {
  subscribe({}, /*heartbeatSeconds=*/10);
  EXPECT_CALL(scheduler_, disconnected(_)).Times(0);
  for (int i = 0; i < 20; ++i) {
    clock_.advance(30s);
    master_.update(peer_, reliableStatus("t1", v1::TASK_RUNNING));
    network_.settle();
  }
  EXPECT_EQ(driver_->state(), SchedulerDriver::State::kSubscribed);
}

TEST_F(SchedulerDriverTest, SuppressedRolesCarriedIntoResubscription) {
  SchedulerOptions options;
  options.suppressedRoles = {"ops"};
  subscribe(options, 1);
  driver_->suppress({"dev"});
  driver_->revive({"ops"});
  network_.settle();
  auto suppress = master_.callsOfType(Call::SUPPRESS);
  ASSERT_EQ(suppress.size(), 1u);
  EXPECT_EQ(suppress[0].suppress().roles(0), "dev");
  auto revive = master_.callsOfType(Call::REVIVE);
  ASSERT_EQ(revive.size(), 1u);
  EXPECT_EQ(revive[0].revive().roles(0), "ops");

  clock_.advance(5s);   // Master lost.
  clock_.advance(30s);  // Resubscribed at least once.
  network_.settle();
  auto subscribes = master_.callsOfType(Call::SUBSCRIBE);
  ASSERT_FALSE(subscribes.empty());
  ASSERT_EQ(subscribes.back().subscribe().suppressed_roles_size(), 1);
  EXPECT_EQ(subscribes.back().subscribe().suppressed_roles(0), "dev");
}

TEST_F(SchedulerDriverTest, EveryCallHasItsShape) {
  subscribe();
  v1::OfferID offerId;
  offerId.set_value("o1");
  v1::TaskID taskId;
  taskId.set_value("t1");
  v1::AgentID agentId;
  agentId.set_value("agent-1");
  v1::ExecutorID executorId;
  executorId.set_value("e1");
  v1::KillPolicy policy;
  policy.mutable_grace_period()->set_nanoseconds(1'000'000'000);
  v1::Filters filters;
  filters.set_refuse_seconds(3600);

  driver_->decline({offerId}, filters);
  driver_->kill(taskId, agentId, policy);
  driver_->shutdownExecutor(executorId, agentId);
  driver_->reconcile({reliableStatus("t1", v1::TASK_RUNNING)});
  driver_->reconcile();
  driver_->sendFrameworkMessage(executorId, agentId, "ping");
  driver_->suppress();
  driver_->revive();
  Call request;
  request.set_type(Call::REQUEST);
  driver_->call(request);
  network_.settle();

  std::vector<Call::Type> types;
  for (const auto& [from, call] : master_.calls) {
    types.push_back(call.type());
    EXPECT_EQ(call.framework_id().value(), "fw-1");
  }
  EXPECT_EQ(types, (std::vector<Call::Type>{Call::DECLINE, Call::KILL, Call::SHUTDOWN, Call::RECONCILE,
                                            Call::RECONCILE, Call::MESSAGE, Call::SUPPRESS, Call::REVIVE,
                                            Call::REQUEST}));
  EXPECT_EQ(master_.calls[0].second.decline().filters().refuse_seconds(), 3600);
  EXPECT_EQ(master_.calls[1].second.kill().kill_policy().grace_period().nanoseconds(), 1'000'000'000);
  EXPECT_EQ(master_.calls[1].second.kill().agent_id().value(), "agent-1");
  EXPECT_EQ(master_.calls[2].second.shutdown().executor_id().value(), "e1");
  ASSERT_EQ(master_.calls[3].second.reconcile().tasks_size(), 1);
  EXPECT_EQ(master_.calls[3].second.reconcile().tasks(0).agent_id().value(), "agent-1");
  EXPECT_EQ(master_.calls[4].second.reconcile().tasks_size(), 0);
  EXPECT_EQ(master_.calls[5].second.message().data(), "ping");
  EXPECT_EQ(master_.calls[6].second.suppress().roles_size(), 0);
}

TEST_F(SchedulerDriverTest, TeardownAndStop) {
  subscribe();
  driver_->stop();  // Not failover: tears the framework down.
  network_.settle();
  EXPECT_EQ(master_.callsOfType(Call::TEARDOWN).size(), 1u);
  EXPECT_EQ(driver_->state(), SchedulerDriver::State::kStopped);
  driver_->reconcile();
  network_.settle();
  EXPECT_TRUE(master_.callsOfType(Call::RECONCILE).empty());
}

TEST_F(SchedulerDriverTest, StopForFailoverLeavesTheFramework) {
  subscribe();
  driver_->stop(/*failover=*/true);
  network_.settle();
  EXPECT_TRUE(master_.calls.empty());
  EXPECT_EQ(driver_->state(), SchedulerDriver::State::kStopped);
  EXPECT_EQ(clock_.pendingTimers(), 0u);
}

TEST_F(SchedulerDriverTest, EventsReachTheirCallbacks) {
  subscribe();
  ::testing::InSequence inOrder;
  EXPECT_CALL(scheduler_, heartbeat(_));
  EXPECT_CALL(scheduler_, offerRescinded(_, IdIs("o1")));
  EXPECT_CALL(scheduler_, frameworkMessage(_, IdIs("agent-1"), IdIs("e1"), "pong"));
  EXPECT_CALL(scheduler_, executorLost(_, IdIs("e1"), IdIs("agent-1"), std::optional<int>(256)));
  EXPECT_CALL(scheduler_, agentLost(_, IdIs("agent-2")));

  master_.heartbeat(peer_);
  Event rescind;
  rescind.set_type(Event::RESCIND);
  rescind.mutable_rescind()->mutable_offer_id()->set_value("o1");
  master_.send(peer_, rescind);
  Event message;
  message.set_type(Event::MESSAGE);
  message.mutable_message()->mutable_agent_id()->set_value("agent-1");
  message.mutable_message()->mutable_executor_id()->set_value("e1");
  message.mutable_message()->set_data("pong");
  master_.send(peer_, message);
  Event executorFailure;
  executorFailure.set_type(Event::FAILURE);
  executorFailure.mutable_failure()->mutable_agent_id()->set_value("agent-1");
  executorFailure.mutable_failure()->mutable_executor_id()->set_value("e1");
  executorFailure.mutable_failure()->set_status(256);
  master_.send(peer_, executorFailure);
  Event agentFailure;
  agentFailure.set_type(Event::FAILURE);
  agentFailure.mutable_failure()->mutable_agent_id()->set_value("agent-2");
  master_.send(peer_, agentFailure);
  network_.settle();
}

TEST_F(SchedulerDriverTest, OperationStatusAcknowledgedImplicitly) {
  subscribe();
  Event event;
  event.set_type(Event::UPDATE_OPERATION_STATUS);
  v1::OperationStatus* status = event.mutable_update_operation_status()->mutable_status();
  status->mutable_operation_id()->set_value("op-1");
  status->set_state(v1::OPERATION_FINISHED);
  status->mutable_uuid()->set_value(std::string(16, 'o'));
  status->mutable_agent_id()->set_value("agent-1");
  EXPECT_CALL(scheduler_, operationStatus(_, _));
  master_.send(peer_, event);
  network_.settle();
  auto acks = master_.callsOfType(Call::ACKNOWLEDGE_OPERATION_STATUS);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].acknowledge_operation_status().operation_id().value(), "op-1");
  EXPECT_EQ(acks[0].acknowledge_operation_status().uuid(), std::string(16, 'o'));
}

TEST_F(SchedulerDriverTest, ErrorAbortsWithoutReconnecting) {
  subscribe();
  EXPECT_CALL(scheduler_, error(_, "Framework has been removed"));
  EXPECT_CALL(scheduler_, disconnected(_)).Times(0);
  Event error;
  error.set_type(Event::ERROR);
  error.mutable_error()->set_message("Framework has been removed");
  master_.send(peer_, error);
  network_.settle();
  EXPECT_EQ(driver_->state(), SchedulerDriver::State::kAborted);
  clock_.advance(10min);
  network_.settle();
  EXPECT_TRUE(master_.callsOfType(Call::SUBSCRIBE).empty());
}

TEST_F(SchedulerDriverTest, EventsFromOtherPeersAndBeforeSubscriptionAreDropped) {
  makeDriver();
  driver_->start();
  network_.settle();
  EXPECT_CALL(scheduler_, offers(_, _)).Times(0);
  EXPECT_CALL(scheduler_, subscribed(_, _, _)).Times(0);
  master_.offers(peer_, {makeOffer("o1", "agent-1", "cpus:1")});  // Not subscribed yet.
  FakeMaster impostor(network_, "agent:1");
  impostor.subscribed(peer_, "fw-evil");
  network_.settle();
  EXPECT_EQ(driver_->state(), SchedulerDriver::State::kSubscribing);
}

TEST_F(SchedulerDriverTest, CallsBeforeSubscriptionAreDropped) {
  makeDriver();
  driver_->start();
  driver_->reconcile();
  driver_->revive();
  network_.settle();
  EXPECT_EQ(master_.calls.size(), 1u);  // SUBSCRIBE only.
}

}  // namespace
}  // namespace agora::sdk
