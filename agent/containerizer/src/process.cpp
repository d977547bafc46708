// Reaping and the posix process-tree kill.

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <set>

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

// pid -> parent pid for every process in /proc. Processes that exit during
// the walk are skipped.
std::multimap<pid_t, pid_t> childrenByParent() {
  std::multimap<pid_t, pid_t> children;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return children;
  while (struct dirent* entry = ::readdir(dir)) {
    auto pid = fs::parseUint(entry->d_name);
    if (!pid) continue;
    auto stat = fs::read("/proc/" + std::string(entry->d_name) + "/stat");
    if (!stat.ok()) continue;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    size_t close = stat->rfind(')');
    if (close == std::string::npos) continue;
    std::vector<std::string> fields = fs::words(std::string_view(*stat).substr(close + 1));
    if (fields.size() < 2) continue;
    if (auto ppid = fs::parseUint(fields[1])) {
      children.emplace(static_cast<pid_t>(*ppid), static_cast<pid_t>(*pid));
    }
  }
  ::closedir(dir);
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

Result<ExitStatus> reap(pid_t pid) {
  AGORA_ASSIGN_OR_RETURN(std::optional<ExitStatus> status, waitFor(pid, 0));
  return *status;
}

Result<std::optional<ExitStatus>> tryReap(pid_t pid) { return waitFor(pid, WNOHANG); }

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
