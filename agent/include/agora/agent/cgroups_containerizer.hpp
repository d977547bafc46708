#pragma once

// The cgroups containerizer: every executor runs in a container of its own
// under --cgroups_root, built on agora_containerizer (cgroups.hpp,
// launcher.hpp). What it isolates is chosen by --isolation:
//
//   cgroups/cpu     cpu.shares / cpu.weight from the container's cpus; a CFS
//                   quota from a cpus limit (TaskInfo.limits), or from the
//                   request with `enableCfs` (--cgroups_enable_cfs)
//   cgroups/mem     memory limit (the request, at least 32 MB, or the mem
//                   limit); OOM kills are detected and end the container
//                   with TASK_FAILED / REASON_CONTAINER_LIMITATION_MEMORY
//   cgroups/pids    pids.max = `pidsMax` (--cgroups_pids_max)
//   namespaces/pid  the executor is pid 1 of a new pid namespace with a
//                   private /proc
//
// The container's cgroups always exist (in every hierarchy the machine
// has), so kill and cleanup are complete even without the cgroups/*
// isolators: the executor is placed in them before its first instruction
// (the launcher holds it on a pipe), and everything it forks follows.
//
// Threading: every verb runs on the agent's loop. Everything that touches
// the kernel (cgroup writes and reads, fork/exec, waitpid, kill) runs in
// `runBlocking` work, and results come back on the loop. One poll job at a
// time reaps executors, reads the OOM notifiers and cleans up ended
// containers. Which containers it looks at: each executor has a pidfd, and
// with `watchReadable` the loop watches it and the container's OOM notifier,
// so a poll runs when one becomes readable and looks only at those
// containers (the cost of a launch does not grow with the containers that
// run). Without a pidfd (kernels before 5.3) or without `watchReadable`,
// a poll every `pollInterval` looks at those containers, with one poll(2)
// over their pidfds and notifiers (waitpid / kill(pid, 0) when no pidfd).
//
// Ending a container: the executor exits or is killed (destroy(): SIGTERM
// to every process, SIGKILL to all after the grace period), then every
// process left in the container is killed (freezing first, so that nothing
// forks away) and its cgroups removed, and only then do wait() callbacks
// fire.
//
// Recovery: checkpointed containers whose cgroup still holds their
// executor are adopted (its pid is no longer our child, so only its
// disappearance is seen, through a pidfd opened before the cgroup check, so
// a reused pid cannot pass for it); checkpointed containers whose executor is gone
// are adopted and end at the first poll, with the memory limitation when
// the kernel OOM-killed in them; every other container under
// --cgroups_root (an orphan) is killed and removed.

#include <memory>
#include <optional>
#include <set>
#include <string>

#include "agora/agent/containerizer.hpp"
#include "agora/common/clock.hpp"
#include "agora/containerizer/cgroups.hpp"

namespace agora::agent {

// The isolators --isolation can name, and the default set.
inline constexpr const char* kDefaultCgroupsIsolation = "cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid";

struct CgroupsContainerizerOptions {
  bool cpu = true;           // cgroups/cpu
  bool memory = true;        // cgroups/mem
  bool pids = true;          // cgroups/pids
  bool pidNamespace = true;  // namespaces/pid
  // A CFS quota equal to the cpus request for every container.
  bool enableCfs = false;
  // pids.max of each container (cgroups/pids).
  uint64_t pidsMax = 4096;
  // How often containers that are not watched (see above) are polled.
  Duration pollInterval = std::chrono::milliseconds(100);
  // After a recovery: when the OOM notifiers of the adopted containers are
  // armed (the OOM counters are read then, so no kill goes unreported).
  Duration oomWatchDelay = std::chrono::milliseconds(500);
  RunBlocking runBlocking;
  // Unset: every container is polled.
  WatchReadable watchReadable;
  // false: no pidfds, as on a kernel without them (tests of that path).
  bool usePidfds = true;
};

// Reads the isolators of an --isolation value into `options` ("posix" and
// unknown names are the caller's business: validateAgentOptions).
void applyIsolation(const std::string& isolation, CgroupsContainerizerOptions* options);

// `cgroups` is owned by the containerizer; `clock` must outlive it.
std::unique_ptr<Containerizer> makeCgroupsContainerizer(Clock& clock,
                                                        std::unique_ptr<containerizer::Cgroups> cgroups,
                                                        CgroupsContainerizerOptions options);

// The message and limitation of a container the kernel OOM-killed in:
// "Memory limit exceeded: usage 70.1 MB (peak 70.1 MB) of limit 64 MB".
ContainerTermination memoryLimitation(const containerizer::CgroupStatistics& statistics);

}  // namespace agora::agent
