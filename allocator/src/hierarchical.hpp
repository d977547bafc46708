#pragma once

// HierarchicalDRF: the allocator of reference/mesos.md §5, built for speed.
//
// Files, by concern:
//   hierarchical.cpp          agents, frameworks, weights, quota settings
//   hierarchical_allocate.cpp the allocation cycle: candidates, quota
//                             chopping, headroom, min allocatable, offers
//   hierarchical_recover.cpp  recovery, operations, filters, suppress/revive,
//                             explain
//   hierarchical_roles.cpp    role tree bookkeeping: consumption, deficits
//
// Hot path. Per agent the allocator caches dense quantity vectors of what is
// available (all scalars, unreserved non-revocable scalars, every name with
// ranges counted) and whether anything available is reserved or revocable.
// For a plain agent (nothing reserved or revocable, no quota in play) an
// offer is decided on vectors alone and the available Resources move into
// the offer whole. Sorters re-key only the nodes an allocation touched.
//
// Dirty tracking. An agent is "settled" once a full-scope pass found nothing
// more to offer on it. Only events that can make something offerable
// unsettle agents: agent-local ones (recovery, total change, activation,
// filter expiry) unsettle that agent; global ones (framework added,
// activated, revived or updated, quota changed, recovery while quota is in
// play) unsettle all. Allocations never make anything else offerable
// (shares only reorder; consumption and headroom only shrink), so a cycle
// over an unchanged cluster visits no agent at all.
//
// Differences from Mesos, and why:
// - Agents are visited in index (arrival) order, not shuffled, so a run is
//   reproducible from its inputs alone; DRF makes the visiting order matter
//   little, since each agent goes to whoever has the lowest share then.
// - Recovery triggers an immediate allocation opportunity (the master calls
//   allocate with Scope::agents), so declined resources do not wait for the
//   next interval.
// - A refuse filter is active until both max(refuse, interval) has passed
//   and one batch cycle has run since it was installed: the same observable
//   behaviour as Mesos's tests, without a timer.
// - Quota may be set on nested roles; limits are enforced on every ancestor.
//   Headroom sums every guaranteed role's deficit, so guarantees should be
//   set on disjoint subtrees (as Mesos requires).
// - Shared resources are offered like any other (no per-cycle sharing).

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agora/allocator/allocator.hpp"

namespace agora::allocator {

inline constexpr uint32_t kNone = UINT32_MAX;

struct Filter {
  uint64_t id = 0;
  // As offered (allocated form), matched with containsIgnoringAllocation:
  // kept apart from the agent's available resources (which hold the same
  // slots unallocated), so that offering them again changes them in place
  // instead of copying slots the filter shares.
  Resources refused;
  TimePoint expiry;
  uint64_t installedBatch = 0;  // Batch cycles started before installation.
};

// What one framework-role holds on one agent, in pieces: each offer's
// resources as offered (sharing slots with the offer), merged only when
// something needs the whole. Offering more to a framework that already
// holds resources on an agent (the common case once tasks run) then adds a
// reference instead of merging slots, and recovering exactly an offer (a
// decline) drops its piece without looking at a slot.
class PiecewiseResources {
 public:
  explicit PiecewiseResources(Resources first) : first_(std::move(first)) {}

  void add(Resources more);
  // Everything held, merged (once: the pieces then are that one value).
  const Resources& whole() const;
  bool empty() const { return first_.empty() && more_.empty(); }
  bool contains(const Resources& part) const;
  // Precondition: contains(part).
  void subtract(const Resources& part);

 private:
  static constexpr size_t kMaxPieces = 8;  // Then merged: lookups stay short.
  void merge() const;

  // Mutable: merging changes how the value is held, not what it is.
  mutable Resources first_;
  mutable std::vector<Resources> more_;
};

// Fields in the order a cycle reads them: what deciding and making an offer
// touches comes first and together (a cycle over 10,000 agents is bound by
// cache misses, one agent after the other), the rest after.
struct AgentState {
  bool availPlain = true;  // Nothing available is reserved or revocable.
  // The first offer made to this agent in the current allocate() call
  // (an index into it; the others are chained from there), valid while
  // cycleStamp is that call's.
  uint32_t cycleFirstOffer = kNone;
  uint64_t cycleStamp = 0;
  Resources available;  // total - Σ allocations; allocation role unset.
  // Per framework-role (index into fwRoles_), in allocated form (every
  // slot's allocation role is the framework-role's role), so that an offer
  // and the entry it was booked in share their slots (Resources is
  // copy-on-write): making an offer copies no slot.
  std::vector<std::pair<uint32_t, PiecewiseResources>> allocations;
  // The framework-roles with refuse filters on this agent (keys of their
  // `filters` maps), so that the cycle asks the others' maps nothing: the
  // list is in a cache line the cycle reads anyway, the maps are not.
  std::vector<uint32_t> filteredBy;

  // Caches of `available`, refreshed on every change.
  QuantityVector availCounts;      // Every name; ranges and sets counted.
  QuantityVector availScalars;
  QuantityVector availUnreserved;  // Unreserved, non-revocable scalars.

  std::string id;
  Resources total;
  QuantityVector totalScalars;
};

// Per agent index, dense: what choosing the agents to visit reads and
// writes, so that neither the choice nor the settling after a cycle reads
// each agent's state (a likely miss each, ten thousand of them).
struct AgentFlags {
  uint64_t settledEpoch = 0;  // Dirty tracking: settled while == the allocator's epoch.
  bool present = false;
  bool active = false;
  bool inDirtyList = false;
};

struct FrameworkRole {
  uint32_t framework = kNone;
  uint32_t role = kNone;
  ClientId client = 0;  // In the role's framework sorter.
  bool subscribed = true;
  bool suppressed = false;
  bool sorterActive = false;
  std::vector<uint32_t> allocatedAgents;  // Agents holding an allocation entry.
  std::optional<std::vector<QuantityVector>> minAllocatable;  // Override.
  // Cold (up to here is what an offer reads): agent index -> filters.
  // Small: one per decline on that agent. Every key's agent lists this
  // framework-role in its `filteredBy`, and only those agents look here.
  std::unordered_map<uint32_t, std::vector<Filter>> filters;

  size_t hotBytes() const { return reinterpret_cast<const char*>(&filters) - reinterpret_cast<const char*>(this); }
};

struct FrameworkState {
  std::string id;
  bool active = true;
  FrameworkInfo info;
  std::unordered_map<std::string, uint32_t> roles;  // Role -> fwRole index.
  uint64_t scopeStamp = 0;
};

struct RoleState {
  std::string path;
  uint32_t parent = kNone;
  std::unique_ptr<Sorter> frameworks;  // Created with the first framework.
  std::vector<uint32_t> fwRoleByClient;  // Framework sorter ClientId -> fwRole.
  size_t fwRoles = 0;                  // Framework-roles tracked here.
  size_t activeFwRoles = 0;            // Those active in the framework sorter.
  std::optional<ClientId> client;      // In the role sorter.
  uint64_t totalVersion = 0;           // Of the framework sorter's total.

  Quota quota;
  std::vector<std::pair<uint32_t, int64_t>> limits;      // Name id -> limit.
  std::vector<std::pair<uint32_t, int64_t>> guarantees;  // Name id -> guarantee.
  bool limitedHere = false;  // This role or an ancestor has limits.
  // Reservations (subtree) + unreserved non-revocable allocation (subtree).
  QuantityVector consumed;
  bool unsatisfied = false;  // Has a guarantee not yet consumed.
  // The role sorter's mark of this role (marked = unsatisfied), which lags
  // `unsatisfied` until syncRoleMarks(): marks may not change during a walk.
  bool sorterMarked = false;
  bool markQueued = false;  // In markQueue_.
};

class HierarchicalAllocator final : public Allocator {
 public:
  explicit HierarchicalAllocator(const Options& options);
  ~HierarchicalAllocator() override;

  void addAgent(const std::string& agentId, const Resources& total,
                const std::map<std::string, Resources>& used) override;
  void updateAgent(const std::string& agentId, const Resources& total) override;
  void removeAgent(const std::string& agentId) override;
  void activateAgent(const std::string& agentId) override;
  void deactivateAgent(const std::string& agentId) override;

  void addFramework(const std::string& frameworkId, const FrameworkInfo& info, bool active) override;
  void updateFramework(const std::string& frameworkId, const FrameworkInfo& info) override;
  void activateFramework(const std::string& frameworkId) override;
  void deactivateFramework(const std::string& frameworkId) override;
  void removeFramework(const std::string& frameworkId) override;

  void recoverResources(const std::string& frameworkId, const std::string& agentId, const Resources& resources,
                        std::optional<Duration> refuse, TimePoint now) override;
  void updateAllocation(const std::string& frameworkId, const std::string& agentId, const Resources& from,
                        const Resources& to) override;

  void suppressOffers(const std::string& frameworkId, const std::set<std::string>& roles) override;
  void reviveOffers(const std::string& frameworkId, const std::set<std::string>& roles) override;
  void updateWeights(const std::map<std::string, double>& weights) override;
  void updateQuota(const std::string& role, const Quota& quota) override;

  std::vector<Offer> allocate(TimePoint now, const Scope& scope) override;

  FrameworkExplanation explain(const std::string& frameworkId) override;
  Resources allocation(const std::string& frameworkId, const std::string& agentId) const override;
  Resources available(const std::string& agentId) const override;

 private:
  struct Candidate;
  struct Cycle;

  // --- hierarchical.cpp
  uint32_t agentIndex(const std::string& id) const;      // kNone if unknown.
  uint32_t frameworkIndex(const std::string& id) const;  // kNone if unknown.
  void refreshAvailable(AgentState& agent);
  void markDirty(uint32_t agent);
  void markAllDirty() { ++epoch_; allDirty_ = true; }
  void addTotal(const QuantityVector& scalars, int sign);
  uint32_t addFrameworkRole(uint32_t framework, const std::string& role);
  void maybeRemoveFrameworkRole(uint32_t fwRole);
  void updateSorterActivity(uint32_t fwRole);
  void applyInfo(uint32_t framework, const FrameworkInfo& info);
  std::vector<QuantityVector> toVectors(const std::vector<ResourceQuantities>& sets);

  // --- hierarchical_roles.cpp
  uint32_t roleIndex(const std::string& path);  // Creates the role and its ancestors.
  // Adds sign × delta to the consumption of `role` and its ancestors,
  // keeping required_ and the unsatisfied flags in step. Nothing while
  // consumption is not tracked.
  void trackConsumed(uint32_t role, const QuantityVector& delta, int sign);
  // Consumption from every agent's reservations and allocations, from
  // zero; tracked from then on.
  void startTrackingConsumption();
  // Zeroes every role's consumption; no longer tracked.
  void stopTrackingConsumption();
  // Adds (+1) or removes (-1) one role's guarantee deficit from required_.
  void guaranteeContribution(uint32_t role, int sign);
  void trackReservations(const Resources& resources, int sign);
  void refreshLimited(uint32_t role);
  // Queues the role for syncRoleMarks() if its mark is stale.
  void queueMark(uint32_t role);
  // Marks exactly the unsatisfied roles in the role sorter (stage 1 walks
  // only those). Called outside walks.
  void syncRoleMarks();
  int64_t deficit(const RoleState& role, uint32_t name) const;
  void syncFrameworkSorterTotal(RoleState& role);
  QuantityVector unreservedScalars(const Resources& resources);

  // --- hierarchical_allocate.cpp
  void prefetchAhead(const std::vector<uint32_t>& visit, size_t i) const;
  // Starts loading the state of the framework-role the next agent will
  // most likely be offered to (the first of the sorters' orders).
  void prefetchLikelyFramework() const;
  void allocateAgent(uint32_t agent, bool stageOne, Cycle& cycle);
  bool tryOffer(uint32_t agent, uint32_t role, uint32_t fwRole, Cycle& cycle);
  bool buildCandidate(AgentState& agent, RoleState& role, FrameworkRole& fr, Candidate& c);
  bool chopForQuota(uint32_t role, Candidate& c);
  void ownStorage(Candidate& c);  // Points `c` at its own storage and vectors.
  bool isAllocatable(const FrameworkRole& fr, const QuantityVector& counts) const;
  bool isFiltered(uint32_t fwRole, uint32_t agent, const Resources& candidate, TimePoint now) const;
  void expireFilters(TimePoint now);

  // --- hierarchical_recover.cpp
  // Books `resources` (allocated form, already taken out of the agent's
  // available) as allocated to the framework-role; `scalars` and
  // `unreserved` are its scalar and unreserved non-revocable quantities.
  void recordAllocation(uint32_t agent, uint32_t fwRole, Resources&& resources, const QuantityVector& scalars,
                        const QuantityVector& unreserved);
  // The reverse (`resources` in allocated form): back into the agent's
  // available.
  void unallocate(uint32_t agent, uint32_t fwRole, const Resources& resources);
  bool filterActive(const Filter& filter, TimePoint now) const;
  void clearFilters(uint32_t fwRole);
  // Drops the framework-role's filters on the agent (keeping filteredBy in step).
  void eraseFilters(uint32_t fwRole, uint32_t agent);

  Options options_;
  std::shared_ptr<ResourceNames> names_ = std::make_shared<ResourceNames>();
  std::vector<QuantityVector> defaultMinAllocatable_;

  std::vector<std::unique_ptr<AgentState>> agents_;  // Null slots are free.
  std::vector<AgentFlags> agentFlags_;                // By agent index, as agents_.
  std::vector<uint32_t> freeAgents_;
  std::unordered_map<std::string, uint32_t> agentIds_;

  std::vector<std::unique_ptr<FrameworkState>> frameworks_;
  std::vector<uint32_t> freeFrameworks_;
  std::unordered_map<std::string, uint32_t> frameworkIds_;

  std::vector<std::unique_ptr<FrameworkRole>> fwRoles_;
  std::vector<uint32_t> freeFwRoles_;
  // fwRoles_[i]->framework, dense: what prefetching finds without reading
  // the framework-role itself.
  std::vector<uint32_t> frameworkOfFwRole_;

  std::vector<RoleState> roles_;  // Never removed; few.
  std::unordered_map<std::string, uint32_t> roleIds_;
  std::unique_ptr<Sorter> roleSorter_;
  std::vector<uint32_t> roleByClient_;  // Role sorter ClientId -> role.

  QuantityVector clusterTotal_;            // Scalars of every agent's total.
  uint64_t totalVersion_ = 1;
  QuantityVector clusterAvailUnreserved_;  // Σ agents' availUnreserved.
  QuantityVector required_;                // Σ guaranteed roles' deficits (headroom).
  size_t unsatisfiedRoles_ = 0;
  std::vector<uint32_t> markQueue_;        // Roles whose sorter mark may be stale.
  size_t quotaRoles_ = 0;                  // Roles with any limit or guarantee.
  // RoleState::consumed is kept only while some role has quota (then
  // quotaRoles_ > 0): without quota nothing in a cycle reads it, and
  // keeping it cost every offer a walk up the role tree. The first quota
  // rebuilds it from the agents; explain() builds it for the moment.
  bool consumptionTracked_ = false;

  // Filter expiry: (expiry, filter id) min-heap with where to find it.
  struct Expiry {
    TimePoint at;
    uint64_t filterId;
    uint32_t agent;
    uint32_t fwRole;
    bool operator>(const Expiry& o) const { return at > o.at; }
  };
  std::vector<Expiry> expiries_;
  uint64_t nextFilterId_ = 1;

  uint64_t epoch_ = 1;
  bool allDirty_ = true;
  std::vector<uint32_t> dirtyAgents_;
  uint64_t batchCount_ = 0;
  uint64_t cycleCount_ = 0;
};

}  // namespace agora::allocator
