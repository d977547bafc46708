// Real processes through the posix containerizer: a /bin/sh stand-in for an
// executor. Time still moves only on the FakeClock; the loops below just
// give the real processes a chance to run between fake polls.

#include <utility>  // Before any Asio header (STYLE.md).

#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <boost/asio/io_context.hpp>

#include "agent_fixture.hpp"
#include "agora/agent/posix_containerizer.hpp"

namespace agora::agent {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// Processes of process group `pgid` that are not zombies.
int liveMembersOfGroup(pid_t pgid) {
  int live = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = readFile(entry.path().string() + "/stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string state;
    long ppid = 0;
    long group = 0;
    fields >> state >> ppid >> group;
    if (group == pgid && state != "Z") ++live;
  }
  return live;
}

class PosixContainerizerTest : public ::testing::Test {
 protected:
  PosixContainerizerTest() {
    char pattern[] = "/tmp/agora-posix-test-XXXXXX";
    sandbox_ = mkdtemp(pattern);
  }
  ~PosixContainerizerTest() override {
    containerizer_.reset();
    std::error_code ec;
    std::filesystem::remove_all(sandbox_, ec);
  }

  ContainerConfig shell(const std::string& id, const std::string& script) {
    ContainerConfig config;
    config.containerId = id;
    config.sandbox = sandbox_;
    config.argv = {"/bin/sh", "-c", script};
    config.env["AGORA_FRAMEWORK_ID"] = "fw-1";
    return config;
  }

  // Advances the fake clock poll by poll until `done` holds (bounded).
  template <typename Predicate>
  bool pollUntil(Predicate done) {
    for (int i = 0; i < 3000 && !done(); ++i) {
      clock_.advance(std::chrono::milliseconds(100));
      if (!done()) usleep(2000);
    }
    return done();
  }

  std::string sandbox_;
  FakeClock clock_;
  std::unique_ptr<Containerizer> containerizer_ = makePosixContainerizer(clock_);
};

TEST_F(PosixContainerizerTest, RunsTheExecutorInItsSandboxAndReportsItsExit) {
  std::optional<Result<pid_t>> launched;
  containerizer_->launch(shell("c1", "echo out; echo \"$AGORA_FRAMEWORK_ID\" >&2; exit 3"),
                         [&](Result<pid_t> pid) { launched = pid; });
  clock_.advance(Duration::zero());
  ASSERT_TRUE(launched && launched->ok()) << (launched ? launched->status().toString() : "no callback");
  std::optional<ContainerTermination> ended;
  containerizer_->wait("c1", [&](const ContainerTermination& t) { ended = t; });
  ASSERT_TRUE(pollUntil([&] { return ended.has_value(); }));
  ASSERT_TRUE(ended->waitStatus.has_value());
  EXPECT_TRUE(WIFEXITED(*ended->waitStatus));
  EXPECT_EQ(WEXITSTATUS(*ended->waitStatus), 3);
  EXPECT_EQ(ended->message, "exited with status 3");
  EXPECT_EQ(readFile(sandbox_ + "/stdout"), "out\n");
  EXPECT_EQ(readFile(sandbox_ + "/stderr"), "fw-1\n");  // Only the given environment.
}

TEST_F(PosixContainerizerTest, DestroyTerminatesTheProcessTree) {
  std::optional<Result<pid_t>> launched;
  containerizer_->launch(shell("c2", "sleep 100 & sleep 100; wait"), [&](Result<pid_t> pid) { launched = pid; });
  clock_.advance(Duration::zero());
  ASSERT_TRUE(launched && launched->ok());
  pid_t pid = **launched;
  std::optional<ContainerTermination> ended;
  containerizer_->wait("c2", [&](const ContainerTermination& t) { ended = t; });
  clock_.advance(std::chrono::milliseconds(300));
  EXPECT_FALSE(ended.has_value());
  containerizer_->destroy("c2", std::chrono::seconds(3));
  ASSERT_TRUE(pollUntil([&] { return ended.has_value(); }));
  EXPECT_NE(ended->message.find("signal"), std::string::npos) << ended->message;
  EXPECT_NE(::kill(pid, 0), 0);
  // Nothing of the process group runs any more (zombies wait for init).
  EXPECT_EQ(liveMembersOfGroup(pid), 0);
}

TEST_F(PosixContainerizerTest, LaunchErrorsComeBackAsStatus) {
  ContainerConfig config = shell("c3", "true");
  config.argv = {sandbox_ + "/no-such-binary"};
  std::optional<Result<pid_t>> launched;
  containerizer_->launch(config, [&](Result<pid_t> pid) { launched = pid; });
  clock_.advance(Duration::zero());
  ASSERT_TRUE(launched.has_value());
  EXPECT_FALSE(launched->ok());
}

TEST_F(PosixContainerizerTest, RecoverAdoptsOnlyLiveProcesses) {
  std::optional<Result<pid_t>> launched;
  containerizer_->launch(shell("c4", "sleep 100"), [&](Result<pid_t> pid) { launched = pid; });
  clock_.advance(Duration::zero());
  ASSERT_TRUE(launched && launched->ok());
  // A second containerizer (a restarted agent) adopts it.
  std::unique_ptr<Containerizer> restarted = makePosixContainerizer(clock_);
  RecoveredContainer live{"c4", {}, {}, **launched, sandbox_};
  RecoveredContainer dead{"c5", {}, {}, 999999999, sandbox_};
  auto alive = restarted->recover({live, dead});
  ASSERT_TRUE(alive.ok());
  EXPECT_EQ(*alive, std::set<std::string>{"c4"});
  std::optional<ContainerTermination> ended;
  restarted->wait("c4", [&](const ContainerTermination& t) { ended = t; });
  restarted->destroy("c4", Duration::zero());
  // The first containerizer is its parent and reaps it; the adopter sees it go.
  ASSERT_TRUE(pollUntil([&] { return ended.has_value(); }));
  EXPECT_FALSE(ended->waitStatus.has_value());
}

// As agora-agent runs it: on a real loop that watches pidfds, with polls
// every hour, so whatever it sees, it saw through the watches.
TEST_F(PosixContainerizerTest, ExitsAndDestroysAreSeenThroughPidfdsWithoutPolling) {
  boost::asio::io_context loop;
  AsioClock clock(loop);
  PosixContainerizerOptions options;
  options.pollInterval = std::chrono::hours(1);
  options.watchReadable = asioWatchReadable(loop);
  auto watched = makePosixContainerizer(clock, options);
  auto runUntil = [&loop](const std::function<bool()>& done) {
    for (int i = 0; i < 600 && !done(); ++i) {
      loop.restart();
      loop.run_for(std::chrono::milliseconds(100));
    }
    return done();
  };
  std::map<std::string, pid_t> pids;
  std::map<std::string, ContainerTermination> ended;
  for (const auto& [id, script] : {std::pair<std::string, std::string>{"exits", "exit 3"}, {"runs", "exec sleep 1000"}}) {
    watched->launch(shell(id, script), [&, id = id](Result<pid_t> pid) {
      ASSERT_TRUE(pid.ok()) << pid.error().message();
      pids[id] = *pid;
      watched->wait(id, [&ended, id](const ContainerTermination& t) { ended[id] = t; });
    });
  }
  ASSERT_TRUE(runUntil([&] { return pids.size() == 2; }));
  ASSERT_TRUE(runUntil([&] { return ended.count("exits") == 1; }));
  EXPECT_EQ(ended.at("exits").message, "exited with status 3");
  EXPECT_EQ(ended.count("runs"), 0u);
  watched->destroy("runs", Duration::zero());
  ASSERT_TRUE(runUntil([&] { return ended.count("runs") == 1; }));
  EXPECT_EQ(ended.at("runs").waitStatus, SIGKILL);

  // Adopted by a restarted agent, which is not its parent: the pidfd tells
  // that it ended even while it is still our zombie.
  std::optional<Result<pid_t>> launched;
  containerizer_->launch(shell("adopted", "exec sleep 1000"), [&](Result<pid_t> pid) { launched = pid; });
  clock_.advance(Duration::zero());
  ASSERT_TRUE(launched && launched->ok());
  pid_t adopted = **launched;
  auto restarted = makePosixContainerizer(clock, options);
  ASSERT_EQ(restarted->recover({{"adopted", {}, {}, adopted, sandbox_}}).value(), std::set<std::string>{"adopted"});
  std::optional<ContainerTermination> adoptedEnded;
  restarted->wait("adopted", [&](const ContainerTermination& t) { adoptedEnded = t; });
  ASSERT_EQ(::kill(adopted, SIGKILL), 0);
  ASSERT_TRUE(runUntil([&] { return adoptedEnded.has_value(); }));
  EXPECT_EQ(adoptedEnded->message, "The executor process is gone");
  int status = 0;
  EXPECT_EQ(::waitpid(adopted, &status, 0), adopted);  // It was a zombie all along.
}

// The whole posix path: RunTask -> sandbox -> a real process that exits
// without subscribing -> TASK_FAILED with REASON_EXECUTOR_TERMINATED.
class AgentPosixTest : public AgentTest {
 protected:
  AgentPosixTest() { realContainerizer_ = makePosixContainerizer(clock_); }

  Status startRealAgent() {
    agentPeer_ = "agent:real";
    agentMessenger_ = network_.attach(agentPeer_, [this](const PeerId& from, internal::Envelope&& envelope) {
      if (agent_) agent_->receive(from, std::move(envelope));
    });
    agent_ = std::make_unique<Agent>(options_, clock_, *agentMessenger_, *realContainerizer_);
    return agent_->recover();
  }

  std::unique_ptr<Containerizer> realContainerizer_;
};

TEST_F(AgentPosixTest, ExecutorExitFailsTheTask) {
  ASSERT_TRUE(startRealAgent().ok());
  registerAgent();
  v1::TaskInfo task = commandTask("t1");
  task.clear_command();
  task.mutable_executor()->mutable_executor_id()->set_value("stand-in");
  task.mutable_executor()->mutable_command()->set_value("echo \"$AGORA_EXECUTOR_ID\"; exit 7");
  // Run as ourselves: no user switch even when the tests run as root.
  v1::FrameworkInfo framework = frameworkInfo();
  framework.set_user(getpwuid(geteuid())->pw_name);
  runTask(task, framework);
  auto updates = [&] { return updatesAtMaster(); };
  for (int i = 0; i < 3000 && updates().empty(); ++i) {
    clock_.advance(std::chrono::milliseconds(100));
    settle();
    usleep(2000);
  }
  ASSERT_EQ(updates().size(), 1u);
  internal::StatusUpdate update = updates()[0];
  EXPECT_EQ(update.status().state(), v1::TASK_FAILED);
  EXPECT_EQ(update.status().reason(), v1::TaskStatus::REASON_EXECUTOR_TERMINATED);
  EXPECT_NE(update.status().message().find("exited with status 7"), std::string::npos) << update.status().message();
  std::optional<std::string> sandbox = agent_->sandboxPath("fw-1", "t1");
  ASSERT_TRUE(sandbox.has_value());
  EXPECT_EQ(readFile(*sandbox + "/stdout"), "stand-in\n");
}

}  // namespace
}  // namespace agora::agent
