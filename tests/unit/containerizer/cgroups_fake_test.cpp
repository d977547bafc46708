// The cgroups seam against fake file trees in a temporary directory: what the
// v2 backend writes, how it parses statistics, OOM detection from a
// memory.events change, and detection of v1/v2 layouts. No privilege needed.

#include <poll.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "agora/containerizer/cgroups.hpp"
#include "test_support.hpp"

namespace agora::containerizer {
namespace {

using testing::readFile;
using testing::TempDir;
using testing::trim;
using testing::writeFile;

TEST(CgroupsFormulas, CpuSharesFollowMesos) {
  EXPECT_EQ(cpuSharesFor(1.0), 1024u);
  EXPECT_EQ(cpuSharesFor(0.5), 512u);
  EXPECT_EQ(cpuSharesFor(2.25), 2304u);
  EXPECT_EQ(cpuSharesFor(0.001), 2u);  // max(1024 × cpus, 2)
}

TEST(CgroupsFormulas, CpuWeightIsHundredPerCpuAtLeastOne) {
  EXPECT_EQ(cpuWeightFor(1.0), 100u);
  EXPECT_EQ(cpuWeightFor(2.5), 250u);
  EXPECT_EQ(cpuWeightFor(0.001), 1u);
  EXPECT_EQ(cpuWeightFor(1000.0), 10000u);  // the kernel's maximum
}

TEST(CgroupsFormulas, CfsQuotaIsPeriodTimesCpusAtLeastOneMillisecond) {
  EXPECT_EQ(cfsQuotaFor(1.0), std::chrono::microseconds(100'000));
  EXPECT_EQ(cfsQuotaFor(2.5), std::chrono::microseconds(250'000));
  EXPECT_EQ(cfsQuotaFor(0.001), std::chrono::microseconds(1'000));
  EXPECT_EQ(cfsQuotaFor(std::numeric_limits<double>::infinity()), std::nullopt);
}

TEST(CgroupsValidation, ContainerIdsAreSinglePathComponents) {
  EXPECT_TRUE(validateContainerId("3f2a-b_c.1").ok());
  EXPECT_EQ(validateContainerId("").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(validateContainerId("..").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(validateContainerId("a/b").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(validateContainerId("a b").code(), Status::Code::kInvalidArgument);
}

// A v2-shaped tree: the root with its controllers, and the files the kernel
// would create in a new cgroup (`populate`), since mkdir in a plain directory
// creates none.
class FakeCgroup2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    root_ = tmp_.path();
    writeFile(root_ + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    writeFile(root_ + "/cgroup.subtree_control", "");
    // cgroupsRoot exists already (as after an earlier run), with its own
    // subtree_control as the kernel would give it.
    std::filesystem::create_directory(root_ + "/agora");
    writeFile(root_ + "/agora/cgroup.subtree_control", "");
    options_.hierarchyRoot = root_;
    options_.cgroupsRoot = "agora";
    auto cgroups = makeCgroupsV2(options_);
    ASSERT_TRUE(cgroups.ok()) << cgroups.error();
    cgroups_ = std::move(cgroups).value();
  }

  std::string dir(const std::string& id) const { return root_ + "/agora/" + id; }

  void populate(const std::string& id) {
    std::string d = dir(id);
    for (const char* file : {"cpu.weight", "cpu.max", "memory.low", "memory.max", "pids.max", "cgroup.kill",
                             "cgroup.freeze", "cgroup.subtree_control"}) {
      writeFile(d + "/" + file, "");
    }
    writeFile(d + "/cgroup.procs", "");
    writeFile(d + "/leaf/cgroup.procs", "");
    writeFile(d + "/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
  }

  TempDir tmp_;
  std::string root_;
  CgroupsOptions options_;
  std::unique_ptr<Cgroups> cgroups_;
};

TEST_F(FakeCgroup2Test, DetectsV2AndItsControllers) {
  auto detected = detectCgroups(options_);
  ASSERT_TRUE(detected.ok()) << detected.error();
  EXPECT_EQ((*detected)->version(), CgroupsVersion::kV2);
  EXPECT_TRUE(cgroups_->supports(Controller::kCpu));
  EXPECT_TRUE(cgroups_->supports(Controller::kMemory));
  EXPECT_TRUE(cgroups_->supports(Controller::kPids));
  EXPECT_TRUE(cgroups_->supports(Controller::kCpuacct));
}

TEST_F(FakeCgroup2Test, CreateEnablesControllersAndMakesTheLeaf) {
  ASSERT_TRUE(cgroups_->create("c1").ok());
  EXPECT_EQ(readFile(root_ + "/cgroup.subtree_control"), "+cpu +memory +pids");
  EXPECT_EQ(readFile(root_ + "/agora/cgroup.subtree_control"), "+cpu +memory +pids");
  EXPECT_TRUE(std::filesystem::is_directory(dir("c1") + "/leaf"));
  EXPECT_EQ(cgroups_->paths("c1"), std::vector<std::string>{dir("c1")});
  EXPECT_EQ(cgroups_->create("c1").code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(cgroups_->create("../escape").code(), Status::Code::kInvalidArgument);
}

TEST_F(FakeCgroup2Test, CreateDoesNotReenableWhatIsEnabled) {
  writeFile(root_ + "/cgroup.subtree_control", "cpu memory pids\n");
  writeFile(root_ + "/agora/cgroup.subtree_control", "cpu\n");
  ASSERT_TRUE(cgroups_->create("c1").ok());
  EXPECT_EQ(readFile(root_ + "/cgroup.subtree_control"), "cpu memory pids\n");
  EXPECT_EQ(readFile(root_ + "/agora/cgroup.subtree_control"), "+memory +pids");
}

TEST_F(FakeCgroup2Test, NestedCgroupsRootIsCreatedLevelByLevel) {
  options_.cgroupsRoot = "agora/nested";
  auto cgroups = makeCgroupsV2(options_);
  ASSERT_TRUE(cgroups.ok());
  // The kernel would give agora/nested its subtree_control on mkdir; the
  // fake cannot, so the first create fails naming the missing file.
  Status status = (*cgroups)->create("c1");
  EXPECT_EQ(status.code(), Status::Code::kNotFound) << status;
  EXPECT_NE(status.message().find("agora/nested/cgroup.subtree_control"), std::string::npos) << status;
  writeFile(root_ + "/agora/nested/cgroup.subtree_control", "");
  ASSERT_TRUE((*cgroups)->create("c1").ok());
  EXPECT_TRUE(std::filesystem::is_directory(root_ + "/agora/nested/c1/leaf"));
}

TEST_F(FakeCgroup2Test, CpuWritesWeightAndMax) {
  ASSERT_TRUE(cgroups_->create("c1").ok());
  populate("c1");
  ASSERT_TRUE(cgroups_->setCpu("c1", 1.5, std::nullopt).ok());
  EXPECT_EQ(readFile(dir("c1") + "/cpu.weight"), "150");
  EXPECT_EQ(readFile(dir("c1") + "/cpu.max"), "max 100000");
  ASSERT_TRUE(cgroups_->setCpu("c1", 0.005, 2.5).ok());
  EXPECT_EQ(readFile(dir("c1") + "/cpu.weight"), "1");
  EXPECT_EQ(readFile(dir("c1") + "/cpu.max"), "250000 100000");
  ASSERT_TRUE(cgroups_->setCpu("c1", 1, 0.001).ok());
  EXPECT_EQ(readFile(dir("c1") + "/cpu.max"), "1000 100000");
  ASSERT_TRUE(cgroups_->setCpu("c1", 1, std::numeric_limits<double>::infinity()).ok());
  EXPECT_EQ(readFile(dir("c1") + "/cpu.max"), "max 100000");
  EXPECT_EQ(cgroups_->setCpu("c1", 0, std::nullopt).code(), Status::Code::kInvalidArgument);
}

TEST_F(FakeCgroup2Test, MemoryWritesLowAndMax) {
  ASSERT_TRUE(cgroups_->create("c1").ok());
  populate("c1");
  ASSERT_TRUE(cgroups_->setMemory("c1", {.softBytes = 32 << 20, .hardBytes = 64 << 20}).ok());
  EXPECT_EQ(readFile(dir("c1") + "/memory.low"), "33554432");
  EXPECT_EQ(readFile(dir("c1") + "/memory.max"), "67108864");
  ASSERT_TRUE(cgroups_->setMemory("c1", {.softBytes = 32 << 20, .hardBytes = std::nullopt}).ok());
  EXPECT_EQ(readFile(dir("c1") + "/memory.max"), "max");
  EXPECT_EQ(cgroups_->setMemory("c1", {.softBytes = 64 << 20, .hardBytes = 32 << 20}).code(),
            Status::Code::kInvalidArgument);
}

TEST_F(FakeCgroup2Test, PidsWritesMax) {
  ASSERT_TRUE(cgroups_->create("c1").ok());
  populate("c1");
  ASSERT_TRUE(cgroups_->setPidsLimit("c1", 16).ok());
  EXPECT_EQ(readFile(dir("c1") + "/pids.max"), "16");
  ASSERT_TRUE(cgroups_->setPidsLimit("c1", std::nullopt).ok());
  EXPECT_EQ(readFile(dir("c1") + "/pids.max"), "max");
}

TEST_F(FakeCgroup2Test, ProcessesGoToTheLeafAndAreListedFromTheSubtree) {
  ASSERT_TRUE(cgroups_->create("c1").ok());
  populate("c1");
  ASSERT_TRUE(cgroups_->addProcess("c1", 4242).ok());
  EXPECT_EQ(readFile(dir("c1") + "/leaf/cgroup.procs"), "4242");
  EXPECT_EQ(readFile(dir("c1") + "/cgroup.procs"), "");
  std::filesystem::create_directory(dir("c1") + "/nested");
  writeFile(dir("c1") + "/nested/cgroup.procs", "17\n4242\n5\n");
  auto pids = cgroups_->processes("c1");
  ASSERT_TRUE(pids.ok()) << pids.error();
  EXPECT_EQ(*pids, (std::vector<pid_t>{5, 17, 4242}));
}

TEST_F(FakeCgroup2Test, HoldsLooksInTheSubtreeWhenProcDoesNotTell) {
  // These pids are not in the kernel's cgroups: the tree answers.
  ASSERT_TRUE(cgroups_->create("c1").ok());
  populate("c1");
  ASSERT_TRUE(cgroups_->addProcess("c1", 4242).ok());
  std::filesystem::create_directory(dir("c1") + "/nested");
  writeFile(dir("c1") + "/nested/cgroup.procs", "17\n");
  EXPECT_TRUE(cgroups_->holds("c1", 4242).value());
  EXPECT_TRUE(cgroups_->holds("c1", 17).value());
  EXPECT_FALSE(cgroups_->holds("c1", 18).value());
}

TEST_F(FakeCgroup2Test, MissingControllerIsNamed) {
  writeFile(root_ + "/cgroup.controllers", "cpu memory\n");
  auto cgroups = makeCgroupsV2(options_);
  ASSERT_TRUE(cgroups.ok());
  EXPECT_FALSE((*cgroups)->supports(Controller::kPids));
  ASSERT_TRUE((*cgroups)->create("c1").ok());
  EXPECT_EQ(readFile(root_ + "/cgroup.subtree_control"), "+cpu +memory");
  Status status = (*cgroups)->setPidsLimit("c1", 16);
  EXPECT_EQ(status.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(status.message().find("'pids'"), std::string::npos) << status;
}

TEST_F(FakeCgroup2Test, ContainersListsTheIdsUnderTheRoot) {
  auto none = cgroups_->containers();
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(cgroups_->create("b").ok());
  ASSERT_TRUE(cgroups_->create("a").ok());
  auto ids = cgroups_->containers();
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"a", "b"}));
}

TEST_F(FakeCgroup2Test, StatisticsParseTheKernelFiles) {
  ASSERT_TRUE(cgroups_->create("c1").ok());
  populate("c1");
  writeFile(dir("c1") + "/leaf/cgroup.procs", "10\n11\n");
  writeFile(dir("c1") + "/cpu.stat",
            "usage_usec 3500000\nuser_usec 2500000\nsystem_usec 1000000\n"
            "nr_periods 40\nnr_throttled 7\nthrottled_usec 250000\n");
  writeFile(dir("c1") + "/memory.current", "1048576\n");
  writeFile(dir("c1") + "/memory.max", "33554432\n");
  writeFile(dir("c1") + "/memory.peak", "2097152\n");
  writeFile(dir("c1") + "/memory.stat", "anon 524288\nfile 262144\nkernel 4096\n");
  writeFile(dir("c1") + "/memory.events", "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\n");
  writeFile(dir("c1") + "/pids.current", "2\n");
  writeFile(dir("c1") + "/pids.max", "max\n");

  auto stats = cgroups_->statistics("c1");
  ASSERT_TRUE(stats.ok()) << stats.error();
  EXPECT_EQ(stats->processes, 2u);
  EXPECT_DOUBLE_EQ(stats->cpuUserSeconds.value(), 2.5);
  EXPECT_DOUBLE_EQ(stats->cpuSystemSeconds.value(), 1.0);
  EXPECT_EQ(stats->cpuNrPeriods, 40u);
  EXPECT_EQ(stats->cpuNrThrottled, 7u);
  EXPECT_DOUBLE_EQ(stats->cpuThrottledSeconds.value(), 0.25);
  EXPECT_EQ(stats->memoryUsageBytes, 1048576u);
  EXPECT_EQ(stats->memoryLimitBytes, 33554432u);
  EXPECT_EQ(stats->memoryMaxUsageBytes, 2097152u);
  EXPECT_EQ(stats->memoryAnonBytes, 524288u);
  EXPECT_EQ(stats->memoryFileBytes, 262144u);
  EXPECT_EQ(stats->memorySwapBytes, std::nullopt);  // no memory.swap.current in this tree
  EXPECT_EQ(stats->oomKills, 1u);
  EXPECT_EQ(stats->pidsCurrent, 2u);
  EXPECT_EQ(stats->pidsMax, std::nullopt);  // "max"

  writeFile(dir("c1") + "/memory.max", "max\n");
  stats = cgroups_->statistics("c1");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->memoryLimitBytes, std::nullopt);
}

TEST_F(FakeCgroup2Test, OomIsDetectedFromAMemoryEventsChange) {
  ASSERT_TRUE(cgroups_->create("c1").ok());
  populate("c1");
  auto watch = cgroups_->watchOom("c1");
  ASSERT_TRUE(watch.ok()) << watch.error();
  EXPECT_FALSE((*watch)->oomKilled().value());
  EXPECT_FALSE(cgroups_->oomKilled("c1").value());
  EXPECT_FALSE((*watch)->wait(std::chrono::milliseconds(0)).value());

  // The kernel rewrites memory.events when a counter changes.
  writeFile(dir("c1") + "/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n");
  struct pollfd pfd = {(*watch)->fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 60'000), 1) << "the watch's fd did not become readable";
  EXPECT_TRUE((*watch)->oomKilled().value());
  EXPECT_TRUE(cgroups_->oomKilled("c1").value());
  EXPECT_TRUE((*watch)->wait(std::chrono::seconds(60)).value());
  // Drained: no notification pending until the next change.
  EXPECT_EQ(::poll(&pfd, 1, 0), 0);
}

TEST_F(FakeCgroup2Test, WaitReturnsFalseWithoutAnOom) {
  ASSERT_TRUE(cgroups_->create("c1").ok());
  populate("c1");
  auto watch = cgroups_->watchOom("c1");
  ASSERT_TRUE(watch.ok());
  // A change that is not an OOM kill wakes the watch but does not count.
  writeFile(dir("c1") + "/memory.events", "low 0\nhigh 5\nmax 3\noom 0\noom_kill 0\n");
  EXPECT_FALSE((*watch)->wait(std::chrono::milliseconds(300)).value());
}

TEST(FakeCgroup1, DetectsTheStandardLayoutWhenMountinfoHasNone) {
  TempDir tmp;
  for (const char* controller : {"cpu", "memory", "pids"}) {
    std::filesystem::create_directory(tmp / controller);
    writeFile(tmp / controller + "/cgroup.procs", "");
  }
  CgroupsOptions options{.hierarchyRoot = tmp.path(), .cgroupsRoot = "agora", .mountinfoPath = tmp / "none"};
  auto cgroups = detectCgroups(options);
  ASSERT_TRUE(cgroups.ok()) << cgroups.error();
  EXPECT_EQ((*cgroups)->version(), CgroupsVersion::kV1);
  EXPECT_TRUE((*cgroups)->supports(Controller::kCpu));
  EXPECT_TRUE((*cgroups)->supports(Controller::kMemory));
  EXPECT_FALSE((*cgroups)->supports(Controller::kCpuacct));
  EXPECT_FALSE((*cgroups)->supports(Controller::kFreezer));
  ASSERT_TRUE((*cgroups)->create("c1").ok());
  EXPECT_EQ((*cgroups)->paths("c1"),
            (std::vector<std::string>{tmp / "cpu/agora/c1", tmp / "memory/agora/c1", tmp / "pids/agora/c1"}));
  for (const std::string& path : (*cgroups)->paths("c1")) EXPECT_TRUE(std::filesystem::is_directory(path));
  Status status = (*cgroups)->watchOom("missing").status();
  EXPECT_FALSE(status.ok());
}

TEST(FakeCgroup1, ReadsControllerMountsFromMountinfo) {
  TempDir tmp;
  std::filesystem::create_directories(tmp / "cg/cpu,cpuacct");
  std::filesystem::create_directories(tmp / "cg/memory");
  writeFile(tmp / "mountinfo",
            "22 1 8:1 / / rw - ext4 /dev/root rw\n"
            "30 22 0:26 / " + tmp.path() + "/cg rw - tmpfs tmpfs rw\n"
            "31 30 0:27 / " + tmp.path() + "/cg/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
            "32 30 0:28 / " + tmp.path() + "/cg/memory rw - cgroup cgroup rw,memory\n"
            "33 30 0:29 / /elsewhere/pids rw - cgroup cgroup rw,pids\n"
            "34 30 0:30 / " + tmp.path() + "/cg/unified rw - cgroup2 cgroup2 rw\n");
  CgroupsOptions options{.hierarchyRoot = tmp / "cg", .cgroupsRoot = "agora", .mountinfoPath = tmp / "mountinfo"};
  auto cgroups = makeCgroupsV1(options);
  ASSERT_TRUE(cgroups.ok()) << cgroups.error();
  EXPECT_TRUE((*cgroups)->supports(Controller::kCpu));
  EXPECT_TRUE((*cgroups)->supports(Controller::kCpuacct));
  EXPECT_TRUE((*cgroups)->supports(Controller::kMemory));
  EXPECT_FALSE((*cgroups)->supports(Controller::kPids));  // mounted outside the hierarchy root
  // One directory per hierarchy: cpu and cpuacct share theirs.
  EXPECT_EQ((*cgroups)->paths("c1"),
            (std::vector<std::string>{tmp / "cg/cpu,cpuacct/agora/c1", tmp / "cg/memory/agora/c1"}));
  Status status = (*cgroups)->setPidsLimit("c1", 16);
  EXPECT_EQ(status.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(status.message().find("'pids'"), std::string::npos) << status;
}

TEST(CgroupsDetection, NothingThereIsNotFound) {
  TempDir tmp;
  CgroupsOptions options{.hierarchyRoot = tmp.path(), .cgroupsRoot = "agora", .mountinfoPath = tmp / "none"};
  auto cgroups = detectCgroups(options);
  ASSERT_FALSE(cgroups.ok());
  EXPECT_EQ(cgroups.error().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace agora::containerizer
