#pragma once

// The command executor's process seam: start a command as the leader of its
// own session (so a kill reaches every process it forked), signal its process
// group, and learn its wait status on the executor's loop. Tests substitute a
// fake; the executor's real one is PosixProcessRunner.

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agora/common/result.hpp"
#include "agora/common/status.hpp"

namespace agora::sdk {

struct ProcessSpec {
  // The program: an absolute path, or a name looked up in the PATH of
  // `environment` (then of the runner's own environment).
  std::string path;
  // argv, argv[0] included. Empty means {path}.
  std::vector<std::string> argv;
  // The complete environment, "NAME=value" each.
  std::vector<std::string> environment;
  // "" keeps the runner's working directory.
  std::string workingDirectory;
  // Files the process's stdout and stderr are appended to (created 0644);
  // "" inherits the runner's.
  std::string stdoutPath;
  std::string stderrPath;
};

class ProcessRunner {
 public:
  // Receives the raw wait status (see waitpid(2)).
  using ExitCallback = std::function<void(int waitStatus)>;

  virtual ~ProcessRunner() = default;

  // Starts `spec` in a new session (its pid is also its process group id)
  // and returns the pid. `onExit` runs exactly once, later, on the owner's
  // loop, when the process has exited. Errors (nothing started, `onExit`
  // never runs): the program cannot be found or executed, an output file or
  // the working directory cannot be opened, fork fails.
  virtual Result<int> start(const ProcessSpec& spec, ExitCallback onExit) = 0;

  // Sends `signal` to the process group of `pid`, a process started here
  // whose exit has not been delivered yet. Errors: unknown pid, kill(2)
  // failed.
  virtual Status signalGroup(int pid, int signal) = 0;
};

// fork/exec + setsid. The child does only async-signal-safe work between
// fork and exec (everything else is prepared before the fork); exec
// failures come back through a close-on-exec pipe as start() errors.
//
// A waiter thread per child blocks in waitid(WNOWAIT) and posts to the loop;
// the loop then reaps the child. Until then the zombie keeps its pid and
// process group id, so signalGroup() never hits a recycled pid.
//
// Destroying the runner SIGKILLs the process groups of children still
// running and reaps them; their callbacks never run.
class PosixProcessRunner final : public ProcessRunner {
 public:
  // Runs a function on the owner's loop (thread-safe; e.g. asio::post).
  using Post = std::function<void(std::function<void()>)>;

  explicit PosixProcessRunner(Post post);
  ~PosixProcessRunner() override;

  PosixProcessRunner(const PosixProcessRunner&) = delete;
  PosixProcessRunner& operator=(const PosixProcessRunner&) = delete;

  Result<int> start(const ProcessSpec& spec, ExitCallback onExit) override;
  Status signalGroup(int pid, int signal) override;

 private:
  struct State;
  static Result<std::thread> startWaiter(std::future<pid_t> forked, const std::shared_ptr<State>& state);
  std::shared_ptr<State> state_;  // Shared weakly with posted reapers.
};

// Renders a raw wait status as the command executor reports it:
// "Command exited with status 3", "Command terminated with signal Killed".
std::string describeWaitStatus(int waitStatus);

}  // namespace agora::sdk
