#include "process_runner.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <future>
#include <map>
#include <system_error>
#include <thread>
#include <utility>

#include "agora/common/id.hpp"

namespace agora::sdk {

namespace {

// Where the child failed, written with errno to the exec-error pipe.
enum ChildStage : int { kChdir = 1, kRedirect = 2, kExec = 3 };

std::string errnoText(int error) {
  const char* text = strerrordesc_np(error);
  return text != nullptr ? text : "errno " + std::to_string(error);
}

// The program's path: as given when it has a '/', else the first
// executable match in PATH.
Result<std::string> resolveProgram(const ProcessSpec& spec) {
  if (spec.path.empty()) return Status::InvalidArgument("No program to run");
  if (spec.path.find('/') != std::string::npos) return spec.path;
  std::string path;
  bool found = false;
  for (const std::string& variable : spec.environment) {
    if (variable.rfind("PATH=", 0) == 0) {
      path = variable.substr(5);
      found = true;
    }
  }
  if (!found) {
    const char* inherited = std::getenv("PATH");
    path = inherited != nullptr ? inherited : "/usr/local/bin:/usr/bin:/bin";
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    start = end + 1;
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + spec.path;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return Status::NotFound("Program '" + quoteForLog(spec.path) + "' not found in PATH");
}

Result<int> openOutput(const std::string& path) {
  if (path.empty()) return -1;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError("Failed to open '" + quoteForLog(path) + "': " + errnoText(errno));
  return fd;
}

void closeIfOpen(int fd) {
  if (fd >= 0) ::close(fd);
}

// Between fork and exec: async-signal-safe calls only (no allocation, no
// locks, no logging). Never returns.
[[noreturn]] void runChild(const char* program, char* const* argv, char* const* envp,
                           const char* workingDirectory, int outFd, int errFd, int errorPipe) {
  auto fail = [errorPipe](int stage) {
    int report[2] = {stage, errno};
    ssize_t ignored = ::write(errorPipe, report, sizeof(report));
    (void)ignored;
    ::_exit(127);
  };
  ::setsid();
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction defaults {};
  defaults.sa_handler = SIG_DFL;
  ::sigemptyset(&defaults.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &defaults, nullptr);  // SIGKILL & co. just fail.
  if (workingDirectory != nullptr && ::chdir(workingDirectory) != 0) fail(kChdir);
  if (outFd >= 0 && ::dup2(outFd, STDOUT_FILENO) < 0) fail(kRedirect);
  if (errFd >= 0 && ::dup2(errFd, STDERR_FILENO) < 0) fail(kRedirect);
  // Descriptors the executor leaked without O_CLOEXEC stay out of the task.
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execve(program, argv, envp);
  fail(kExec);
  ::_exit(127);
}

}  // namespace

std::string describeWaitStatus(int waitStatus) {
  if (WIFEXITED(waitStatus)) return "Command exited with status " + std::to_string(WEXITSTATUS(waitStatus));
  if (WIFSIGNALED(waitStatus)) {
    const char* name = sigdescr_np(WTERMSIG(waitStatus));
    return std::string("Command terminated with signal ") +
           (name != nullptr ? name : "unknown signal " + std::to_string(WTERMSIG(waitStatus)));
  }
  return "Command stopped with wait status " + std::to_string(waitStatus);
}

struct PosixProcessRunner::State {
  struct Child {
    ExitCallback onExit;
    std::thread waiter;  // Blocks in waitid(WNOWAIT) until the child exits.
  };
  Post post;
  // Touched only on the owner's loop (start, reap, signalGroup, destructor).
  std::map<int, Child> children;
};

PosixProcessRunner::PosixProcessRunner(Post post) : state_(std::make_shared<State>()) {
  state_->post = std::move(post);
}

PosixProcessRunner::~PosixProcessRunner() {
  for (auto& [pid, child] : state_->children) ::kill(-pid, SIGKILL);
  for (auto& [pid, child] : state_->children) {
    if (child.waiter.joinable()) child.waiter.join();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

// Starts the thread that waits for the child whose pid `forked` will carry
// (0 or less: there is none), then has the owner's loop reap it and call its
// ExitCallback.
Result<std::thread> PosixProcessRunner::startWaiter(std::future<pid_t> forked,
                                                    const std::shared_ptr<State>& state) {
  try {
    return std::thread(
        [forked = std::move(forked), weak = std::weak_ptr<State>(state), post = state->post]() mutable {
          const pid_t pid = forked.get();
          if (pid <= 0) return;  // The fork or the exec failed: start() reaped it.
          siginfo_t info{};
          while (::waitid(P_PID, pid, &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
          }
          post([weak, pid] {
            std::shared_ptr<State> state = weak.lock();
            if (!state) return;
            auto it = state->children.find(pid);
            if (it == state->children.end()) return;
            int status = 0;
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            State::Child exited = std::move(it->second);
            state->children.erase(it);
            if (exited.waiter.joinable()) exited.waiter.join();
            exited.onExit(status);
          });
        });
  } catch (const std::system_error& e) {
    return Status::ResourceExhausted(std::string("Failed to start a thread to wait for the command: ") +
                                     e.what());
  }
}

Result<int> PosixProcessRunner::start(const ProcessSpec& spec, ExitCallback onExit) {
  // Everything the child needs is prepared here, before the fork.
  AGORA_ASSIGN_OR_RETURN(std::string program, resolveProgram(spec));
  std::vector<std::string> argvStrings = spec.argv.empty() ? std::vector<std::string>{spec.path} : spec.argv;
  std::vector<char*> argv;
  for (std::string& arg : argvStrings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> envStrings = spec.environment;
  std::vector<char*> envp;
  for (std::string& variable : envStrings) envp.push_back(variable.data());
  envp.push_back(nullptr);
  const char* workingDirectory = spec.workingDirectory.empty() ? nullptr : spec.workingDirectory.c_str();

  AGORA_ASSIGN_OR_RETURN(int outFd, openOutput(spec.stdoutPath));
  Result<int> errFd = openOutput(spec.stderrPath);
  if (!errFd.ok()) {
    closeIfOpen(outFd);
    return errFd.error();
  }
  int errorPipe[2];
  if (::pipe2(errorPipe, O_CLOEXEC) != 0) {
    closeIfOpen(outFd);
    closeIfOpen(*errFd);
    return Status::IoError("Failed to create a pipe: " + errnoText(errno));
  }

  // The thread that waits for the child starts before the child does: a
  // child may fill its container's pids limit at once (a fork bomb), and a
  // thread is a task too, so none could be created after the fork (the
  // executor would fail instead of reporting its task running).
  std::promise<pid_t> forked;
  Result<std::thread> started = startWaiter(forked.get_future(), state_);
  if (!started.ok()) {
    closeIfOpen(outFd);
    closeIfOpen(*errFd);
    ::close(errorPipe[0]);
    ::close(errorPipe[1]);
    return started.error();
  }
  std::thread waiter = std::move(*started);
  auto noChild = [&] {
    forked.set_value(-1);
    waiter.join();
  };

  pid_t pid = ::fork();
  if (pid == 0)
    runChild(program.c_str(), argv.data(), envp.data(), workingDirectory, outFd, *errFd, errorPipe[1]);
  int forkErrno = errno;
  ::close(errorPipe[1]);
  closeIfOpen(outFd);
  closeIfOpen(*errFd);
  if (pid < 0) {
    ::close(errorPipe[0]);
    noChild();
    return Status::IoError("Failed to fork: " + errnoText(forkErrno));
  }

  // EOF: exec succeeded (the pipe closed on exec). Otherwise the stage and errno.
  int report[2] = {0, 0};
  ssize_t n;
  do {
    n = ::read(errorPipe[0], report, sizeof(report));
  } while (n < 0 && errno == EINTR);
  ::close(errorPipe[0]);
  if (n > 0) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    noChild();
    const char* what = report[0] == kChdir      ? "Failed to enter the working directory"
                       : report[0] == kRedirect ? "Failed to redirect output"
                                                : "Failed to execute";
    return Status::IoError(std::string(what) + " '" +
                           quoteForLog(report[0] == kChdir ? spec.workingDirectory : program) +
                           "': " + errnoText(report[1]));
  }

  State::Child& child = state_->children[pid];
  child.onExit = std::move(onExit);
  child.waiter = std::move(waiter);
  forked.set_value(pid);
  return static_cast<int>(pid);
}

Status PosixProcessRunner::signalGroup(int pid, int signal) {
  if (state_->children.count(pid) == 0) {
    return Status::NotFound("No running process " + std::to_string(pid));
  }
  if (::kill(-pid, signal) != 0) {
    return Status::IoError("Failed to signal process group " + std::to_string(pid) + ": " + errnoText(errno));
  }
  return Status::OK();
}

}  // namespace agora::sdk
