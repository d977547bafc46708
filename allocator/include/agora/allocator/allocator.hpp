#pragma once

// The allocator: decides which framework is offered which resources.
//
// A plain synchronous object (no I/O, no threads, no clock of its own): the
// master owns one, calls one verb per cluster event from its event loop, and
// calls allocate() every allocation interval (batch) and right after events
// that may make resources offerable (immediate). Time comes in as arguments;
// the allocator never reads a clock, so a test drives it with plain numbers.
//
// Identity: agents, frameworks and roles are strings (IDs and role paths).
// Resources are `agora::Resources` values; everything passed in is copied,
// everything returned is a value the caller owns.
//
// Preconditions are the master's to keep (it validates untrusted input
// before it gets here); a violated one is a bug and aborts (AGORA_CHECK).
//
// Semantics follow Mesos's HierarchicalDRF (reference/mesos.md §5); where we
// differ, the implementation says why (see hierarchical.hpp).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agora/allocator/sorter.hpp"
#include "agora/common/quantities.hpp"
#include "agora/common/resources.hpp"

namespace agora::allocator {

// The only notion of time: supplied by the caller (a steady clock in the
// master, a number in tests). Never read from a system clock in here.
using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::nanoseconds;

struct Options {
  // The batch interval. Refuse filters last at least this long and always
  // survive the first batch cycle after they are installed.
  Duration allocationInterval = std::chrono::seconds(1);
  // Default minimum allocatable resources, an OR of sets (Mesos
  // --min_allocatable_resources "cpus:0.01|mem:32"). An offer must contain
  // at least one set entirely. Empty: anything non-empty is allocatable.
  std::vector<ResourceQuantities> minAllocatable = {ResourceQuantities{{"cpus", 0.01}},
                                                    ResourceQuantities{{"mem", 32}}};
  SorterKind roleSorter = SorterKind::kDrf;
  SorterKind frameworkSorter = SorterKind::kDrf;
  uint64_t seed = 0;  // For the random sorter policy only.
};

struct FrameworkCapabilities {
  bool revocableResources = false;     // May be offered revocable resources.
  bool reservationRefinement = false;  // May be offered refined (stacked) reservations.
};

struct FrameworkInfo {
  std::set<std::string> roles;            // Valid role paths; at least one.
  std::set<std::string> suppressedRoles;  // Subset of roles.
  FrameworkCapabilities capabilities;
  // Per role, overrides Options::minAllocatable (Mesos offer_filters). An
  // empty list means anything non-empty is allocatable.
  std::map<std::string, std::vector<ResourceQuantities>> minAllocatable;
};

// Quota of one role, over scalar names. A name absent from `limits` is
// unlimited. Consumption = reservations to the role's subtree (allocated or
// not) + unreserved non-revocable resources offered or allocated to it.
struct Quota {
  ResourceQuantities guarantees;  // Precondition: within limits.
  ResourceQuantities limits;
  bool operator==(const Quota&) const = default;
};

// One offer: resources of one agent for one framework in one role. Every
// resource has its allocation role set to `role`.
struct Offer {
  std::string frameworkId;
  std::string role;
  std::string agentId;
  Resources resources;
};

// What one allocate() call may consider.
struct Scope {
  // The periodic cycle over every agent and framework. Only batch cycles
  // advance the filters' "survive one batch cycle" rule.
  static Scope batch() { return Scope{true, {}, {}}; }
  // Event-driven: only these agents (every framework).
  static Scope agents(std::vector<std::string> ids) { return Scope{false, std::move(ids), {}}; }
  // Event-driven: only these frameworks (every agent).
  static Scope frameworks(std::vector<std::string> ids) { return Scope{false, {}, std::move(ids)}; }

  bool isBatch = false;
  std::vector<std::string> agentIds;      // Empty: all agents.
  std::vector<std::string> frameworkIds;  // Empty: all frameworks.
};

// Why a framework gets (or does not get) offers: issue 6's
// "why am I not getting offers".
struct FilterExplanation {
  std::string agentId;
  Resources refused;
  TimePoint expiry;
  bool survivesNextBatch = false;  // Installed since the last batch cycle.
};

struct RoleExplanation {
  std::string role;
  bool suppressed = false;
  double roleShare = 0;        // Weighted dominant share of the role.
  size_t roleRank = 0;         // Position among active roles, 0 first; SIZE_MAX if inactive.
  double frameworkShare = 0;   // The framework's share inside the role.
  size_t frameworkRank = 0;    // Position among the role's active frameworks.
  std::optional<Quota> quota;  // Of this role itself.
  ResourceQuantities consumed;
  std::vector<std::string> limitsReached;  // Names at or above a limit (this role or an ancestor).
  ResourceQuantities allocated;            // Offered or allocated to the framework in this role.
  std::vector<FilterExplanation> filters;
};

struct FrameworkExplanation {
  bool known = false;
  bool active = false;
  std::vector<RoleExplanation> roles;
};

class Allocator {
 public:
  virtual ~Allocator() = default;

  // --- Agents -------------------------------------------------------------------

  // A new (or re-registered) agent with `total` resources, active. `used`
  // maps framework ID -> resources already in use there (tasks that survived
  // a master failover), each with its allocation role set.
  // Preconditions: agent unknown; every framework in `used` added and
  // subscribed to the allocation roles; Σ used ⊆ total.
  virtual void addAgent(const std::string& agentId, const Resources& total,
                        const std::map<std::string, Resources>& used = {}) = 0;
  // The agent's total changed (e.g. an operator reserved unallocated
  // resources). Precondition: known agent; what is allocated there ⊆ total.
  virtual void updateAgent(const std::string& agentId, const Resources& total) = 0;
  // Forgets the agent, its allocations (the master forgets their tasks) and
  // every filter on it. Precondition: known agent.
  virtual void removeAgent(const std::string& agentId) = 0;
  // An inactive agent keeps its allocations but gets no new offers
  // (draining, disconnected). Idempotent. Precondition: known agent.
  virtual void activateAgent(const std::string& agentId) = 0;
  virtual void deactivateAgent(const std::string& agentId) = 0;

  // --- Frameworks ---------------------------------------------------------------

  // Precondition: framework unknown; info.roles non-empty and valid.
  virtual void addFramework(const std::string& frameworkId, const FrameworkInfo& info,
                            bool active = true) = 0;
  // New roles, suppressed roles, capabilities or minimum allocatable sets. A
  // role the framework leaves keeps its allocations (to be recovered) but
  // gets no new offers. Precondition: known framework.
  virtual void updateFramework(const std::string& frameworkId, const FrameworkInfo& info) = 0;
  // Inactive frameworks (disconnected, failing over) get no offers.
  // Idempotent. Precondition: known framework.
  virtual void activateFramework(const std::string& frameworkId) = 0;
  virtual void deactivateFramework(const std::string& frameworkId) = 0;
  // Forgets the framework; whatever is still allocated to it returns to its
  // agents (as if recovered without a filter). Precondition: known.
  virtual void removeFramework(const std::string& frameworkId) = 0;

  // --- Resources ----------------------------------------------------------------

  // Resources allocated to the framework on the agent come back: declined,
  // unused part of an accept, rescinded offer, finished task. With a
  // positive `refuse`, the framework is not offered any subset of these
  // resources on this agent in this role until max(refuse,
  // allocationInterval) after `now`, and never in the first batch cycle
  // after this call. Unknown agents or frameworks are ignored (the master
  // may race with their removal). Precondition otherwise: `resources` carry
  // allocation roles and are allocated to the framework on the agent.
  virtual void recoverResources(const std::string& frameworkId, const std::string& agentId,
                                const Resources& resources, std::optional<Duration> refuse,
                                TimePoint now) = 0;

  // Offer operations (RESERVE, UNRESERVE, CREATE, DESTROY) turned
  // `from` into `to` inside the framework's allocation on the agent; the
  // agent's total changes the same way. Precondition: `from` is allocated to
  // the framework there; both have the same scalar quantities and
  // allocation roles.
  virtual void updateAllocation(const std::string& frameworkId, const std::string& agentId,
                                const Resources& from, const Resources& to) = 0;

  // --- Roles --------------------------------------------------------------------

  // No offers to the framework in these roles (all of its roles if empty)
  // until revived. Precondition: known framework.
  virtual void suppressOffers(const std::string& frameworkId, const std::set<std::string>& roles = {}) = 0;
  // Offers again, and every refuse filter of the framework in these roles
  // is cleared. Redundant revives are harmless.
  virtual void reviveOffers(const std::string& frameworkId, const std::set<std::string>& roles = {}) = 0;

  // Role -> weight (> 0); roles not listed keep theirs. Changes the order of
  // later allocations only; nothing outstanding is rebalanced.
  virtual void updateWeights(const std::map<std::string, double>& weights) = 0;
  // Sets (or with an empty Quota clears) a role's quota. Limits below the
  // current consumption are the master's business (it rescinds offers).
  virtual void updateQuota(const std::string& role, const Quota& quota) = 0;

  // --- Allocation ---------------------------------------------------------------

  // Offers whatever `scope` allows at `now`: at most one offer per agent,
  // framework and role per call. Offered resources count as allocated until
  // recovered. Expired filters are dropped first.
  virtual std::vector<Offer> allocate(TimePoint now, const Scope& scope) = 0;

  // --- Introspection ------------------------------------------------------------

  virtual FrameworkExplanation explain(const std::string& frameworkId) = 0;
  // What the framework holds on the agent (offered or in use), allocation
  // roles set. Empty for unknown IDs.
  virtual Resources allocation(const std::string& frameworkId, const std::string& agentId) const = 0;
  // Unallocated resources of the agent. Empty for an unknown agent.
  virtual Resources available(const std::string& agentId) const = 0;
};

// Hierarchical DRF (reference/mesos.md §5).
std::unique_ptr<Allocator> makeHierarchicalAllocator(const Options& options = {});

}  // namespace agora::allocator
