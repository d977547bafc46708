// Reaping and the posix process-tree kill.

#include <dirent.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "agora/containerizer/launcher.hpp"
#include "fs.hpp"

namespace agora::containerizer {
namespace {

ExitStatus fromWaitStatus(int status) {
  ExitStatus out;
  if (WIFEXITED(status)) {
    out.exitCode = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    out.signal = WTERMSIG(status);
    out.coreDumped = WCOREDUMP(status);
  }
  return out;
}

Result<std::optional<ExitStatus>> waitFor(pid_t pid, int options) {
  int status = 0;
  pid_t result;
  do {
    result = ::waitpid(pid, &status, options);
  } while (result < 0 && errno == EINTR);
  if (result < 0) return fs::errnoStatus("Failed to wait for", "pid " + std::to_string(pid), errno);
  if (result == 0) return std::optional<ExitStatus>();
  return std::optional<ExitStatus>(fromWaitStatus(status));
}

// One process as /proc/<pid>/stat shows it.
struct ProcStat {
  pid_t pid = 0;
  char state = '?';
  pid_t ppid = 0;
  pid_t pgrp = 0;
};

// Every process in /proc. Processes that exit during the walk are skipped.
std::vector<ProcStat> processes() {
  std::vector<ProcStat> out;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return out;
  while (struct dirent* entry = ::readdir(dir)) {
    auto pid = fs::parseUint(entry->d_name);
    if (!pid) continue;
    auto stat = fs::read("/proc/" + std::string(entry->d_name) + "/stat");
    if (!stat.ok()) continue;
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    size_t close = stat->rfind(')');
    if (close == std::string::npos) continue;
    std::vector<std::string> fields = fs::words(std::string_view(*stat).substr(close + 1));
    if (fields.size() < 3 || fields[0].empty()) continue;
    auto ppid = fs::parseUint(fields[1]);
    auto pgrp = fs::parseUint(fields[2]);
    if (!ppid || !pgrp) continue;
    out.push_back({static_cast<pid_t>(*pid), fields[0][0], static_cast<pid_t>(*ppid), static_cast<pid_t>(*pgrp)});
  }
  ::closedir(dir);
  return out;
}

// parent pid -> pid for every process in /proc.
std::multimap<pid_t, pid_t> childrenByParent() {
  std::multimap<pid_t, pid_t> children;
  for (const ProcStat& process : processes()) children.emplace(process.ppid, process.pid);
  return children;
}

}  // namespace

std::string ExitStatus::toString() const {
  if (exitCode) return "exited with status " + std::to_string(*exitCode);
  if (signal) {
    std::string out = "killed by signal " + std::to_string(*signal) + " (" + ::strsignal(*signal) + ")";
    if (coreDumped) out += ", core dumped";
    return out;
  }
  return "ended in an unknown way";
}

Result<Pidfd> Pidfd::open(pid_t pid) {
  if (pid <= 0) return Status::InvalidArgument("Invalid pid " + std::to_string(pid));
#ifdef SYS_pidfd_open
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) {
    // pidfd_open sets close-on-exec itself.
    return Pidfd(static_cast<int>(fd));
  }
  int err = errno;
#else
  int err = ENOSYS;
#endif
  if (err == ENOSYS) return Status::Unavailable("pidfd_open is not supported by this kernel");
  if (err == ESRCH) return Status::NotFound("No process " + std::to_string(pid));
  return fs::errnoStatus("Failed to open a pidfd for", "pid " + std::to_string(pid), err);
}

Pidfd::Pidfd(Pidfd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

Pidfd& Pidfd::operator=(Pidfd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

Pidfd::~Pidfd() {
  if (fd_ >= 0) ::close(fd_);
}

bool Pidfd::ended() const {
  if (fd_ < 0) return false;
  pollfd entry{fd_, POLLIN, 0};
  int n;
  do {
    n = ::poll(&entry, 1, 0);
  } while (n < 0 && errno == EINTR);
  return n > 0 && (entry.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

Result<ExitStatus> reap(pid_t pid) {
  AGORA_ASSIGN_OR_RETURN(std::optional<ExitStatus> status, waitFor(pid, 0));
  return *status;
}

Result<std::optional<ExitStatus>> tryReap(pid_t pid) { return waitFor(pid, WNOHANG); }

std::vector<pid_t> liveProcessGroupMembers(pid_t pgid) {
  std::vector<pid_t> members;
  for (const ProcStat& process : processes()) {
    // Z: a zombie; X: dead, being removed.
    if (process.pgrp == pgid && process.state != 'Z' && process.state != 'X') members.push_back(process.pid);
  }
  return members;
}

Result<int> killTree(pid_t pid, int signal) {
  if (pid <= 0) return Status::InvalidArgument("Invalid pid " + std::to_string(pid));
  // The root and its descendants by parent pid, from one /proc snapshot.
  std::set<pid_t> tree{pid};
  std::multimap<pid_t, pid_t> children = childrenByParent();
  std::vector<pid_t> frontier{pid};
  while (!frontier.empty()) {
    pid_t parent = frontier.back();
    frontier.pop_back();
    auto [begin, end] = children.equal_range(parent);
    for (auto it = begin; it != end; ++it) {
      if (tree.insert(it->second).second) frontier.push_back(it->second);
    }
  }
  int signalled = 0;
  if (::getpgid(pid) == pid) ::kill(-pid, signal);  // the whole group, in one go
  for (pid_t member : tree) {
    if (::kill(member, signal) == 0) {
      ++signalled;
    } else if (errno != ESRCH) {
      return fs::errnoStatus("Failed to send signal " + std::to_string(signal) + " to", std::to_string(member),
                             errno);
    }
  }
  if (signalled == 0) return Status::NotFound("No process " + std::to_string(pid));
  return signalled;
}

}  // namespace agora::containerizer
