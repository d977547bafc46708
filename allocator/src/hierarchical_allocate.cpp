// HierarchicalDRF: the allocation cycle.
//
// For each agent to visit: walk roles in role-sorter order and, inside each,
// frameworks in framework-sorter order; the first framework that can take
// something gets everything it can take (coarse-grained, as Mesos), and the
// walk goes on while the agent has anything left. Stage 1 (only while some
// guarantee is unsatisfied) visits only roles short of their guarantee;
// stage 2 visits everyone.

#include <algorithm>
#include <array>

#include "agora/common/check.hpp"
#include "hierarchical.hpp"

namespace agora::allocator {

struct HierarchicalAllocator::Cycle {
  TimePoint now;
  bool frameworkScoped = false;
  std::vector<Offer> offers;
  // Per offer: its framework-role, and the agent's previous offer in this
  // call (kNone for its first), so that stage 2 finds stage 1's offer.
  std::vector<uint32_t> offerFwRole;
  std::vector<uint32_t> previousOfAgent;
};

// What one framework-role could be offered on one agent. Points at the
// agent's own caches when the whole available set qualifies (the common
// case), at `storage` and the `*Store` vectors otherwise.
struct HierarchicalAllocator::Candidate {
  const Resources* resources = nullptr;
  const QuantityVector* scalars = nullptr;
  const QuantityVector* unreserved = nullptr;
  const QuantityVector* counts = nullptr;
  bool whole = false;  // Exactly the agent's available resources.

  Resources storage;
  QuantityVector scalarsStore;
  QuantityVector unreservedStore;
  QuantityVector countsStore;
};

std::vector<Offer> HierarchicalAllocator::allocate(TimePoint now, const Scope& scope) {
  ++cycleCount_;
  if (scope.isBatch) ++batchCount_;
  expireFilters(now);

  Cycle cycle;
  cycle.now = now;
  for (const std::string& id : scope.frameworkIds) {
    if (uint32_t fw = frameworkIndex(id); fw != kNone) frameworks_[fw]->scopeStamp = cycleCount_;
    cycle.frameworkScoped = true;
  }
  if (cycle.frameworkScoped && std::none_of(scope.frameworkIds.begin(), scope.frameworkIds.end(),
                                            [&](const auto& id) { return frameworkIndex(id) != kNone; })) {
    return {};
  }

  // Which agents: the scope's, or every unsettled one.
  std::vector<uint32_t> visit;
  bool allAgents = scope.agentIds.empty();
  if (!allAgents) {
    for (const std::string& id : scope.agentIds) {
      if (uint32_t a = agentIndex(id); a != kNone) visit.push_back(a);
    }
  } else if (allDirty_) {
    visit.reserve(agents_.size());
    for (uint32_t a = 0; a < agents_.size(); ++a) {
      if (agentFlags_[a].present) visit.push_back(a);
    }
  } else {
    visit = dirtyAgents_;
  }
  if (!std::is_sorted(visit.begin(), visit.end())) std::sort(visit.begin(), visit.end());  // All agents: sorted.
  visit.erase(std::unique(visit.begin(), visit.end()), visit.end());
  // Agents with nothing available are visited (and settled) too: telling
  // would read each one's state here, and allocateAgent() looks anyway.
  std::erase_if(visit, [&](uint32_t a) {
    const AgentFlags& flags = agentFlags_[a];
    return !flags.active || flags.settledEpoch == epoch_;
  });

  // Usually about one offer per visited agent: growing the vector by
  // doubling would move every offer made so far several times.
  cycle.offers.reserve(visit.size());
  cycle.offerFwRole.reserve(visit.size());
  cycle.previousOfAgent.reserve(visit.size());
  if (unsatisfiedRoles_ > 0) {
    for (size_t i = 0; i < visit.size(); ++i) {
      prefetchAhead(visit, i);
      allocateAgent(visit[i], /*stageOne=*/true, cycle);
    }
  }
  for (size_t i = 0; i < visit.size(); ++i) {
    prefetchAhead(visit, i);
    allocateAgent(visit[i], /*stageOne=*/false, cycle);
    prefetchLikelyFramework();
  }

  // A full-scope pass leaves nothing offerable on the agents it visited.
  if (!cycle.frameworkScoped) {
    for (uint32_t a : visit) agentFlags_[a].settledEpoch = epoch_;
    if (allAgents) {
      for (uint32_t a : dirtyAgents_) agentFlags_[a].inDirtyList = false;
      dirtyAgents_.clear();
      allDirty_ = false;
    }
  }
  return std::move(cycle.offers);
}

void HierarchicalAllocator::prefetchAhead(const std::vector<uint32_t>& visit, size_t i) const {
  // Agents are visited one after the other and each costs a few hundred
  // nanoseconds, mostly in cache misses on its state: asking for the next
  // ones early overlaps those misses with the work on this one. Each step
  // reads only what an earlier step asked for (state, then the slots'
  // header found in it, then the slots found in that), so no prefetch
  // waits on a miss of its own.
  if (i + 3 < visit.size()) {
    const auto* state = reinterpret_cast<const char*>(agents_[visit[i + 3]].get());
    for (size_t line = 0; line < sizeof(AgentState); line += 64) __builtin_prefetch(state + line);
  }
  if (i + 2 < visit.size()) agents_[visit[i + 2]]->available.prefetchHeader();
  if (i + 1 < visit.size()) agents_[visit[i + 1]]->available.prefetchAllocationRoles();
}

void HierarchicalAllocator::prefetchLikelyFramework() const {
  // The framework side of an offer is a chain of dependent reads (sorter
  // node, framework-role, framework), each a likely miss after a thousand
  // other agents went through the cache: asking for all of them at once,
  // for the next two offers, overlaps the misses the next agents would
  // otherwise take one by one.
  ClientId roleClient = 0;
  if (roleSorter_->prefetchFirst({&roleClient, 1}) == 0 || roleClient >= roleByClient_.size() ||
      roleByClient_[roleClient] == kNone) {
    return;
  }
  const RoleState& role = roles_[roleByClient_[roleClient]];
  if (!role.frameworks) return;
  std::array<ClientId, 2> fwClients{};
  size_t n = role.frameworks->prefetchFirst(fwClients);
  for (size_t i = 0; i < n; ++i) {
    if (fwClients[i] >= role.fwRoleByClient.size()) continue;
    uint32_t fwRole = role.fwRoleByClient[fwClients[i]];
    if (fwRole == kNone) continue;
    const FrameworkRole& fr = *fwRoles_[fwRole];
    const auto* bytes = reinterpret_cast<const char*>(&fr);
    for (size_t line = 0; line < fr.hotBytes(); line += 64) __builtin_prefetch(bytes + line, 1);
    if (uint32_t fw = frameworkOfFwRole_[fwRole]; fw != kNone) __builtin_prefetch(frameworks_[fw].get());
  }
}

void HierarchicalAllocator::allocateAgent(uint32_t agentIdx, bool stageOne, Cycle& cycle) {
  AgentState& agent = *agents_[agentIdx];
  if (agent.available.empty()) return;
  auto visitRole = [&](ClientId roleClient) {
    uint32_t roleIdx = roleByClient_[roleClient];
    RoleState& role = roles_[roleIdx];
    // Marks lag behind during a walk (a role can become satisfied in it).
    if (stageOne && !role.unsatisfied) return true;
    syncFrameworkSorterTotal(role);
    role.frameworks->walk([&](ClientId fwClient) {
      uint32_t fwRole = role.fwRoleByClient[fwClient];
      if (cycle.frameworkScoped && frameworks_[fwRoles_[fwRole]->framework]->scopeStamp != cycleCount_) {
        return true;
      }
      tryOffer(agentIdx, roleIdx, fwRole, cycle);
      return !agent.available.empty();
    });
    return !agent.available.empty();
  };
  if (stageOne) {
    // Only roles short of their guarantee, without stepping over the others.
    syncRoleMarks();
    roleSorter_->walkMarked(visitRole);
  } else {
    roleSorter_->walk(visitRole);
  }
}

void HierarchicalAllocator::ownStorage(Candidate& c) {
  c.scalarsStore = QuantityVector::from(c.storage.scalarQuantities(), *names_);
  c.unreservedStore = unreservedScalars(c.storage);
  c.countsStore = QuantityVector::from(c.storage.quantities(), *names_);
  c.resources = &c.storage;
  c.scalars = &c.scalarsStore;
  c.unreserved = &c.unreservedStore;
  c.counts = &c.countsStore;
  c.whole = false;
}

bool HierarchicalAllocator::buildCandidate(AgentState& agent, RoleState& role, FrameworkRole& fr, Candidate& c) {
  if (agent.availPlain) {
    c.resources = &agent.available;
    c.scalars = &agent.availScalars;
    c.unreserved = &agent.availUnreserved;
    c.counts = &agent.availCounts;
    c.whole = true;
    return !agent.available.empty();
  }
  const FrameworkCapabilities& caps = frameworks_[fr.framework]->info.capabilities;
  c.storage = agent.available.allocatableTo(role.path).filter([&](const Resource& r) {
    return (caps.revocableResources || !r.revocable) && (caps.reservationRefinement || r.reservations.size() <= 1);
  });
  if (c.storage.empty()) return false;
  ownStorage(c);
  return true;
}

bool HierarchicalAllocator::chopForQuota(uint32_t roleIdx, Candidate& c) {
  // Per name, how much unreserved (non-revocable) the role may still take.
  std::vector<std::pair<uint32_t, int64_t>> caps;
  auto cap = [&](uint32_t name, int64_t amount) {
    amount = std::max<int64_t>(0, amount);
    for (auto& [id, value] : caps) {
      if (id == name) {
        value = std::min(value, amount);
        return;
      }
    }
    caps.emplace_back(name, amount);
  };
  // Limits of the role and every ancestor.
  for (uint32_t r = roleIdx; r != kNone; r = roles_[r].parent) {
    for (const auto& [name, limit] : roles_[r].limits) cap(name, limit - roles_[r].consumed[name]);
  }
  // Headroom: what unsatisfied guarantees still need stays unallocated,
  // except what goes towards this role's (or an ancestor's) own deficit.
  const auto& required = required_.raw();
  for (size_t name = 0; name < required.size(); ++name) {
    if (required[name] <= 0) continue;
    int64_t own = 0;
    for (uint32_t r = roleIdx; r != kNone; r = roles_[r].parent) {
      own = std::max(own, deficit(roles_[r], static_cast<uint32_t>(name)));
    }
    cap(static_cast<uint32_t>(name), clusterAvailUnreserved_[name] - required[name] + own);
  }

  bool chop = std::any_of(caps.begin(), caps.end(),
                          [&](const auto& entry) { return (*c.unreserved)[entry.first] > entry.second; });
  if (!chop) return true;

  Resources chopped;
  for (const Resource& r : *c.resources) {
    if (r.isReserved() || r.revocable || r.type() != Resource::Type::kScalar) {
      chopped.add(r);
      continue;
    }
    auto id = names_->find(r.name);
    auto it = std::find_if(caps.begin(), caps.end(), [&](const auto& entry) { return id && entry.first == *id; });
    if (it == caps.end()) {
      chopped.add(r);
      continue;
    }
    int64_t take = std::min(std::get<Scalar>(r.value).millis(), it->second);
    it->second -= take;
    if (take > 0) {
      Resource part = r;
      part.value = Scalar::fromMillis(take);
      chopped.add(part);
    }
  }
  c.storage = std::move(chopped);
  ownStorage(c);
  return !c.storage.empty();
}

bool HierarchicalAllocator::isAllocatable(const FrameworkRole& fr, const QuantityVector& counts) const {
  const auto& sets = fr.minAllocatable ? *fr.minAllocatable : defaultMinAllocatable_;
  if (sets.empty()) return !counts.isZero();
  return std::any_of(sets.begin(), sets.end(), [&](const QuantityVector& min) { return counts.contains(min); });
}

bool HierarchicalAllocator::isFiltered(uint32_t fwRole, uint32_t agent, const Resources& candidate,
                                       TimePoint now) const {
  const auto& filteredBy = agents_[agent]->filteredBy;
  if (std::find(filteredBy.begin(), filteredBy.end(), fwRole) == filteredBy.end()) return false;
  const FrameworkRole& fr = *fwRoles_[fwRole];
  auto it = fr.filters.find(agent);
  if (it == fr.filters.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(), [&](const Filter& f) {
    return filterActive(f, now) && f.refused.containsIgnoringAllocation(candidate);
  });
}

bool HierarchicalAllocator::tryOffer(uint32_t agentIdx, uint32_t roleIdx, uint32_t fwRole, Cycle& cycle) {
  AgentState& agent = *agents_[agentIdx];
  RoleState& role = roles_[roleIdx];
  FrameworkRole& fr = *fwRoles_[fwRole];

  Candidate c;
  if (!buildCandidate(agent, role, fr, c)) return false;
  if (quotaRoles_ > 0 && (role.limitedHere || unsatisfiedRoles_ > 0) && !chopForQuota(roleIdx, c)) return false;
  if (!isAllocatable(fr, *c.counts)) return false;
  if (!agent.filteredBy.empty() && isFiltered(fwRole, agentIdx, *c.resources, cycle.now)) return false;

  Resources offered;
  if (c.whole) {
    // Everything available moves into the offer; the caches describe
    // exactly what is offered, and empty out once it is booked.
    offered = std::move(agent.available);
    agent.available = Resources();
    clusterAvailUnreserved_.subtract(agent.availUnreserved);
  } else {
    agent.available -= *c.resources;
    offered = std::move(c.storage);
    refreshAvailable(agent);
  }

  // One offer per agent × framework-role per call: stage 2 adds to stage 1's.
  if (agent.cycleStamp != cycleCount_) {
    agent.cycleStamp = cycleCount_;
    agent.cycleFirstOffer = kNone;
  }
  uint32_t prior = agent.cycleFirstOffer;
  while (prior != kNone && cycle.offerFwRole[prior] != fwRole) prior = cycle.previousOfAgent[prior];
  // The offer and the allocation entry share the slots (copy-on-write).
  offered = std::move(offered).allocate(role.path);
  if (prior != kNone) {
    cycle.offers[prior].resources += offered;
  } else {
    cycle.previousOfAgent.push_back(agent.cycleFirstOffer);
    cycle.offerFwRole.push_back(fwRole);
    agent.cycleFirstOffer = static_cast<uint32_t>(cycle.offers.size());
    cycle.offers.emplace_back(frameworks_[fr.framework]->id, role.path, agent.id, offered);
  }
  if (c.whole) {
    recordAllocation(agentIdx, fwRole, std::move(offered), agent.availScalars, agent.availUnreserved);
    agent.availScalars.clear();
    agent.availUnreserved.clear();
    agent.availCounts.clear();
    agent.availPlain = true;
  } else {
    recordAllocation(agentIdx, fwRole, std::move(offered), c.scalarsStore, c.unreservedStore);
  }
  return true;
}

void HierarchicalAllocator::expireFilters(TimePoint now) {
  std::vector<Expiry> pending;  // Time is up but the first batch has not run yet.
  auto later = std::greater<Expiry>();
  while (!expiries_.empty() && expiries_.front().at <= now) {
    std::pop_heap(expiries_.begin(), expiries_.end(), later);
    Expiry e = expiries_.back();
    expiries_.pop_back();
    if (e.fwRole >= fwRoles_.size() || !fwRoles_[e.fwRole]) continue;
    FrameworkRole& fr = *fwRoles_[e.fwRole];
    auto it = fr.filters.find(e.agent);
    if (it == fr.filters.end()) continue;
    auto& filters = it->second;
    auto f = std::find_if(filters.begin(), filters.end(), [&](const Filter& x) { return x.id == e.filterId; });
    if (f == filters.end()) continue;
    if (filterActive(*f, now)) {
      pending.push_back(e);
      continue;
    }
    filters.erase(f);
    if (filters.empty()) eraseFilters(e.fwRole, e.agent);
    if (agents_[e.agent]) markDirty(e.agent);
  }
  for (const Expiry& e : pending) {
    expiries_.push_back(e);
    std::push_heap(expiries_.begin(), expiries_.end(), later);
  }
}

}  // namespace agora::allocator
