#pragma once

// What the v1 and v2 backends share: process listing over a cgroup subtree,
// removal of a subtree with retries, signalling, and short sleeps for the
// bounded retry loops.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "agora/common/result.hpp"
#include "agora/common/status.hpp"

namespace agora::containerizer::internal {

// The pids in cgroup.procs of `dir` and of every cgroup below it, sorted and
// unique. A cgroup that vanishes during the walk is skipped; a missing `dir`
// yields no pid.
Result<std::vector<pid_t>> subtreeProcesses(const std::string& dir);

// rmdir of every cgroup below `dir`, deepest first, then `dir` itself,
// retrying while the kernel reports EBUSY (tasks still exiting) for a bounded
// number of rounds. OK if `dir` does not exist.
Status removeSubtree(const std::string& dir);

// kill(pid, signal) for each pid; a pid that has already gone (ESRCH) is
// not an error.
Status signalEach(const std::vector<pid_t>& pids, int signal);

// Sleeps about `duration` (a bounded-retry back-off, not a timer).
void pause(std::chrono::milliseconds duration);

// Writes `pid` to <dir>/cgroup.procs.
Status writePid(const std::string& dir, pid_t pid);

// Rounds used by killAll's freeze/kill/thaw loop and by removeSubtree.
inline constexpr int kKillRounds = 200;
inline constexpr int kRemoveRounds = 200;
inline constexpr std::chrono::milliseconds kRetryPause{10};

}  // namespace agora::containerizer::internal
