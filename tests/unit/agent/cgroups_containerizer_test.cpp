// The cgroups containerizer against the real kernel: real processes in real
// cgroups under a --cgroups_root of the test's own. Skips (naming what is
// missing) without root or without the controllers. Time moves only on the
// FakeClock; blocking work runs inline; the loops give the processes a
// chance to run between fake polls.

#include <utility>  // Before any Asio header (STYLE.md).

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <boost/asio/io_context.hpp>

#include "../containerizer/test_support.hpp"
#include "agent_fixture.hpp"
#include "agora/agent/cgroups_containerizer.hpp"

namespace agora::agent {
namespace {

namespace cz = agora::containerizer;
using cz::testing::readFile;
using cz::testing::trim;

class CgroupsContainerizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "cgroups isolation needs root";
    cz::CgroupsOptions options;
    options.cgroupsRoot = cz::testing::uniqueCgroupsRoot();
    auto cgroups = cz::detectCgroups(options);
    if (!cgroups.ok()) GTEST_SKIP() << "no cgroups: " << cgroups.error().message();
    for (cz::Controller c : {cz::Controller::kCpu, cz::Controller::kMemory, cz::Controller::kPids,
                             cz::Controller::kFreezer}) {
      if (!(*cgroups)->supports(c)) GTEST_SKIP() << "no " << cz::controllerName(c) << " controller";
    }
    cgroups_ = cgroups->get();
    CgroupsContainerizerOptions containerizerOptions;
    containerizerOptions.pidsMax = 32;
    containerizer_ = makeCgroupsContainerizer(clock_, std::move(*cgroups), containerizerOptions);
  }

  void TearDown() override {
    if (cgroups_ == nullptr) return;
    // Whatever a failed test left: killed and removed, then the root.
    auto left = cgroups_->containers();
    if (left.ok()) {
      for (const std::string& id : *left) {
        (void)cgroups_->killAll(id);
        (void)cgroups_->destroy(id);
      }
    }
    std::vector<std::string> roots = cgroups_->paths("x");
    containerizer_.reset();
    for (std::string& path : roots) std::filesystem::remove(std::filesystem::path(path).parent_path());
  }

  ContainerConfig shell(const std::string& id, const std::string& script, const std::string& resources) {
    ContainerConfig config;
    config.containerId = id;
    config.sandbox = sandbox_.path();
    config.argv = {"/bin/sh", "-c", script};
    config.env["PATH"] = "/usr/bin:/bin";
    config.resources = Resources::parse(resources).value();
    return config;
  }

  pid_t launch(const ContainerConfig& config) { return launch(*containerizer_, clock_, config); }

  static pid_t launch(Containerizer& containerizer, FakeClock& clock, const ContainerConfig& config) {
    std::optional<Result<pid_t>> launched;
    containerizer.launch(config, [&](Result<pid_t> pid) { launched = pid; });
    clock.advance(Duration::zero());
    EXPECT_TRUE(launched.has_value());
    if (!launched || !launched->ok()) {
      ADD_FAILURE() << (launched ? launched->error().message() : "no answer");
      return 0;
    }
    return **launched;
  }

  template <typename Predicate>
  bool pollUntil(Predicate done) {
    for (int i = 0; i < 3000 && !done(); ++i) {
      clock_.advance(std::chrono::milliseconds(100));
      if (!done()) usleep(2000);
    }
    return done();
  }

  std::string file(const std::string& id, cz::Controller controller, const std::string& name) {
    for (const std::string& path : cgroups_->paths(id)) {
      if (cgroups_->version() == cz::CgroupsVersion::kV2 ||
          path.find(std::string("/") + std::string(cz::controllerName(controller))) != std::string::npos) {
        return trim(readFile(path + "/" + name));
      }
    }
    return "";
  }

  bool gone(const std::string& id) {
    for (const std::string& path : cgroups_->paths(id)) {
      if (std::filesystem::exists(path)) return false;
    }
    return true;
  }

  // A second containerizer over the same cgroups root, as agora-agent runs
  // it: on a real loop that watches pidfds. Its polls would come only every
  // hour, so whatever it sees, it saw through the watches.
  std::unique_ptr<Containerizer> watchedContainerizer(boost::asio::io_context& loop, AsioClock& clock) {
    auto cgroups = cz::detectCgroups(cgroups_->options());
    EXPECT_TRUE(cgroups.ok());
    CgroupsContainerizerOptions options;
    options.pollInterval = std::chrono::hours(1);
    options.watchReadable = asioWatchReadable(loop);
    return makeCgroupsContainerizer(clock, std::move(*cgroups), options);
  }

  // Runs `loop` until `done` holds (bounded, in case it never does).
  static bool runUntil(boost::asio::io_context& loop, const std::function<bool()>& done) {
    for (int i = 0; i < 600 && !done(); ++i) {
      loop.restart();
      loop.run_for(std::chrono::milliseconds(100));
    }
    return done();
  }

  cz::testing::TempDir sandbox_;
  FakeClock clock_;
  cz::Cgroups* cgroups_ = nullptr;  // Owned by containerizer_.
  std::unique_ptr<Containerizer> containerizer_;
};

TEST_F(CgroupsContainerizerTest, WritesLimitsAndDestroysEverything) {
  pid_t pid = launch(shell("c1", "sleep 1000 & setsid sleep 1000 & exec sleep 1000", "cpus:0.5;mem:64"));
  ASSERT_GT(pid, 0);
  if (cgroups_->version() == cz::CgroupsVersion::kV1) {
    EXPECT_EQ(file("c1", cz::Controller::kCpu, "cpu.shares"), "512");
    EXPECT_EQ(file("c1", cz::Controller::kMemory, "memory.limit_in_bytes"), std::to_string(64 << 20));
  } else {
    EXPECT_EQ(file("c1", cz::Controller::kCpu, "cpu.weight"), "50");
    EXPECT_EQ(file("c1", cz::Controller::kMemory, "memory.max"), std::to_string(64 << 20));
  }
  EXPECT_EQ(file("c1", cz::Controller::kPids, "pids.max"), "32");
  // The executor is in the container, and so is everything it forked.
  ASSERT_TRUE(pollUntil([&] {
    auto processes = cgroups_->processes("c1");
    return processes.ok() && processes->size() >= 3;
  }));
  auto processes = cgroups_->processes("c1").value();
  EXPECT_TRUE(std::binary_search(processes.begin(), processes.end(), pid));

  std::optional<ContainerTermination> ended;
  containerizer_->wait("c1", [&](const ContainerTermination& t) { ended = t; });
  containerizer_->destroy("c1", Duration::zero());
  ASSERT_TRUE(pollUntil([&] { return ended.has_value(); }));
  EXPECT_EQ(ended->waitStatus, SIGKILL);
  EXPECT_FALSE(ended->reason.has_value());
  for (pid_t p : processes) EXPECT_NE(::kill(p, 0), 0) << "process " << p << " survived";
  EXPECT_TRUE(gone("c1"));
  EXPECT_TRUE(cz::testing::noChildren());
}

TEST_F(CgroupsContainerizerTest, GracePeriodLetsTheExecutorExit) {
  pid_t pid = launch(shell("c2", "trap 'exit 3' TERM; while true; do sleep 0.05; done", "cpus:0.1;mem:32"));
  ASSERT_GT(pid, 0);
  std::optional<ContainerTermination> ended;
  containerizer_->wait("c2", [&](const ContainerTermination& t) { ended = t; });
  usleep(200000);  // Let the shell install its trap (a fake clock cannot wait for that).
  containerizer_->destroy("c2", std::chrono::minutes(5));
  ASSERT_TRUE(pollUntil([&] { return ended.has_value(); }));
  EXPECT_EQ(ended->message, "exited with status 3");
  EXPECT_TRUE(gone("c2"));
}

TEST_F(CgroupsContainerizerTest, OutOfMemoryIsAMemoryLimitation) {
  pid_t pid = launch(shell("c3", "head -c 300m /dev/zero | tail; sleep 1000", "cpus:0.1;mem:32"));
  ASSERT_GT(pid, 0);
  std::optional<ContainerTermination> ended;
  containerizer_->wait("c3", [&](const ContainerTermination& t) { ended = t; });
  ASSERT_TRUE(pollUntil([&] { return ended.has_value(); }));
  EXPECT_EQ(ended->state, v1::TASK_FAILED);
  EXPECT_EQ(ended->reason, v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY);
  EXPECT_NE(ended->message.find("Memory limit exceeded"), std::string::npos) << ended->message;
  EXPECT_NE(ended->message.find("of limit 32.0 MB"), std::string::npos) << ended->message;
  ASSERT_TRUE(ended->limitation.has_value());
  EXPECT_EQ(ended->limitation->scalar("mem").toDouble(), 32);
  EXPECT_TRUE(gone("c3"));
  EXPECT_TRUE(cz::testing::noChildren());
}

// The kernel signals an OOM when the cgroup enters it and counts the kill a
// moment later: a poll in between sees no kill yet. These stand-ins signal
// at once and count the kill from the second look on; the containerizer
// must look again (it did not, and under CPU load missed about one real OOM
// kill in ten: OutOfMemoryIsAMemoryLimitation timed out).
class OomCountedLate : public cz::OomWatch {
 public:
  explicit OomCountedLate(std::shared_ptr<int> looks)
      : fd_(::eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK)), looks_(std::move(looks)) {}
  ~OomCountedLate() override { ::close(fd_); }
  int fd() const override { return fd_; }
  Result<bool> oomKilled() override {
    uint64_t drained = 0;
    (void)!::read(fd_, &drained, sizeof(drained));
    return ++*looks_ > 1;
  }

 private:
  int fd_;
  std::shared_ptr<int> looks_;
};

class LateOomCounts : public cz::CgroupsWrapper {
 public:
  using CgroupsWrapper::CgroupsWrapper;
  Result<std::unique_ptr<cz::OomWatch>> watchOom(const std::string&) override {
    return std::unique_ptr<cz::OomWatch>(std::make_unique<OomCountedLate>(looks_));
  }
  // The same counter, read directly.
  Result<bool> oomKilled(const std::string&) override { return *looks_ > 1; }

 private:
  std::shared_ptr<int> looks_ = std::make_shared<int>(0);
};

TEST_F(CgroupsContainerizerTest, AnOomKillCountedAfterItsNotificationIsStillSeen) {
  cz::CgroupsOptions options;
  options.cgroupsRoot = cz::testing::uniqueCgroupsRoot();
  auto real = cz::detectCgroups(options);
  ASSERT_TRUE(real.ok()) << real.status();
  auto containerizer = makeCgroupsContainerizer(clock_, std::make_unique<LateOomCounts>(real->get()), {});
  ASSERT_GT(launch(*containerizer, clock_, shell("late", "exec sleep 1000", "cpus:0.1;mem:32")), 0);
  std::optional<ContainerTermination> ended;
  containerizer->wait("late", [&](const ContainerTermination& t) { ended = t; });
  const bool seen = pollUntil([&] { return ended.has_value(); });
  if (!seen) containerizer->destroy("late", Duration::zero());
  pollUntil([&] { return !(*real)->containers().ok() || (*real)->containers()->empty(); });
  std::vector<std::string> roots = (*real)->paths("x");
  containerizer.reset();
  for (std::string& path : roots) std::filesystem::remove(std::filesystem::path(path).parent_path());
  ASSERT_TRUE(seen) << "the OOM kill counted after its notification was missed";
  EXPECT_EQ(ended->reason, v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY);
}

TEST_F(CgroupsContainerizerTest, CheckLimitationAndUsageOfALiveContainer) {
  ASSERT_GT(launch(shell("c4", "exec sleep 1000", "cpus:0.25;mem:48")), 0);
  std::optional<std::optional<ContainerTermination>> limitation;
  containerizer_->checkLimitation("c4", [&](std::optional<ContainerTermination> l) { limitation = l; });
  std::optional<std::map<std::string, ContainerUsage>> usage;
  containerizer_->usage({"c4", "unknown"}, [&](std::map<std::string, ContainerUsage> u) { usage = u; });
  clock_.advance(Duration::zero());
  ASSERT_TRUE(limitation.has_value());
  EXPECT_FALSE(limitation->has_value());
  ASSERT_TRUE(usage.has_value());
  ASSERT_EQ(usage->size(), 1u);
  const ContainerUsage& sample = usage->at("c4");
  EXPECT_EQ(sample.statistics.mem_limit_bytes(), 48u << 20);
  EXPECT_GE(sample.statistics.processes(), 1u);
  EXPECT_GT(sample.statistics.timestamp(), 0);
  EXPECT_EQ(sample.pidsLimit, 32u);
  EXPECT_GE(sample.pidsCurrent.value_or(0), 1u);
  containerizer_->destroy("c4", Duration::zero());
  ASSERT_TRUE(pollUntil([&] { return gone("c4"); }));
}

TEST_F(CgroupsContainerizerTest, RecoveryAdoptsKnownContainersAndDestroysOrphans) {
  pid_t live = launch(shell("known", "exec sleep 1000", "cpus:0.1;mem:32"));
  pid_t orphan = launch(shell("orphan", "exec sleep 1000", "cpus:0.1;mem:32"));
  ASSERT_GT(live, 0);
  ASSERT_GT(orphan, 0);
  // A restarted agent: a new containerizer over the same cgroups root. The
  // old one is dropped without ending anything.
  cz::CgroupsOptions options = cgroups_->options();
  auto cgroups = cz::detectCgroups(options);
  ASSERT_TRUE(cgroups.ok());
  // "dead": checkpointed, its cgroup is there, its executor is not.
  ASSERT_TRUE((*cgroups)->create("dead").ok());
  cz::Cgroups* fresh = cgroups->get();
  FakeClock clock;
  auto restarted = makeCgroupsContainerizer(clock, std::move(*cgroups), {});
  std::vector<RecoveredContainer> checkpointed = {
      {"known", {}, {}, live, sandbox_.path()},
      {"dead", {}, {}, 999999, sandbox_.path()},
      {"vanished", {}, {}, 999998, sandbox_.path()},
  };
  auto adopted = restarted->recover(checkpointed);
  ASSERT_TRUE(adopted.ok()) << adopted.error().message();
  EXPECT_EQ(*adopted, (std::set<std::string>{"dead", "known"}));
  std::optional<ContainerTermination> dead;
  restarted->wait("dead", [&](const ContainerTermination& t) { dead = t; });
  for (int i = 0; i < 100 && (!dead || ::kill(orphan, 0) == 0); ++i) {
    clock.advance(std::chrono::milliseconds(100));
    clock_.advance(std::chrono::milliseconds(100));  // Reaps the orphan (our child).
    usleep(2000);
  }
  ASSERT_TRUE(dead.has_value());
  EXPECT_EQ(dead->message, "Executor terminated while the agent was down");
  EXPECT_NE(::kill(orphan, 0), 0) << "the orphan survived";
  EXPECT_EQ(fresh->containers().value(), std::vector<std::string>{"known"});
  EXPECT_EQ(::kill(live, 0), 0);
  // The adopted executor ends: seen although it is not the new one's child.
  std::optional<ContainerTermination> ended;
  restarted->wait("known", [&](const ContainerTermination& t) { ended = t; });
  restarted->destroy("known", Duration::zero());
  for (int i = 0; i < 300 && !ended; ++i) {
    clock.advance(std::chrono::milliseconds(100));
    clock_.advance(std::chrono::milliseconds(100));  // The old one reaps its child.
    usleep(2000);
  }
  ASSERT_TRUE(ended.has_value());
  EXPECT_TRUE(fresh->containers().value().empty());
}

TEST_F(CgroupsContainerizerTest, ExitsAndDestroysAreSeenThroughPidfdsWithoutPolling) {
  boost::asio::io_context loop;
  AsioClock clock(loop);
  auto watched = watchedContainerizer(loop, clock);
  std::map<std::string, pid_t> pids;
  std::map<std::string, ContainerTermination> ended;
  for (const auto& [id, script] : {std::pair<std::string, std::string>{"exits", "exit 3"}, {"runs", "exec sleep 1000"}}) {
    watched->launch(shell(id, script, "cpus:0.1;mem:32"), [&, id = id](Result<pid_t> pid) {
      ASSERT_TRUE(pid.ok()) << pid.error().message();
      pids[id] = *pid;
      watched->wait(id, [&ended, id](const ContainerTermination& t) { ended[id] = t; });
    });
  }
  ASSERT_TRUE(runUntil(loop, [&] { return pids.size() == 2; }));
  ASSERT_TRUE(runUntil(loop, [&] { return ended.count("exits") == 1; }));
  EXPECT_EQ(ended.at("exits").message, "exited with status 3");
  EXPECT_TRUE(gone("exits"));
  EXPECT_EQ(ended.count("runs"), 0u);
  watched->destroy("runs", Duration::zero());
  ASSERT_TRUE(runUntil(loop, [&] { return ended.count("runs") == 1; }));
  EXPECT_EQ(ended.at("runs").waitStatus, SIGKILL);
  EXPECT_NE(::kill(pids.at("runs"), 0), 0);
  EXPECT_TRUE(gone("runs"));
  EXPECT_TRUE(cz::testing::noChildren());
}

TEST_F(CgroupsContainerizerTest, AnAdoptedExecutorsEndIsSeenThroughItsPidfd) {
  pid_t pid = launch(shell("adopted", "exec sleep 1000", "cpus:0.1;mem:32"));
  ASSERT_GT(pid, 0);
  // A restarted agent adopts it: not its child, yet it sees the exit.
  boost::asio::io_context loop;
  AsioClock clock(loop);
  auto watched = watchedContainerizer(loop, clock);
  auto adopted = watched->recover({{"adopted", {}, {}, pid, sandbox_.path()}});
  ASSERT_TRUE(adopted.ok()) << adopted.error().message();
  ASSERT_EQ(*adopted, std::set<std::string>{"adopted"});
  std::optional<ContainerTermination> ended;
  watched->wait("adopted", [&](const ContainerTermination& t) { ended = t; });
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  // Still a zombie of ours (the first agent's child): the pidfd tells all
  // the same.
  ASSERT_TRUE(runUntil(loop, [&] { return ended.has_value(); }));
  EXPECT_EQ(ended->message, "The executor process is gone");
  EXPECT_TRUE(gone("adopted"));
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
}


TEST_F(CgroupsContainerizerTest, AnOomKillWhileTheAgentWasDownIsFoundAfterRecovery) {
  // The shell (the "executor") survives; the kernel kills the allocating
  // child while no agent watches (this containerizer's clock never moves
  // again, so it never polls).
  pid_t pid = launch(shell("oomed", "head -c 300m /dev/zero | tail; exec sleep 1000", "cpus:0.1;mem:32"));
  ASSERT_GT(pid, 0);
  for (int i = 0; i < 500 && !cgroups_->oomKilled("oomed").valueOr(false); ++i) usleep(10000);
  ASSERT_TRUE(cgroups_->oomKilled("oomed").valueOr(false)) << "the kernel did not OOM-kill in the container";
  ASSERT_EQ(::kill(pid, 0), 0);
  // The restarted agent: its OOM notifier comes too late to tell of this
  // kill; the counter it reads after adopting does.
  boost::asio::io_context loop;
  AsioClock clock(loop);
  auto watched = watchedContainerizer(loop, clock);
  ASSERT_EQ(watched->recover({{"oomed", {}, {}, pid, sandbox_.path()}}).value(), std::set<std::string>{"oomed"});
  std::optional<ContainerTermination> ended;
  watched->wait("oomed", [&](const ContainerTermination& t) { ended = t; });
  ASSERT_TRUE(runUntil(loop, [&] { return ended.has_value(); }));
  EXPECT_EQ(ended->state, v1::TASK_FAILED);
  EXPECT_EQ(ended->reason, v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY);
  EXPECT_NE(ended->message.find("of limit 32.0 MB"), std::string::npos) << ended->message;
  EXPECT_TRUE(gone("oomed"));
  // Killed by the restarted one, reaped by the first (its parent).
  ASSERT_TRUE(pollUntil([&] { return ::kill(pid, 0) != 0; }));
}
TEST_F(CgroupsContainerizerTest, WithoutPidfdsExecutorsArePolled) {
  // As on a kernel without pidfd_open: waitpid for children, kill(pid, 0)
  // for adopted executors.
  auto cgroups = cz::detectCgroups(cgroups_->options());
  ASSERT_TRUE(cgroups.ok());
  CgroupsContainerizerOptions options;
  options.usePidfds = false;
  FakeClock firstClock;
  auto first = makeCgroupsContainerizer(firstClock, std::move(*cgroups), options);
  ASSERT_GT(launch(*first, firstClock, shell("exits", "exit 3", "cpus:0.1;mem:32")), 0);
  pid_t runs = launch(*first, firstClock, shell("runs", "exec sleep 1000", "cpus:0.1;mem:32"));
  ASSERT_GT(runs, 0);
  std::map<std::string, ContainerTermination> ended;
  for (const char* id : {"exits", "runs"}) {
    first->wait(id, [&ended, id](const ContainerTermination& t) { ended[id] = t; });
  }
  for (int i = 0; i < 3000 && !ended.count("exits"); ++i) {
    firstClock.advance(std::chrono::milliseconds(100));
    usleep(2000);
  }
  ASSERT_EQ(ended.count("exits"), 1u);
  EXPECT_EQ(ended.at("exits").message, "exited with status 3");
  EXPECT_TRUE(gone("exits"));

  // Adopted by a restarted agent without pidfds.
  auto fresh = cz::detectCgroups(cgroups_->options());
  ASSERT_TRUE(fresh.ok());
  FakeClock clock;
  auto restarted = makeCgroupsContainerizer(clock, std::move(*fresh), options);
  ASSERT_EQ(restarted->recover({{"runs", {}, {}, runs, sandbox_.path()}}).value(), std::set<std::string>{"runs"});
  std::optional<ContainerTermination> adoptedEnded;
  restarted->wait("runs", [&](const ContainerTermination& t) { adoptedEnded = t; });
  restarted->destroy("runs", Duration::zero());
  for (int i = 0; i < 300 && !(adoptedEnded && ended.count("runs")); ++i) {
    clock.advance(std::chrono::milliseconds(100));
    firstClock.advance(std::chrono::milliseconds(100));  // The first one reaps its child.
    usleep(2000);
  }
  ASSERT_TRUE(adoptedEnded.has_value());
  EXPECT_EQ(adoptedEnded->message, "The executor process is gone");
  ASSERT_EQ(ended.count("runs"), 1u);
  EXPECT_EQ(ended.at("runs").waitStatus, SIGKILL);
  EXPECT_TRUE(gone("runs"));
  EXPECT_TRUE(cz::testing::noChildren());
}

}  // namespace
}  // namespace agora::agent
