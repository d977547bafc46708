#pragma once

// What the v1 and v2 backends share: process listing over a cgroup subtree,
// removal of a subtree with retries, signalling, and short sleeps for the
// bounded retry loops.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agora/common/result.hpp"
#include "agora/common/status.hpp"
#include "agora/containerizer/cgroups.hpp"
#include "agora/containerizer/launcher.hpp"

namespace agora::containerizer::internal {

// The pids in cgroup.procs of `dir` and of every cgroup below it, sorted and
// unique. A cgroup that vanishes during the walk is skipped; a missing `dir`
// yields no pid.
Result<std::vector<pid_t>> subtreeProcesses(const std::string& dir);

// Whether /proc/<pid>/cgroup puts `pid` in <cgroupsRoot>/<containerId> or
// below it, in any hierarchy. False when it cannot tell.
bool procShowsIn(pid_t pid, const std::string& cgroupsRoot, const std::string& containerId);

// Whether `pid` is in `dir` (the container <cgroupsRoot>/<containerId> of one
// hierarchy) or below it.
Result<bool> subtreeHolds(const std::string& dir, pid_t pid, const std::string& cgroupsRoot,
                          const std::string& containerId);

// rmdir of every cgroup below `dir`, deepest first, then `dir` itself,
// retrying while the kernel reports EBUSY (tasks still exiting) for a bounded
// number of rounds. OK if `dir` does not exist.
Status removeSubtree(const std::string& dir);

// kill(pid, signal) for each pid; a pid that has already gone (ESRCH) is
// not an error.
Status signalEach(const std::vector<pid_t>& pids, int signal);

// Sleeps about `duration` (a bounded-retry back-off, not a timer).
void pause(std::chrono::milliseconds duration);

// The processes of `pids`, to be waited for by `awaitExits` after they were
// signalled (opened before the signal, so that a reused pid cannot stand in
// for a process that has gone). Those already gone are left out.
struct Exits {
  std::vector<Pidfd> pidfds;
  bool supported = true;  // false: the kernel has no pidfds.
};
Exits watchExits(const std::vector<pid_t>& pids);

// Returns as soon as every process of `exits` has ended, or after `timeout`;
// without pidfds it sleeps `timeout` (the kill loops' old fixed pause).
void awaitExits(const Exits& exits, std::chrono::milliseconds timeout);

// Writes `pid` to <dir>/cgroup.procs.
Status writePid(const std::string& dir, pid_t pid);

// The preconditions of setCpu and setMemory, shared by both backends.
Status checkCpus(double cpus);
Status checkMemoryLimits(const MemoryLimits& limits);

// pids.max, and pids.current/pids.max into `stats`: the same files on v1 and v2.
Status writePidsMax(const std::string& dir, std::optional<uint64_t> max);
Status readPidsStatistics(const std::string& dir, CgroupStatistics& stats);

// An OomWatch over a notification descriptor it owns (v1 eventfd, v2
// inotify): oomKilled() drains it, then asks `check(path)` for the counter.
class DescriptorOomWatch : public OomWatch {
 public:
  using Check = Result<bool> (*)(const std::string& path);
  DescriptorOomWatch(int fd, std::string path, Check check);
  ~DescriptorOomWatch() override;
  DescriptorOomWatch(const DescriptorOomWatch&) = delete;
  DescriptorOomWatch& operator=(const DescriptorOomWatch&) = delete;

  int fd() const override { return fd_; }
  Result<bool> oomKilled() override;

 private:
  int fd_;
  std::string path_;
  Check check_;
};

// Rounds used by killAll's freeze/kill/thaw loop and by removeSubtree.
inline constexpr int kKillRounds = 200;
inline constexpr int kRemoveRounds = 200;
inline constexpr std::chrono::milliseconds kRetryPause{10};

}  // namespace agora::containerizer::internal
