// Real processes: the command executor's PosixProcessRunner, alone and under
// a CommandExecutor. Exits reach the test through a posted-function queue that
// the test thread drains (the executor's loop); waits are bounded only as a
// guard against hangs, never as an assertion about speed.

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "agora/common/clock.hpp"
#include "agora/executor_core.hpp"
#include "command_executor.hpp"
#include "process_runner.hpp"
#include "sdk_test_util.hpp"

namespace agora::sdk {
namespace {

using namespace std::chrono_literals;
using testing::FakeAgent;
using testing::InMemoryNetwork;
using ::testing::HasSubstr;

// The loop: functions posted from any thread, run on the test thread.
class PostQueue {
 public:
  void post(std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(fn));
    ready_.notify_all();
  }

  // Runs posted functions until `done()` holds. Gives up after a generous
  // guard so that a bug fails the test instead of hanging it.
  bool runUntil(const std::function<bool()>& done) {
    auto guard = std::chrono::steady_clock::now() + 120s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > guard) return false;
      std::deque<std::function<void()>> batch;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait_for(lock, 20ms, [this] { return !queue_.empty(); });
        batch.swap(queue_);
      }
      for (auto& fn : batch) fn();
    }
    return true;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;  // Guarded by mutex_.
};

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "agora-sdk-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::vector<std::string> baseEnvironment() { return {"PATH=/usr/local/bin:/usr/bin:/bin"}; }

TEST(PosixProcessRunnerTest, ExitStatusAndOutputFile) {
  TempDir dir;
  PostQueue loop;
  PosixProcessRunner runner([&](std::function<void()> fn) { loop.post(std::move(fn)); });
  ProcessSpec spec;
  spec.path = "/bin/sh";
  spec.argv = {"sh", "-c", "echo hi; echo oops >&2; exit 3"};
  spec.environment = baseEnvironment();
  spec.workingDirectory = dir.path();
  spec.stdoutPath = dir.path() / "stdout";
  spec.stderrPath = dir.path() / "stderr";

  std::optional<int> status;
  Result<int> pid = runner.start(spec, [&](int s) { status = s; });
  ASSERT_TRUE(pid.ok()) << pid.status();
  ASSERT_TRUE(loop.runUntil([&] { return status.has_value(); }));
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 3);
  EXPECT_EQ(readFile(dir.path() / "stdout"), "hi\n");
  EXPECT_EQ(readFile(dir.path() / "stderr"), "oops\n");
  EXPECT_FALSE(runner.signalGroup(*pid, SIGTERM).ok()) << "an exited process is no longer signalled";
}

TEST(PosixProcessRunnerTest, RunsInItsOwnSessionAndDirectoryWithTheGivenEnvironment) {
  TempDir dir;
  PostQueue loop;
  PosixProcessRunner runner([&](std::function<void()> fn) { loop.post(std::move(fn)); });
  ProcessSpec spec;
  spec.path = "sh";  // Found in PATH.
  spec.argv = {"sh", "-c", "echo $$; cut -d' ' -f5 /proc/$$/stat; cut -d' ' -f6 /proc/$$/stat; pwd; echo $GREETING"};
  spec.environment = {"PATH=/usr/bin:/bin", "GREETING=hello"};
  spec.workingDirectory = dir.path();
  spec.stdoutPath = dir.path() / "out";
  std::optional<int> status;
  Result<int> pid = runner.start(spec, [&](int s) { status = s; });
  ASSERT_TRUE(pid.ok()) << pid.status();
  ASSERT_TRUE(loop.runUntil([&] { return status.has_value(); }));
  EXPECT_EQ(*status, 0);
  std::string expected = std::to_string(*pid) + "\n" + std::to_string(*pid) + "\n" + std::to_string(*pid) + "\n" +
                         std::filesystem::canonical(dir.path()).string() + "\nhello\n";
  EXPECT_EQ(readFile(dir.path() / "out"), expected) << "pid, process group, session, directory, environment";
}

TEST(PosixProcessRunnerTest, StartErrorsAreReported) {
  TempDir dir;
  PostQueue loop;
  PosixProcessRunner runner([&](std::function<void()> fn) { loop.post(std::move(fn)); });
  ProcessSpec missing;
  missing.path = "agora-no-such-program";
  missing.environment = baseEnvironment();
  Result<int> pid = runner.start(missing, [](int) { ADD_FAILURE() << "never started"; });
  ASSERT_FALSE(pid.ok());
  EXPECT_THAT(pid.error().message(), HasSubstr("not found"));

  ProcessSpec notExecutable;
  notExecutable.path = (dir.path() / "data").string();
  std::ofstream(notExecutable.path) << "not a program";
  pid = runner.start(notExecutable, [](int) { ADD_FAILURE() << "never started"; });
  ASSERT_FALSE(pid.ok());
  EXPECT_THAT(pid.error().message(), HasSubstr("Failed to execute"));

  ProcessSpec badDirectory;
  badDirectory.path = "/bin/true";
  badDirectory.workingDirectory = (dir.path() / "missing").string();
  pid = runner.start(badDirectory, [](int) { ADD_FAILURE() << "never started"; });
  ASSERT_FALSE(pid.ok());
  EXPECT_THAT(pid.error().message(), HasSubstr("working directory"));
}

TEST(PosixProcessRunnerTest, DestructionKillsWhatStillRuns) {
  PostQueue loop;
  int pid = 0;
  {
    PosixProcessRunner runner([&](std::function<void()> fn) { loop.post(std::move(fn)); });
    ProcessSpec spec;
    spec.path = "/bin/sleep";
    spec.argv = {"sleep", "600"};
    Result<int> started = runner.start(spec, [](int) { ADD_FAILURE() << "callbacks die with the runner"; });
    ASSERT_TRUE(started.ok());
    pid = *started;
  }
  EXPECT_NE(::kill(pid, 0), 0) << "killed and reaped";
  loop.runUntil([] { return true; });
}

// The whole command executor on real processes, over the in-memory network
// and a fake clock (only the processes are real).
class CommandExecutorRealProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    agent_.autoAcknowledge = true;
    CommandExecutorOptions options;
    options.directory = dir_.path();
    options.environment = baseEnvironment();
    executor_ = std::make_unique<CommandExecutor>(clock_, runner_, options);
    messenger_ = network_.attach(peer_, [this](const PeerId& from, internal::Envelope&& e) {
      driver_->handle(from, std::move(e));
    });
    ExecutorEnvironment env;
    env.frameworkId.set_value("fw-1");
    env.executorId.set_value("t1");
    driver_ = std::make_unique<ExecutorDriverCore>(*executor_, env, clock_, *messenger_, agent_.id());
    driver_->start();
    network_.settle();
    agent_.subscribed(peer_);
    network_.settle();
  }

  void launch(const std::string& command) {
    v1::TaskInfo task;
    task.set_name("task");
    task.mutable_task_id()->set_value("t1");
    task.mutable_agent_id()->set_value("agent-1");
    task.mutable_command()->set_value(command);
    agent_.launch(peer_, task);
    network_.settle();
  }

  // Runs the loop and the network until `count` updates reached the agent.
  bool awaitUpdates(size_t count) {
    return loop_.runUntil([&] {
      network_.settle();
      return agent_.updateStates().size() >= count;
    });
  }

  bool awaitOutput(const std::string& text) {
    return loop_.runUntil([&] { return readFile(dir_.path() / "stdout").find(text) != std::string::npos; });
  }

  TempDir dir_;
  PostQueue loop_;
  FakeClock clock_;
  InMemoryNetwork network_;
  FakeAgent agent_{network_, "agent:1"};
  PosixProcessRunner runner_{[this](std::function<void()> fn) { loop_.post(std::move(fn)); }};
  std::unique_ptr<CommandExecutor> executor_;
  PeerId peer_ = newExecutorPeerId();
  std::unique_ptr<Messenger> messenger_;
  std::unique_ptr<ExecutorDriverCore> driver_;
};

TEST_F(CommandExecutorRealProcessTest, EchoAndExitThree) {
  launch("echo hi; exit 3");
  ASSERT_TRUE(awaitUpdates(3));
  EXPECT_EQ(agent_.updateStates(), (std::vector<v1::TaskState>{v1::TASK_STARTING, v1::TASK_RUNNING, v1::TASK_FAILED}));
  EXPECT_EQ(agent_.lastUpdate().message(), "Command exited with status 3");
  EXPECT_EQ(readFile(dir_.path() / "stdout"), "hi\n");
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kStopped);
}

// A task that traps SIGTERM survives it and dies of SIGKILL when the grace
// period (on the fake clock) ends.
TEST_F(CommandExecutorRealProcessTest, TermTrappedThenKilled) {
  launch("trap 'echo term-received' TERM; echo ready; while true; do sleep 1; done");
  ASSERT_EQ(agent_.updateStates(), (std::vector<v1::TaskState>{v1::TASK_STARTING, v1::TASK_RUNNING}));
  ASSERT_TRUE(awaitOutput("ready"));

  agent_.kill(peer_, "t1");
  network_.settle();
  ASSERT_TRUE(awaitOutput("term-received"));
  EXPECT_EQ(agent_.updateStates().size(), 2u) << "the shell survived SIGTERM";

  clock_.advance(3s);  // The default grace period: SIGKILL.
  ASSERT_TRUE(awaitUpdates(3));
  EXPECT_EQ(agent_.lastUpdate().state(), v1::TASK_KILLED);
  EXPECT_EQ(agent_.lastUpdate().message(), "Command terminated with signal Killed");
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kStopped);
}

}  // namespace
}  // namespace agora::sdk
