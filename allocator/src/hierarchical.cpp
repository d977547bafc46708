// HierarchicalDRF: agents, frameworks, weights and quota settings.

#include "hierarchical.hpp"

#include <algorithm>

#include "agora/common/check.hpp"

namespace agora::allocator {

std::unique_ptr<Allocator> makeHierarchicalAllocator(const Options& options) {
  return std::make_unique<HierarchicalAllocator>(options);
}

HierarchicalAllocator::HierarchicalAllocator(const Options& options)
    : options_(options), roleSorter_(makeSorter(options.roleSorter, names_, options.seed)) {
  defaultMinAllocatable_ = toVectors(options_.minAllocatable);
}

HierarchicalAllocator::~HierarchicalAllocator() = default;

std::vector<QuantityVector> HierarchicalAllocator::toVectors(const std::vector<ResourceQuantities>& sets) {
  std::vector<QuantityVector> out;
  out.reserve(sets.size());
  for (const auto& set : sets) out.push_back(QuantityVector::from(set, *names_));
  return out;
}

uint32_t HierarchicalAllocator::agentIndex(const std::string& id) const {
  auto it = agentIds_.find(id);
  return it == agentIds_.end() ? kNone : it->second;
}

uint32_t HierarchicalAllocator::frameworkIndex(const std::string& id) const {
  auto it = frameworkIds_.find(id);
  return it == frameworkIds_.end() ? kNone : it->second;
}

void HierarchicalAllocator::refreshAvailable(AgentState& agent) {
  clusterAvailUnreserved_.subtract(agent.availUnreserved);
  if (agent.available.empty()) {
    agent.availScalars.clear();
    agent.availUnreserved.clear();
    agent.availCounts.clear();
    agent.availPlain = true;
    return;
  }
  agent.availScalars = QuantityVector::from(agent.available.scalarQuantities(), *names_);
  agent.availCounts = QuantityVector::from(agent.available.quantities(), *names_);
  agent.availUnreserved = unreservedScalars(agent.available);
  agent.availPlain = std::none_of(agent.available.begin(), agent.available.end(),
                                  [](const Resource& r) { return r.isReserved() || r.revocable; });
  clusterAvailUnreserved_.add(agent.availUnreserved);
}

void HierarchicalAllocator::markDirty(uint32_t agent) {
  AgentFlags& flags = agentFlags_[agent];
  flags.settledEpoch = 0;
  if (!flags.inDirtyList) {
    flags.inDirtyList = true;
    dirtyAgents_.push_back(agent);
  }
}

void HierarchicalAllocator::addTotal(const QuantityVector& scalars, int sign) {
  if (sign > 0) {
    clusterTotal_.add(scalars);
    roleSorter_->addTotal(scalars);
  } else {
    clusterTotal_.subtract(scalars);
    roleSorter_->removeTotal(scalars);
  }
  ++totalVersion_;  // Framework sorters catch up lazily (syncFrameworkSorterTotal).
}

// --- Agents ---------------------------------------------------------------------

void HierarchicalAllocator::addAgent(const std::string& agentId, const Resources& total,
                                     const std::map<std::string, Resources>& used) {
  AGORA_CHECK(agentIndex(agentId) == kNone, "agent added twice");
  uint32_t idx;
  if (freeAgents_.empty()) {
    idx = static_cast<uint32_t>(agents_.size());
    agents_.emplace_back();
    agentFlags_.emplace_back();
  } else {
    idx = freeAgents_.back();
    freeAgents_.pop_back();
  }
  agents_[idx] = std::make_unique<AgentState>();
  agentFlags_[idx] = AgentFlags{.present = true, .active = true};
  AgentState& a = *agents_[idx];
  agentIds_.emplace(agentId, idx);
  a.id = agentId;
  a.allocations.reserve(4);  // Not while making offers: a cycle should not allocate.
  a.total = total;
  a.available = total;
  a.totalScalars = QuantityVector::from(total.scalarQuantities(), *names_);
  addTotal(a.totalScalars, +1);
  trackReservations(total, +1);

  for (const auto& [frameworkId, resources] : used) {
    uint32_t fw = frameworkIndex(frameworkId);
    AGORA_CHECK(fw != kNone, "used resources of an unknown framework");
    for (const std::string& role : resources.allocationRoles()) {
      auto it = frameworks_[fw]->roles.find(role);
      AGORA_CHECK(it != frameworks_[fw]->roles.end(), "used resources in a role the framework lacks");
      Resources part = resources.filter([&](const Resource& r) { return r.allocationRole == role; });
      Resources unallocated = part.unallocate();
      AGORA_CHECK(a.available.contains(unallocated), "used resources exceed the agent's total");
      a.available -= unallocated;
      QuantityVector scalars = QuantityVector::from(part.scalarQuantities(), *names_);
      QuantityVector unreserved = unreservedScalars(part);
      recordAllocation(idx, it->second, std::move(part), scalars, unreserved);
    }
  }
  refreshAvailable(a);
  markDirty(idx);
  if (quotaRoles_ > 0) markAllDirty();
}

void HierarchicalAllocator::updateAgent(const std::string& agentId, const Resources& total) {
  uint32_t idx = agentIndex(agentId);
  AGORA_CHECK(idx != kNone, "unknown agent");
  AgentState& a = *agents_[idx];
  Resources allocated;
  for (const auto& [fwRole, resources] : a.allocations) allocated += resources.whole();
  allocated = std::move(allocated).unallocate();
  AGORA_CHECK(total.contains(allocated), "new agent total does not hold its allocations");
  trackReservations(a.total, -1);
  addTotal(a.totalScalars, -1);
  a.total = total;
  a.totalScalars = QuantityVector::from(total.scalarQuantities(), *names_);
  addTotal(a.totalScalars, +1);
  trackReservations(total, +1);
  a.available = total - allocated;
  refreshAvailable(a);
  markDirty(idx);
  if (quotaRoles_ > 0) markAllDirty();
}

void HierarchicalAllocator::removeAgent(const std::string& agentId) {
  uint32_t idx = agentIndex(agentId);
  AGORA_CHECK(idx != kNone, "unknown agent");
  AgentState& a = *agents_[idx];
  std::vector<uint32_t> touched;
  for (const auto& [fwRole, pieces] : a.allocations) {
    FrameworkRole& fr = *fwRoles_[fwRole];
    RoleState& role = roles_[fr.role];
    const Resources& resources = pieces.whole();
    QuantityVector scalars = QuantityVector::from(resources.scalarQuantities(), *names_);
    roleSorter_->unallocated(*role.client, scalars);
    role.frameworks->unallocated(fr.client, scalars);
    if (consumptionTracked_) trackConsumed(fr.role, unreservedScalars(resources), -1);
    std::erase(fr.allocatedAgents, idx);
    touched.push_back(fwRole);
  }
  a.allocations.clear();
  clusterAvailUnreserved_.subtract(a.availUnreserved);
  trackReservations(a.total, -1);
  addTotal(a.totalScalars, -1);
  for (uint32_t fwRole : a.filteredBy) fwRoles_[fwRole]->filters.erase(idx);  // filteredBy goes with the agent.
  agentIds_.erase(agentId);
  agents_[idx].reset();
  agentFlags_[idx] = AgentFlags{};
  freeAgents_.push_back(idx);
  std::erase(dirtyAgents_, idx);
  for (uint32_t fwRole : touched) maybeRemoveFrameworkRole(fwRole);
  if (quotaRoles_ > 0) markAllDirty();
}

void HierarchicalAllocator::activateAgent(const std::string& agentId) {
  uint32_t idx = agentIndex(agentId);
  AGORA_CHECK(idx != kNone, "unknown agent");
  agentFlags_[idx].active = true;
  markDirty(idx);
}

void HierarchicalAllocator::deactivateAgent(const std::string& agentId) {
  uint32_t idx = agentIndex(agentId);
  AGORA_CHECK(idx != kNone, "unknown agent");
  agentFlags_[idx].active = false;
}

// --- Frameworks -----------------------------------------------------------------

uint32_t HierarchicalAllocator::addFrameworkRole(uint32_t framework, const std::string& roleName) {
  FrameworkState& fw = *frameworks_[framework];
  uint32_t roleIdx = roleIndex(roleName);
  uint32_t idx;
  if (freeFwRoles_.empty()) {
    idx = static_cast<uint32_t>(fwRoles_.size());
    fwRoles_.emplace_back();
  } else {
    idx = freeFwRoles_.back();
    freeFwRoles_.pop_back();
  }
  fwRoles_[idx] = std::make_unique<FrameworkRole>();
  FrameworkRole& fr = *fwRoles_[idx];
  fr.framework = framework;
  if (frameworkOfFwRole_.size() <= idx) frameworkOfFwRole_.resize(idx + 1, kNone);
  frameworkOfFwRole_[idx] = framework;
  fr.role = roleIdx;

  RoleState& role = roles_[roleIdx];
  if (!role.frameworks) {
    role.frameworks = makeSorter(options_.frameworkSorter, names_, options_.seed + roleIdx);
    role.totalVersion = 0;
  }
  fr.client = role.frameworks->add(fw.id);
  if (role.fwRoleByClient.size() <= fr.client) role.fwRoleByClient.resize(fr.client + 1, kNone);
  role.fwRoleByClient[fr.client] = idx;
  ++role.fwRoles;
  if (!role.client) {
    role.client = roleSorter_->add(roleName);
    if (roleByClient_.size() <= *role.client) roleByClient_.resize(*role.client + 1, kNone);
    roleByClient_[*role.client] = roleIdx;
    role.sorterMarked = false;  // A new client is unmarked.
    queueMark(roleIdx);
  }
  fw.roles.emplace(roleName, idx);
  return idx;
}

void HierarchicalAllocator::updateSorterActivity(uint32_t fwRole) {
  FrameworkRole& fr = *fwRoles_[fwRole];
  const FrameworkState& fw = *frameworks_[fr.framework];
  RoleState& role = roles_[fr.role];
  bool want = fw.active && fr.subscribed && !fr.suppressed;
  if (want == fr.sorterActive) return;
  fr.sorterActive = want;
  if (want) {
    role.frameworks->activate(fw.id);
    if (role.activeFwRoles++ == 0) roleSorter_->activate(role.path);
  } else {
    role.frameworks->deactivate(fw.id);
    if (--role.activeFwRoles == 0) roleSorter_->deactivate(role.path);
  }
}

void HierarchicalAllocator::maybeRemoveFrameworkRole(uint32_t fwRole) {
  FrameworkRole& fr = *fwRoles_[fwRole];
  if (fr.subscribed || !fr.allocatedAgents.empty()) return;
  updateSorterActivity(fwRole);  // Deactivates: no longer subscribed.
  FrameworkState& fw = *frameworks_[fr.framework];
  RoleState& role = roles_[fr.role];
  role.frameworks->remove(fw.id);
  role.fwRoleByClient[fr.client] = kNone;
  if (--role.fwRoles == 0) {
    roleSorter_->remove(role.path);
    roleByClient_[*role.client] = kNone;
    role.client.reset();
    role.sorterMarked = false;  // Gone with the client.
  }
  fw.roles.erase(role.path);
  clearFilters(fwRole);  // Agents must not keep naming a framework-role that is gone.
  fwRoles_[fwRole].reset();
  frameworkOfFwRole_[fwRole] = kNone;
  freeFwRoles_.push_back(fwRole);
}

void HierarchicalAllocator::applyInfo(uint32_t framework, const FrameworkInfo& info) {
  AGORA_CHECK(!info.roles.empty(), "a framework needs a role");
  FrameworkState& fw = *frameworks_[framework];
  for (const std::string& role : info.roles) {
    auto it = fw.roles.find(role);
    if (it == fw.roles.end()) {
      addFrameworkRole(framework, role);
    } else {
      fwRoles_[it->second]->subscribed = true;
    }
  }
  std::vector<uint32_t> left;
  for (const auto& [role, idx] : fw.roles) {
    FrameworkRole& fr = *fwRoles_[idx];
    fr.subscribed = info.roles.contains(role);
    fr.suppressed = info.suppressedRoles.contains(role);
    auto min = info.minAllocatable.find(role);
    fr.minAllocatable.reset();
    if (min != info.minAllocatable.end()) fr.minAllocatable = toVectors(min->second);
    if (!fr.subscribed) left.push_back(idx);
  }
  fw.info = info;
  for (const auto& [role, idx] : fw.roles) updateSorterActivity(idx);
  for (uint32_t idx : left) maybeRemoveFrameworkRole(idx);
}

void HierarchicalAllocator::addFramework(const std::string& frameworkId, const FrameworkInfo& info, bool active) {
  AGORA_CHECK(frameworkIndex(frameworkId) == kNone, "framework added twice");
  uint32_t idx;
  if (freeFrameworks_.empty()) {
    idx = static_cast<uint32_t>(frameworks_.size());
    frameworks_.emplace_back();
  } else {
    idx = freeFrameworks_.back();
    freeFrameworks_.pop_back();
  }
  frameworks_[idx] = std::make_unique<FrameworkState>();
  frameworks_[idx]->id = frameworkId;
  frameworks_[idx]->active = active;
  frameworkIds_.emplace(frameworkId, idx);
  applyInfo(idx, info);
  markAllDirty();
}

void HierarchicalAllocator::updateFramework(const std::string& frameworkId, const FrameworkInfo& info) {
  uint32_t idx = frameworkIndex(frameworkId);
  AGORA_CHECK(idx != kNone, "unknown framework");
  applyInfo(idx, info);
  markAllDirty();
}

void HierarchicalAllocator::activateFramework(const std::string& frameworkId) {
  uint32_t idx = frameworkIndex(frameworkId);
  AGORA_CHECK(idx != kNone, "unknown framework");
  frameworks_[idx]->active = true;
  for (const auto& [role, fwRole] : frameworks_[idx]->roles) updateSorterActivity(fwRole);
  markAllDirty();
}

void HierarchicalAllocator::deactivateFramework(const std::string& frameworkId) {
  uint32_t idx = frameworkIndex(frameworkId);
  AGORA_CHECK(idx != kNone, "unknown framework");
  frameworks_[idx]->active = false;
  for (const auto& [role, fwRole] : frameworks_[idx]->roles) updateSorterActivity(fwRole);
}

void HierarchicalAllocator::removeFramework(const std::string& frameworkId) {
  uint32_t idx = frameworkIndex(frameworkId);
  AGORA_CHECK(idx != kNone, "unknown framework");
  std::vector<uint32_t> fwRoles;
  for (const auto& [role, fwRole] : frameworks_[idx]->roles) fwRoles.push_back(fwRole);
  for (uint32_t fwRole : fwRoles) {
    FrameworkRole& fr = *fwRoles_[fwRole];
    std::vector<uint32_t> agents = fr.allocatedAgents;
    for (uint32_t agent : agents) {
      auto& allocations = agents_[agent]->allocations;
      auto it = std::find_if(allocations.begin(), allocations.end(),
                             [&](const auto& entry) { return entry.first == fwRole; });
      Resources resources = it->second.whole();
      unallocate(agent, fwRole, resources);
      markDirty(agent);
    }
    fr.subscribed = false;
    maybeRemoveFrameworkRole(fwRole);
  }
  frameworkIds_.erase(frameworkId);
  frameworks_[idx].reset();
  freeFrameworks_.push_back(idx);
  markAllDirty();
}

// --- Weights and quota ----------------------------------------------------------

void HierarchicalAllocator::updateWeights(const std::map<std::string, double>& weights) {
  // Only the order changes: nothing becomes offerable, no agent is unsettled.
  for (const auto& [role, weight] : weights) roleSorter_->updateWeight(role, weight);
}

void HierarchicalAllocator::updateQuota(const std::string& roleName, const Quota& quota) {
  uint32_t idx = roleIndex(roleName);
  // Consumption is kept only while some role has quota: the first one
  // builds it (before the reference below: this may add roles).
  if (!consumptionTracked_ && (!quota.limits.empty() || !quota.guarantees.empty())) startTrackingConsumption();
  RoleState& role = roles_[idx];
  bool had = !role.limits.empty() || !role.guarantees.empty();
  // Take the old guarantee's deficit out of the headroom, put the new one in.
  guaranteeContribution(idx, -1);
  role.quota = quota;
  role.limits.clear();
  role.guarantees.clear();
  for (const auto& [name, amount] : quota.limits) role.limits.emplace_back(names_->intern(name), amount.millis());
  for (const auto& [name, amount] : quota.guarantees) {
    role.guarantees.emplace_back(names_->intern(name), amount.millis());
  }
  guaranteeContribution(idx, +1);
  bool has = !role.limits.empty() || !role.guarantees.empty();
  if (had != has) quotaRoles_ = has ? quotaRoles_ + 1 : quotaRoles_ - 1;
  if (quotaRoles_ == 0 && consumptionTracked_) stopTrackingConsumption();
  for (uint32_t r = 0; r < roles_.size(); ++r) refreshLimited(r);
  markAllDirty();
}

}  // namespace agora::allocator
