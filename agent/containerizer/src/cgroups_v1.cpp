// cgroup v1: one hierarchy per controller (or per group of co-mounted
// controllers, e.g. "cpu,cpuacct"). A container has one directory per
// hierarchy; the launcher writes its pid into each.

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <map>
#include <set>

#include "agora/containerizer/cgroups.hpp"
#include "cgroups_internal.hpp"
#include "fs.hpp"

namespace agora::containerizer {
namespace {

constexpr Controller kControllers[] = {Controller::kCpu, Controller::kCpuacct, Controller::kMemory,
                                       Controller::kPids, Controller::kFreezer};

// Values at or above this are the kernel's "unlimited" (PAGE_COUNTER_MAX
// pages, rounded) in memory.limit_in_bytes and friends.
constexpr uint64_t kUnlimitedBytes = uint64_t{1} << 62;

// Controller -> mount point, from the cgroup (v1) lines of mountinfo whose
// mount point is `root` or below it.
std::map<Controller, std::string> mountsFromMountinfo(const std::string& mountinfo, const std::string& root) {
  std::map<Controller, std::string> mounts;
  size_t pos = 0;
  while (pos < mountinfo.size()) {
    size_t eol = mountinfo.find('\n', pos);
    if (eol == std::string::npos) eol = mountinfo.size();
    std::vector<std::string> fields = fs::words(std::string_view(mountinfo).substr(pos, eol - pos));
    pos = eol + 1;
    // id parent dev root mountpoint options [optional...] - fstype source superoptions
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || fields.end() - dash < 4) continue;
    if (*(dash + 1) != "cgroup") continue;
    const std::string& mountPoint = fields[4];
    std::string prefix = root.back() == '/' ? root : root + "/";
    if (mountPoint != root && mountPoint.rfind(prefix, 0) != 0) continue;
    std::string_view options = *(dash + 3);
    size_t start = 0;
    while (start <= options.size()) {
      size_t comma = options.find(',', start);
      if (comma == std::string_view::npos) comma = options.size();
      std::string_view option = options.substr(start, comma - start);
      for (Controller c : kControllers) {
        if (option == controllerName(c) && !mounts.contains(c)) mounts[c] = mountPoint;
      }
      start = comma + 1;
    }
  }
  return mounts;
}

// Reads memory.oom_control's oom_kill counter.
Result<bool> oomKilledFrom(const std::string& oomControl) {
  AGORA_ASSIGN_OR_RETURN(std::string text, fs::read(oomControl));
  auto values = fs::parseKeyValues(text);
  if (auto it = values.find("oom_kill"); it != values.end()) return it->second > 0;
  // Kernels before 4.13 have no oom_kill counter: under_oom is the best
  // evidence left (the kernel killer is running for this cgroup).
  auto under = values.find("under_oom");
  return under != values.end() && under->second > 0;
}

class CgroupsV1 : public Cgroups {
 public:
  CgroupsV1(CgroupsOptions options, std::map<Controller, std::string> mounts)
      : options_(std::move(options)), mounts_(std::move(mounts)) {
    std::set<std::string> distinct;
    for (const auto& [controller, mountPoint] : mounts_) distinct.insert(mountPoint);
    hierarchies_.assign(distinct.begin(), distinct.end());
  }

  CgroupsVersion version() const override { return CgroupsVersion::kV1; }
  const CgroupsOptions& options() const override { return options_; }
  bool supports(Controller controller) const override { return mounts_.contains(controller); }

  std::vector<std::string> paths(const std::string& containerId) const override {
    std::vector<std::string> out;
    for (const std::string& hierarchy : hierarchies_) out.push_back(containerDir(hierarchy, containerId));
    return out;
  }

  Status create(const std::string& containerId) override {
    AGORA_RETURN_IF_ERROR(validateContainerId(containerId));
    for (const std::string& dir : paths(containerId)) {
      if (fs::exists(dir)) return Status::AlreadyExists("Cgroup '" + dir + "' already exists");
    }
    std::vector<std::string> created;
    for (const std::string& hierarchy : hierarchies_) {
      Status status = createIn(hierarchy, containerId);
      if (!status.ok()) {
        for (const std::string& dir : created) (void)fs::rmdir(dir);
        return status.withContext("Failed to create cgroups for container '" + containerId + "'");
      }
      created.push_back(containerDir(hierarchy, containerId));
    }
    return Status::OK();
  }

  Status setCpu(const std::string& containerId, double cpus, std::optional<double> limitCpus) override {
    AGORA_ASSIGN_OR_RETURN(std::string dir, controllerDir(Controller::kCpu, containerId));
    AGORA_RETURN_IF_ERROR(internal::checkCpus(cpus));
    AGORA_RETURN_IF_ERROR(fs::write(fs::join(dir, "cpu.shares"), std::to_string(cpuSharesFor(cpus))));
    if (!limitCpus) return fs::write(fs::join(dir, "cpu.cfs_quota_us"), "-1");
    AGORA_RETURN_IF_ERROR(fs::write(fs::join(dir, "cpu.cfs_period_us"), std::to_string(kCfsPeriod.count())));
    std::optional<std::chrono::microseconds> quota = cfsQuotaFor(*limitCpus);
    return fs::write(fs::join(dir, "cpu.cfs_quota_us"), quota ? std::to_string(quota->count()) : "-1");
  }

  Status setMemory(const std::string& containerId, const MemoryLimits& limits) override {
    AGORA_ASSIGN_OR_RETURN(std::string dir, controllerDir(Controller::kMemory, containerId));
    AGORA_RETURN_IF_ERROR(internal::checkMemoryLimits(limits));
    AGORA_RETURN_IF_ERROR(
        fs::write(fs::join(dir, "memory.soft_limit_in_bytes"), std::to_string(limits.softBytes)));
    return fs::write(fs::join(dir, "memory.limit_in_bytes"),
                     limits.hardBytes ? std::to_string(*limits.hardBytes) : "-1");
  }

  Status setPidsLimit(const std::string& containerId, std::optional<uint64_t> max) override {
    AGORA_ASSIGN_OR_RETURN(std::string dir, controllerDir(Controller::kPids, containerId));
    return internal::writePidsMax(dir, max);
  }

  Status addProcess(const std::string& containerId, pid_t pid) override {
    AGORA_RETURN_IF_ERROR(validateContainerId(containerId));
    for (const std::string& dir : paths(containerId)) {
      AGORA_RETURN_IF_ERROR(internal::writePid(dir, pid).withContext(
          "Failed to move pid " + std::to_string(pid) + " into container '" + containerId + "'"));
    }
    return Status::OK();
  }

  Result<std::vector<pid_t>> processes(const std::string& containerId) override {
    AGORA_RETURN_IF_ERROR(validateContainerId(containerId));
    std::vector<pid_t> all;
    for (const std::string& dir : paths(containerId)) {
      AGORA_ASSIGN_OR_RETURN(std::vector<pid_t> pids, internal::subtreeProcesses(dir));
      all.insert(all.end(), pids.begin(), pids.end());
    }
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    return all;
  }

  // A process is in every hierarchy at once (addProcess writes each): its
  // /proc/<pid>/cgroup, else one hierarchy's tree, answers, where
  // processes() lists them all.
  Result<bool> holds(const std::string& containerId, pid_t pid) override {
    AGORA_RETURN_IF_ERROR(validateContainerId(containerId));
    if (hierarchies_.empty()) return false;
    return internal::subtreeHolds(containerDir(hierarchies_.front(), containerId), pid, options_.cgroupsRoot,
                                  containerId);
  }

  Status signalAll(const std::string& containerId, int signal) override {
    AGORA_ASSIGN_OR_RETURN(std::vector<pid_t> pids, processes(containerId));
    return internal::signalEach(pids, signal);
  }

  Status killAll(const std::string& containerId) override {
    AGORA_RETURN_IF_ERROR(validateContainerId(containerId));
    std::optional<std::string> freezer;
    if (supports(Controller::kFreezer)) freezer = containerDir(mounts_.at(Controller::kFreezer), containerId);
    for (int round = 0; round < internal::kKillRounds; ++round) {
      AGORA_ASSIGN_OR_RETURN(std::vector<pid_t> pids, processes(containerId));
      if (pids.empty()) return Status::OK();
      // Frozen, nobody can fork between the listing and the SIGKILL; the
      // signal is delivered as soon as the cgroup thaws. A cgroup stuck in
      // FREEZING (a task in uninterruptible sleep) is killed anyway and the
      // next round tries again.
      if (freezer) AGORA_RETURN_IF_ERROR(freeze(*freezer));
      AGORA_ASSIGN_OR_RETURN(pids, processes(containerId));
      internal::Exits exits = internal::watchExits(pids);
      Status killed = internal::signalEach(pids, SIGKILL);
      if (freezer) AGORA_RETURN_IF_ERROR(fs::write(fs::join(*freezer, "freezer.state"), "THAWED"));
      AGORA_RETURN_IF_ERROR(killed);
      // Not a fixed pause: back as soon as they are gone (destroying many
      // containers one after the other must not sleep for each).
      internal::awaitExits(exits, internal::kRetryPause);
    }
    return Status::Unavailable("Processes remain in container '" + containerId + "' after " +
                               std::to_string(internal::kKillRounds) + " kill rounds");
  }

  Status destroy(const std::string& containerId) override {
    AGORA_RETURN_IF_ERROR(validateContainerId(containerId));
    for (const std::string& dir : paths(containerId)) {
      AGORA_RETURN_IF_ERROR(internal::removeSubtree(dir).withContext("Failed to destroy container '" +
                                                                      containerId + "'"));
    }
    return Status::OK();
  }

  Result<std::vector<std::string>> containers() override {
    std::set<std::string> ids;
    for (const std::string& hierarchy : hierarchies_) {
      auto names = fs::subdirectories(fs::join(hierarchy, options_.cgroupsRoot));
      if (!names.ok()) {
        if (names.error().code() == Status::Code::kNotFound) continue;
        return names.error();
      }
      ids.insert(names->begin(), names->end());
    }
    return std::vector<std::string>(ids.begin(), ids.end());
  }

  Result<CgroupStatistics> statistics(const std::string& containerId) override {
    CgroupStatistics stats;
    AGORA_ASSIGN_OR_RETURN(std::vector<pid_t> pids, processes(containerId));
    stats.processes = pids.size();

    if (supports(Controller::kCpuacct)) {
      AGORA_ASSIGN_OR_RETURN(std::string dir, controllerDir(Controller::kCpuacct, containerId));
      AGORA_ASSIGN_OR_RETURN(std::string text, fs::read(fs::join(dir, "cpuacct.stat")));
      auto values = fs::parseKeyValues(text);
      double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
      if (auto it = values.find("user"); it != values.end()) stats.cpuUserSeconds = it->second / ticks;
      if (auto it = values.find("system"); it != values.end()) stats.cpuSystemSeconds = it->second / ticks;
    }
    if (supports(Controller::kCpu)) {
      AGORA_ASSIGN_OR_RETURN(std::string dir, controllerDir(Controller::kCpu, containerId));
      AGORA_ASSIGN_OR_RETURN(std::string text, fs::read(fs::join(dir, "cpu.stat")));
      auto values = fs::parseKeyValues(text);
      if (auto it = values.find("nr_periods"); it != values.end()) stats.cpuNrPeriods = it->second;
      if (auto it = values.find("nr_throttled"); it != values.end()) stats.cpuNrThrottled = it->second;
      if (auto it = values.find("throttled_time"); it != values.end()) {
        stats.cpuThrottledSeconds = static_cast<double>(it->second) / 1e9;
      }
    }
    if (supports(Controller::kMemory)) {
      AGORA_ASSIGN_OR_RETURN(std::string dir, controllerDir(Controller::kMemory, containerId));
      AGORA_ASSIGN_OR_RETURN(stats.memoryUsageBytes, readUint(fs::join(dir, "memory.usage_in_bytes")));
      AGORA_ASSIGN_OR_RETURN(uint64_t limit, readUint(fs::join(dir, "memory.limit_in_bytes")));
      if (limit < kUnlimitedBytes) stats.memoryLimitBytes = limit;
      AGORA_ASSIGN_OR_RETURN(stats.memoryMaxUsageBytes, readUint(fs::join(dir, "memory.max_usage_in_bytes")));
      AGORA_ASSIGN_OR_RETURN(std::string stat, fs::read(fs::join(dir, "memory.stat")));
      auto values = fs::parseKeyValues(stat);
      if (auto it = values.find("total_rss"); it != values.end()) stats.memoryAnonBytes = it->second;
      if (auto it = values.find("total_cache"); it != values.end()) stats.memoryFileBytes = it->second;
      if (auto it = values.find("total_swap"); it != values.end()) stats.memorySwapBytes = it->second;
      AGORA_ASSIGN_OR_RETURN(std::string oom, fs::read(fs::join(dir, "memory.oom_control")));
      auto oomValues = fs::parseKeyValues(oom);
      if (auto it = oomValues.find("oom_kill"); it != oomValues.end()) stats.oomKills = it->second;
    }
    if (supports(Controller::kPids)) {
      AGORA_ASSIGN_OR_RETURN(std::string dir, controllerDir(Controller::kPids, containerId));
      AGORA_RETURN_IF_ERROR(internal::readPidsStatistics(dir, stats));
    }
    return stats;
  }

  Result<bool> oomKilled(const std::string& containerId) override {
    AGORA_ASSIGN_OR_RETURN(std::string dir, controllerDir(Controller::kMemory, containerId));
    return oomKilledFrom(fs::join(dir, "memory.oom_control"));
  }

  Result<std::unique_ptr<OomWatch>> watchOom(const std::string& containerId) override {
    AGORA_ASSIGN_OR_RETURN(std::string dir, controllerDir(Controller::kMemory, containerId));
    std::string oomControl = fs::join(dir, "memory.oom_control");
    int eventFd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (eventFd < 0) return fs::errnoStatus("Failed to create an eventfd for", oomControl, errno);
    auto watch = std::make_unique<internal::DescriptorOomWatch>(eventFd, oomControl, oomKilledFrom);
    int controlFd = ::open(oomControl.c_str(), O_RDONLY | O_CLOEXEC);
    if (controlFd < 0) return fs::errnoStatus("Failed to open", oomControl, errno);
    // The registration holds its own references: the control file can be
    // closed right away; closing the eventfd unregisters.
    Status registered = fs::write(fs::join(dir, "cgroup.event_control"),
                                  std::to_string(eventFd) + " " + std::to_string(controlFd));
    ::close(controlFd);
    AGORA_RETURN_IF_ERROR(registered.withContext("Failed to register for OOM events"));
    return std::unique_ptr<OomWatch>(std::move(watch));
  }

 private:
  std::string containerDir(const std::string& hierarchy, const std::string& containerId) const {
    return fs::join(fs::join(hierarchy, options_.cgroupsRoot), containerId);
  }

  Result<std::string> controllerDir(Controller controller, const std::string& containerId) const {
    AGORA_RETURN_IF_ERROR(validateContainerId(containerId));
    auto it = mounts_.find(controller);
    if (it == mounts_.end()) {
      return Status::FailedPrecondition("cgroups controller '" + std::string(controllerName(controller)) +
                                        "' is not mounted under '" + options_.hierarchyRoot + "'");
    }
    return containerDir(it->second, containerId);
  }

  Status createIn(const std::string& hierarchy, const std::string& containerId) const {
    // cgroupsRoot may have several components: create each as needed.
    std::string dir = hierarchy;
    size_t start = 0;
    const std::string& root = options_.cgroupsRoot;
    while (start < root.size()) {
      size_t slash = root.find('/', start);
      if (slash == std::string::npos) slash = root.size();
      if (slash > start) {
        dir = fs::join(dir, root.substr(start, slash - start));
        AGORA_RETURN_IF_ERROR(fs::mkdir(dir, /*existOk=*/true));
      }
      start = slash + 1;
    }
    return fs::mkdir(fs::join(dir, containerId), /*existOk=*/false);
  }

  static Result<uint64_t> readUint(const std::string& path) {
    AGORA_ASSIGN_OR_RETURN(std::string text, fs::read(path));
    auto value = fs::parseUint(text);
    if (!value) return Status::Corruption("Unexpected content '" + text + "' in '" + path + "'");
    return *value;
  }

  // Writes FROZEN and waits a bounded time for the state to settle.
  static Status freeze(const std::string& dir) {
    std::string state = fs::join(dir, "freezer.state");
    for (int round = 0; round < 50; ++round) {
      AGORA_RETURN_IF_ERROR(fs::write(state, "FROZEN"));
      AGORA_ASSIGN_OR_RETURN(std::string now, fs::read(state));
      if (now.starts_with("FROZEN")) return Status::OK();
      internal::pause(std::chrono::milliseconds(1));
    }
    return Status::OK();  // Still FREEZING: kill anyway, the caller loops.
  }

  CgroupsOptions options_;
  std::map<Controller, std::string> mounts_;  // controller -> mount point
  std::vector<std::string> hierarchies_;      // distinct mount points, sorted
};

}  // namespace

Result<std::unique_ptr<Cgroups>> makeCgroupsV1(const CgroupsOptions& options) {
  std::map<Controller, std::string> mounts;
  if (auto mountinfo = fs::read(options.mountinfoPath); mountinfo.ok()) {
    mounts = mountsFromMountinfo(*mountinfo, options.hierarchyRoot);
  }
  if (mounts.empty()) {
    for (Controller c : kControllers) {
      // Co-mounted controllers appear as symlinks ("cpu" -> "cpu,cpuacct"):
      // resolve them so that each hierarchy is used once.
      std::string dir = fs::join(options.hierarchyRoot, std::string(controllerName(c)));
      if (!fs::exists(fs::join(dir, "cgroup.procs"))) continue;
      if (char* real = ::realpath(dir.c_str(), nullptr)) {
        dir = real;
        std::free(real);
      }
      mounts[c] = dir;
    }
  }
  if (mounts.empty()) {
    return Status::NotFound("No cgroup v1 controller (cpu, cpuacct, memory, pids, freezer) mounted under '" +
                            options.hierarchyRoot + "'");
  }
  return std::unique_ptr<Cgroups>(std::make_unique<CgroupsV1>(options, std::move(mounts)));
}

}  // namespace agora::containerizer
