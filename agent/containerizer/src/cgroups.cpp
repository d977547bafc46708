// Backend-independent parts of the cgroups seam: names, the cpu formulas,
// container id validation, OomWatch::wait, detection, and the subtree
// helpers both backends use.

#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "agora/containerizer/cgroups.hpp"
#include "cgroups_internal.hpp"
#include "fs.hpp"

namespace agora::containerizer {

std::string_view controllerName(Controller controller) {
  switch (controller) {
    case Controller::kCpu:
      return "cpu";
    case Controller::kCpuacct:
      return "cpuacct";
    case Controller::kMemory:
      return "memory";
    case Controller::kPids:
      return "pids";
    case Controller::kFreezer:
      return "freezer";
  }
  return "unknown";
}

std::string_view versionName(CgroupsVersion version) {
  return version == CgroupsVersion::kV1 ? "cgroups v1" : "cgroups v2";
}

uint64_t cpuSharesFor(double cpus) {
  double shares = std::floor(1024.0 * cpus);
  return shares < 2.0 ? 2 : static_cast<uint64_t>(shares);
}

uint64_t cpuWeightFor(double cpus) {
  double weight = std::floor(100.0 * cpus);
  return static_cast<uint64_t>(std::clamp(weight, 1.0, 10000.0));
}

std::optional<std::chrono::microseconds> cfsQuotaFor(double limitCpus) {
  if (std::isinf(limitCpus)) return std::nullopt;
  double quota = std::floor(static_cast<double>(kCfsPeriod.count()) * limitCpus);
  return std::chrono::microseconds(
      std::max(static_cast<int64_t>(kMinCfsQuota.count()), static_cast<int64_t>(quota)));
}

Status validateContainerId(std::string_view containerId) {
  if (containerId.empty() || containerId == "." || containerId == "..") {
    return Status::InvalidArgument("Invalid container id '" + std::string(containerId) + "'");
  }
  for (char c : containerId) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) {
      return Status::InvalidArgument("Invalid container id '" + std::string(containerId) +
                                     "': only [A-Za-z0-9._-] allowed");
    }
  }
  return Status::OK();
}

Result<bool> OomWatch::wait(std::chrono::milliseconds timeout) {
  constexpr std::chrono::milliseconds kSlice{100};
  // Counts down without reading a clock: a poll that times out consumed its
  // slice; a wake-up that was not an OOM kill is charged 1 ms, so a storm of
  // memory events cannot extend the wait forever.
  std::chrono::milliseconds remaining = timeout;
  while (true) {
    AGORA_ASSIGN_OR_RETURN(bool killed, oomKilled());
    if (killed) return true;
    if (remaining.count() <= 0) return false;
    std::chrono::milliseconds slice = std::min(kSlice, remaining);
    struct pollfd pfd = {fd(), POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(slice.count()));
    if (n < 0 && errno != EINTR) return fs::errnoStatus("Failed to poll", "OOM watch", errno);
    remaining -= n == 0 ? slice : std::chrono::milliseconds(1);
  }
}

Result<std::unique_ptr<Cgroups>> detectCgroups(const CgroupsOptions& options) {
  if (fs::exists(fs::join(options.hierarchyRoot, "cgroup.controllers"))) return makeCgroupsV2(options);
  auto v1 = makeCgroupsV1(options);
  if (v1.ok()) return v1;
  return Status::NotFound("No cgroups found at '" + options.hierarchyRoot +
                          "' (neither a cgroup2 mount nor cgroup v1 hierarchies): " + v1.error().message());
}

namespace internal {

namespace {
Status collect(const std::string& dir, std::vector<pid_t>& pids) {
  auto text = fs::read(fs::join(dir, "cgroup.procs"));
  if (!text.ok()) {
    if (text.error().code() == Status::Code::kNotFound) return Status::OK();  // vanished
    return text.error();
  }
  for (const std::string& word : fs::words(*text)) {
    if (auto pid = fs::parseUint(word)) pids.push_back(static_cast<pid_t>(*pid));
  }
  auto children = fs::subdirectories(dir);
  if (!children.ok()) {
    if (children.error().code() == Status::Code::kNotFound) return Status::OK();
    return children.error();
  }
  for (const std::string& child : *children) AGORA_RETURN_IF_ERROR(collect(fs::join(dir, child), pids));
  return Status::OK();
}

// Deepest first.
Status removeOnce(const std::string& dir) {
  auto children = fs::subdirectories(dir);
  if (!children.ok()) {
    if (children.error().code() == Status::Code::kNotFound) return Status::OK();
    return children.error();
  }
  for (const std::string& child : *children) AGORA_RETURN_IF_ERROR(removeOnce(fs::join(dir, child)));
  return fs::rmdir(dir);
}
}  // namespace

Result<std::vector<pid_t>> subtreeProcesses(const std::string& dir) {
  std::vector<pid_t> pids;
  AGORA_RETURN_IF_ERROR(collect(dir, pids));
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  return pids;
}

bool procShowsIn(pid_t pid, const std::string& cgroupsRoot, const std::string& containerId) {
  auto text = fs::read("/proc/" + std::to_string(pid) + "/cgroup");
  if (!text.ok()) return false;
  // Lines are "ID:CONTROLLERS:PATH"; the path may carry a prefix (a cgroup
  // namespace's view, a container's own cgroup) before cgroupsRoot.
  const std::string needle = "/" + cgroupsRoot + "/" + containerId;
  std::string_view lines(*text);
  while (!lines.empty()) {
    size_t end = lines.find('\n');
    std::string_view line = lines.substr(0, end);
    lines.remove_prefix(end == std::string_view::npos ? lines.size() : end + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    colon = line.find(':', colon + 1);
    if (colon == std::string_view::npos) continue;
    std::string_view path = line.substr(colon + 1);
    for (size_t at = path.find(needle); at != std::string_view::npos; at = path.find(needle, at + 1)) {
      size_t after = at + needle.size();
      if (after == path.size() || path[after] == '/') return true;
    }
  }
  return false;
}

Result<bool> subtreeHolds(const std::string& dir, pid_t pid, const std::string& cgroupsRoot,
                          const std::string& containerId) {
  // One small read answers for a live executor; the cgroup tree (which the
  // kernel lists by building its pid arrays) has the last word otherwise,
  // and for trees that are not the kernel's (tests).
  if (procShowsIn(pid, cgroupsRoot, containerId)) return true;
  AGORA_ASSIGN_OR_RETURN(std::vector<pid_t> pids, subtreeProcesses(dir));
  return std::binary_search(pids.begin(), pids.end(), pid);
}

Status removeSubtree(const std::string& dir) {
  Status status;
  for (int round = 0; round < kRemoveRounds; ++round) {
    status = removeOnce(dir);
    if (status.ok()) return status;
    // EBUSY (Unavailable): tasks still exiting. Anything else will not get better.
    if (status.code() != Status::Code::kUnavailable) return status;
    pause(kRetryPause);
  }
  return status.withContext("Cgroup still busy after " + std::to_string(kRemoveRounds) + " attempts");
}

Status signalEach(const std::vector<pid_t>& pids, int signal) {
  for (pid_t pid : pids) {
    if (::kill(pid, signal) != 0 && errno != ESRCH) {
      return fs::errnoStatus("Failed to send signal " + std::to_string(signal) + " to", std::to_string(pid),
                             errno);
    }
  }
  return Status::OK();
}

void pause(std::chrono::milliseconds duration) {
  struct timespec ts;
  ts.tv_sec = duration.count() / 1000;
  ts.tv_nsec = (duration.count() % 1000) * 1'000'000;
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

Exits watchExits(const std::vector<pid_t>& pids) {
  Exits exits;
  for (pid_t pid : pids) {
    auto pidfd = Pidfd::open(pid);
    if (pidfd.ok()) {
      exits.pidfds.push_back(std::move(*pidfd));
    } else if (pidfd.error().code() == Status::Code::kUnavailable) {
      exits.supported = false;
      exits.pidfds.clear();
      break;
    }
  }
  return exits;
}

void awaitExits(const Exits& exits, std::chrono::milliseconds timeout) {
  if (!exits.supported) {
    pause(timeout);
    return;
  }
  std::vector<pollfd> fds;
  for (const Pidfd& pidfd : exits.pidfds) fds.push_back({pidfd.fd(), POLLIN, 0});
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!fds.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    int ready = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()) + 1);
    if (ready < 0 && errno != EINTR) return;
    // Keep only the processes that have not ended.
    std::erase_if(fds, [](const pollfd& fd) { return fd.revents != 0; });
    for (pollfd& fd : fds) fd.revents = 0;
  }
}

Status writePid(const std::string& dir, pid_t pid) {
  return fs::write(fs::join(dir, "cgroup.procs"), std::to_string(pid));
}

Status checkCpus(double cpus) {
  if (cpus > 0) return Status::OK();
  return Status::InvalidArgument("cpus must be positive, got " + std::to_string(cpus));
}

Status checkMemoryLimits(const MemoryLimits& limits) {
  if (!limits.hardBytes || *limits.hardBytes >= limits.softBytes) return Status::OK();
  return Status::InvalidArgument("Memory limit " + std::to_string(*limits.hardBytes) +
                                 " is below the soft limit " + std::to_string(limits.softBytes));
}

Status writePidsMax(const std::string& dir, std::optional<uint64_t> max) {
  return fs::write(fs::join(dir, "pids.max"), max ? std::to_string(*max) : "max");
}

Status readPidsStatistics(const std::string& dir, CgroupStatistics& stats) {
  AGORA_ASSIGN_OR_RETURN(std::string current, fs::read(fs::join(dir, "pids.current")));
  stats.pidsCurrent = fs::parseUint(current);
  AGORA_ASSIGN_OR_RETURN(std::string max, fs::read(fs::join(dir, "pids.max")));
  stats.pidsMax = fs::parseUint(max);  // "max": unlimited
  return Status::OK();
}

DescriptorOomWatch::DescriptorOomWatch(int fd, std::string path, Check check)
    : fd_(fd), path_(std::move(path)), check_(check) {}

DescriptorOomWatch::~DescriptorOomWatch() { ::close(fd_); }

Result<bool> DescriptorOomWatch::oomKilled() {
  // Non-blocking: read until EAGAIN (an eventfd's 8-byte counter or a batch
  // of inotify events, both fit).
  alignas(8) char buffer[4096];
  while (::read(fd_, buffer, sizeof(buffer)) > 0) {
  }
  return check_(path_);
}

}  // namespace internal
}  // namespace agora::containerizer
