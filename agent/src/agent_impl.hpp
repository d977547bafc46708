#pragma once

// The agent's state and handlers. Agent (agent.hpp) is its facade; the
// handlers are split by concern:
//
//   agent.cpp          construction, the dispatch table, sending, counters
//   recovery.cpp       recover(): checkpoint, resources check, executors
//   registration.cpp   (re)registration with backoff, pings, shutdown
//   executors.cpp      RunTask, launching executors, their records
//   executor_api.cpp   the executor API, status updates, acknowledgements
//   terminations.cpp   kills, shutdowns, container terminations
//   monitor.cpp        /monitor/statistics
//   operations.cpp     RESERVE/UNRESERVE, CheckpointResources
//   state_json.cpp     /state, metrics, sandbox paths
//   options.cpp        flags, validation, --attributes

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>

#include <spdlog/logger.h>

#include "agora/agent/agent.hpp"
#include "checkpoint.hpp"
#include "status_update_manager.hpp"

namespace agora::agent {

inline constexpr const char* kMasterPeer = "master";
inline constexpr Duration kDefaultPingTimeout = std::chrono::seconds(75);
inline constexpr Duration kRegistrationBackoffMax = std::chrono::minutes(1);
inline constexpr size_t kMaxCompletedExecutorsPerFramework = 150;
inline constexpr size_t kMaxCompletedFrameworks = 50;
// How old a /monitor/statistics sample may be before a request starts a
// new one.
inline constexpr Duration kStatisticsMaxAge = std::chrono::seconds(1);
// The command executor's allowance on top of its task (Mesos).
inline constexpr const char* kCommandExecutorOverhead = "cpus:0.1;mem:32";

// Whether the framework handles TASK_DROPPED/GONE/UNREACHABLE.
bool partitionAware(const v1::FrameworkInfo& info);
// The resources of a wire list; empty when they do not parse (validated
// earlier).
Resources resourcesOf(const google::protobuf::RepeatedPtrField<v1::Resource>& resources);
v1::executor::Event executorEvent(v1::executor::Event::Type type);

// The resources checkpointed resources were made from: without their
// dynamic reservations and persistence (what --resources must provide).
Resources basesOf(const Resources& checkpointed);

struct TaskRecord {
  v1::TaskInfo info;
  v1::Task task;           // task.state is the latest state known.
  bool launched = false;   // Delivered to the executor (LAUNCH sent).
  uint64_t group = 0;      // The RunTaskGroup it came in (0: none); checkpointed.
};

struct ExecutorRecord {
  enum class State {
    kLaunching,     // Container launch in flight.
    kRegistering,   // Running, waiting for SUBSCRIBE (also after recovery).
    kRunning,       // Subscribed.
    kTerminating,   // Asked to stop; waiting for the container to end.
    kTerminated,    // Container ended; kept until its tasks' streams close.
  };
  // What the executor's remaining tasks become when its container ends.
  struct Termination {
    v1::TaskState state;
    v1::TaskStatus::Reason reason;
    std::string message;
  };

  v1::FrameworkID frameworkId;
  v1::ExecutorInfo info;
  std::string containerId;
  std::string directory;
  bool commandExecutor = false;
  State state = State::kLaunching;
  PeerId peer;  // Empty until it subscribed.
  std::optional<pid_t> pid;
  Resources resources;  // The container's: executor plus tasks.
  std::map<std::string, TaskRecord> tasks;  // Non-completed tasks, by task ID.
  std::deque<v1::Task> completedTasks;      // Bounded.
  std::optional<TimerId> timer;             // Registration, reregistration or shutdown grace.
  std::optional<Termination> pendingTermination;
  bool recovered = false;  // Adopted after an agent restart.
  // Uuids of TASK_FAILED updates held while the containerizer checks for a
  // limitation (Containerizer::checkLimitation).
  std::set<std::string> limitationChecks;
};

// The container's hard limits from its tasks' TaskInfo.limits
// (ContainerConfig::limits).
std::map<std::string, double> containerLimits(const ExecutorRecord& executor);

struct FrameworkRecord {
  v1::FrameworkInfo info;
  std::map<std::string, ExecutorRecord> executors;  // Active, by executor ID.
  std::deque<ExecutorRecord> completedExecutors;    // Bounded.
  bool removing = false;  // ShutdownFramework received.
};

struct Counters {
  uint64_t validStatusUpdates = 0;
  uint64_t invalidStatusUpdates = 0;
  uint64_t validFrameworkMessages = 0;
  uint64_t invalidFrameworkMessages = 0;
  uint64_t droppedMessages = 0;
  uint64_t recoveryErrors = 0;
  uint64_t registrationAttempts = 0;
  uint64_t executorsTerminated = 0;
  uint64_t executorsPreempted = 0;
  std::map<v1::TaskState, uint64_t> terminalTasks;  // By final state.
};

class AgentImpl {
 public:
  AgentImpl(AgentOptions options, Clock& clock, Messenger& messenger, Containerizer& containerizer);
  ~AgentImpl();

  // --- agent.cpp ---
  void receive(const PeerId& from, internal::Envelope&& envelope);
  void sendToMaster(internal::Envelope envelope);
  void sendToExecutor(const ExecutorRecord& executor, v1::executor::Event event);
  // Logs one warning naming the peer and counts a dropped message.
  void drop(const PeerId& from, const internal::Envelope& envelope, const std::string& why);
  FrameworkRecord* framework(const std::string& frameworkId);
  ExecutorRecord* executor(const std::string& frameworkId, const std::string& executorId);
  // The executor that holds the task (active executors only).
  ExecutorRecord* executorOfTask(const std::string& frameworkId, const std::string& taskId);

  // --- recovery.cpp ---
  Status recover();
  Status computeResources();
  Status checkResourcesAgainstCheckpoint(const internal::CheckpointedResources& checkpointed);
  Status recoverRuns(const CheckpointSnapshot& snapshot);

  // --- registration.cpp ---
  void startRegistration(bool immediately = false);
  void sendRegistration();
  void scheduleRegistrationRetry();
  void onAgentRegistered(const PeerId& from, internal::Envelope& envelope);
  void onAgentReregistered(const PeerId& from, internal::Envelope& envelope);
  void onRegistered(const v1::AgentID& id, double pingTimeoutSeconds);
  void onPing(const PeerId& from, internal::Envelope& envelope);
  void resetPingWatchdog();
  void onMasterLost();
  void onShutdownAgent(const PeerId& from, internal::Envelope& envelope);
  void onReconcileTasks(const PeerId& from, internal::Envelope& envelope);
  void reconcile(const internal::ReconcileTasks& reconcile);
  void maybeFinishShutdown();
  internal::ReregisterAgent reregistration() const;
  // "HOST:PORT" of our HTTP server as others reach it: --ip unless it is a
  // wildcard, else the hostname.
  std::string httpAddress() const;

  // --- executors.cpp ---
  void onRunTask(const PeerId& from, internal::Envelope& envelope);
  void onRunTaskGroup(const PeerId& from, internal::Envelope& envelope);
  // Queues `tasks` on the executor `executorInfo` (launching it when new),
  // durably, and delivers them once it runs; `group` != 0 keeps them one
  // LAUNCH_GROUP.
  void runTasks(const v1::FrameworkInfo& frameworkInfo, v1::ExecutorInfo executorInfo, bool commandExecutor,
                const std::vector<const v1::TaskInfo*>& tasks, uint64_t group);
  // agora-executor --default, for executors of type DEFAULT.
  v1::CommandInfo defaultExecutorCommand() const;
  void onKillTask(const PeerId& from, internal::Envelope& envelope);
  void onShutdownFramework(const PeerId& from, internal::Envelope& envelope);
  void onShutdownExecutor(const PeerId& from, internal::Envelope& envelope);
  void onUpdateFramework(const PeerId& from, internal::Envelope& envelope);
  void onFrameworkToExecutor(const PeerId& from, internal::Envelope& envelope);
  void onStatusUpdateAcknowledgement(const PeerId& from, internal::Envelope& envelope);
  void onExecutorCall(const PeerId& from, internal::Envelope& envelope);
  void onExecutorSubscribe(const PeerId& from, ExecutorRecord& executor, const v1::executor::Call& call);
  void onExecutorUpdate(const PeerId& from, ExecutorRecord& executor, const v1::executor::Call& call);
  void onExecutorMessage(const PeerId& from, ExecutorRecord& executor, const v1::executor::Call& call);
  // Records an executor's update and acknowledges it to the executor once
  // durable (duplicates and rejected ones are acknowledged too).
  void recordExecutorUpdate(ExecutorRecord& executor, internal::StatusUpdate update);
  void acknowledgeExecutorUpdate(const ExecutorRecord& executor, const v1::TaskStatus& status);

  FrameworkRecord& ensureFramework(const v1::FrameworkInfo& info);
  // An update of the agent's own (SOURCE_AGENT) with a fresh uuid.
  internal::StatusUpdate makeAgentUpdate(const v1::FrameworkID& frameworkId, const v1::TaskID& taskId,
                                         const v1::ExecutorID* executorId, v1::TaskState state,
                                         v1::TaskStatus::Reason reason, const std::string& message) const;
  v1::ExecutorInfo commandExecutorInfo(const v1::FrameworkInfo& framework, const v1::TaskInfo& task) const;
  void launchExecutor(FrameworkRecord& framework, ExecutorRecord& executor);
  void deliverQueuedTasks(ExecutorRecord& executor);
  // The agent's own update for a task (SOURCE_AGENT), through the status
  // update manager like any other.
  void agentUpdate(ExecutorRecord& executor, const std::string& taskId, v1::TaskState state,
                   v1::TaskStatus::Reason reason, const std::string& message);
  // Records an update's state on the task (memory and checkpoint) and hands
  // it to the status update manager. Errors: duplicates and storage.
  Status recordUpdate(ExecutorRecord& executor, internal::StatusUpdate update);
  // Ends the executor: terminal updates for its non-terminal tasks with
  // `termination`, then destroys the container after `grace`.
  void terminateExecutor(ExecutorRecord& executor, ExecutorRecord::Termination termination, Duration grace,
                         bool sendShutdown);
  void onExecutorTerminated(const std::string& frameworkId, const std::string& executorId,
                            const std::string& containerId, const ContainerTermination& termination);
  void watchContainer(const ExecutorRecord& executor);
  void checkpointExecutor(const ExecutorRecord& executor);
  void checkpointTask(const ExecutorRecord& executor, const TaskRecord& task);
  void onStreamClosed(const TaskKey& key);
  // Moves finished executors and frameworks out of the active maps.
  void maybeCompleteExecutor(const std::string& frameworkId, const std::string& executorId);
  void maybeRemoveFramework(const std::string& frameworkId);
  Duration shutdownGracePeriod(const ExecutorRecord& executor) const;
  std::string sandboxDirectory(const std::string& frameworkId, const std::string& executorId,
                               const std::string& containerId) const;

  // --- operations.cpp ---
  void onApplyOperation(const PeerId& from, internal::Envelope& envelope);
  void onCheckpointResources(const PeerId& from, internal::Envelope& envelope);
  void onOperationStatusUpdateAcknowledgement(const PeerId& from, internal::Envelope& envelope);
  // Replaces the checkpointed resources (durably first). Errors: they do
  // not fit the agent's resources.
  Status setCheckpointedResources(const Resources& checkpointed);
  // Total resources: the configured ones with the checkpointed reservations
  // applied.
  Resources totalResources() const;
  void forwardOperationUpdate(const std::string& operationUuid);

  // --- state_json.cpp ---
  nlohmann::json stateJson() const;
  std::map<std::string, double> metrics() const;
  std::optional<std::string> sandboxPath(const std::string& frameworkId, const std::string& taskId) const;

  // --- monitor.cpp ---
  nlohmann::json monitorStatisticsJson();
  void sampleStatistics();

  // --- State ---
  AgentOptions options_;
  Clock& clock_;
  Messenger& messenger_;
  Containerizer& containerizer_;
  std::shared_ptr<spdlog::logger> log_;
  std::mt19937_64 random_;
  TimePoint startTime_;

  std::optional<CheckpointStore> store_;
  std::unique_ptr<StatusUpdateManager> updates_;

  v1::AgentInfo info_;               // id set once registered.
  Resources configured_;             // --resources plus detection.
  Resources checkpointed_;           // Dynamic reservations (durable).
  std::string resourceVersion_;      // 16 bytes, changes with checkpointed_.
  std::string bootId_;

  enum class Registration { kRecovering, kDisconnected, kRegistering, kRegistered, kShuttingDown };
  Registration registration_ = Registration::kRecovering;
  std::optional<TimerId> registrationTimer_;
  Duration registrationBackoff_{};
  std::optional<TimerId> pingTimer_;
  Duration pingTimeout_ = kDefaultPingTimeout;
  std::string shutdownReason_;

  std::map<std::string, FrameworkRecord> frameworks_;
  std::deque<FrameworkRecord> completedFrameworks_;

  struct PendingOperation {
    internal::OperationStatusUpdate update;
    std::optional<TimerId> timer;
    Duration backoff = kStatusUpdateRetryInterval;
  };
  std::map<std::string, PendingOperation> operations_;  // By operation uuid.

  struct StatisticsCache {
    std::optional<TimePoint> taken;  // When the latest sample was started.
    bool inFlight = false;
    std::map<std::string, ContainerUsage> usage;  // By container ID.
  };
  StatisticsCache statistics_;

  Counters counters_;
  uint64_t nextTaskGroup_ = 1;  // Names the RunTaskGroups received (TaskRecord::group).
  // False once the agent is destroyed: containerizer callbacks still in
  // flight then do nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace agora::agent
