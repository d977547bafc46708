#pragma once

// The cgroups seam: everything the agent does to control groups goes through
// the `Cgroups` interface, with one backend for cgroup v1 (one hierarchy per
// controller) and one for cgroup v2 (the unified hierarchy). `detectCgroups`
// picks the backend for the machine; tests construct a backend directly over
// a file tree of their own, or wrap one (`CgroupsWrapper`) to inject faults.
//
// Layout. Every path is relative to a hierarchy root (default
// "/sys/fs/cgroup") and a `cgroupsRoot` (default "agora", may contain '/'):
//
//   v1:  <mount of controller>/<cgroupsRoot>/<containerId>         processes here
//   v2:  <hierarchyRoot>/<cgroupsRoot>/<containerId>               limits here
//        <hierarchyRoot>/<cgroupsRoot>/<containerId>/leaf          processes here
//
// On v2 the processes live in a `leaf` child, as in Mesos: the container's
// own cgroup then holds no process, so it may later enable controllers in its
// cgroup.subtree_control for nested containers (siblings of `leaf`) without
// moving anything, and the limits written on <containerId> cover the leaf and
// every future nested container. Stats and OOM counters of <containerId> are
// hierarchical, so they include the leaf.
//
// Threading: every call blocks on file system operations and is meant for a
// worker thread, never the daemon's event loop. A backend holds no mutable
// state after construction, so calls on different containers may run
// concurrently. Nothing here is global.
//
// Errors: a Status with context; an operation that needs a controller the
// machine does not have returns FailedPrecondition naming the controller.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agora/common/result.hpp"
#include "agora/common/status.hpp"

namespace agora::containerizer {

enum class CgroupsVersion { kV1, kV2 };

// The controllers Agora uses. On v2 `kCpuacct` and `kFreezer` have no
// controller of their own: cpu times come from the core cpu.stat and freezing
// from cgroup.freeze, so `supports` reports them true on any v2 hierarchy.
enum class Controller { kCpu, kCpuacct, kMemory, kPids, kFreezer };

std::string_view controllerName(Controller controller);
std::string_view versionName(CgroupsVersion version);

struct CgroupsOptions {
  // Where the hierarchies are mounted: the cgroup2 mount itself on v2, the
  // directory holding the per-controller mounts on v1.
  std::string hierarchyRoot = "/sys/fs/cgroup";
  // The agent's subtree inside every hierarchy (the --cgroups_root flag).
  std::string cgroupsRoot = "agora";
  // v1 only: read to find each controller's mount point; when it names no
  // cgroup mount under hierarchyRoot, the standard layout
  // <hierarchyRoot>/<controller> is used instead.
  std::string mountinfoPath = "/proc/self/mountinfo";
};

// CFS bandwidth period written with every quota (Mesos: 100 ms).
inline constexpr std::chrono::microseconds kCfsPeriod{100'000};
// The smallest CFS quota written (Mesos: 1 ms).
inline constexpr std::chrono::microseconds kMinCfsQuota{1'000};

// The values written for a cpu request, per version (mesos.md 7.2):
//   v1 cpu.shares = max(1024 × cpus, 2); v2 cpu.weight = clamp(100 × cpus, 1, 10000)
uint64_t cpuSharesFor(double cpus);
uint64_t cpuWeightFor(double cpus);
// CFS quota for a cpu limit: max(period × cpus, 1 ms); nullopt for an
// infinite limit (v1 writes -1, v2 "max").
std::optional<std::chrono::microseconds> cfsQuotaFor(double limitCpus);

// One sample of a container's counters. Fields the machine does not provide
// (a missing controller, an older kernel) stay empty; none is invented.
struct CgroupStatistics {
  std::optional<double> cpuUserSeconds;
  std::optional<double> cpuSystemSeconds;
  std::optional<uint64_t> cpuNrPeriods;
  std::optional<uint64_t> cpuNrThrottled;
  std::optional<double> cpuThrottledSeconds;

  std::optional<uint64_t> memoryUsageBytes;     // v1 memory.usage_in_bytes, v2 memory.current
  std::optional<uint64_t> memoryLimitBytes;     // empty when unlimited
  std::optional<uint64_t> memoryMaxUsageBytes;  // v1 memory.max_usage_in_bytes, v2 memory.peak
  std::optional<uint64_t> memoryAnonBytes;      // v1 total_rss, v2 anon
  std::optional<uint64_t> memoryFileBytes;      // v1 total_cache, v2 file
  std::optional<uint64_t> memorySwapBytes;      // v1 total_swap (when accounted)
  std::optional<uint64_t> oomKills;             // v1 oom_control oom_kill, v2 memory.events oom_kill

  std::optional<uint64_t> pidsCurrent;
  std::optional<uint64_t> pidsMax;  // empty when unlimited

  uint64_t processes = 0;  // processes in the container and its descendants
};

// A container's memory limits. The agent applies policy (the 32 MB floor,
// limit vs. request); the backend writes what it is given.
struct MemoryLimits {
  // v1 memory.soft_limit_in_bytes; v2 memory.low.
  uint64_t softBytes = 0;
  // v1 memory.limit_in_bytes; v2 memory.max. nullopt means unlimited.
  // Precondition: hardBytes >= softBytes.
  std::optional<uint64_t> hardBytes;
};

// Tells when the kernel OOM-killed a process in one container. Obtained
// from `Cgroups::watchOom`; owns its file descriptor, closed on destruction.
//
//   v1: an eventfd registered on memory.oom_control via cgroup.event_control;
//       the kernel signals it when the cgroup hits its limit and the OOM
//       killer runs. The confirmation is the oom_kill counter of
//       memory.oom_control.
//   v2: an inotify watch on memory.events, which the kernel modifies (and
//       signals) when its counters change; the confirmation is its oom_kill
//       counter.
//
// The agent either polls `fd()` from its loop and calls `oomKilled()` when it
// is readable, or calls the blocking `wait()` from a worker thread. The
// counters are the truth (a notification can be spurious, e.g. an `oom`
// event without a kill), and they survive an agent restart: a new watch on an
// existing container sees kills that happened before it was opened.
class OomWatch {
 public:
  virtual ~OomWatch() = default;

  // Readable (POLLIN) when the container's memory state may have changed.
  virtual int fd() const = 0;

  // Drains pending notifications, then reports whether the kernel has
  // OOM-killed a process in the container since the cgroup was created.
  virtual Result<bool> oomKilled() = 0;

  // Blocks until `oomKilled()` is true (returns true) or about `timeout` has
  // passed (returns false). Re-checks the counter at least every 100 ms, so a
  // notification lost between check and poll costs latency, not correctness.
  Result<bool> wait(std::chrono::milliseconds timeout);
};

class Cgroups {
 public:
  virtual ~Cgroups() = default;

  virtual CgroupsVersion version() const = 0;
  virtual const CgroupsOptions& options() const = 0;

  // Whether the machine provides `controller` under this hierarchy. Every
  // operation below needing a missing controller returns FailedPrecondition
  // with the controller's name; `create` skips missing controllers.
  virtual bool supports(Controller controller) const = 0;

  // The cgroup directories of `containerId`, one per hierarchy (v2: one).
  // For logs and tests; the directories need not exist.
  virtual std::vector<std::string> paths(const std::string& containerId) const = 0;

  // Creates the container's cgroup in every supported hierarchy, creating
  // cgroupsRoot as needed (v2: enabling cpu, memory and pids in the
  // cgroup.subtree_control of every ancestor from the hierarchy root down).
  // AlreadyExists if the container's cgroup exists in any hierarchy.
  // containerId must be a single path component of [A-Za-z0-9._-], not "."
  // or ".." (InvalidArgument otherwise; the same check guards every call).
  virtual Status create(const std::string& containerId) = 0;

  // Writes the cpu weight for a request of `cpus` (> 0): v1 cpu.shares, v2
  // cpu.weight (see cpuSharesFor / cpuWeightFor). With `limitCpus`, also the
  // CFS bandwidth: v1 cpu.cfs_period_us and cpu.cfs_quota_us, v2 cpu.max
  // "<quota> <period>" (an infinite limit writes -1 / "max"). Without it the
  // quota is left unlimited. Needs kCpu.
  virtual Status setCpu(const std::string& containerId, double cpus, std::optional<double> limitCpus) = 0;

  // Writes the memory limits (see MemoryLimits). The kernel OOM killer stays
  // enabled: a container over its hard limit loses a process, which
  // `watchOom` reports. Needs kMemory.
  virtual Status setMemory(const std::string& containerId, const MemoryLimits& limits) = 0;

  // Writes pids.max (nullopt: "max"). Needs kPids.
  virtual Status setPidsLimit(const std::string& containerId, std::optional<uint64_t> max) = 0;

  // Moves `pid` (the whole thread group) into the container: its cgroup.procs
  // in every hierarchy (v2: the leaf). Its future children follow.
  virtual Status addProcess(const std::string& containerId, pid_t pid) = 0;

  // The pids in the container and its descendants, sorted, without
  // duplicates. Zombies may be listed until reaped.
  virtual Result<std::vector<pid_t>> processes(const std::string& containerId) = 0;

  // Whether `pid` is in the container or one of its descendants: cheaper
  // than processes() where the hierarchies are several (v1 looks in one of
  // them). Agent recovery asks this of every container it adopts.
  virtual Result<bool> holds(const std::string& containerId, pid_t pid) = 0;

  // Sends `signal` once to every process of the container (e.g. SIGTERM at
  // the start of a kill's grace period). Processes forked meanwhile may be
  // missed; `killAll` is the complete kill.
  virtual Status signalAll(const std::string& containerId, int signal) = 0;

  // SIGKILLs every process of the container and returns once it holds none
  // (a forking process cannot escape): v2 writes cgroup.kill when the kernel
  // has it; otherwise it freezes (v1 freezer.state, v2 cgroup.freeze),
  // SIGKILLs every pid, thaws, and repeats until the container is empty.
  // Zombies count as gone (their parent reaps them). Unavailable after a
  // bounded number of rounds with processes left.
  virtual Status killAll(const std::string& containerId) = 0;

  // Removes the container's cgroups in every hierarchy, children first.
  // Retries for a bounded time while the kernel reports the cgroup busy
  // (processes exiting); call killAll first. OK if already gone.
  virtual Status destroy(const std::string& containerId) = 0;

  // The container ids under cgroupsRoot in any hierarchy, sorted; empty if
  // cgroupsRoot does not exist. Used at start to destroy orphans.
  virtual Result<std::vector<std::string>> containers() = 0;

  // One sample of the container's counters (see CgroupStatistics).
  virtual Result<CgroupStatistics> statistics(const std::string& containerId) = 0;

  // Whether the kernel has OOM-killed a process of the container (the
  // counter; no notification needed). Needs kMemory.
  virtual Result<bool> oomKilled(const std::string& containerId) = 0;

  // Opens a watch for OOM kills in the container (see OomWatch). Needs
  // kMemory and the container's cgroup to exist.
  virtual Result<std::unique_ptr<OomWatch>> watchOom(const std::string& containerId) = 0;
};

// Forwards every call to a target it does not own, so a test can override
// one operation (LevelDB's EnvWrapper).
class CgroupsWrapper : public Cgroups {
 public:
  explicit CgroupsWrapper(Cgroups* target) : target_(target) {}

  CgroupsVersion version() const override { return target_->version(); }
  const CgroupsOptions& options() const override { return target_->options(); }
  bool supports(Controller c) const override { return target_->supports(c); }
  std::vector<std::string> paths(const std::string& id) const override { return target_->paths(id); }
  Status create(const std::string& id) override { return target_->create(id); }
  Status setCpu(const std::string& id, double cpus, std::optional<double> limit) override {
    return target_->setCpu(id, cpus, limit);
  }
  Status setMemory(const std::string& id, const MemoryLimits& l) override { return target_->setMemory(id, l); }
  Status setPidsLimit(const std::string& id, std::optional<uint64_t> max) override {
    return target_->setPidsLimit(id, max);
  }
  Status addProcess(const std::string& id, pid_t pid) override { return target_->addProcess(id, pid); }
  Result<std::vector<pid_t>> processes(const std::string& id) override { return target_->processes(id); }
  Result<bool> holds(const std::string& id, pid_t pid) override { return target_->holds(id, pid); }
  Status signalAll(const std::string& id, int signal) override { return target_->signalAll(id, signal); }
  Status killAll(const std::string& id) override { return target_->killAll(id); }
  Status destroy(const std::string& id) override { return target_->destroy(id); }
  Result<std::vector<std::string>> containers() override { return target_->containers(); }
  Result<CgroupStatistics> statistics(const std::string& id) override { return target_->statistics(id); }
  Result<bool> oomKilled(const std::string& id) override { return target_->oomKilled(id); }
  Result<std::unique_ptr<OomWatch>> watchOom(const std::string& id) override { return target_->watchOom(id); }

 protected:
  Cgroups* target() const { return target_; }

 private:
  Cgroups* target_;
};

// v2 when <hierarchyRoot>/cgroup.controllers exists (the root of a cgroup2
// mount), else v1 with the per-controller hierarchies found from mountinfo
// or the standard layout. NotFound when neither is there (no cgroups: the
// agent falls back to posix isolation, loudly).
Result<std::unique_ptr<Cgroups>> detectCgroups(const CgroupsOptions& options = {});

// The backends, for tests and for operators who force one. They read the
// hierarchy at construction (available controllers, mount points) and fail
// with NotFound if it is not there.
Result<std::unique_ptr<Cgroups>> makeCgroupsV1(const CgroupsOptions& options);
Result<std::unique_ptr<Cgroups>> makeCgroupsV2(const CgroupsOptions& options);

// Checks a container id (see Cgroups::create).
Status validateContainerId(std::string_view containerId);

}  // namespace agora::containerizer
