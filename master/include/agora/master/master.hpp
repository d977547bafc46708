#pragma once

// The master (DESIGN.md; reference/mesos.md §6): admits agents, subscribes
// frameworks, turns the allocator's decisions into offers, validates and
// applies ACCEPTs, routes status updates and acknowledgements, tracks tasks,
// and answers reconciliation.
//
// A plain object on one event loop, driven through three seams
// (docs/internals.md): a `Clock` for time and timers, a `Messenger` to send
// envelopes, and receive() for every envelope that arrives. The runtime
// (ZeroMQ ROUTER + HTTP server + main) lives outside this library:
//
//   FakeClock clock;                                  // or AsioClock
//   std::unique_ptr<Master> master;
//   auto messenger = network.attach("master", [&](const PeerId& from, internal::Envelope&& e) {
//     master->receive(from, std::move(e));
//   });
//   master = std::make_unique<Master>(options, clock, *messenger);
//   if (Status s = master->recover(); !s.ok()) { ...log, exit non-zero... }
//
// Untrusted input: every envelope is validated before it touches state. A
// malformed message, one of a type the master never receives, one from a
// peer that does not speak for the agent or framework it names, or one
// that arrives out of order is dropped, counted in master/dropped_messages
// and logged once per peer. Nothing a peer sends can crash the master.
//
// Threading: every public method runs on the loop of `clock`.

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agora/allocator/allocator.hpp"
#include "agora/common/clock.hpp"
#include "agora/common/messenger.hpp"
#include "agora/master/options.hpp"
#include "agora/master/registrar.hpp"
#include "agora/v1/master.pb.h"

namespace agora::master {

class MasterProcess;

class Master {
 public:
  // Owns a Registrar on <work_dir>/registry.db and a HierarchicalDRF built
  // from `options`. Precondition: checkMasterOptions(options) is OK.
  Master(MasterOptions options, Clock& clock, Messenger& messenger);

  // Uses the given registrar and allocator, which must outlive the master.
  Master(MasterOptions options, Clock& clock, Messenger& messenger, Registrar& registrar,
         allocator::Allocator& allocator);

  ~Master();
  Master(const Master&) = delete;
  Master& operator=(const Master&) = delete;

  // Loads the registry and starts the timers (allocation, agent reregister
  // deadline, framework failover deadlines). Call once, before receive().
  // An unreadable, corrupt or unwritable registry is an error naming its
  // path: the daemon must exit non-zero (never start empty). Agents in the
  // registry are "recovered" until they reregister or
  // --agent_reregister_timeout passes (then unreachable); frameworks in the
  // registry may resubscribe with their ID until their failover deadline.
  Status recover();

  // The dispatch table: one handler per message type (see master.cpp).
  void receive(const PeerId& from, internal::Envelope&& envelope);

  // The transport lost `peer` (the ZeroMQ runtime's disconnect notice; tests
  // call it to kill a scheduler). A framework behind it is disconnected: its
  // offers are rescinded and its failover timeout starts. An agent behind it
  // is left to the ping timeout.
  void disconnected(const PeerId& peer);

  // --- Views for the HTTP endpoints -------------------------------------------

  // GET /master/info: id, hostname, version, HTTP port and address, and
  // `zmq_endpoint` ("tcp://HOST:ZMQ_PORT").
  v1::MasterInfo masterInfo() const;
  // GET /health: {"healthy": true, "recovered": bool}.
  nlohmann::json health() const;
  // GET /state (DESIGN.md's shape plus Mesos extras): agents[],
  // unreachable_agents[], recovered_agents[], frameworks[] (with tasks[],
  // unreachable_tasks[], completed_tasks[], offers[]), completed_frameworks[].
  nlohmann::json stateJson() const;
  // "HOST:PORT" of a registered agent's HTTP server (for the web UI's
  // proxy to its /files/read); nullopt for an agent not registered now.
  std::optional<std::string> agentHttpAddress(const std::string& agentId) const;

  // GET /metrics/snapshot: Mesos names ("master/slaves_active", ...,
  // allocator/mesos/*, registrar/*).
  std::map<std::string, double> metrics() const;
  // GET /state-summary: counts and resources per agent and framework, task
  // counts by state; no task lists.
  nlohmann::json stateSummaryJson() const;
  // GET /roles: {"roles": [{name, weight, frameworks, allocated, offered,
  // reserved, dominant_share, quota{guarantee, limit, consumed}}]}.
  nlohmann::json rolesJson() const;
  // GET /allocator/explain: why the framework gets offers or not (per role
  // its share and rank, suppression, refuse filters and their expiry, quota
  // limits reached, agents below the minimum allocatable resources, the
  // agents it was last offered) and a list of plain-language `reasons`.
  // NotFound for an unknown (or completed) framework.
  Result<nlohmann::json> explain(const std::string& frameworkId);

  // --- The operator API (reference/mesos.md §3.1) -------------------------------
  //
  // Requests are untrusted: each is validated before it touches state.
  // Errors: InvalidArgument (HTTP 400), NotFound (404), FailedPrecondition
  // (409: not enough unreserved resources even after rescinding offers, an
  // agent that is not connected, a task already terminal).

  std::vector<v1::WeightInfo> weights() const;
  v1::QuotaStatus quota() const;
  v1::master::Response::GetAgents getAgents() const;
  v1::master::Response::GetFrameworks getFrameworks() const;
  v1::master::Response::GetTasks getTasks() const;
  v1::master::Response::GetRoles getRoles() const;

  // Dynamic reservation by the operator: the agent's unreserved (or
  // `source`) resources get one more DYNAMIC reservation. Offers holding
  // them are rescinded first; the agent checkpoints the result and the next
  // offers show the resources only to the role (and its sub-roles).
  Status reserveResources(const v1::master::Call::ReserveResources& call);
  // Pops the top (dynamic) reservation of the given resources.
  Status unreserveResources(const v1::master::Call::UnreserveResources& call);
  // Positive weights per role; durable in the registry before they apply.
  Status updateWeights(const google::protobuf::RepeatedPtrField<v1::WeightInfo>& weights);
  // All or nothing; durable before it applies. A config with no guarantees
  // and no limits removes the role's quota. Without `force`, a limit below
  // the role's consumption or guarantees beyond the cluster's capacity are
  // InvalidArgument (as Mesos).
  Status updateQuota(const v1::master::Call::UpdateQuota& update);
  // Removes the framework as if it had torn itself down (its tasks are
  // killed); it gets an ERROR event first.
  Status teardown(const std::string& frameworkId);
  // The agent is never coming back: durable in the registry; its tasks
  // become TASK_GONE_BY_OPERATOR; it is refused if it returns. Idempotent.
  Status markAgentGone(const std::string& agentId);
  // DEACTIVATE_AGENT: no offers from the agent (outstanding ones are
  // rescinded) until REACTIVATE_AGENT; its tasks keep running. Durable in
  // the registry, kept across the agent's reregistration. Idempotent.
  // NotFound for an unknown agent, FailedPrecondition for one that is not
  // registered now (recovered, unreachable).
  Status deactivateAgent(const std::string& agentId);
  Status reactivateAgent(const std::string& agentId);
  // GET_EXECUTORS: the executors (with ExecutorInfo: custom executors; the
  // command executor of command tasks is the agent's business) per agent.
  v1::master::Response::GetExecutors getExecutors() const;
  // Asks the task's agent to kill it (Agora extension: the operator kills
  // through the master, the framework sees the usual updates).
  Status killTask(const std::string& frameworkId, const std::string& taskId);

 private:
  // Set by the short constructor only; declared first so they outlive process_.
  std::unique_ptr<Registrar> ownedRegistrar_;
  std::unique_ptr<allocator::Allocator> ownedAllocator_;
  std::unique_ptr<MasterProcess> process_;
};

}  // namespace agora::master
