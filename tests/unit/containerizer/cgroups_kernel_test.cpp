// The cgroups backends and the linux launcher against the real kernel, v1
// and v2, each under a cgroupsRoot of its own (agora-test-<pid>-<n>) that
// TearDown removes whatever happened. A test that cannot run here skips and
// says what is missing (root, a mounted hierarchy, a controller); none passes
// without checking anything.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "agora/containerizer/cgroups.hpp"
#include "agora/containerizer/launcher.hpp"
#include "test_support.hpp"

namespace agora::containerizer {

// Readable parameter names in test output and ctest ("GetParam() = V1").
inline void PrintTo(CgroupsVersion version, std::ostream* os) {
  *os << (version == CgroupsVersion::kV1 ? "V1" : "V2");
}

namespace {

using testing::readFile;
using testing::TempDir;
using testing::trim;
using testing::waitUntil;

constexpr uint64_t kMiB = 1024 * 1024;

std::string describe(CgroupsVersion version) { return version == CgroupsVersion::kV1 ? "V1" : "V2"; }

class KernelCgroupsTest : public ::testing::TestWithParam<CgroupsVersion> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to create cgroups; running as uid " << ::geteuid();
    options_.cgroupsRoot = testing::uniqueCgroupsRoot();
    if (GetParam() == CgroupsVersion::kV1) {
      if (std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers")) {
        GTEST_SKIP() << "no cgroup v1 hierarchies: /sys/fs/cgroup is a cgroup2 mount";
      }
      options_.hierarchyRoot = "/sys/fs/cgroup";
      auto cgroups = makeCgroupsV1(options_);
      if (!cgroups.ok()) GTEST_SKIP() << "no cgroup v1 hierarchies: " << cgroups.error();
      cgroups_ = std::move(cgroups).value();
    } else {
      std::optional<std::string> mount = testing::cgroup2Mount();
      if (!mount) GTEST_SKIP() << "no cgroup2 file system mounted (see /proc/self/mountinfo)";
      options_.hierarchyRoot = *mount;
      auto cgroups = makeCgroupsV2(options_);
      if (!cgroups.ok()) GTEST_SKIP() << "cgroup2 at " << *mount << " unusable: " << cgroups.error();
      cgroups_ = std::move(cgroups).value();
    }
    ASSERT_FALSE(sandbox_.path().empty());
    launcher_ = makeLinuxLauncher(cgroups_.get());
  }

  void TearDown() override {
    if (!cgroups_) return;
    // Whatever the test left: kill, destroy, then the test's cgroupsRoot.
    if (auto ids = cgroups_->containers(); ids.ok()) {
      for (const std::string& id : *ids) {
        Status killed = cgroups_->killAll(id);
        EXPECT_TRUE(killed.ok()) << killed;
        reapChildren();
        Status destroyed = cgroups_->destroy(id);
        EXPECT_TRUE(destroyed.ok()) << destroyed;
      }
    }
    reapChildren();
    for (const std::string& path : cgroups_->paths("x")) {
      std::string root = std::filesystem::path(path).parent_path();
      if (::rmdir(root.c_str()) != 0 && errno != ENOENT) ADD_FAILURE() << "left behind: " << root;
    }
  }

  static void reapChildren() {
    int status;
    while (::waitpid(-1, &status, WNOHANG) > 0) {
    }
  }

  // "" when every controller is there, else a message naming the missing.
  std::string missing(std::initializer_list<Controller> controllers) const {
    std::string out;
    for (Controller c : controllers) {
      if (!cgroups_->supports(c)) out += (out.empty() ? "" : ", ") + std::string(controllerName(c));
    }
    if (out.empty()) return out;
    return std::string(versionName(cgroups_->version())) + " at " + options_.hierarchyRoot +
           " lacks controller(s): " + out;
  }

  LaunchSpec shell(const std::string& script) const {
    LaunchSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.env = {"PATH=/usr/bin:/bin"};
    spec.sandbox = sandbox_.path();
    return spec;
  }

  std::string file(const std::string& id, const std::string& controllerDir, const std::string& name) const {
    if (cgroups_->version() == CgroupsVersion::kV2) return trim(readFile(cgroups_->paths(id)[0] + "/" + name));
    return trim(readFile(options_.hierarchyRoot + "/" + controllerDir + "/" + options_.cgroupsRoot + "/" + id +
                         "/" + name));
  }

  size_t processCount(const std::string& id) {
    auto pids = cgroups_->processes(id);
    EXPECT_TRUE(pids.ok()) << pids.error();
    return pids.ok() ? pids->size() : 0;
  }

  CgroupsOptions options_;
  std::unique_ptr<Cgroups> cgroups_;
  std::unique_ptr<Launcher> launcher_;
  TempDir sandbox_;
};

#define SKIP_WITHOUT(...)                                                                 \
  if (std::string reason = missing({__VA_ARGS__}); !reason.empty()) GTEST_SKIP() << reason

TEST_P(KernelCgroupsTest, LimitsWrittenMatchTheInputs) {
  SKIP_WITHOUT(Controller::kCpu, Controller::kMemory, Controller::kPids);
  ASSERT_TRUE(cgroups_->create("c1").ok());
  ASSERT_TRUE(cgroups_->setCpu("c1", 1.5, 2.0).ok());
  ASSERT_TRUE(cgroups_->setMemory("c1", {.softBytes = 32 * kMiB, .hardBytes = 64 * kMiB}).ok());
  ASSERT_TRUE(cgroups_->setPidsLimit("c1", 16).ok());
  if (GetParam() == CgroupsVersion::kV1) {
    EXPECT_EQ(file("c1", "cpu", "cpu.shares"), "1536");
    EXPECT_EQ(file("c1", "cpu", "cpu.cfs_period_us"), "100000");
    EXPECT_EQ(file("c1", "cpu", "cpu.cfs_quota_us"), "200000");
    EXPECT_EQ(file("c1", "memory", "memory.limit_in_bytes"), std::to_string(64 * kMiB));
    EXPECT_EQ(file("c1", "memory", "memory.soft_limit_in_bytes"), std::to_string(32 * kMiB));
    EXPECT_EQ(file("c1", "pids", "pids.max"), "16");
  } else {
    EXPECT_EQ(file("c1", "", "cpu.weight"), "150");
    EXPECT_EQ(file("c1", "", "cpu.max"), "200000 100000");
    EXPECT_EQ(file("c1", "", "memory.max"), std::to_string(64 * kMiB));
    EXPECT_EQ(file("c1", "", "memory.low"), std::to_string(32 * kMiB));
    EXPECT_EQ(file("c1", "", "pids.max"), "16");
  }

  // The minimum weight, no quota, no memory or pids limit.
  ASSERT_TRUE(cgroups_->setCpu("c1", 0.001, std::nullopt).ok());
  ASSERT_TRUE(cgroups_->setMemory("c1", {.softBytes = 32 * kMiB, .hardBytes = std::nullopt}).ok());
  ASSERT_TRUE(cgroups_->setPidsLimit("c1", std::nullopt).ok());
  if (GetParam() == CgroupsVersion::kV1) {
    EXPECT_EQ(file("c1", "cpu", "cpu.shares"), "2");
    EXPECT_EQ(file("c1", "cpu", "cpu.cfs_quota_us"), "-1");
    EXPECT_GE(std::stoull(file("c1", "memory", "memory.limit_in_bytes")), uint64_t{1} << 62);
    EXPECT_EQ(file("c1", "pids", "pids.max"), "max");
  } else {
    EXPECT_EQ(file("c1", "", "cpu.weight"), "1");
    EXPECT_EQ(file("c1", "", "cpu.max"), "max 100000");
    EXPECT_EQ(file("c1", "", "memory.max"), "max");
    EXPECT_EQ(file("c1", "", "pids.max"), "max");
  }
}

TEST_P(KernelCgroupsTest, LaunchedProcessIsInTheCgroupFromItsFirstInstruction) {
  ASSERT_TRUE(cgroups_->create("c1").ok());
  // The shell reports its own cgroups: it was moved before it could run.
  auto pid = launcher_->launch("c1", shell("cat /proc/$$/cgroup"));
  ASSERT_TRUE(pid.ok()) << pid.error();
  auto status = reap(*pid);
  ASSERT_TRUE(status.ok() && status->success()) << readFile(sandbox_ / "stderr");

  std::string expected = "/" + options_.cgroupsRoot + "/c1";
  if (GetParam() == CgroupsVersion::kV2) expected += "/leaf";
  std::istringstream lines(readFile(sandbox_ / "stdout"));
  std::string line;
  std::set<std::string> seen;
  while (std::getline(lines, line)) {
    // "<id>:<controllers>:<path>"
    size_t first = line.find(':');
    size_t second = line.find(':', first + 1);
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (GetParam() == CgroupsVersion::kV2) {
      if (controllers.empty()) {
        EXPECT_EQ(path, expected);
        seen.insert("unified");
      }
      continue;
    }
    for (Controller c : {Controller::kCpu, Controller::kCpuacct, Controller::kMemory, Controller::kPids,
                         Controller::kFreezer}) {
      std::string name(controllerName(c));
      std::string padded = "," + controllers + ",";
      if (!cgroups_->supports(c) || padded.find("," + name + ",") == std::string::npos) continue;
      EXPECT_EQ(path, expected) << "controller " << name;
      seen.insert(name);
    }
  }
  if (GetParam() == CgroupsVersion::kV2) {
    EXPECT_EQ(seen.size(), 1u) << readFile(sandbox_ / "stdout");
  } else {
    for (Controller c : {Controller::kCpu, Controller::kMemory, Controller::kPids}) {
      if (cgroups_->supports(c)) {
        EXPECT_TRUE(seen.contains(std::string(controllerName(c)))) << controllerName(c);
      }
    }
  }
}

TEST_P(KernelCgroupsTest, LaunchIntoAMissingContainerFailsWithoutAZombie) {
  auto pid = launcher_->launch("never-created", shell("true"));
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.error().message().find("never-created"), std::string::npos) << pid.error();
  EXPECT_TRUE(testing::noChildren());
}

TEST_P(KernelCgroupsTest, AllocationPastTheMemoryLimitIsOomKilledAndDetected) {
  SKIP_WITHOUT(Controller::kMemory);
  ASSERT_TRUE(cgroups_->create("c1").ok());
  ASSERT_TRUE(cgroups_->setMemory("c1", {.softBytes = 32 * kMiB, .hardBytes = 32 * kMiB}).ok());
  auto watch = cgroups_->watchOom("c1");
  ASSERT_TRUE(watch.ok()) << watch.error();
  EXPECT_FALSE((*watch)->oomKilled().value());

  // tail keeps the whole newline-free input in memory: 200 MB of it.
  auto pid = launcher_->launch("c1", shell("head -c 200M /dev/zero | tail"));
  ASSERT_TRUE(pid.ok()) << pid.error();
  auto killed = (*watch)->wait(std::chrono::seconds(120));
  ASSERT_TRUE(killed.ok()) << killed.error();
  EXPECT_TRUE(*killed) << "no OOM kill seen within 120 s";
  auto status = reap(*pid);
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->success()) << status->toString();
  EXPECT_TRUE(cgroups_->oomKilled("c1").value());

  auto stats = cgroups_->statistics("c1");
  ASSERT_TRUE(stats.ok()) << stats.error();
  EXPECT_GE(stats->oomKills.value_or(0), 1u);
  EXPECT_EQ(stats->memoryLimitBytes, 32 * kMiB);
  if (stats->memoryMaxUsageBytes) {
    EXPECT_GE(*stats->memoryMaxUsageBytes, 16 * kMiB);
  }
}

TEST_P(KernelCgroupsTest, ForkBombHitsThePidsLimitAndTheAgentStaysHealthy) {
  SKIP_WITHOUT(Controller::kPids);
  ASSERT_TRUE(cgroups_->create("c1").ok());
  ASSERT_TRUE(cgroups_->setPidsLimit("c1", 16).ok());
  // Never start a fork bomb without its limit in place.
  ASSERT_EQ(file("c1", "pids", "pids.max"), "16");

  // Bounded (200 forks) so a broken limit cannot take the machine down.
  auto pid = launcher_->launch("c1", shell("i=0; while [ $i -lt 200 ]; do sleep 1000 & i=$((i+1)); done; wait"));
  ASSERT_TRUE(pid.ok()) << pid.error();
  ASSERT_TRUE(waitUntil([&] { return readFile(sandbox_ / "stderr").find("fork") != std::string::npos; }))
      << "the shell never failed to fork; stderr: " << readFile(sandbox_ / "stderr");
  auto stats = cgroups_->statistics("c1");
  ASSERT_TRUE(stats.ok()) << stats.error();
  EXPECT_LE(stats->pidsCurrent.value(), 16u);
  EXPECT_EQ(stats->pidsMax, 16u);
  EXPECT_LE(processCount("c1"), 16u);

  // We can still start processes.
  auto probe = makePosixLauncher()->launch("", shell("echo alive > alive"));
  ASSERT_TRUE(probe.ok()) << probe.error();
  EXPECT_TRUE(reap(*probe)->success());
  EXPECT_EQ(readFile(sandbox_ / "alive"), "alive\n");

  ASSERT_TRUE(cgroups_->killAll("c1").ok());
  EXPECT_EQ(processCount("c1"), 0u);
  (void)reap(*pid);
}

TEST_P(KernelCgroupsTest, KillAllLeavesNoProcessAndDestroyNoDirectory) {
  ASSERT_TRUE(cgroups_->create("c1").ok());
  // Children, and a grandchild that its subshell abandoned: all in the cgroup.
  auto pid = launcher_->launch("c1", shell("sleep 1000 & sleep 1000 & (sleep 1000 &); wait"));
  ASSERT_TRUE(pid.ok()) << pid.error();
  ASSERT_TRUE(waitUntil([&] { return processCount("c1") == 4; })) << "saw " << processCount("c1");

  Status killed = cgroups_->killAll("c1");
  ASSERT_TRUE(killed.ok()) << killed;
  EXPECT_EQ(processCount("c1"), 0u);
  auto status = reap(*pid);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->signal, SIGKILL);

  Status destroyed = cgroups_->destroy("c1");
  ASSERT_TRUE(destroyed.ok()) << destroyed;
  for (const std::string& path : cgroups_->paths("c1")) EXPECT_FALSE(std::filesystem::exists(path)) << path;
  EXPECT_TRUE(cgroups_->containers()->empty());
  EXPECT_TRUE(cgroups_->destroy("c1").ok()) << "destroying twice is fine";
}

TEST_P(KernelCgroupsTest, SignalAllReachesEveryProcess) {
  ASSERT_TRUE(cgroups_->create("c1").ok());
  LaunchSpec spec = shell("");
  spec.argv = {"/bin/sleep", "1000"};
  auto pid = launcher_->launch("c1", spec);
  ASSERT_TRUE(pid.ok()) << pid.error();
  ASSERT_TRUE(cgroups_->signalAll("c1", SIGTERM).ok());
  auto status = reap(*pid);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->signal, SIGTERM);
}

TEST_P(KernelCgroupsTest, StatisticsArePlausible) {
  ASSERT_TRUE(cgroups_->create("c1").ok());
  bool memory = cgroups_->supports(Controller::kMemory);
  bool pids = cgroups_->supports(Controller::kPids);
  if (memory) {
    ASSERT_TRUE(cgroups_->setMemory("c1", {.softBytes = 64 * kMiB, .hardBytes = 64 * kMiB}).ok());
  }
  if (pids) {
    ASSERT_TRUE(cgroups_->setPidsLimit("c1", 32).ok());
  }
  // Burn some cpu, then stay around.
  auto pid = launcher_->launch("c1", shell("i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exec sleep 1000"));
  ASSERT_TRUE(pid.ok()) << pid.error();
  ASSERT_TRUE(waitUntil([&] { return trim(readFile("/proc/" + std::to_string(*pid) + "/comm")) == "sleep"; }));

  auto stats = cgroups_->statistics("c1");
  ASSERT_TRUE(stats.ok()) << stats.error();
  EXPECT_EQ(stats->processes, 1u);
  if (cgroups_->supports(Controller::kCpuacct)) {
    ASSERT_TRUE(stats->cpuUserSeconds && stats->cpuSystemSeconds);
    EXPECT_GT(*stats->cpuUserSeconds + *stats->cpuSystemSeconds, 0.0);
    EXPECT_LT(*stats->cpuUserSeconds + *stats->cpuSystemSeconds, 3600.0);
  }
  if (memory) {
    EXPECT_GT(stats->memoryUsageBytes.value(), 0u);
    EXPECT_LE(stats->memoryUsageBytes.value(), 64 * kMiB);
    EXPECT_EQ(stats->memoryLimitBytes, 64 * kMiB);
    EXPECT_EQ(stats->oomKills.value_or(0), 0u);
    EXPECT_FALSE(cgroups_->oomKilled("c1").value());
  }
  if (pids) {
    EXPECT_EQ(stats->pidsCurrent, 1u);
    EXPECT_EQ(stats->pidsMax, 32u);
  }
  ASSERT_TRUE(cgroups_->killAll("c1").ok());
  EXPECT_EQ(reap(*pid)->signal, SIGKILL);
}

TEST_P(KernelCgroupsTest, ContainersAreListedForOrphanCleanup) {
  ASSERT_TRUE(cgroups_->create("b").ok());
  ASSERT_TRUE(cgroups_->create("a").ok());
  EXPECT_EQ(cgroups_->create("a").code(), Status::Code::kAlreadyExists);
  auto ids = cgroups_->containers();
  ASSERT_TRUE(ids.ok()) << ids.error();
  EXPECT_EQ(*ids, (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(cgroups_->destroy("a").ok());
  ASSERT_TRUE(cgroups_->destroy("b").ok());
  EXPECT_TRUE(cgroups_->containers()->empty());
}

TEST_P(KernelCgroupsTest, HoldsTellsWhetherAPidIsInTheContainer) {
  // What a restarted agent asks of every container it adopts.
  ASSERT_TRUE(cgroups_->create("c1").ok());
  ASSERT_TRUE(cgroups_->create("c2").ok());
  auto pid = launcher_->launch("c1", shell("exec sleep 1000"));
  ASSERT_TRUE(pid.ok()) << pid.error();
  EXPECT_TRUE(cgroups_->holds("c1", *pid).value());
  EXPECT_FALSE(cgroups_->holds("c2", *pid).value());
  EXPECT_FALSE(cgroups_->holds("c1", ::getpid()).value());
  // A container whose name extends another's is not it.
  ASSERT_TRUE(cgroups_->create("c").ok());
  EXPECT_FALSE(cgroups_->holds("c", *pid).value());
  EXPECT_FALSE(cgroups_->holds("../c1", *pid).ok());
  ASSERT_TRUE(cgroups_->killAll("c1").ok());
  ASSERT_TRUE(reap(*pid).ok());
  EXPECT_FALSE(cgroups_->holds("c1", *pid).value());
}

TEST_P(KernelCgroupsTest, PidNamespaceInsideTheContainer) {
  ASSERT_TRUE(cgroups_->create("c1").ok());
  LaunchSpec spec = shell("echo $$");
  spec.pidNamespace = true;
  auto pid = launcher_->launch("c1", spec);
  if (!pid.ok() && pid.error().message().find("Operation not permitted") != std::string::npos) {
    GTEST_SKIP() << "pid/mount namespaces are not permitted here: " << pid.error();
  }
  ASSERT_TRUE(pid.ok()) << pid.error();
  ASSERT_TRUE(reap(*pid)->success()) << readFile(sandbox_ / "stderr");
  EXPECT_EQ(readFile(sandbox_ / "stdout"), "1\n");
}

INSTANTIATE_TEST_SUITE_P(Kernel, KernelCgroupsTest,
                         ::testing::Values(CgroupsVersion::kV1, CgroupsVersion::kV2),
                         [](const auto& info) { return describe(info.param); });

TEST(KernelCgroupsDetection, DetectsThisMachine) {
  auto cgroups = detectCgroups();
  if (!cgroups.ok()) GTEST_SKIP() << "no cgroups on this machine: " << cgroups.error();
  bool unified = std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers");
  EXPECT_EQ((*cgroups)->version(), unified ? CgroupsVersion::kV2 : CgroupsVersion::kV1);
}

}  // namespace
}  // namespace agora::containerizer
