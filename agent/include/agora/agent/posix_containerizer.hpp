#pragma once

// The posix containerizer: no isolation. Each executor is forked into its
// sandbox (stdout and stderr files there) as the leader of its own session
// and process group, through the containerizer library's posix launcher;
// destroy() signals the whole process tree (SIGTERM, then SIGKILL after the
// grace period). Used with --isolation=posix and when cgroups are not
// available.
//
// Terminations: with `watchReadable` and a kernel with pidfds, the loop
// watches each executor's pidfd and looks as soon as one ends; otherwise
// the containers are polled every `pollInterval` on the clock. Children of
// this agent are reaped (with their exit status); executors adopted after
// an agent restart are no longer our children, so only their disappearance
// is seen. A reaped executor's container ends once nothing of its process
// group runs any more (what is left gets SIGKILL at each poll, which runs
// every `pollInterval` until then).
// The user switch happens only when the agent runs as root.
//
// `runBlocking` runs blocking work (the fork/exec of a launch) and must
// eventually run `done` on the agent's loop; the default runs both inline.

#include <functional>
#include <memory>

#include "agora/agent/containerizer.hpp"
#include "agora/common/clock.hpp"

namespace agora::agent {

struct PosixContainerizerOptions {
  Duration pollInterval = std::chrono::milliseconds(100);
  RunBlocking runBlocking;
  // Unset: every container is polled.
  WatchReadable watchReadable;
  bool usePidfds = true;  // False: as on a kernel without pidfd_open.
};

std::unique_ptr<Containerizer> makePosixContainerizer(Clock& clock, PosixContainerizerOptions options = {});

}  // namespace agora::agent
