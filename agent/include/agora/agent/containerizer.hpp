#pragma once

// The agent's container seam: everything the agent asks of the machine about
// an executor's container. The posix implementation (makePosixContainerizer
// in posix_containerizer.hpp) forks the executor into its sandbox; the
// cgroups containerizer (issue 7) puts real isolation behind the same verbs;
// tests use agora::testing::FakeContainerizer.
//
// Threading and callbacks: every verb is called on the agent's loop. Results
// that take time (launch, termination) come back through callbacks that run
// on that same loop, never inside the verb that caused them (an
// implementation that finishes at once posts the callback). The agent keeps
// its state consistent before each call, so an early callback is harmless,
// but implementations should not rely on that.
//
// Identity: a container is named by its ContainerID value (a UUID the agent
// chooses, unique per executor run). The agent checkpoints the ID before
// launch, so after an agent restart it can ask about the same container.

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agora/common/clock.hpp"
#include "agora/common/resources.hpp"
#include "agora/common/result.hpp"
#include "agora/common/status.hpp"
#include "agora/v1/agora.pb.h"

namespace agora::agent {

// What to start for one executor run.
struct ContainerConfig {
  std::string containerId;
  v1::FrameworkID frameworkId;
  // The executor as the agent runs it: for command tasks the synthesized
  // command executor (executor_id = task id, command = agora-executor).
  v1::ExecutorInfo executorInfo;
  // What the container may use: the executor's resources plus its tasks'.
  // Isolating containerizers set limits from these.
  Resources resources;
  // Hard limits above the request, by resource name ("cpus", "mem" in MB),
  // from the tasks' TaskInfo.limits (infinity: unlimited). A resource not
  // named here is limited to its request (mem) or not capped (cpus, unless
  // the containerizer enables CFS for every container).
  std::map<std::string, double> limits;
  // The run's sandbox; exists when launch is called. stdout and stderr go
  // to files of those names inside it.
  std::string sandbox;
  // Run as this user (switching needs root); unset: the agent's user.
  std::optional<std::string> user;
  // argv[0] is an absolute path; no PATH search, no shell unless argv says
  // so ({"/bin/sh", "-c", "..."}).
  std::vector<std::string> argv;
  // The executor's whole environment (AGORA_* variables, the command's
  // Environment); nothing else is inherited.
  std::map<std::string, std::string> env;
};

// How a container ended, as reported by wait().
struct ContainerTermination {
  // The raw wait status of the executor process, when it was reaped by us
  // (unknown for a process adopted after an agent restart).
  std::optional<int> waitStatus;
  // Human readable: "exited with status 3", "killed by signal 9 (Killed)",
  // "Memory limit exceeded: ...".
  std::string message;
  // Set when the container was ended by a limitation (e.g. memory): the
  // state and reason its non-terminal tasks get, and the resources whose
  // limit was exceeded.
  std::optional<v1::TaskState> state;
  std::optional<v1::TaskStatus::Reason> reason;
  std::optional<Resources> limitation;
};

// One sample of a live container's usage (/monitor/statistics).
struct ContainerUsage {
  // Mesos's shape: cpu times, memory, limits, timestamp (seconds since the
  // epoch, wall clock).
  v1::ResourceStatistics statistics;
  // The pids controller's view (not part of Mesos's ResourceStatistics).
  std::optional<uint64_t> pidsCurrent;
  std::optional<uint64_t> pidsLimit;
};

// Runs `work` somewhere it may block (a worker thread), then `done` on the
// agent's loop. Unset in options: both run inline (tests).
using RunBlocking = std::function<void(std::function<void()> work, std::function<void()> done)>;

// A watch set up by WatchReadable; destroying it cancels the watch.
class ReadableWatch {
 public:
  virtual ~ReadableWatch() = default;
};

// Calls `ready` once, on the agent's loop, when `fd` is or becomes readable
// (one shot: watch again for the next time). Destroying the returned watch
// cancels it: `ready` does not run afterwards. `fd` stays the caller's and
// must stay open while the watch exists. nullptr when `fd` cannot be
// watched: the caller then polls it. Unset in options: nothing is watched
// (tests on a FakeClock poll instead).
using WatchReadable = std::function<std::unique_ptr<ReadableWatch>(int fd, std::function<void()> ready)>;

// The production WatchReadable: the descriptor joins `loop`'s epoll set.
// `loop` must outlive every watch.
WatchReadable asioWatchReadable(boost::asio::io_context& loop);

// A container the agent checkpointed, offered to recover().
struct RecoveredContainer {
  std::string containerId;
  v1::FrameworkID frameworkId;
  v1::ExecutorInfo executorInfo;
  std::optional<pid_t> pid;  // The forked executor, when it was known.
  std::string sandbox;
};

class Containerizer {
 public:
  using LaunchCallback = std::function<void(Result<pid_t>)>;
  using TerminationCallback = std::function<void(const ContainerTermination&)>;
  using UsageCallback = std::function<void(std::map<std::string, ContainerUsage>)>;
  using LimitationCallback = std::function<void(std::optional<ContainerTermination>)>;

  virtual ~Containerizer() = default;

  // Starts the executor of `config` in a new container. `done` gets the
  // executor's pid once it runs, or an error naming what failed (the
  // container is then already cleaned up; wait() callbacks do not fire).
  // Precondition: `config.containerId` is not in use.
  virtual void launch(const ContainerConfig& config, LaunchCallback done) = 0;

  // Calls `done` once when the container (launched or recovered) ends,
  // whether by itself or by destroy(). Several waiters are allowed. For an
  // unknown container `done` runs at once (posted) with a message saying so.
  virtual void wait(const std::string& containerId, TerminationCallback done) = 0;

  // Ends the container: SIGTERM to every process in it, SIGKILL after
  // `gracePeriod` (zero: at once), then removes what the container held
  // (cgroups). Termination is reported through wait(). Idempotent; unknown
  // containers are ignored.
  virtual void destroy(const std::string& containerId, Duration gracePeriod) = 0;

  // After an agent restart: adopts the checkpointed containers that still
  // run and returns their IDs; the others are forgotten. Containers the
  // implementation finds that are not listed (orphans) are destroyed.
  // Called once, before any launch.
  virtual Result<std::set<std::string>> recover(const std::vector<RecoveredContainer>& containers) = 0;

  // Samples the usage of the live containers among `containerIds` off the
  // loop (/monitor/statistics); `done` gets one entry per container that
  // could be sampled (unknown or ended ones are left out).
  virtual void usage(const std::vector<std::string>& containerIds, UsageCallback done) = 0;

  // Whether a limitation has hit the live container (e.g. the kernel
  // OOM-killed one of its processes), checked off the loop: `done` gets the
  // termination the container's tasks should end with (state, reason,
  // message with usage and limit, limitation), or nullopt. The agent asks
  // before recording an executor's TASK_FAILED, so that a task the OOM
  // killer ended fails with REASON_CONTAINER_LIMITATION_MEMORY whichever of
  // the executor and the containerizer notices first.
  virtual void checkLimitation(const std::string& containerId, LimitationCallback done) = 0;

  // What isolates containers, as /state and /flags show it: "posix",
  // "cgroups/cpu,cgroups/mem,...".
  virtual std::string isolation() const = 0;
};

}  // namespace agora::agent
