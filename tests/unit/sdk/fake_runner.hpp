#pragma once

// A ProcessRunner for tests of the command and default executors and their
// checks, and the harness those tests share.

#include <map>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "agora/common/clock.hpp"
#include "agora/executor_core.hpp"
#include "process_runner.hpp"
#include "sdk_test_util.hpp"

namespace agora::sdk::testing {

inline int exited(int code) { return code << 8; }
inline int signalled(int sig) { return sig; }

// Records what the executor asks for; the test decides when processes exit.
class FakeRunner : public ProcessRunner {
 public:
  Result<int> start(const ProcessSpec& spec, ExitCallback onExit) override {
    if (failStart) return Status::NotFound("Program 'nope' not found in PATH");
    specs.push_back(spec);
    int pid = nextPid++;
    running[pid] = std::move(onExit);
    return pid;
  }
  Status signalGroup(int pid, int signal) override {
    if (running.count(pid) == 0) return Status::NotFound("No running process");
    signals.emplace_back(pid, signal);
    return Status::OK();
  }
  void exit(int pid, int waitStatus) {
    auto callback = std::move(running.at(pid));
    running.erase(pid);
    callback(waitStatus);
  }
  std::vector<int> signalsTo(int pid) const {
    std::vector<int> out;
    for (const auto& [p, s] : signals) {
      if (p == pid) out.push_back(s);
    }
    return out;
  }

  bool failStart = false;
  int nextPid = 100;
  std::vector<ProcessSpec> specs;
  std::vector<std::pair<int, int>> signals;
  std::map<int, ExitCallback> running;
};

inline v1::TaskInfo commandTask(const std::string& id, const std::string& command) {
  v1::TaskInfo task;
  task.set_name(id);
  task.mutable_task_id()->set_value(id);
  task.mutable_agent_id()->set_value("agent-1");
  task.mutable_command()->set_value(command);
  return task;
}

// An executor under test behind a real ExecutorDriverCore, talking to a
// FakeAgent over the in-memory network, with a fake clock and runner.
class ExecutorHarness : public ::testing::Test {
 protected:
  static ExecutorEnvironment environment(const std::string& executorId) {
    ExecutorEnvironment env;
    env.agentEndpoint = "ipc:///tmp/agent.sock";
    env.frameworkId.set_value("fw-1");
    env.executorId.set_value(executorId);
    env.checkpoint = true;
    return env;
  }

  // Starts a driver for `executor` and lets the agent subscribe it.
  void startDriver(Executor& executor, const std::string& executorId,
                   v1::FrameworkInfo framework = FakeAgent::defaultFramework()) {
    messenger_ = network_.attach(peer_, [this](const PeerId& from, internal::Envelope&& envelope) {
      driver_->handle(from, std::move(envelope));
    });
    driver_ = std::make_unique<ExecutorDriverCore>(executor, environment(executorId), clock_, *messenger_, agent_.id());
    driver_->start();
    network_.settle();
    agent_.subscribed(peer_, framework);
    network_.settle();
    ASSERT_EQ(driver_->state(), ExecutorDriver::State::kSubscribed);
  }

  FakeClock clock_;
  InMemoryNetwork network_;
  FakeAgent agent_{network_, "agent:1"};
  FakeRunner runner_;
  PeerId peer_ = newExecutorPeerId();
  std::unique_ptr<Messenger> messenger_;
  std::unique_ptr<ExecutorDriverCore> driver_;
};

}  // namespace agora::sdk::testing
