#pragma once

// The executor side of the framework SDK: the callbacks a custom executor
// implements (`Executor`) and the calls it makes (`ExecutorDriver`), one to
// one with the Mesos v1 executor API (agora/v1/executor.proto). The agent
// starts the executor process with the environment below; the driver
// subscribes to the agent, delivers LAUNCH/KILL/MESSAGE/SHUTDOWN events to
// the Executor and carries status updates back reliably.
//
// Contract shared by every driver implementation:
//
// - Callbacks run one at a time, in order, on the driver's own thread, and
//   must not block (start the task's work elsewhere and report with
//   sendStatusUpdate() when it changes).
// - Status updates are reliable: the driver keeps each one until the agent
//   ACKNOWLEDGED it (that is, recorded it durably; the scheduler's own
//   acknowledgement is the agent's business), resends unacknowledged ones
//   periodically, and carries them, with the tasks no update was
//   acknowledged for yet, in the SUBSCRIBE after an agent restart.
// - Agent restart: when the framework checkpoints (AGORA_CHECKPOINT), the
//   agent sends ReconnectExecutor when it comes back and the driver
//   resubscribes; if the agent is lost (see ExecutorDriverCore::agentLost)
//   the driver retries with backoff of at most AGORA_SUBSCRIPTION_BACKOFF_MAX
//   and gives up (stops) after AGORA_RECOVERY_TIMEOUT. Without
//   checkpointing a lost agent stops the driver at once.
// - SHUTDOWN: the executor must kill its tasks, send their terminal updates
//   and call stop(). If it has not stopped after the shutdown grace period
//   (AGORA_EXECUTOR_SHUTDOWN_GRACE_PERIOD) the driver stops by itself.
// - After stop() the executor process should exit; the networked driver's
//   join() returns then.

#include <map>
#include <optional>
#include <string>

#include "agora/common/task_state.hpp"
#include "agora/common/clock.hpp"
#include "agora/common/result.hpp"
#include "agora/common/status.hpp"
#include "agora/v1/agora.pb.h"
#include "agora/v1/executor.pb.h"

namespace agora::sdk {

class ExecutorDriver;

// Implemented by the executor. The driver argument is valid during the call
// and for the driver's lifetime.
class Executor {
 public:
  virtual ~Executor() = default;

  // The agent accepted the (re)subscription. Called again after each
  // resubscription.
  virtual void subscribed(ExecutorDriver& driver, const v1::ExecutorInfo& executorInfo,
                          const v1::FrameworkInfo& frameworkInfo, const v1::AgentInfo& agentInfo) = 0;

  // The agent is gone for now; the driver is trying to resubscribe (only
  // with checkpointing; otherwise the driver stops instead).
  virtual void disconnected(ExecutorDriver& /*driver*/) {}

  // Run `task`. Report TASK_STARTING/TASK_RUNNING and later a terminal
  // state with sendStatusUpdate().
  virtual void launch(ExecutorDriver& driver, const v1::TaskInfo& task) = 0;

  // Run a task group (the default executor's LAUNCH_GROUP). The default
  // implementation fails every task of the group ("not supported").
  virtual void launchGroup(ExecutorDriver& driver, const v1::TaskGroupInfo& taskGroup);

  // Kill `taskId`; answer with TASK_KILLED (or another terminal state).
  // `killPolicy` is the scheduler's kill-time override, if any.
  virtual void kill(ExecutorDriver& driver, const v1::TaskID& taskId,
                    const std::optional<v1::KillPolicy>& killPolicy) = 0;

  // Optional. The agent recorded the update `uuid` of `taskId`.
  virtual void acknowledged(ExecutorDriver& /*driver*/, const v1::TaskID& /*taskId*/,
                            const std::string& /*uuid*/) {}

  // Opaque bytes from the scheduler (best effort).
  virtual void frameworkMessage(ExecutorDriver& driver, const std::string& data) = 0;

  // Kill every task, send the terminal updates, then call driver.stop().
  virtual void shutdown(ExecutorDriver& driver) = 0;

  // An error from the agent (e.g. an invalid call). Informational.
  virtual void error(ExecutorDriver& driver, const std::string& message) = 0;
};

// What the agent tells an executor process through its environment (the
// agent sets exactly these; docs/internals.md).
struct ExecutorEnvironment {
  std::string agentEndpoint;   // AGORA_AGENT_ENDPOINT: the agent's executor socket, "ipc://..."
  v1::FrameworkID frameworkId; // AGORA_FRAMEWORK_ID
  v1::ExecutorID executorId;   // AGORA_EXECUTOR_ID
  std::string directory;       // AGORA_DIRECTORY: the sandbox; the executor runs there
  bool checkpoint = false;     // AGORA_CHECKPOINT: "1"/"true" or "0"/"false"
  // AGORA_RECOVERY_TIMEOUT (default 15mins): how long to try to resubscribe
  // after losing the agent, with checkpointing.
  Duration recoveryTimeout = std::chrono::minutes(15);
  // AGORA_SUBSCRIPTION_BACKOFF_MAX (default 2secs): cap of the resubscribe backoff.
  Duration subscriptionBackoffMax = std::chrono::seconds(2);
  // AGORA_EXECUTOR_SHUTDOWN_GRACE_PERIOD (default 5secs): time between
  // SHUTDOWN and the agent destroying the container.
  Duration shutdownGracePeriod = std::chrono::seconds(5);

  // Reads the process environment. Errors name the variable: a missing
  // required one (endpoint, framework id, executor id) or a malformed value.
  // Durations are parseDuration() text ("15mins") or plain seconds ("900").
  static Result<ExecutorEnvironment> fromProcess();
  // The same from a map (for tests and embedding).
  static Result<ExecutorEnvironment> fromMap(const std::map<std::string, std::string>& variables);
};

// The calls of an executor.
class ExecutorDriver {
 public:
  enum class State {
    kNotStarted,
    kSubscribing,  // SUBSCRIBE sent (retried) and no SUBSCRIBED yet.
    kSubscribed,
    kStopped,      // Final: stop(), recovery timeout, or agent lost without checkpointing.
  };

  virtual ~ExecutorDriver() = default;

  // Starts subscribing. A second call is ignored.
  virtual void start() = 0;

  // Stops the driver: nothing is sent or delivered any more; the process
  // should exit. Updates not yet acknowledged are lost unless the agent has
  // them.
  virtual void stop() = 0;

  // Sends a task status update. The driver fills in uuid (16 random bytes;
  // an executor that wants to recognise the update's ACKNOWLEDGED may set
  // its own, newUuidBytes()), timestamp (now), source (SOURCE_EXECUTOR) and
  // executor_id, and keeps the update until the agent acknowledges it.
  // Errors (nothing sent): no task_id, TASK_STAGING, a uuid that is not 16
  // bytes, or a driver not started or stopped. Accepted while
  // (re)subscribing: the update goes out with the next SUBSCRIBE.
  virtual Status sendStatusUpdate(v1::TaskStatus status) = 0;

  // Sends opaque bytes to the scheduler (best effort; dropped while not
  // subscribed).
  virtual void sendFrameworkMessage(const std::string& data) = 0;

  virtual State state() const = 0;
};

const char* toString(ExecutorDriver::State state);

// True for the states after which a task never changes again (reference
// mesos.md §8): FINISHED, FAILED, KILLED, ERROR, LOST, DROPPED, GONE,
// GONE_BY_OPERATOR.
using ::agora::isTerminalState;

}  // namespace agora::sdk
