// The agent's side of container limits: a TASK_FAILED that the container's
// limits caused becomes REASON_CONTAINER_LIMITATION_MEMORY, task limits reach
// the container, /monitor/statistics, --isolation and --cgroups_root.

#include <unistd.h>

#include <cmath>

#include "agent_fixture.hpp"

namespace agora::agent {
namespace {

class ContainerLimitsTest : public AgentTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(startAgent().ok());
    registerAgent();
    master_.clear();
  }

  testing::FakePeer executor_{network_, "executor:1"};
};

TEST_F(ContainerLimitsTest, AFailureCausedByTheMemoryLimitFailsWithTheMemoryReason) {
  runTask(commandTask("t1"));
  subscribe(executor_, "t1");
  ContainerTermination limitation;
  limitation.state = v1::TASK_FAILED;
  limitation.reason = v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY;
  limitation.message = "Memory limit exceeded: usage 64.0 MB (peak 64.0 MB) of limit 64.0 MB";
  limitation.limitation = Resources::parse("mem:64").value();
  containerizer_.setLimitation(containerOf("t1"), limitation);
  // The executor saw its command killed by the OOM killer.
  std::string uuid = sendUpdate(executor_, "t1", "t1", v1::TASK_FAILED);
  settle();
  auto updates = updatesAtMaster();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].uuid(), uuid);
  EXPECT_EQ(updates[0].status().state(), v1::TASK_FAILED);
  EXPECT_EQ(updates[0].status().reason(), v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY);
  EXPECT_EQ(updates[0].status().message(), limitation.message);
  EXPECT_EQ(Resources::fromProto(updates[0].status().limitation().resources()).value().scalar("mem").toDouble(), 64);
  // Acknowledged to the executor (it stops resending), and the limited
  // container is destroyed at once.
  EXPECT_EQ(executor_.count("executor_event.ACKNOWLEDGED"), 1u);
  ASSERT_EQ(containerizer_.destroyed().size(), 1u);
  EXPECT_EQ(containerizer_.destroyed()[0].second, Duration::zero());
}

TEST_F(ContainerLimitsTest, AnOrdinaryFailureKeepsTheExecutorsWords) {
  runTask(commandTask("t1"));
  subscribe(executor_, "t1");
  sendUpdate(executor_, "t1", "t1", v1::TASK_FAILED);
  settle();
  auto updates = updatesAtMaster();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].status().source(), v1::TaskStatus::SOURCE_EXECUTOR);
  EXPECT_NE(updates[0].status().reason(), v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY);
  EXPECT_TRUE(containerizer_.destroyed().empty());
}

TEST_F(ContainerLimitsTest, TaskLimitsReachTheContainer) {
  v1::TaskInfo task = commandTask("t1");
  (*task.mutable_limits())["mem"].set_value(512);
  (*task.mutable_limits())["cpus"].set_value(INFINITY);
  runTask(task);
  ASSERT_EQ(containerizer_.launches().size(), 1u);
  const auto& limits = containerizer_.launches()[0].limits;
  // The task's limit plus the command executor's 32 MB; infinity stays.
  EXPECT_EQ(limits.at("mem"), 544);
  EXPECT_TRUE(std::isinf(limits.at("cpus")));
}

TEST_F(ContainerLimitsTest, MonitorStatisticsListsRunningExecutorsFromTheLatestSample) {
  runTask(commandTask("t1"));
  subscribe(executor_, "t1");
  // The first request starts a sample; the answer arrives on the loop.
  EXPECT_TRUE(agent_->monitorStatisticsJson().empty());
  settle();
  nlohmann::json statistics = agent_->monitorStatisticsJson();
  ASSERT_EQ(statistics.size(), 1u);
  EXPECT_EQ(statistics[0]["executor_id"], "t1");
  EXPECT_EQ(statistics[0]["framework_id"], "fw-1");
  EXPECT_EQ(statistics[0]["container_id"], containerOf("t1"));
  EXPECT_EQ(statistics[0]["statistics"]["cpus_user_time_secs"], 1.5);
  EXPECT_EQ(statistics[0]["statistics"]["mem_rss_bytes"], 1 << 20);  // A number, not a string.
  EXPECT_EQ(statistics[0]["statistics"]["pids_current"], 2);
  EXPECT_EQ(statistics[0]["statistics"]["cpus_limit"], 1.1);
  EXPECT_GT(statistics[0]["statistics"]["timestamp"].get<double>(), 0);
  // Within kStatisticsMaxAge the sample is reused; after it a new one starts.
  int calls = containerizer_.usageCalls();
  agent_->monitorStatisticsJson();
  EXPECT_EQ(containerizer_.usageCalls(), calls);
  advance(std::chrono::seconds(1));  // kStatisticsMaxAge
  agent_->monitorStatisticsJson();
  EXPECT_EQ(containerizer_.usageCalls(), calls + 1);
}

TEST(AgentOptionsTest, CgroupsRootMustBeARelativePathOfPlainComponents) {
  AgentOptions options;
  options.workDir = "/tmp/x";
  for (const char* bad : {"", "/agora", "agora/", "a/../b", "a//b", "a b", "."}) {
    options.cgroupsRoot = bad;
    EXPECT_FALSE(validateAgentOptions(options).ok()) << bad;
  }
  for (const char* good : {"agora", "agora/prod", "agora-e2e-12.x"}) {
    options.cgroupsRoot = good;
    EXPECT_TRUE(validateAgentOptions(options).ok()) << good;
  }
}

TEST(AgentOptionsTest, CgroupsHierarchyMustBeAnAbsolutePath) {
  AgentOptions options;
  options.workDir = "/tmp/x";
  EXPECT_EQ(options.cgroupsHierarchy, "/sys/fs/cgroup");
  for (const char* bad : {"", "sys/fs/cgroup", "./cgroup"}) {
    options.cgroupsHierarchy = bad;
    EXPECT_NE(validateAgentOptions(options).message().find("--cgroups_hierarchy"), std::string::npos) << bad;
  }
  options.cgroupsHierarchy = "/sys/fs/cgroup/unified";
  EXPECT_TRUE(validateAgentOptions(options).ok());
}

TEST(MakeContainerizerTest, AHierarchyWithoutCgroupsIsNamedWhenIsolationWasAsked) {
  if (::geteuid() != 0) GTEST_SKIP() << "cgroups isolation needs root";
  AgentOptions options;
  options.isolation = "cgroups/cpu";
  options.cgroupsHierarchy = "/nonexistent-cgroups";
  FakeClock clock;
  std::string effective;
  std::string warning;
  auto made = makeContainerizer(options, true, clock, {}, &effective, &warning);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().message().find("/nonexistent-cgroups"), std::string::npos) << made.error();
}

TEST(MakeContainerizerTest, PosixIsolationIsThePosixContainerizer) {
  AgentOptions options;
  options.isolation = "posix";
  FakeClock clock;
  std::string effective;
  std::string warning;
  auto made = makeContainerizer(options, true, clock, {}, &effective, &warning);
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(effective, "posix");
  EXPECT_EQ((*made)->isolation(), "posix");
  EXPECT_TRUE(warning.empty());
}

}  // namespace
}  // namespace agora::agent
