// HierarchicalDRF: allocation bookkeeping, recovery, offer operations,
// refuse filters, suppress/revive and explain().

#include <algorithm>

#include "agora/common/check.hpp"
#include "hierarchical.hpp"

namespace agora::allocator {

void PiecewiseResources::add(Resources more) {
  if (more.empty()) return;
  if (first_.empty()) {
    first_ = std::move(more);
    return;
  }
  more_.push_back(std::move(more));
  if (more_.size() >= kMaxPieces) merge();
}

void PiecewiseResources::merge() const {
  for (Resources& piece : more_) first_ += piece;
  more_.clear();
}

const Resources& PiecewiseResources::whole() const {
  merge();
  return first_;
}

bool PiecewiseResources::contains(const Resources& part) const {
  if (part.empty()) return true;
  if (first_.sharesSlotsWith(part)) return true;
  for (const Resources& piece : more_) {
    if (piece.sharesSlotsWith(part)) return true;
  }
  return whole().contains(part);
}

void PiecewiseResources::subtract(const Resources& part) {
  if (part.empty()) return;
  if (first_.sharesSlotsWith(part)) {
    if (more_.empty()) {
      first_ = Resources();
    } else {
      first_ = std::move(more_.back());
      more_.pop_back();
    }
    return;
  }
  for (auto it = more_.begin(); it != more_.end(); ++it) {
    if (it->sharesSlotsWith(part)) {
      more_.erase(it);
      return;
    }
  }
  merge();
  first_ -= part;
}

void HierarchicalAllocator::recordAllocation(uint32_t agentIdx, uint32_t fwRole, Resources&& resources,
                                             const QuantityVector& scalars, const QuantityVector& unreserved) {
  AgentState& agent = *agents_[agentIdx];
  FrameworkRole& fr = *fwRoles_[fwRole];
  RoleState& role = roles_[fr.role];
  auto it = std::find_if(agent.allocations.begin(), agent.allocations.end(),
                         [&](const auto& entry) { return entry.first == fwRole; });
  if (it == agent.allocations.end()) {
    agent.allocations.emplace_back(fwRole, PiecewiseResources(std::move(resources)));
    fr.allocatedAgents.push_back(agentIdx);
  } else {
    it->second.add(std::move(resources));
  }
  roleSorter_->allocated(*role.client, scalars);
  role.frameworks->allocated(fr.client, scalars);
  trackConsumed(fr.role, unreserved, +1);
}

void HierarchicalAllocator::unallocate(uint32_t agentIdx, uint32_t fwRole, const Resources& resources) {
  AgentState& agent = *agents_[agentIdx];
  FrameworkRole& fr = *fwRoles_[fwRole];
  auto it = std::find_if(agent.allocations.begin(), agent.allocations.end(),
                         [&](const auto& entry) { return entry.first == fwRole; });
  AGORA_CHECK(it != agent.allocations.end() && it->second.contains(resources),
              "recovered resources are not allocated to the framework on the agent");
  it->second.subtract(resources);
  if (it->second.empty()) {
    agent.allocations.erase(it);
    std::erase(fr.allocatedAgents, agentIdx);
  }
  agent.available += resources.unallocate();
  refreshAvailable(agent);

  RoleState& role = roles_[fr.role];
  QuantityVector scalars = QuantityVector::from(resources.scalarQuantities(), *names_);
  roleSorter_->unallocated(*role.client, scalars);
  role.frameworks->unallocated(fr.client, scalars);
  if (consumptionTracked_) trackConsumed(fr.role, unreservedScalars(resources), -1);
}

void HierarchicalAllocator::recoverResources(const std::string& frameworkId, const std::string& agentId,
                                             const Resources& resources, std::optional<Duration> refuse,
                                             TimePoint now) {
  uint32_t fw = frameworkIndex(frameworkId);
  uint32_t agentIdx = agentIndex(agentId);
  if (fw == kNone || agentIdx == kNone || resources.empty()) return;
  std::set<std::string> roles = resources.allocationRoles();
  for (const std::string& roleName : roles) {
    auto it = frameworks_[fw]->roles.find(roleName);
    AGORA_CHECK(it != frameworks_[fw]->roles.end(), "recovered resources in a role the framework lacks");
    uint32_t fwRole = it->second;
    // An offer has one role: then the part is the whole (shared, no copy).
    auto inRole = [&](const Resource& r) { return r.allocationRole == roleName; };
    bool whole = roles.size() == 1 && std::all_of(resources.begin(), resources.end(), inRole);
    Resources part = whole ? resources : resources.filter(inRole);
    unallocate(agentIdx, fwRole, part);
    if (refuse && refuse->count() > 0) {
      Filter filter;
      filter.id = nextFilterId_++;
      filter.refused = std::move(part);
      filter.expiry = now + std::max(*refuse, std::chrono::duration_cast<Duration>(options_.allocationInterval));
      filter.installedBatch = batchCount_;
      expiries_.push_back(Expiry{filter.expiry, filter.id, agentIdx, fwRole});
      std::push_heap(expiries_.begin(), expiries_.end(), std::greater<Expiry>());
      auto& filters = fwRoles_[fwRole]->filters[agentIdx];
      if (filters.empty()) agents_[agentIdx]->filteredBy.push_back(fwRole);
      filters.push_back(std::move(filter));
    }
    maybeRemoveFrameworkRole(fwRole);
  }
  markDirty(agentIdx);
  // Lower consumption and more headroom can make other agents offerable.
  if (quotaRoles_ > 0) markAllDirty();
}

void HierarchicalAllocator::updateAllocation(const std::string& frameworkId, const std::string& agentId,
                                             const Resources& from, const Resources& to) {
  uint32_t fw = frameworkIndex(frameworkId);
  uint32_t agentIdx = agentIndex(agentId);
  AGORA_CHECK(fw != kNone && agentIdx != kNone, "operation on an unknown framework or agent");
  auto roles = from.allocationRoles();
  AGORA_CHECK(roles.size() == 1 && to.allocationRoles() == roles, "operation changes allocation roles");
  auto it = frameworks_[fw]->roles.find(*roles.begin());
  AGORA_CHECK(it != frameworks_[fw]->roles.end(), "operation in a role the framework lacks");
  uint32_t fwRole = it->second;
  Resources fromU = from.unallocate();
  Resources toU = to.unallocate();
  AGORA_CHECK(fromU.scalarQuantities() == toU.scalarQuantities(), "operation changes scalar quantities");

  AgentState& agent = *agents_[agentIdx];
  auto entry = std::find_if(agent.allocations.begin(), agent.allocations.end(),
                            [&](const auto& e) { return e.first == fwRole; });
  AGORA_CHECK(entry != agent.allocations.end() && entry->second.contains(from),
              "operation on resources not allocated to the framework");
  entry->second.subtract(from);
  entry->second.add(to);
  agent.total -= fromU;
  agent.total += toU;
  trackReservations(fromU, -1);
  trackReservations(toU, +1);
  uint32_t role = fwRoles_[fwRole]->role;
  if (consumptionTracked_) {
    trackConsumed(role, unreservedScalars(fromU), -1);
    trackConsumed(role, unreservedScalars(toU), +1);
  }
  markDirty(agentIdx);
  if (quotaRoles_ > 0) markAllDirty();
}

// --- Filters, suppress, revive --------------------------------------------------

bool HierarchicalAllocator::filterActive(const Filter& filter, TimePoint now) const {
  // Active until its time is up, and in any case through the first batch
  // cycle after it was installed.
  return now < filter.expiry || batchCount_ <= filter.installedBatch + 1;
}

void HierarchicalAllocator::clearFilters(uint32_t fwRole) {
  // Heap entries of cleared filters are skipped when they come due.
  FrameworkRole& fr = *fwRoles_[fwRole];
  for (const auto& [agentIdx, filters] : fr.filters) std::erase(agents_[agentIdx]->filteredBy, fwRole);
  fr.filters.clear();
}

void HierarchicalAllocator::eraseFilters(uint32_t fwRole, uint32_t agentIdx) {
  if (fwRoles_[fwRole]->filters.erase(agentIdx) > 0) std::erase(agents_[agentIdx]->filteredBy, fwRole);
}

void HierarchicalAllocator::suppressOffers(const std::string& frameworkId, const std::set<std::string>& roles) {
  uint32_t fw = frameworkIndex(frameworkId);
  AGORA_CHECK(fw != kNone, "unknown framework");
  FrameworkState& state = *frameworks_[fw];
  for (const auto& [role, fwRole] : state.roles) {
    if (!roles.empty() && !roles.contains(role)) continue;
    fwRoles_[fwRole]->suppressed = true;
    state.info.suppressedRoles.insert(role);
    updateSorterActivity(fwRole);
  }
}

void HierarchicalAllocator::reviveOffers(const std::string& frameworkId, const std::set<std::string>& roles) {
  uint32_t fw = frameworkIndex(frameworkId);
  AGORA_CHECK(fw != kNone, "unknown framework");
  FrameworkState& state = *frameworks_[fw];
  for (const auto& [role, fwRole] : state.roles) {
    if (!roles.empty() && !roles.contains(role)) continue;
    fwRoles_[fwRole]->suppressed = false;
    state.info.suppressedRoles.erase(role);
    clearFilters(fwRole);
    updateSorterActivity(fwRole);
  }
  markAllDirty();
}

// --- Introspection --------------------------------------------------------------

FrameworkExplanation HierarchicalAllocator::explain(const std::string& frameworkId) {
  FrameworkExplanation out;
  uint32_t fw = frameworkIndex(frameworkId);
  if (fw == kNone) return out;
  const FrameworkState& state = *frameworks_[fw];
  out.known = true;
  out.active = state.active;
  // Without quota, consumption is not kept: built here for the answer
  // (before any reference into roles_, which this may grow).
  bool tracked = consumptionTracked_;
  if (!tracked) startTrackingConsumption();
  std::vector<std::string> roleOrder = roleSorter_->sort();
  for (const auto& [roleName, fwRole] : state.roles) {
    const FrameworkRole& fr = *fwRoles_[fwRole];
    RoleState& role = roles_[fr.role];
    syncFrameworkSorterTotal(role);
    RoleExplanation e;
    e.role = roleName;
    e.suppressed = fr.suppressed;
    e.roleShare = roleSorter_->share(*role.client);
    auto rank = std::find(roleOrder.begin(), roleOrder.end(), roleName);
    e.roleRank = rank == roleOrder.end() ? SIZE_MAX : static_cast<size_t>(rank - roleOrder.begin());
    e.frameworkShare = role.frameworks->share(fr.client);
    std::vector<std::string> fwOrder = role.frameworks->sort();
    auto fwRank = std::find(fwOrder.begin(), fwOrder.end(), frameworkId);
    e.frameworkRank = fwRank == fwOrder.end() ? SIZE_MAX : static_cast<size_t>(fwRank - fwOrder.begin());
    if (!role.quota.limits.empty() || !role.quota.guarantees.empty()) e.quota = role.quota;
    e.consumed = role.consumed.toQuantities(*names_);
    for (uint32_t r = fr.role; r != kNone; r = roles_[r].parent) {
      for (const auto& [name, limit] : roles_[r].limits) {
        if (roles_[r].consumed[name] >= limit) e.limitsReached.push_back(names_->name(name));
      }
    }
    e.allocated = role.frameworks->allocation(fr.client).toQuantities(*names_);
    for (const auto& [agentIdx, filters] : fr.filters) {
      for (const Filter& f : filters) {
        e.filters.push_back(FilterExplanation{agents_[agentIdx]->id, f.refused.unallocate(), f.expiry,
                                              batchCount_ == f.installedBatch});
      }
    }
    out.roles.push_back(std::move(e));
  }
  if (!tracked) stopTrackingConsumption();
  return out;
}

Resources HierarchicalAllocator::allocation(const std::string& frameworkId, const std::string& agentId) const {
  Resources out;
  uint32_t fw = frameworkIndex(frameworkId);
  uint32_t agentIdx = agentIndex(agentId);
  if (fw == kNone || agentIdx == kNone) return out;
  for (const auto& [fwRole, resources] : agents_[agentIdx]->allocations) {
    const FrameworkRole& fr = *fwRoles_[fwRole];
    if (fr.framework == fw) out += resources.whole();
  }
  return out;
}

Resources HierarchicalAllocator::available(const std::string& agentId) const {
  uint32_t agentIdx = agentIndex(agentId);
  return agentIdx == kNone ? Resources() : agents_[agentIdx]->available;
}

}  // namespace agora::allocator
