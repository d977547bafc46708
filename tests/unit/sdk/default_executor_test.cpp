#include "default_executor.hpp"

#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "agora/common/clock.hpp"
#include "agora/executor_core.hpp"
#include "fake_runner.hpp"
#include "sdk_test_util.hpp"

namespace agora::sdk {
namespace {

using namespace std::chrono_literals;
using testing::commandTask;
using testing::exited;
using testing::FakeAgent;
using testing::FakeRunner;
using testing::InMemoryNetwork;
using testing::signalled;
using ::testing::HasSubstr;

class DefaultExecutorTest : public testing::ExecutorHarness {
 protected:
  void SetUp() override {
    sandbox_ = std::filesystem::temp_directory_path() / ("agora-default-executor-" + std::to_string(::getpid()));
    std::filesystem::create_directories(sandbox_);
    CommandExecutorOptions options;
    options.directory = sandbox_.string();
    options.environment = {"PATH=/usr/bin:/bin", "AGORA_SANDBOX=" + sandbox_.string()};
    executor_ = std::make_unique<DefaultExecutor>(clock_, runner_, options);
    startDriver(*executor_, "default");
  }
  void TearDown() override { std::filesystem::remove_all(sandbox_); }

  // The last state reported for each task.
  std::map<std::string, v1::TaskStatus> latest() const {
    std::map<std::string, v1::TaskStatus> out;
    for (const auto& call : agent_.callsOfType(v1::executor::Call::UPDATE)) {
      out[call.update().status().task_id().value()] = call.update().status();
    }
    return out;
  }
  int pidOf(const std::string& command) const {
    for (size_t i = 0; i < runner_.specs.size(); ++i) {
      const auto& argv = runner_.specs[i].argv;
      if (!argv.empty() && argv.back() == command) return 100 + static_cast<int>(i);
    }
    return -1;
  }

  std::filesystem::path sandbox_;
  std::unique_ptr<DefaultExecutor> executor_;
};

TEST_F(DefaultExecutorTest, EveryTaskRunsInItsOwnSandboxAndTheExecutorExitsWhenAllAreDone) {
  agent_.autoAcknowledge = true;
  agent_.launchGroup(peer_, {commandTask("web", "serve"), commandTask("sidecar", "tail")});
  network_.settle();
  ASSERT_EQ(runner_.specs.size(), 2u);
  for (const char* id : {"web", "sidecar"}) {
    std::string dir = (sandbox_ / "tasks" / id).string();
    EXPECT_TRUE(std::filesystem::is_directory(dir)) << id;
    const ProcessSpec& spec = runner_.specs[std::string(id) == "web" ? 0 : 1];
    EXPECT_EQ(spec.workingDirectory, dir);
    EXPECT_EQ(spec.stdoutPath, dir + "/stdout");
    EXPECT_THAT(spec.environment, ::testing::Contains("AGORA_SANDBOX=" + dir));
  }
  EXPECT_EQ(latest()["web"].state(), v1::TASK_RUNNING);
  EXPECT_EQ(latest()["sidecar"].state(), v1::TASK_RUNNING);

  runner_.exit(pidOf("serve"), exited(0));
  network_.settle();
  EXPECT_EQ(latest()["web"].state(), v1::TASK_FINISHED);
  EXPECT_EQ(latest()["sidecar"].state(), v1::TASK_RUNNING) << "a task that finishes leaves the group running";
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kSubscribed);

  runner_.exit(pidOf("tail"), exited(0));
  network_.settle();
  EXPECT_EQ(latest()["sidecar"].state(), v1::TASK_FINISHED);
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kStopped) << "every task done and acknowledged";
}

TEST_F(DefaultExecutorTest, AFailedTaskKillsTheRestOfItsGroupOnly) {
  agent_.autoAcknowledge = true;
  agent_.launchGroup(peer_, {commandTask("a1", "a1"), commandTask("a2", "a2")});
  agent_.launchGroup(peer_, {commandTask("b1", "b1")});
  network_.settle();
  ASSERT_EQ(runner_.specs.size(), 3u);

  runner_.exit(pidOf("a1"), exited(2));
  network_.settle();
  EXPECT_EQ(latest()["a1"].state(), v1::TASK_FAILED);
  EXPECT_EQ(runner_.signalsTo(pidOf("a2")), std::vector<int>{SIGTERM});
  EXPECT_TRUE(runner_.signalsTo(pidOf("b1")).empty()) << "another group is not touched";
  runner_.exit(pidOf("a2"), signalled(SIGTERM));
  network_.settle();
  EXPECT_EQ(latest()["a2"].state(), v1::TASK_KILLED);
  EXPECT_THAT(latest()["a2"].message(), HasSubstr("Killed with its group: task a1 ended"));
  EXPECT_EQ(latest()["b1"].state(), v1::TASK_RUNNING);
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kSubscribed);
}

TEST_F(DefaultExecutorTest, KillingOneTaskKillsItsGroup) {
  agent_.autoAcknowledge = true;
  agent_.launchGroup(peer_, {commandTask("a1", "a1"), commandTask("a2", "a2")});
  network_.settle();
  agent_.kill(peer_, "a2", 1s);
  network_.settle();
  EXPECT_EQ(runner_.signalsTo(pidOf("a2")), std::vector<int>{SIGTERM});
  EXPECT_EQ(runner_.signalsTo(pidOf("a1")), std::vector<int>{SIGTERM});
  clock_.advance(1s);
  EXPECT_EQ(runner_.signalsTo(pidOf("a2")), (std::vector<int>{SIGTERM, SIGKILL})) << "the kill's policy";
  EXPECT_EQ(runner_.signalsTo(pidOf("a1")), std::vector<int>{SIGTERM}) << "the others keep their own grace (3 s)";
  runner_.exit(pidOf("a1"), signalled(SIGTERM));
  runner_.exit(pidOf("a2"), signalled(SIGKILL));
  network_.settle();
  EXPECT_EQ(latest()["a1"].state(), v1::TASK_KILLED);
  EXPECT_EQ(latest()["a2"].state(), v1::TASK_KILLED);
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kStopped);
}

TEST_F(DefaultExecutorTest, ATaskThatCannotStartKillsTheOthersOfItsGroup) {
  agent_.autoAcknowledge = true;
  runner_.failStart = true;
  agent_.launchGroup(peer_, {commandTask("bad", "nope"), commandTask("good", "serve")});
  network_.settle();
  EXPECT_EQ(latest()["bad"].state(), v1::TASK_FAILED);
  EXPECT_EQ(latest()["good"].state(), v1::TASK_KILLED);
  EXPECT_THAT(latest()["good"].message(), HasSubstr("failed to start"));
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kStopped);
}

TEST_F(DefaultExecutorTest, DuplicateTaskIdsAreRefusedAndAPlainLaunchIsAGroupOfOne) {
  agent_.launch(peer_, commandTask("solo", "solo"));
  network_.settle();
  EXPECT_EQ(latest()["solo"].state(), v1::TASK_RUNNING);
  EXPECT_TRUE(std::filesystem::is_directory(sandbox_ / "tasks" / "solo"));
  agent_.launchGroup(peer_, {commandTask("solo", "again")});
  network_.settle();
  EXPECT_EQ(agent_.lastUpdate().state(), v1::TASK_FAILED);
  EXPECT_THAT(agent_.lastUpdate().message(), HasSubstr("already launched"));
  EXPECT_EQ(runner_.specs.size(), 1u);
}

TEST_F(DefaultExecutorTest, ShutdownKillsEveryTaskThenExits) {
  agent_.autoAcknowledge = true;
  agent_.launchGroup(peer_, {commandTask("a1", "a1")});
  agent_.launchGroup(peer_, {commandTask("b1", "b1")});
  network_.settle();
  agent_.shutdown(peer_);
  network_.settle();
  EXPECT_EQ(runner_.signalsTo(pidOf("a1")), std::vector<int>{SIGTERM});
  EXPECT_EQ(runner_.signalsTo(pidOf("b1")), std::vector<int>{SIGTERM});
  runner_.exit(pidOf("a1"), signalled(SIGTERM));
  runner_.exit(pidOf("b1"), signalled(SIGTERM));
  network_.settle();
  EXPECT_EQ(driver_->state(), ExecutorDriver::State::kStopped);
}

}  // namespace
}  // namespace agora::sdk
