// Process launch: fork (or clone into new namespaces), hold the child on a
// pipe until the parent has put it into the container's cgroups, then let it
// set itself up and exec. Everything the child needs is prepared before the
// fork; between fork and exec it makes system calls only (async-signal-safe:
// no allocation, no locks, no logging), which a multi-threaded, sanitized
// parent requires.

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "agora/common/check.hpp"
#include "agora/containerizer/launcher.hpp"
#include "fs.hpp"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace agora::containerizer {
namespace {

// The step of the child's setup that failed, reported with errno.
enum class Stage : int {
  kSetsid = 1,
  kMountPrivate,
  kMountProc,
  kOpenStdin,
  kOpenStdout,
  kOpenStderr,
  kDup,
  kChown,
  kChdir,
  kSetgroups,
  kSetgid,
  kSetuid,
  kExec,
};

struct ChildError {
  Stage stage;
  int err;
};

// Everything the child touches, built by the parent before the fork.
struct ChildPlan {
  std::vector<char*> argv;  // null-terminated, pointing into the spec
  std::vector<char*> envp;  // null-terminated, pointing into envStorage
  std::vector<std::string> envStorage;
  std::string sandbox;
  std::string stdoutPath;  // absolute, or relative to the parent's cwd
  std::string stderrPath;
  bool switchUser = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  bool pidNamespace = false;
  int syncFd = -1;         // read end: one byte means "you are in your cgroups, go"
  int syncWriteFd = -1;    // the parent's ends, closed first in the child so
  int errorReadFd = -1;    // that the parent closing its own means EOF
  int errorFd = -1;        // write end, close-on-exec: a ChildError on failure
};

[[noreturn]] void fail(const ChildPlan& plan, Stage stage) {
  ChildError error{stage, errno};
  ssize_t ignored = ::write(plan.errorFd, &error, sizeof(error));
  (void)ignored;
  ::_exit(127);
}

// Opens `path` and moves it to descriptor `target`.
void redirect(const ChildPlan& plan, const char* path, int flags, int target, Stage stage) {
  int fd = ::open(path, flags, 0644);
  if (fd < 0) fail(plan, stage);
  if (plan.switchUser && target != STDIN_FILENO && ::fchown(fd, plan.uid, plan.gid) != 0) {
    fail(plan, Stage::kChown);
  }
  if (fd != target) {
    if (::dup2(fd, target) < 0) fail(plan, Stage::kDup);
    ::close(fd);
  }
}

// Runs in the child. Async-signal-safe calls only.
[[noreturn]] void runChild(const ChildPlan& plan) {
  ::close(plan.syncWriteFd);
  ::close(plan.errorReadFd);
  // Wait until the parent has written our pid into every cgroup.procs. EOF
  // means the parent gave up on us.
  char go = 0;
  ssize_t n;
  do {
    n = ::read(plan.syncFd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(127);

  // The agent may block or ignore signals; the task starts clean.
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &dfl, nullptr);  // EINVAL for some: fine

  if (::setsid() < 0) fail(plan, Stage::kSetsid);

  if (plan.pidNamespace) {
    // Our mounts must not propagate back to the agent's namespace.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail(plan, Stage::kMountPrivate);
    if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      fail(plan, Stage::kMountProc);
    }
  }

  redirect(plan, "/dev/null", O_RDONLY, STDIN_FILENO, Stage::kOpenStdin);
  redirect(plan, plan.stdoutPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, STDOUT_FILENO, Stage::kOpenStdout);
  redirect(plan, plan.stderrPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, STDERR_FILENO, Stage::kOpenStderr);

  if (::chdir(plan.sandbox.c_str()) != 0) fail(plan, Stage::kChdir);

  if (plan.switchUser) {
    if (::setgroups(plan.groups.size(), plan.groups.data()) != 0) fail(plan, Stage::kSetgroups);
    if (::setgid(plan.gid) != 0) fail(plan, Stage::kSetgid);
    if (::setuid(plan.uid) != 0) fail(plan, Stage::kSetuid);
  }

  // No descriptor of the agent's (sockets, databases) leaks into the task;
  // errorFd is already close-on-exec. Kernels before 5.11 lack close_range:
  // the agent opens everything close-on-exec anyway.
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);

  ::execve(plan.argv[0], plan.argv.data(), plan.envp.data());
  fail(plan, Stage::kExec);
}

std::string absolute(const std::string& sandbox, const std::string& path) {
  return !path.empty() && path.front() == '/' ? path : fs::join(sandbox, path);
}

Status describe(const ChildError& error, const LaunchSpec& spec, const ChildPlan& plan) {
  switch (error.stage) {
    case Stage::kSetsid:
      return fs::errnoStatus("Failed to start a new session for", spec.argv[0], error.err);
    case Stage::kMountPrivate:
      return fs::errnoStatus("Failed to make mounts private in the new mount namespace at", "/", error.err);
    case Stage::kMountProc:
      return fs::errnoStatus("Failed to mount a private /proc at", "/proc", error.err);
    case Stage::kOpenStdin:
      return fs::errnoStatus("Failed to open stdin", "/dev/null", error.err);
    case Stage::kOpenStdout:
      return fs::errnoStatus("Failed to open stdout file", plan.stdoutPath, error.err);
    case Stage::kOpenStderr:
      return fs::errnoStatus("Failed to open stderr file", plan.stderrPath, error.err);
    case Stage::kDup:
      return fs::errnoStatus("Failed to redirect output of", spec.argv[0], error.err);
    case Stage::kChown:
      return fs::errnoStatus("Failed to give the output files to user", spec.user.value_or(""), error.err);
    case Stage::kChdir:
      return fs::errnoStatus("Failed to change directory to sandbox", spec.sandbox, error.err);
    case Stage::kSetgroups:
      return fs::errnoStatus("Failed to set the supplementary groups of user", spec.user.value_or(""),
                             error.err);
    case Stage::kSetgid:
      return fs::errnoStatus("Failed to set the group id of user", spec.user.value_or(""), error.err);
    case Stage::kSetuid:
      return fs::errnoStatus("Failed to switch to user", spec.user.value_or(""), error.err);
    case Stage::kExec:
      return fs::errnoStatus("Failed to execute", spec.argv[0], error.err);
  }
  return Status::Internal("Unknown launch failure stage " + std::to_string(static_cast<int>(error.stage)));
}

Status resolveUser(const std::string& user, ChildPlan& plan) {
  struct passwd pwd;
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  int err = ::getpwnam_r(user.c_str(), &pwd, buffer.data(), buffer.size(), &found);
  if (err != 0) return fs::errnoStatus("Failed to look up user", user, err);
  if (found == nullptr) return Status::NotFound("No such user '" + user + "'");
  plan.switchUser = true;
  plan.uid = pwd.pw_uid;
  plan.gid = pwd.pw_gid;
  int count = 32;
  while (true) {
    plan.groups.resize(static_cast<size_t>(count));
    int capacity = count;
    if (::getgrouplist(user.c_str(), pwd.pw_gid, plan.groups.data(), &count) >= 0) break;
    if (count <= capacity) count = capacity * 2;  // glibc reports the needed size; be safe if not
  }
  plan.groups.resize(static_cast<size_t>(count));
  return Status::OK();
}

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

class ProcessLauncher : public Launcher {
 public:
  explicit ProcessLauncher(Cgroups* cgroups) : cgroups_(cgroups) {}

  Result<pid_t> launch(const std::string& containerId, const LaunchSpec& spec) override {
    if (spec.argv.empty() || spec.argv[0].empty()) return Status::InvalidArgument("Empty argv");
    if (spec.sandbox.empty()) return Status::InvalidArgument("No sandbox directory");

    ChildPlan plan;
    for (const std::string& arg : spec.argv) plan.argv.push_back(const_cast<char*>(arg.c_str()));
    plan.argv.push_back(nullptr);
    plan.envStorage = spec.env;
    for (std::string& var : plan.envStorage) plan.envp.push_back(var.data());
    plan.envp.push_back(nullptr);
    plan.sandbox = spec.sandbox;
    plan.stdoutPath = absolute(spec.sandbox, spec.stdoutPath);
    plan.stderrPath = absolute(spec.sandbox, spec.stderrPath);
    plan.pidNamespace = spec.pidNamespace;
    if (spec.user) AGORA_RETURN_IF_ERROR(resolveUser(*spec.user, plan).withContext("Failed to launch"));

    int syncPipe[2];
    int errorPipe[2];
    if (::pipe2(syncPipe, O_CLOEXEC) != 0) return fs::errnoStatus("Failed to create", "pipe", errno);
    if (::pipe2(errorPipe, O_CLOEXEC) != 0) {
      int err = errno;
      ::close(syncPipe[0]);
      ::close(syncPipe[1]);
      return fs::errnoStatus("Failed to create", "pipe", err);
    }
    plan.syncFd = syncPipe[0];
    plan.syncWriteFd = syncPipe[1];
    plan.errorReadFd = errorPipe[0];
    plan.errorFd = errorPipe[1];

    pid_t pid;
    if (spec.pidNamespace) {
      // Like fork (no new stack: the child continues on a copy of ours), but
      // the child is pid 1 of a new pid namespace in a new mount namespace.
      pid = static_cast<pid_t>(::syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0));
    } else {
      pid = ::fork();
    }
    if (pid == 0) runChild(plan);

    int err = errno;
    ::close(syncPipe[0]);
    ::close(errorPipe[1]);
    int syncFd = syncPipe[1];
    int errorFd = errorPipe[0];
    if (pid < 0) {
      closeFd(syncFd);
      closeFd(errorFd);
      return fs::errnoStatus(spec.pidNamespace ? "Failed to clone into new namespaces for" : "Failed to fork for",
                             spec.argv[0], err);
    }

    if (cgroups_ != nullptr) {
      Status added = cgroups_->addProcess(containerId, pid);
      if (!added.ok()) {
        closeFd(syncFd);  // EOF: the child exits without running anything
        closeFd(errorFd);
        (void)reap(pid);
        return added.withContext("Failed to launch '" + spec.argv[0] + "'");
      }
    }

    char go = 1;
    ssize_t written;
    do {
      written = ::write(syncFd, &go, 1);
    } while (written < 0 && errno == EINTR);
    closeFd(syncFd);

    // EOF once exec succeeded (the close-on-exec write end is gone); a
    // ChildError otherwise.
    ChildError error;
    size_t got = 0;
    while (got < sizeof(error)) {
      ssize_t n = ::read(errorFd, reinterpret_cast<char*>(&error) + got, sizeof(error) - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    closeFd(errorFd);
    if (written != 1 || got == sizeof(error)) {
      (void)reap(pid);
      if (got != sizeof(error)) return Status::Internal("Failed to release the child for '" + spec.argv[0] + "'");
      return describe(error, spec, plan).withContext("Failed to launch '" + spec.argv[0] + "'");
    }
    return pid;
  }

 private:
  Cgroups* cgroups_;  // null: posix
};

}  // namespace

std::unique_ptr<Launcher> makeLinuxLauncher(Cgroups* cgroups) {
  AGORA_CHECK(cgroups != nullptr, "the linux launcher needs cgroups; use makePosixLauncher");
  return std::make_unique<ProcessLauncher>(cgroups);
}
std::unique_ptr<Launcher> makePosixLauncher() { return std::make_unique<ProcessLauncher>(nullptr); }

}  // namespace agora::containerizer
