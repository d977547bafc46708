// cgroup v2: the unified hierarchy. Limits are written on
// <root>/<cgroupsRoot>/<id>; processes live in its `leaf` child (see
// cgroups.hpp for why).

#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <set>

#include "agora/containerizer/cgroups.hpp"
#include "cgroups_internal.hpp"
#include "fs.hpp"

namespace agora::containerizer {
namespace {

constexpr const char* kLeaf = "leaf";

// The controllers enabled down to every container, when the root has them.
constexpr Controller kSubtreeControllers[] = {Controller::kCpu, Controller::kMemory, Controller::kPids};

Result<bool> oomKilledFrom(const std::string& memoryEvents) {
  AGORA_ASSIGN_OR_RETURN(std::string text, fs::read(memoryEvents));
  auto values = fs::parseKeyValues(text);
  auto it = values.find("oom_kill");
  if (it == values.end()) return Status::Corruption("No oom_kill counter in '" + memoryEvents + "'");
  return it->second > 0;
}

class CgroupsV2 : public Cgroups {
 public:
  CgroupsV2(CgroupsOptions options, std::set<std::string> available)
      : options_(std::move(options)), available_(std::move(available)) {}

  CgroupsVersion version() const override { return CgroupsVersion::kV2; }
  const CgroupsOptions& options() const override { return options_; }

  bool supports(Controller controller) const override {
    // cpu.stat's usage fields and cgroup.freeze are core files of every
    // non-root cgroup (kernel 5.2+): no controller needed.
    if (controller == Controller::kCpuacct || controller == Controller::kFreezer) return true;
    return available_.contains(std::string(controllerName(controller)));
  }

  std::vector<std::string> paths(const std::string& containerId) const override {
    return {containerDir(containerId)};
  }

  Status create(const std::string& containerId) override {
    AGORA_RETURN_IF_ERROR(validateContainerId(containerId));
    std::string dir = containerDir(containerId);
    if (fs::exists(dir)) return Status::AlreadyExists("Cgroup '" + dir + "' already exists");

    // From the hierarchy root down to cgroupsRoot: enable the controllers in
    // each level's subtree_control, then create the next level. Controllers
    // may only be enabled in a cgroup without processes (the root excepted):
    // cgroupsRoot must be Agora's alone.
    std::string level = options_.hierarchyRoot;
    const std::string& root = options_.cgroupsRoot;
    size_t start = 0;
    while (start < root.size()) {
      size_t slash = root.find('/', start);
      if (slash == std::string::npos) slash = root.size();
      if (slash > start) {
        AGORA_RETURN_IF_ERROR(enableControllers(level));
        level = fs::join(level, root.substr(start, slash - start));
        AGORA_RETURN_IF_ERROR(fs::mkdir(level, /*existOk=*/true));
      }
      start = slash + 1;
    }
    AGORA_RETURN_IF_ERROR(enableControllers(level));
    AGORA_RETURN_IF_ERROR(fs::mkdir(dir, /*existOk=*/false));
    Status leaf = fs::mkdir(fs::join(dir, kLeaf), /*existOk=*/false);
    if (!leaf.ok()) {
      (void)fs::rmdir(dir);
      return leaf.withContext("Failed to create cgroup for container '" + containerId + "'");
    }
    return Status::OK();
  }

  Status setCpu(const std::string& containerId, double cpus, std::optional<double> limitCpus) override {
    AGORA_ASSIGN_OR_RETURN(std::string dir, controllerDir(Controller::kCpu, containerId));
    AGORA_RETURN_IF_ERROR(internal::checkCpus(cpus));
    AGORA_RETURN_IF_ERROR(fs::write(fs::join(dir, "cpu.weight"), std::to_string(cpuWeightFor(cpus))));
    std::optional<std::chrono::microseconds> quota;
    if (limitCpus) quota = cfsQuotaFor(*limitCpus);
    std::string max = (quota ? std::to_string(quota->count()) : std::string("max")) + " " +
                      std::to_string(kCfsPeriod.count());
    return fs::write(fs::join(dir, "cpu.max"), max);
  }

  Status setMemory(const std::string& containerId, const MemoryLimits& limits) override {
    AGORA_ASSIGN_OR_RETURN(std::string dir, controllerDir(Controller::kMemory, containerId));
    AGORA_RETURN_IF_ERROR(internal::checkMemoryLimits(limits));
    AGORA_RETURN_IF_ERROR(fs::write(fs::join(dir, "memory.low"), std::to_string(limits.softBytes)));
    return fs::write(fs::join(dir, "memory.max"), limits.hardBytes ? std::to_string(*limits.hardBytes) : "max");
  }

  Status setPidsLimit(const std::string& containerId, std::optional<uint64_t> max) override {
    AGORA_ASSIGN_OR_RETURN(std::string dir, controllerDir(Controller::kPids, containerId));
    return internal::writePidsMax(dir, max);
  }

  Status addProcess(const std::string& containerId, pid_t pid) override {
    AGORA_RETURN_IF_ERROR(validateContainerId(containerId));
    return internal::writePid(fs::join(containerDir(containerId), kLeaf), pid)
        .withContext("Failed to move pid " + std::to_string(pid) + " into container '" + containerId + "'");
  }

  Result<std::vector<pid_t>> processes(const std::string& containerId) override {
    AGORA_RETURN_IF_ERROR(validateContainerId(containerId));
    return internal::subtreeProcesses(containerDir(containerId));
  }

  Result<bool> holds(const std::string& containerId, pid_t pid) override {
    AGORA_RETURN_IF_ERROR(validateContainerId(containerId));
    return internal::subtreeHolds(containerDir(containerId), pid, options_.cgroupsRoot, containerId);
  }

  Status signalAll(const std::string& containerId, int signal) override {
    AGORA_ASSIGN_OR_RETURN(std::vector<pid_t> pids, processes(containerId));
    return internal::signalEach(pids, signal);
  }

  Status killAll(const std::string& containerId) override {
    AGORA_RETURN_IF_ERROR(validateContainerId(containerId));
    std::string dir = containerDir(containerId);
    std::string kill = fs::join(dir, "cgroup.kill");
    std::string freeze = fs::join(dir, "cgroup.freeze");
    // cgroup.kill (5.14+) kills the whole subtree atomically; the loop below
    // only waits for the exits. Without it: freeze, SIGKILL, thaw, repeat.
    bool hasKill = fs::exists(kill);
    bool hasFreeze = fs::exists(freeze);
    for (int round = 0; round < internal::kKillRounds; ++round) {
      AGORA_ASSIGN_OR_RETURN(std::vector<pid_t> pids, processes(containerId));
      if (pids.empty()) return Status::OK();
      internal::Exits exits;
      if (hasKill) {
        exits = internal::watchExits(pids);
        AGORA_RETURN_IF_ERROR(fs::write(kill, "1"));
      } else {
        if (hasFreeze) AGORA_RETURN_IF_ERROR(fs::write(freeze, "1"));
        AGORA_ASSIGN_OR_RETURN(pids, processes(containerId));
        exits = internal::watchExits(pids);
        Status killed = internal::signalEach(pids, SIGKILL);
        if (hasFreeze) AGORA_RETURN_IF_ERROR(fs::write(freeze, "0"));
        AGORA_RETURN_IF_ERROR(killed);
      }
      // Back as soon as they are gone, at most after the retry pause.
      internal::awaitExits(exits, internal::kRetryPause);
    }
    return Status::Unavailable("Processes remain in container '" + containerId + "' after " +
                               std::to_string(internal::kKillRounds) + " kill rounds");
  }

  Status destroy(const std::string& containerId) override {
    AGORA_RETURN_IF_ERROR(validateContainerId(containerId));
    return internal::removeSubtree(containerDir(containerId))
        .withContext("Failed to destroy container '" + containerId + "'");
  }

  Result<std::vector<std::string>> containers() override {
    auto names = fs::subdirectories(fs::join(options_.hierarchyRoot, options_.cgroupsRoot));
    if (!names.ok() && names.error().code() == Status::Code::kNotFound) return std::vector<std::string>();
    return names;
  }

  Result<CgroupStatistics> statistics(const std::string& containerId) override {
    AGORA_RETURN_IF_ERROR(validateContainerId(containerId));
    std::string dir = containerDir(containerId);
    CgroupStatistics stats;
    AGORA_ASSIGN_OR_RETURN(std::vector<pid_t> pids, processes(containerId));
    stats.processes = pids.size();

    AGORA_ASSIGN_OR_RETURN(std::string cpuStat, fs::read(fs::join(dir, "cpu.stat")));
    auto cpu = fs::parseKeyValues(cpuStat);
    if (auto it = cpu.find("user_usec"); it != cpu.end()) stats.cpuUserSeconds = it->second / 1e6;
    if (auto it = cpu.find("system_usec"); it != cpu.end()) stats.cpuSystemSeconds = it->second / 1e6;
    if (auto it = cpu.find("nr_periods"); it != cpu.end()) stats.cpuNrPeriods = it->second;
    if (auto it = cpu.find("nr_throttled"); it != cpu.end()) stats.cpuNrThrottled = it->second;
    if (auto it = cpu.find("throttled_usec"); it != cpu.end()) stats.cpuThrottledSeconds = it->second / 1e6;

    if (supports(Controller::kMemory)) {
      AGORA_ASSIGN_OR_RETURN(std::string current, fs::read(fs::join(dir, "memory.current")));
      stats.memoryUsageBytes = fs::parseUint(current);
      AGORA_ASSIGN_OR_RETURN(std::string max, fs::read(fs::join(dir, "memory.max")));
      stats.memoryLimitBytes = fs::parseUint(max);  // "max": unlimited
      if (auto peak = fs::read(fs::join(dir, "memory.peak")); peak.ok()) {  // 5.19+
        stats.memoryMaxUsageBytes = fs::parseUint(*peak);
      }
      AGORA_ASSIGN_OR_RETURN(std::string memoryStat, fs::read(fs::join(dir, "memory.stat")));
      auto memory = fs::parseKeyValues(memoryStat);
      if (auto it = memory.find("anon"); it != memory.end()) stats.memoryAnonBytes = it->second;
      if (auto it = memory.find("file"); it != memory.end()) stats.memoryFileBytes = it->second;
      if (auto swap = fs::read(fs::join(dir, "memory.swap.current")); swap.ok()) {
        stats.memorySwapBytes = fs::parseUint(*swap);
      }
      AGORA_ASSIGN_OR_RETURN(std::string events, fs::read(fs::join(dir, "memory.events")));
      auto memoryEvents = fs::parseKeyValues(events);
      if (auto it = memoryEvents.find("oom_kill"); it != memoryEvents.end()) stats.oomKills = it->second;
    }
    if (supports(Controller::kPids)) {
      AGORA_RETURN_IF_ERROR(internal::readPidsStatistics(dir, stats));
    }
    return stats;
  }

  Result<bool> oomKilled(const std::string& containerId) override {
    AGORA_ASSIGN_OR_RETURN(std::string dir, controllerDir(Controller::kMemory, containerId));
    return oomKilledFrom(fs::join(dir, "memory.events"));
  }

  Result<std::unique_ptr<OomWatch>> watchOom(const std::string& containerId) override {
    AGORA_ASSIGN_OR_RETURN(std::string dir, controllerDir(Controller::kMemory, containerId));
    std::string events = fs::join(dir, "memory.events");
    int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0) return fs::errnoStatus("Failed to create an inotify instance for", events, errno);
    auto watch = std::make_unique<internal::DescriptorOomWatch>(fd, events, oomKilledFrom);
    if (::inotify_add_watch(fd, events.c_str(), IN_MODIFY) < 0) {
      return fs::errnoStatus("Failed to watch", events, errno);
    }
    return std::unique_ptr<OomWatch>(std::move(watch));
  }

 private:
  std::string containerDir(const std::string& containerId) const {
    return fs::join(fs::join(options_.hierarchyRoot, options_.cgroupsRoot), containerId);
  }

  Result<std::string> controllerDir(Controller controller, const std::string& containerId) const {
    AGORA_RETURN_IF_ERROR(validateContainerId(containerId));
    if (!supports(controller)) {
      return Status::FailedPrecondition("cgroups controller '" + std::string(controllerName(controller)) +
                                        "' is not available in '" +
                                        fs::join(options_.hierarchyRoot, "cgroup.controllers") + "'");
    }
    return containerDir(containerId);
  }

  // Writes "+cpu +memory +pids" (those available and not yet enabled) to
  // <dir>/cgroup.subtree_control.
  Status enableControllers(const std::string& dir) const {
    std::string control = fs::join(dir, "cgroup.subtree_control");
    AGORA_ASSIGN_OR_RETURN(std::string current, fs::read(control));
    std::vector<std::string> enabled = fs::words(current);
    for (std::string& name : enabled) {
      if (name.starts_with('+')) name.erase(0, 1);  // a fake tree holds what was written
    }
    std::string add;
    for (Controller c : kSubtreeControllers) {
      std::string name(controllerName(c));
      if (!supports(c) || std::find(enabled.begin(), enabled.end(), name) != enabled.end()) continue;
      if (!add.empty()) add += " ";
      add += "+" + name;
    }
    if (add.empty()) return Status::OK();
    return fs::write(control, add).withContext("Failed to enable cgroup controllers");
  }

  CgroupsOptions options_;
  std::set<std::string> available_;  // from the root's cgroup.controllers
};

}  // namespace

Result<std::unique_ptr<Cgroups>> makeCgroupsV2(const CgroupsOptions& options) {
  std::string controllers = fs::join(options.hierarchyRoot, "cgroup.controllers");
  auto text = fs::read(controllers);
  if (!text.ok()) return text.error().withContext("Not a cgroup2 hierarchy");
  std::vector<std::string> names = fs::words(*text);
  return std::unique_ptr<Cgroups>(
      std::make_unique<CgroupsV2>(options, std::set<std::string>(names.begin(), names.end())));
}

}  // namespace agora::containerizer
