#pragma once

// The launch seam: starting a container's first process (the executor) and
// reaping it. Two modes behind one interface:
//
//   linux  (`makeLinuxLauncher`): the process is inside the container's
//          cgroups from its first instruction. The child is forked blocked
//          on a pipe; the parent writes its pid into every cgroup.procs of
//          the container (Cgroups::addProcess) and only then releases it to
//          set itself up and exec. The container's cgroups must exist.
//   posix  (`makePosixLauncher`): no cgroups; the process leads its own
//          session and process group, which is all there is to kill.
//
// Either mode can give the process a new pid and mount namespace (it is pid 1
// there, with a private /proc) and switch to another user.
//
// Errors in the child before exec (namespaces, opening the output files,
// chdir, the user switch, exec itself) travel back to the parent over a
// close-on-exec pipe: `launch` then reaps the child and returns a Status with
// the step, the path and the errno text; no zombie is left behind. When
// `launch` returns a pid, exec has succeeded.
//
// Threading: `launch` blocks until exec (or failure) and is meant for a
// worker thread; launches may run concurrently. The child runs only
// async-signal-safe code between fork and exec (no allocation, no logging),
// as required in a multi-threaded (and sanitized) parent.

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agora/common/result.hpp"
#include "agora/common/status.hpp"
#include "agora/containerizer/cgroups.hpp"

namespace agora::containerizer {

struct LaunchSpec {
  // argv[0] is the program's path, executed as is (no PATH search). Required.
  std::vector<std::string> argv;
  // The whole environment of the process, "NAME=value" each; nothing of the
  // agent's environment is inherited.
  std::vector<std::string> env;
  // The working directory, which must exist (the container's sandbox).
  // Relative stdout/stderr paths are relative to it.
  std::string sandbox;
  // Created (mode 0644) or appended to; stdin is /dev/null.
  std::string stdoutPath = "stdout";
  std::string stderrPath = "stderr";
  // Switch to this user (its uid, primary gid and supplementary groups)
  // before exec. Needs privilege (root) unless it is the current user.
  std::optional<std::string> user;
  // New pid and mount namespaces: the process is pid 1 in its pid namespace
  // and sees a private /proc. Needs CAP_SYS_ADMIN. Note that pid 1 ignores
  // signals it has no handler for unless they are SIGKILL or SIGSTOP, even
  // from the agent; kill containers with Cgroups::killAll or SIGKILL.
  bool pidNamespace = false;
};

class Launcher {
 public:
  virtual ~Launcher() = default;

  // Starts `spec` for container `containerId` (ignored by the posix
  // launcher). Returns the pid (in the agent's pid namespace) of a process
  // that has exec'd. The caller owns the child: reap it with `reap`.
  virtual Result<pid_t> launch(const std::string& containerId, const LaunchSpec& spec) = 0;
};

// Launches into the container's cgroups. `cgroups` must outlive the launcher.
std::unique_ptr<Launcher> makeLinuxLauncher(Cgroups* cgroups);
// Launches without cgroups: session and process group only.
std::unique_ptr<Launcher> makePosixLauncher();

// How a process ended: exactly one of exitCode and signal is set.
struct ExitStatus {
  std::optional<int> exitCode;
  std::optional<int> signal;
  bool coreDumped = false;

  bool success() const { return exitCode == 0; }
  // "exited with status 3", "killed by signal 9 (Killed)".
  std::string toString() const;
};

// A process's pidfd (pidfd_open, Linux 5.3+): readable (POLLIN) once the
// process has ended, whether or not it is our child, and unlike a pid it never
// names another process (pid reuse). Move-only; closes its descriptor.
class Pidfd {
 public:
  // Unavailable when the kernel has no pidfd_open (ENOSYS: callers fall
  // back to waitpid / kill(pid, 0)); NotFound when `pid` does not exist.
  static Result<Pidfd> open(pid_t pid);

  Pidfd() = default;
  Pidfd(Pidfd&& other) noexcept;
  Pidfd& operator=(Pidfd&& other) noexcept;
  Pidfd(const Pidfd&) = delete;
  Pidfd& operator=(const Pidfd&) = delete;
  ~Pidfd();

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Whether the process has ended (a poll with no timeout).
  bool ended() const;

 private:
  explicit Pidfd(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Waits for the child `pid` to end and reaps it. Retries on EINTR.
Result<ExitStatus> reap(pid_t pid);
// Reaps `pid` if it has ended; nullopt if it still runs.
Result<std::optional<ExitStatus>> tryReap(pid_t pid);

// The processes of process group `pgid` that have not ended (zombies are
// left out), from one walk of /proc.
std::vector<pid_t> liveProcessGroupMembers(pid_t pgid);

// Sends `signal` to `pid`, to its process group if it leads one, and to all
// its descendants found in /proc (the posix kill; processes that fork during
// the walk, or that were reparented away, can escape: cgroups cannot be
// escaped this way). Returns how many processes were signalled; NotFound if
// `pid` does not exist.
Result<int> killTree(pid_t pid, int signal);

}  // namespace agora::containerizer
