#pragma once

// The master's state and handlers (private). One class, its methods split by
// concern across the files of this folder:
//   master.cpp      construction, recovery, the dispatch table, drops
//   agents.cpp      register, reregister, ping/pong, unreachable, gone
//   frameworks.cpp  subscribe, failover, teardown, heartbeats, suppress/revive
//   offers.cpp      allocation -> offers, rescind, decline, offer timeout
//   accept.cpp      ACCEPT: offer validation, LAUNCH, RESERVE, UNRESERVE
//   validation.cpp  pure checks of FrameworkInfo, TaskInfo, reservations
//   tasks.cpp       status updates, acknowledgements, kill, reconcile, messages
//   views.cpp       masterInfo, health, /state, metrics
//   operator.cpp    operator API mutations: reserve, weights, quota, gone, kill
//   operator_views.cpp  /roles, /state-summary, v1 GET_* answers, explain

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agora/allocator/allocator.hpp"
#include "agora/common/task_state.hpp"
#include "agora/common/clock.hpp"
#include "agora/common/logging.hpp"
#include "agora/common/messenger.hpp"
#include "agora/common/resources.hpp"
#include "agora/master/options.hpp"
#include "agora/master/registrar.hpp"
#include "agora/v1/master.pb.h"

namespace agora::master {

using Call = v1::scheduler::Call;
using Event = v1::scheduler::Event;

// A launched task, as the master tracks it.
struct TaskEntry {
  v1::Task task;          // state = latest known; status_update_state/uuid = last forwarded.
  Resources resources;    // Allocated form (allocation role set); returned when terminal.
  bool released = false;  // Resources given back to the allocator.
  // The framework asked to kill it. A kill can be lost with an agent that
  // restarts or is partitioned, so it is sent again whenever the agent
  // reregisters, until the task is terminal (as Mesos's killedTasks).
  bool killRequested = false;
  std::optional<v1::KillPolicy> killPolicy;
};

struct AgentEntry {
  std::string id;
  v1::AgentInfo info;                 // With id.
  PeerId peer;
  std::string version;
  std::string httpAddress;            // "HOST:PORT" of its HTTP server (RegisterAgent.http_address).
  Resources total;                    // Unallocated form, checkpointed resources applied.
  Resources checkpointed;             // Dynamic reservations and volumes (unallocated form).
  bool connected = true;
  bool active = true;        // Offers are made from it (false while the operator has it deactivated).
  bool deactivated = false;  // DEACTIVATE_AGENT (durable; see deactivatedAgents_).
  WallTime registeredTime;
  // Health checking: a pong since the last ping, and missed pings in a row.
  bool pongReceived = true;
  int64_t missedPongs = 0;
  TimerId pingTimer = 0;
  std::set<std::string> offers;
  // Framework ID -> task IDs on this agent (non-terminal-and-unacked).
  std::map<std::string, std::set<std::string>> tasks;
  // Framework ID -> executor ID -> info (custom executors, with resources).
  std::map<std::string, std::map<std::string, v1::ExecutorInfo>> executors;
};

struct FrameworkEntry {
  std::string id;
  v1::FrameworkInfo info;  // With id.
  std::set<std::string> roles;
  std::set<std::string> suppressedRoles;
  PeerId peer;             // Empty while disconnected.
  PeerId lastPeer;         // The peer it was last connected from (see reconnectFramework).
  bool connected = false;
  bool active = false;
  bool recovered = false;  // Known from the registry or an agent, not resubscribed yet.
  WallTime registeredTime;
  std::optional<WallTime> unregisteredTime;
  TimerId heartbeatTimer = 0;
  TimerId failoverTimer = 0;
  std::set<std::string> offers;
  std::map<std::string, TaskEntry> tasks;          // Task ID -> task.
  std::map<std::string, v1::Task> unreachableTasks;
  // Kills of unreachable tasks, sent if their agent comes back.
  std::map<std::string, std::optional<v1::KillPolicy>> unreachableKills;
  std::deque<v1::Task> completedTasks;             // Oldest first, bounded.
  // Agent ID -> (role, when) of the latest offer there (/allocator/explain).
  std::map<std::string, std::pair<std::string, WallTime>> lastOffers;
  // Per-framework counters by metric name below its prefix ("offers/sent",
  // "calls/accept", "tasks/terminal/task_killed"; framework_metrics.cpp).
  std::map<std::string, double> counters;
  bool partitionAware() const;
};

struct OfferEntry {
  v1::Offer offer;
  std::string frameworkId;
  std::string agentId;
  std::string role;
  Resources resources;  // Allocated form.
  TimerId timeoutTimer = 0;
};

struct UnreachableEntry {
  v1::AgentID id;
  WallTime time;
};

// One role as /roles and GET_ROLES show it.
struct RoleView {
  std::string name;
  double weight = 1;
  std::vector<std::string> frameworks;
  Resources allocated;  // Allocated form: in use by tasks.
  Resources offered;    // Allocated form.
  Resources reserved;   // Unallocated form: reserved to exactly this role.
  double dominantShare = 0;  // Subtree's (allocated + offered) / cluster total, / weight.
  std::optional<v1::QuotaConfig> quota;
  ResourceQuantities consumed;  // Quota consumption of the subtree.
};

class MasterProcess {
 public:
  MasterProcess(MasterOptions options, Clock& clock, Messenger& messenger, Registrar& registrar,
                allocator::Allocator& allocator);
  ~MasterProcess();

  Status recover();
  void receive(const PeerId& from, internal::Envelope&& envelope);
  void disconnected(const PeerId& peer);
  void reconnectFramework(FrameworkEntry& framework, const PeerId& from);
  void sendKill(const AgentEntry& agent, const std::string& frameworkId, const TaskEntry& task);
  void resendKills(const AgentEntry& agent);

  v1::MasterInfo masterInfo() const;
  nlohmann::json health() const;
  nlohmann::json stateJson() const;
  std::optional<std::string> agentHttpAddress(const std::string& agentId) const;
  std::map<std::string, double> metrics() const;

  // --- master.cpp -------------------------------------------------------------
  void schedulerCall(const PeerId& from, Call&& call);
  // Drops an envelope: counts it and warns once per peer.
  void drop(const PeerId& from, std::string_view type, std::string_view why);
  void send(const PeerId& to, internal::Envelope envelope);
  void sendEvent(FrameworkEntry& framework, Event event);
  // A registry write failed: the master cannot keep its promises. Logs and
  // aborts (the daemon restarts and recovers, as Mesos does).
  [[noreturn]] void registryFailed(const Status& status);

  // --- agents.cpp -------------------------------------------------------------
  void registerAgent(const PeerId& from, const internal::RegisterAgent& message);
  void reregisterAgent(const PeerId& from, const internal::ReregisterAgent& message);
  void unregisterAgent(const PeerId& from, const internal::UnregisterAgent& message);
  void pong(const PeerId& from);
  void pingAgent(const std::string& agentId);
  // Marks the agent unreachable (durably) or removes it (unregistered):
  // its tasks go to TASK_UNREACHABLE/LOST or TASK_GONE/LOST, offers are
  // rescinded, frameworks get FAILURE, the allocator forgets it.
  // `byOperator`: MARK_AGENT_GONE (tasks become TASK_GONE_BY_OPERATOR).
  void removeAgent(const std::string& agentId, bool unreachable, std::string_view why, bool byOperator = false);
  void recoveredAgentTimeout();
  // Adds the tasks an agent reported (reregistration) to their frameworks;
  // with `reregistered`, tells every framework they are back.
  void addReportedTasks(AgentEntry& agent, const internal::ReregisterAgent& message, bool reregistered);
  // The agent the peer speaks for, or null (after a drop).
  AgentEntry* agentOf(const PeerId& from, const v1::AgentID* claimed, std::string_view type);
  void addAgentToAllocator(AgentEntry& agent);

  // --- frameworks.cpp ---------------------------------------------------------
  void subscribe(const PeerId& from, const Call& call);
  void teardown(FrameworkEntry& framework);
  void suppress(FrameworkEntry& framework, const Call::Suppress& suppress);
  void revive(FrameworkEntry& framework, const Call::Revive& revive);
  void disconnectFramework(FrameworkEntry& framework);
  void removeFramework(const std::string& frameworkId, std::string_view why);
  void heartbeat(const std::string& frameworkId);
  void persistFramework(const FrameworkEntry& framework, std::optional<WallTime> failoverDeadline);
  void startFailoverTimer(FrameworkEntry& framework, Duration after);
  allocator::FrameworkInfo allocatorInfo(const FrameworkEntry& framework) const;
  FrameworkEntry& addRecoveredFramework(const v1::FrameworkInfo& info);

  // --- offers.cpp -------------------------------------------------------------
  void batchAllocate();
  void allocate(const allocator::Scope& scope);
  // Removes the offer; returns its resources to the allocator (optionally
  // with a refuse filter) and, with `rescind`, tells the framework.
  void removeOffer(const std::string& offerId, bool recover, std::optional<Duration> refuse, bool rescind);
  void decline(FrameworkEntry& framework, const Call::Decline& decline);
  std::optional<Duration> refuseOf(const v1::Filters* filters) const;

  // --- accept.cpp -------------------------------------------------------------
  void accept(FrameworkEntry& framework, const Call::Accept& accept);

  // --- operator.cpp -----------------------------------------------------------
  Status operatorReserve(const v1::master::Call::ReserveResources& call);
  Status operatorUnreserve(const v1::master::Call::UnreserveResources& call);
  Status updateWeights(const google::protobuf::RepeatedPtrField<v1::WeightInfo>& infos);
  Status updateQuota(const v1::master::Call::UpdateQuota& update);
  Status operatorTeardown(const std::string& frameworkId);
  Status markAgentGone(const std::string& agentId);
  // DEACTIVATE_AGENT / REACTIVATE_AGENT: durable; no offers from a
  // deactivated agent (outstanding ones are rescinded), its tasks run on.
  Status setAgentDeactivated(const std::string& agentId, bool deactivated);
  Status operatorKill(const std::string& frameworkId, const std::string& taskId);
  // A connected agent, or NotFound / FailedPrecondition.
  Result<AgentEntry*> operatorAgent(const std::string& agentId);
  // Rescinds offers on the agent until `needed` (unallocated) is free.
  bool makeAvailable(AgentEntry& agent, const Resources& needed);
  Status applyOperatorConversion(AgentEntry& agent, const Resources& from, const Resources& to, std::string_view what);
  // RESERVE/UNRESERVE turned `from` into `to` (unallocated form) on the
  // agent: its total and checkpointed resources follow (framework and
  // operator operations alike); sendCheckpointedResources tells the agent.
  void convertAgentResources(AgentEntry& agent, const Resources& from, const Resources& to);
  void sendCheckpointedResources(AgentEntry& agent);
  // Reservations to the role's subtree + unreserved resources offered or
  // allocated to it (scalars).
  ResourceQuantities consumedQuota(const std::string& role) const;

  // --- operator_views.cpp -----------------------------------------------------
  std::vector<RoleView> roleViews() const;
  nlohmann::json rolesJson() const;
  nlohmann::json stateSummaryJson() const;
  std::vector<v1::WeightInfo> weightInfos() const;
  v1::QuotaStatus quotaStatus() const;
  v1::master::Response::GetAgents getAgents() const;
  v1::master::Response::GetFrameworks getFrameworks() const;
  v1::master::Response::GetTasks getTasks() const;
  v1::master::Response::GetRoles getRoles() const;
  v1::master::Response::GetExecutors getExecutors() const;
  Result<nlohmann::json> explainJson(const std::string& frameworkId);

  // --- tasks.cpp --------------------------------------------------------------
  void statusUpdate(const PeerId& from, const internal::StatusUpdate& update);
  void acknowledge(FrameworkEntry& framework, const Call::Acknowledge& ack);
  void kill(FrameworkEntry& framework, const Call::Kill& kill);
  void reconcile(FrameworkEntry& framework, const Call::Reconcile& reconcile);
  void frameworkMessage(FrameworkEntry& framework, const Call::Message& message);
  void shutdownExecutor(FrameworkEntry& framework, const Call::Shutdown& shutdown);
  void executorMessage(const PeerId& from, const internal::ExecutorToFramework& message);
  void exitedExecutor(const PeerId& from, const internal::ExitedExecutor& message);
  // Sends a master-generated update (no uuid, not retried) for `taskId`.
  void sendMasterUpdate(FrameworkEntry& framework, const std::string& taskId, const std::string& agentId,
                        v1::TaskState state, v1::TaskStatus::Reason reason, const std::string& message);
  // Records `status` as the task's latest; frees its resources once terminal.
  void updateTaskState(FrameworkEntry& framework, TaskEntry& task, const v1::TaskStatus& status,
                       v1::TaskState latest);
  void releaseTaskResources(FrameworkEntry& framework, TaskEntry& task);
  void completeTask(FrameworkEntry& framework, const std::string& taskId);
  void addTask(FrameworkEntry& framework, AgentEntry& agent, v1::Task task, Resources resources);
  v1::TaskStatus reconciliationStatus(const FrameworkEntry& framework, const std::string& taskId,
                                      const std::optional<std::string>& agentId, bool* answer) const;
  // A task reached `state`: master/tasks_<state>, and the framework's
  // tasks/terminal/<state> when terminal.
  void countTaskState(FrameworkEntry& framework, v1::TaskState state);

  // --- framework_metrics.cpp --------------------------------------------------
  // A call the framework made (after its checks passed) / an event sent to it.
  void countFrameworkCall(FrameworkEntry& framework, Call::Type type);
  void countFrameworkEvent(FrameworkEntry& framework, Event::Type type);
  // master/frameworks/<name>/<id>/... of every framework in frameworks_.
  void addFrameworkMetrics(std::map<std::string, double>& metrics) const;

  // --- state ------------------------------------------------------------------
  MasterOptions options_;
  Clock& clock_;
  Messenger& messenger_;
  Registrar& registrar_;
  allocator::Allocator& allocator_;
  std::shared_ptr<spdlog::logger> log_;

  v1::MasterInfo info_;
  bool recovered_ = false;
  WallTime startTime_;
  uint64_t nextAgent_ = 0;
  uint64_t nextFramework_ = 0;
  uint64_t nextOffer_ = 0;
  TimerId allocationTimer_ = 0;
  TimerId reregisterTimer_ = 0;

  std::map<std::string, std::unique_ptr<AgentEntry>> agents_;
  std::map<PeerId, std::string> agentByPeer_;
  std::map<std::string, v1::AgentInfo> recoveredAgents_;  // In the registry, not reregistered yet.
  std::map<std::string, UnreachableEntry> unreachable_;
  std::map<std::string, WallTime> gone_;
  // Agents the operator deactivated (admitted, recovered or unreachable),
  // as in the registry.
  std::set<std::string> deactivatedAgents_;

  std::map<std::string, std::unique_ptr<FrameworkEntry>> frameworks_;
  std::map<PeerId, std::string> frameworkByPeer_;
  std::deque<std::unique_ptr<FrameworkEntry>> completedFrameworks_;

  std::map<std::string, OfferEntry> offers_;

  // Operator policy, as in the registry (non-default entries only).
  std::map<std::string, double> weights_;
  std::map<std::string, v1::QuotaConfig> quotas_;
  // The last allocation run (allocator/mesos/allocation_run_ms).
  double lastAllocationMs_ = 0;
  double maxAllocationMs_ = 0;

  std::set<PeerId> warnedPeers_;
  std::map<std::string, double> counters_;
};

// Mesos's resource summary: {"cpus": 1, "mem": 128, "ports": "[31000-32000]"}
// with cpus, mem, disk and gpus always present (views.cpp).
nlohmann::json resourcesJson(const Resources& resources);
// "master/frameworks/<percent-encoded name>/<id>/" (framework_metrics.cpp).
std::string frameworkMetricPrefix(const FrameworkEntry& framework);
// A QuotaConfig as the allocator takes it (operator.cpp).
allocator::Quota toAllocatorQuota(const v1::QuotaConfig& config);

// --- validation.cpp (pure functions) ------------------------------------------

inline bool isTerminal(v1::TaskState state) { return isTerminalState(state); }
bool hasCapability(const v1::FrameworkInfo& info, v1::FrameworkInfo::Capability::Type type);
// The roles a FrameworkInfo subscribes to (MULTI_ROLE: roles[]; else role).
std::set<std::string> frameworkRoles(const v1::FrameworkInfo& info);
// SUBSCRIBE: FrameworkInfo and suppressed roles. `existing` is the
// framework being resubscribed, if any.
Status validateSubscribe(const Call& call, const FrameworkEntry* existing);
Status validateSubscribeInfo(const v1::FrameworkInfo& info);
// AgentInfo of a (re)registration: hostname, resources, attributes.
Status validateAgentInfo(const v1::AgentInfo& info);
// "HOST:PORT" of an agent's HTTP server: `reported` (RegisterAgent's
// http_address) when it parses, else AgentInfo's hostname:port.
std::string httpAddressOf(const v1::AgentInfo& info, const std::string& reported);
// The agent's total: its --resources with the checkpointed dynamic
// reservations and volumes applied. Errors when they do not fit.
Result<Resources> agentTotal(const v1::AgentInfo& info,
                             const google::protobuf::RepeatedPtrField<v1::Resource>& checkpointed);
// Resources with every unset allocation role set to `role`.
Resources withAllocationRole(const Resources& resources, const std::string& role);
// A FrameworkInfo's failover_timeout as a Duration (validated before).
Duration failoverTimeoutOf(const v1::FrameworkInfo& info);

// LAUNCH of one task against what is left of the offers.
struct TaskCheck {
  const FrameworkEntry& framework;
  const AgentEntry& agent;
  const std::string& role;
  const Resources& remaining;
};
// On success, the resources the task consumes (task + new executor), in
// allocated form.
Result<Resources> validateTask(const v1::TaskInfo& task, const TaskCheck& check);

// LAUNCH_GROUP: an executor of type DEFAULT (no command) and tasks with
// commands and no executor, each valid as validateTask says, unique in the
// group; what they consume, in allocated form: each task's, plus the
// executor's when it is new.
struct GroupConsumption {
  Resources executor;
  std::vector<Resources> tasks;
  Resources total;
};
Result<GroupConsumption> validateTaskGroup(const v1::ExecutorInfo& executor, const v1::TaskGroupInfo& group,
                                           const TaskCheck& check);

// RESERVE / UNRESERVE by a framework: the `from` -> `to` conversion, or why not.
struct Conversion {
  Resources from;
  Resources to;
};
Result<Conversion> validateReserve(const v1::Offer::Operation::Reserve& reserve, const FrameworkEntry& framework,
                                   const std::string& role, const Resources& remaining);
Result<Conversion> validateUnreserve(const v1::Offer::Operation::Unreserve& unreserve,
                                     const FrameworkEntry& framework, const std::string& role,
                                     const Resources& remaining);

}  // namespace agora::master
