#pragma once

// A ProcessRunner for tests of the command executor and its checks.

#include <map>
#include <utility>
#include <vector>

#include "process_runner.hpp"

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

}  // namespace agora::sdk::testing
