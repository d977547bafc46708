#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agora/task_helpers.hpp"
#include "sdk_test_util.hpp"

namespace agora::sdk {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

using testing::makeOffer;

TEST(TaskBuilderTest, BuildsACommandTask) {
  v1::AgentID agent;
  agent.set_value("agent-1");
  auto task = TaskBuilder("t1")
                  .name("hello")
                  .agent(agent)
                  .shell("echo hello")
                  .env("GREETING", "hi")
                  .resources(Resources::parse("cpus:0.5;mem:64").value())
                  .killGracePeriod(10s)
                  .label("team", "infra")
                  .build();
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->task_id().value(), "t1");
  EXPECT_EQ(task->name(), "hello");
  EXPECT_EQ(task->agent_id().value(), "agent-1");
  EXPECT_TRUE(task->command().shell());
  EXPECT_EQ(task->command().value(), "echo hello");
  EXPECT_EQ(task->command().environment().variables(0).name(), "GREETING");
  EXPECT_EQ(task->kill_policy().grace_period().nanoseconds(), Duration(10s).count());
  EXPECT_EQ(Resources::fromProto(task->resources()).value(), Resources::parse("cpus:0.5;mem:64").value());
  EXPECT_EQ(task->labels().labels(0).value(), "infra");
}

TEST(TaskBuilderTest, ExecWithoutShell) {
  v1::AgentID agent;
  agent.set_value("a");
  auto task = TaskBuilder("t1").agent(agent).exec("/bin/echo", {"echo", "x"}).build();
  ASSERT_TRUE(task.ok());
  EXPECT_FALSE(task->command().shell());
  EXPECT_EQ(task->command().arguments_size(), 2);
  EXPECT_EQ(task->name(), "t1") << "the name defaults to the id";
}

TEST(TaskBuilderTest, RefusesIncompleteTasks) {
  v1::AgentID agent;
  agent.set_value("a");
  EXPECT_THAT(TaskBuilder("t1").shell("x").build().status().message(), HasSubstr("no agent"));
  EXPECT_THAT(TaskBuilder("t1").agent(agent).build().status().message(), HasSubstr("exactly one"));
  v1::ExecutorInfo executor;
  executor.mutable_executor_id()->set_value("e");
  EXPECT_FALSE(TaskBuilder("t1").agent(agent).shell("x").executor(executor).build().ok());
  EXPECT_TRUE(TaskBuilder("t1").agent(agent).executor(executor).build().ok());
  EXPECT_FALSE(TaskBuilder("a/b").agent(agent).shell("x").build().ok());
  EXPECT_FALSE(TaskBuilder("t1").agent(agent).shell("").build().ok());
}

TEST(TaskRequestTest, Parse) {
  auto request = TaskRequest::parse("cpus:0.5;mem:64;disk:10;ports:2");
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->cpus, 0.5);
  EXPECT_EQ(request->mem, 64);
  EXPECT_EQ(request->disk, 10);
  EXPECT_EQ(request->ports, 2u);
  EXPECT_FALSE(TaskRequest::parse("cpus:-1").ok());
  EXPECT_FALSE(TaskRequest::parse("cpus:x").ok());
  EXPECT_FALSE(TaskRequest::parse("bogus:1").ok());
  EXPECT_FALSE(TaskRequest::parse("ports:1.5").ok());
  EXPECT_FALSE(TaskRequest::parse("cpus").ok());
}

TEST(MatchTasksTest, CarvesNTasksWithPorts) {
  v1::Offer o = makeOffer("o1", "a1", "cpus:2;mem:256;ports:[31000-31002,32000-32010]");
  std::vector<Resources> tasks = matchTasks(o, {.cpus = 0.5, .mem = 64, .ports = 2}, 10);
  ASSERT_EQ(tasks.size(), 4u) << "cpus and mem allow 4; ports allow 7";
  EXPECT_EQ(tasks[0].ranges("ports"), (RangeSet{{31000, 31001}}));
  EXPECT_EQ(tasks[1].ranges("ports"), (RangeSet{{31002, 31002}, {32000, 32000}}));
  Resources total;
  for (const Resources& t : tasks) {
    EXPECT_EQ(t.scalar("cpus"), Scalar::of(0.5));
    EXPECT_EQ(t.allocationRoles(), std::set<std::string>{"dev"});
    total += t;
  }
  EXPECT_TRUE(Resources::fromProto(o.resources()).value().contains(total));
  EXPECT_EQ(matchTasks(o, {.cpus = 0.5, .mem = 64}, 2).size(), 2u) << "no more than asked";
  EXPECT_TRUE(matchTasks(o, {.cpus = 4}, 1).empty());
}

TEST(MatchTasksTest, ReservedResourcesFirst) {
  v1::Offer o = makeOffer("o1", "a1", "cpus:1;cpus(dev):1;mem:256");
  std::vector<Resources> tasks = matchTasks(o, {.cpus = 1.5, .mem = 10}, 1);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].reservedTo("dev").scalar("cpus"), Scalar::of(1));
  EXPECT_EQ(tasks[0].unreserved().scalar("cpus"), Scalar::of(0.5));
}

TEST(MatchTasksTest, AttributeConstraints) {
  v1::Offer o = makeOffer("o1", "a1", "cpus:4;mem:1024", {{"rack", "r1"}});
  EXPECT_EQ(matchTasks(o, {.cpus = 1}, 1, {AttributeConstraint::equals("rack", "r1")}).size(), 1u);
  EXPECT_TRUE(matchTasks(o, {.cpus = 1}, 1, {AttributeConstraint::equals("rack", "r2")}).empty());
  EXPECT_TRUE(matchTasks(o, {.cpus = 1}, 1, {AttributeConstraint::exists("gpu")}).empty());
  EXPECT_TRUE(satisfies(o, {AttributeConstraint::notEquals("rack", "r2"), AttributeConstraint::notExists("gpu"),
                            AttributeConstraint::equals("hostname", "a1.example")}));
  v1::Attribute* cores = o.add_attributes();
  cores->set_name("cores");
  cores->set_type(v1::Value::SCALAR);
  cores->mutable_scalar()->set_value(8);
  EXPECT_EQ(attributeValue(o, "cores"), "8");
}

TEST(SlotPackerTest, BinPackFillsOffersInOrder) {
  SlotPacker packer({makeOffer("o1", "a1", "cpus:2;mem:512"), makeOffer("o2", "a2", "cpus:2;mem:512")});
  std::vector<size_t> offers;
  while (auto placement = packer.place({.cpus = 1, .mem = 100})) offers.push_back(placement->offer);
  EXPECT_EQ(offers, (std::vector<size_t>{0, 0, 1, 1}));
  EXPECT_TRUE(packer.unusedOffers().empty());
  EXPECT_EQ(packer.remaining(0).scalar("mem"), Scalar::of(312));
}

TEST(SlotPackerTest, SpreadAndMaxPerAgent) {
  SlotPacker spread({makeOffer("o1", "a1", "cpus:4;mem:512"), makeOffer("o2", "a2", "cpus:4;mem:512")},
                    {.strategy = PackStrategy::kSpread});
  std::vector<size_t> offers;
  for (int i = 0; i < 4; ++i) offers.push_back(spread.place({.cpus = 1})->offer);
  EXPECT_EQ(offers, (std::vector<size_t>{0, 1, 0, 1}));

  SlotPacker onePerHost({makeOffer("o1", "a1", "cpus:4"), makeOffer("o2", "a1", "cpus:4"), makeOffer("o3", "a2", "cpus:4")},
                        {.maxPerAgent = 1});
  EXPECT_EQ(onePerHost.place({.cpus = 1})->offer, 0u);
  EXPECT_EQ(onePerHost.place({.cpus = 1})->offer, 2u) << "o2 is on the same agent as o1";
  EXPECT_FALSE(onePerHost.place({.cpus = 1}).has_value());
  EXPECT_EQ(onePerHost.unusedOffers().size(), 1u);
}

TEST(SlotPackerTest, PlaceAllLargestFirstWithConstraints) {
  SlotPacker packer({makeOffer("o1", "a1", "cpus:3;mem:1024", {{"zone", "a"}}),
                     makeOffer("o2", "a2", "cpus:8;mem:1024", {{"zone", "b"}})},
                    {.constraints = {AttributeConstraint::equals("zone", "a")}});
  auto placed = packer.placeAll({{.cpus = 1}, {.cpus = 2}, {.cpus = 1}});
  // Largest first: 2 cpus, then 1; the second 1-cpu task does not fit in zone a.
  ASSERT_EQ(placed.size(), 2u);
  EXPECT_EQ(placed[0].first, 0u);
  EXPECT_EQ(placed[1].first, 1u);
  for (auto& [request, placement] : placed) EXPECT_EQ(placement.offer, 0u);
}

}  // namespace
}  // namespace agora::sdk

namespace agora::sdk {
namespace {

TEST(ExitStatusTest, FromTheLabelElseTheMessage) {
  v1::TaskStatus status;
  status.mutable_task_id()->set_value("t");
  status.set_state(v1::TASK_FAILED);
  EXPECT_EQ(exitStatus(status), std::nullopt);
  status.set_message("Command exited with status 3");
  EXPECT_EQ(exitStatus(status), 3);
  v1::Label* label = status.mutable_labels()->add_labels();
  label->set_key(kExitStatusLabel);
  label->set_value("7");
  EXPECT_EQ(exitStatus(status), 7);
  label->set_value("garbage");
  EXPECT_EQ(exitStatus(status), std::nullopt);
  status.clear_labels();
  status.set_message("Command exited with status 300");
  EXPECT_EQ(exitStatus(status), std::nullopt);
  status.set_message("Command terminated with signal Killed");
  EXPECT_EQ(exitStatus(status), std::nullopt);
}

}  // namespace
}  // namespace agora::sdk
