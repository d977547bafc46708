// Offers: decline filters, suppress/revive, offer timeout, the invalid
// accepts of mesos.md §11 scenarios 6 and 7, reservations (scenario 9).

#include <gmock/gmock.h>

#include "master_test_util.hpp"

namespace agora::master {
namespace {

TEST_F(MasterTest, DeclineFiltersAndRevive) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));

  scheduler.decline({scheduler.outstandingOffers()[0].id()}, 0);  // No filter: offered again.
  settle();
  advance(options_.allocationInterval);
  ASSERT_EQ(scheduler.outstandingOffers().size(), 1u);

  scheduler.decline({scheduler.outstandingOffers()[0].id()}, 3600);
  settle();
  advance(std::chrono::minutes(30));
  EXPECT_TRUE(scheduler.outstandingOffers().empty());
  EXPECT_EQ(metric("master/offers_declined"), 2);

  scheduler.revive();
  settle();
  EXPECT_EQ(scheduler.outstandingOffers().size(), 1u);
}

TEST_F(MasterTest, SuppressedFrameworkGetsNoOffersUntilRevive) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  scheduler.subscribe(FakeScheduler::frameworkInfo("f", {"dev"}), {"dev"});
  agent.start();
  settle();
  advance(std::chrono::seconds(5));
  EXPECT_EQ(scheduler.count(Event::OFFERS), 0u);
  scheduler.revive({"dev"});
  settle();
  EXPECT_EQ(scheduler.count(Event::OFFERS), 1u);
}

TEST_F(MasterTest, OfferTimeoutRescindsAndReoffers) {
  options_.offerTimeout = std::chrono::seconds(30);
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));
  advance(std::chrono::seconds(30));
  EXPECT_EQ(scheduler.count(Event::RESCIND), 1u);
  advance(options_.allocationInterval);
  EXPECT_EQ(scheduler.offers().size(), 2u);
  EXPECT_EQ(metric("master/offers_rescinded"), 1);
}

// MasterTest.LaunchAcrossSlavesLost / LaunchDuplicateOfferLost.
TEST_F(MasterTest, InvalidOffersLoseTasks) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent a1(network_, clock_, "a1", "cpus:2;mem:1024");
  FakeAgent a2(network_, clock_, "a2", "cpus:2;mem:1024");
  scheduler.subscribe(FakeScheduler::frameworkInfo("f", {"dev"}));
  a1.start();
  a2.start();
  settle();
  auto offers = scheduler.outstandingOffers();
  ASSERT_EQ(offers.size(), 2u);

  auto task = FakeScheduler::commandTask("t1", *a1.agentId(), "cpus:1;mem:128", "dev");
  scheduler.accept({offers[0].id(), offers[1].id()}, {FakeScheduler::launch({task})});
  settle();
  ASSERT_EQ(scheduler.updates().size(), 1u);
  EXPECT_EQ(scheduler.updates()[0].state(), v1::TASK_LOST);
  EXPECT_EQ(scheduler.updates()[0].reason(), v1::TaskStatus::REASON_INVALID_OFFERS);
  EXPECT_EQ(scheduler.updates()[0].source(), v1::TaskStatus::SOURCE_MASTER);
  EXPECT_EQ(a1.count("run_task") + a2.count("run_task"), 0u);
  // The offered resources went back to the pool and are offered again.
  auto again = scheduler.outstandingOffers();
  ASSERT_EQ(again.size(), 2u);

  // The same offer twice.
  scheduler.accept({again[0].id(), again[0].id()}, {FakeScheduler::launch({task})});
  settle();
  ASSERT_EQ(scheduler.updates().size(), 2u);
  EXPECT_EQ(scheduler.updates()[1].state(), v1::TASK_LOST);
  EXPECT_EQ(scheduler.updates()[1].reason(), v1::TaskStatus::REASON_INVALID_OFFERS);
  EXPECT_EQ(metric("master/invalid_accepts"), 2);
}

TEST_F(MasterTest, InvalidOffersDropTasksOfPartitionAwareFrameworks) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}, "", true));
  v1::OfferID stale;
  stale.set_value("m1-O999");
  auto task = FakeScheduler::commandTask("t1", *agent.agentId(), "cpus:1;mem:128", "dev");
  scheduler.accept({scheduler.outstandingOffers()[0].id(), stale}, {FakeScheduler::launch({task})});
  settle();
  ASSERT_EQ(scheduler.updates().size(), 1u);
  EXPECT_EQ(scheduler.updates()[0].state(), v1::TASK_DROPPED);
  EXPECT_EQ(scheduler.updates()[0].reason(), v1::TaskStatus::REASON_INVALID_OFFERS);
}

// TaskValidationTest: each invalid task gets TASK_ERROR; valid ones launch.
TEST_F(MasterTest, InvalidTasksGetTaskErrorAndValidOnesLaunch) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:4;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));
  const std::string agentId = *agent.agentId();

  auto good = FakeScheduler::commandTask("good", agentId, "cpus:1;mem:128", "dev");
  auto duplicate = FakeScheduler::commandTask("good", agentId, "cpus:1;mem:128", "dev");
  auto both = FakeScheduler::commandTask("both", agentId, "cpus:1;mem:128", "dev");
  both.mutable_executor()->mutable_executor_id()->set_value("e1");
  both.mutable_executor()->mutable_command()->set_value("run-executor");
  auto greedy = FakeScheduler::commandTask("greedy", agentId, "cpus:8;mem:128", "dev");
  auto hostile = FakeScheduler::commandTask("../etc", agentId, "cpus:1;mem:128", "dev");
  auto limits = FakeScheduler::commandTask("limits", agentId, "cpus:1;mem:128", "dev");
  (*limits.mutable_limits())["cpus"].set_value(0.5);
  auto wrongAgent = FakeScheduler::commandTask("elsewhere", "m1-S42", "cpus:1;mem:128", "dev");
  auto tiny = FakeScheduler::commandTask("tiny", agentId, "cpus:0.001;mem:1", "dev");
  auto untypedHealth = FakeScheduler::commandTask("untyped-health", agentId, "cpus:0.1;mem:32", "dev");
  untypedHealth.mutable_health_check()->mutable_tcp()->set_port(80);  // Mesos requires the type.
  auto badPort = FakeScheduler::commandTask("bad-port", agentId, "cpus:0.1;mem:32", "dev");
  badPort.mutable_health_check()->set_type(v1::HealthCheck::TCP);
  badPort.mutable_health_check()->mutable_tcp()->set_port(70000);
  auto badPath = FakeScheduler::commandTask("bad-path", agentId, "cpus:0.1;mem:32", "dev");
  badPath.mutable_check()->set_type(v1::CheckInfo::HTTP);
  badPath.mutable_check()->mutable_http()->set_port(8080);
  badPath.mutable_check()->mutable_http()->set_path("health");
  auto negative = FakeScheduler::commandTask("negative", agentId, "cpus:0.1;mem:32", "dev");
  negative.mutable_health_check()->set_type(v1::HealthCheck::COMMAND);
  negative.mutable_health_check()->mutable_command()->set_value("true");
  negative.mutable_health_check()->set_interval_seconds(-1);

  scheduler.accept({scheduler.outstandingOffers()[0].id()},
                   {FakeScheduler::launch({good, duplicate, both, greedy, hostile, limits, wrongAgent, tiny, untypedHealth,
                                           badPort, badPath, negative})});
  settle();
  std::map<std::string, v1::TaskStatus> byTask;
  for (const auto& status : scheduler.updates()) byTask[status.task_id().value()] = status;
  for (const char* id :
       {"both", "greedy", "../etc", "limits", "elsewhere", "untyped-health", "bad-port", "bad-path", "negative"}) {
    ASSERT_EQ(byTask.count(id), 1u) << id;
    EXPECT_EQ(byTask[id].state(), v1::TASK_ERROR) << id;
    EXPECT_EQ(byTask[id].reason(), v1::TaskStatus::REASON_TASK_INVALID) << id;
    EXPECT_EQ(byTask[id].source(), v1::TaskStatus::SOURCE_MASTER) << id;
    EXPECT_FALSE(byTask[id].has_uuid()) << id;
  }
  ASSERT_EQ(byTask.count("good"), 1u);  // The duplicate.
  EXPECT_EQ(byTask["good"].state(), v1::TASK_ERROR);
  EXPECT_EQ(agent.count("run_task"), 2u);  // "good" (first) and "tiny".
  EXPECT_EQ(agent.tasks().count("good"), 1u);
  EXPECT_EQ(agent.tasks().count("tiny"), 1u);
  EXPECT_THAT(byTask["bad-port"].message(), ::testing::HasSubstr("port 70000 is out of range"));
  EXPECT_THAT(byTask["untyped-health"].message(), ::testing::HasSubstr("must set 'type'"));
  EXPECT_EQ(metric("master/tasks_error"), 10);
}

// A task group on the DEFAULT executor: all or nothing (mesos.md §4.6,
// LAUNCH_GROUP validation).
TEST_F(MasterTest, LaunchGroupRunsAGroupOnTheDefaultExecutorAllOrNothing) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:4;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));
  const std::string agentId = *agent.agentId();
  auto executor = [&] {
    v1::ExecutorInfo info;
    info.set_type(v1::ExecutorInfo::DEFAULT);
    info.mutable_executor_id()->set_value("pod-1");
    Resources::parse("cpus:0.1;mem:32").value().allocate("dev").toProto(info.mutable_resources());
    return info;
  }();

  // Invalid: a task of the group names an executor. Nothing launches.
  auto web = FakeScheduler::commandTask("web", agentId, "cpus:1;mem:128", "dev");
  auto sidecar = FakeScheduler::commandTask("sidecar", agentId, "cpus:0.5;mem:64", "dev");
  auto withExecutor = sidecar;
  *withExecutor.mutable_executor() = executor;
  scheduler.accept({scheduler.outstandingOffers()[0].id()},
                   {FakeScheduler::launchGroup(executor, {web, withExecutor})}, 0);
  settle();
  ASSERT_EQ(scheduler.updates().size(), 2u);
  for (const auto& status : scheduler.updates()) {
    EXPECT_EQ(status.state(), v1::TASK_ERROR);
    EXPECT_EQ(status.reason(), v1::TaskStatus::REASON_TASK_GROUP_INVALID);
  }
  EXPECT_EQ(agent.count("run_task_group"), 0u);

  // A command executor's type for a group is refused too.
  clock_.advance(std::chrono::seconds(1));
  settle();
  ASSERT_FALSE(scheduler.outstandingOffers().empty());
  v1::ExecutorInfo custom = executor;
  custom.set_type(v1::ExecutorInfo::CUSTOM);
  custom.mutable_command()->set_value("my-executor");
  v1::OfferID offer = scheduler.outstandingOffers()[0].id();
  scheduler.clearEvents();
  scheduler.accept({offer}, {FakeScheduler::launchGroup(custom, {web})}, 0);
  settle();
  ASSERT_EQ(scheduler.updates().size(), 1u);
  EXPECT_THAT(scheduler.updates()[0].message(), ::testing::HasSubstr("DEFAULT"));

  // Valid: one RunTaskGroup; the executor's resources are counted once.
  clock_.advance(std::chrono::seconds(1));
  settle();
  ASSERT_FALSE(scheduler.outstandingOffers().empty());
  offer = scheduler.outstandingOffers()[0].id();
  scheduler.clearEvents();
  scheduler.accept({offer}, {FakeScheduler::launchGroup(executor, {web, sidecar})});
  settle();
  EXPECT_TRUE(scheduler.updates().empty());
  ASSERT_EQ(agent.count("run_task_group"), 1u);
  EXPECT_EQ(agent.tasks().count("web"), 1u);
  EXPECT_EQ(agent.tasks().count("sidecar"), 1u);
  EXPECT_DOUBLE_EQ(metric("master/cpus_used"), 1.6);
  EXPECT_DOUBLE_EQ(metric("master/mem_used"), 224);
  EXPECT_EQ(metric("master/tasks_staging"), 2);
}

// ReservationTest.ReserveThenUnreserve + ReserveAndLaunchThenUnreserve.
TEST_F(MasterTest, ReserveLaunchOnReservationThenUnreserve) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:1;mem:512");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"role"}, "principal"));
  const std::string agentId = *agent.agentId();
  auto reservedResources = reserved("cpus:1;mem:512", "role", "principal");

  // A reservation for another principal is dropped.
  scheduler.accept({scheduler.outstandingOffers()[0].id()},
                   {FakeScheduler::reserve(reserved("cpus:1;mem:512", "role", "intruder"))}, 0);
  settle();
  EXPECT_EQ(metric("master/invalid_operations"), 1);
  EXPECT_EQ(agent.count("checkpoint_resources"), 0u);
  advance(options_.allocationInterval);

  scheduler.accept({scheduler.outstandingOffers().at(0).id()}, {FakeScheduler::reserve(reservedResources)});
  settle();
  ASSERT_EQ(agent.count("checkpoint_resources"), 1u);
  EXPECT_EQ(Resources::fromProto(agent.checkpointed()).value(),
            Resources::fromProto(reservedResources).value().unallocate());
  // Offered again at once, reserved to the role with the principal.
  auto offers = scheduler.outstandingOffers();
  ASSERT_EQ(offers.size(), 1u);
  Resources offered = resourcesOf(offers[0]);
  EXPECT_EQ(offered, Resources::fromProto(reservedResources).value());
  EXPECT_EQ(master_->stateJson()["agents"][0]["reserved_resources"]["role"]["cpus"], 1.0);

  // LAUNCH on the reservation.
  v1::TaskInfo task = FakeScheduler::commandTask("t1", agentId, "cpus:1;mem:512", "role");
  *task.mutable_resources() = reservedResources;
  scheduler.accept({offers[0].id()}, {FakeScheduler::launch({task})});
  settle();
  ASSERT_EQ(agent.count("run_task"), 1u);
  agent.sendStatus("t1", v1::TASK_FINISHED);
  scheduler.autoAcknowledge = true;
  settle();

  // UNRESERVE: the next offer is unreserved.
  offers = scheduler.outstandingOffers();
  ASSERT_EQ(offers.size(), 1u);
  scheduler.accept({offers[0].id()}, {FakeScheduler::unreserve(reservedResources)});
  settle();
  ASSERT_EQ(agent.count("checkpoint_resources"), 2u);
  EXPECT_EQ(agent.checkpointed().size(), 0);
  offers = scheduler.outstandingOffers();
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(resourcesOf(offers[0]).unallocate(), Resources::parse("cpus:1;mem:512").value());
}

TEST_F(MasterTest, ReserveAndLaunchInOneAccept) {
  startMaster();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"role"}, "p"));
  auto reservedResources = reserved("cpus:1;mem:128", "role", "p");
  v1::TaskInfo task = FakeScheduler::commandTask("t1", *agent.agentId(), "cpus:1;mem:128", "role");
  *task.mutable_resources() = reservedResources;
  // Reserving more than offered is dropped; the rest of the accept proceeds.
  scheduler.accept({scheduler.outstandingOffers()[0].id()},
                   {FakeScheduler::reserve(reserved("cpus:3", "role", "p")), FakeScheduler::reserve(reservedResources),
                    FakeScheduler::launch({task})});
  settle();
  EXPECT_EQ(metric("master/invalid_operations"), 1);
  EXPECT_EQ(agent.count("run_task"), 1u);
  EXPECT_EQ(agent.count("checkpoint_resources"), 1u);
  EXPECT_EQ(scheduler.updates().size(), 0u);
}

}  // namespace
}  // namespace agora::master
