// HierarchicalDRF: the role tree's quota bookkeeping (consumption, limits,
// guarantee deficits and the headroom they require).

#include <algorithm>

#include "agora/common/check.hpp"
#include "agora/common/role.hpp"
#include "hierarchical.hpp"

namespace agora::allocator {

uint32_t HierarchicalAllocator::roleIndex(const std::string& path) {
  if (auto it = roleIds_.find(path); it != roleIds_.end()) return it->second;
  uint32_t parent = kNone;
  if (auto p = parentRole(path)) parent = roleIndex(std::string(*p));
  auto idx = static_cast<uint32_t>(roles_.size());
  roles_.emplace_back();
  RoleState& role = roles_.back();
  role.path = path;
  role.parent = parent;
  role.limitedHere = parent != kNone && roles_[parent].limitedHere;
  roleIds_.emplace(path, idx);
  return idx;
}

int64_t HierarchicalAllocator::deficit(const RoleState& role, uint32_t name) const {
  for (const auto& [id, guarantee] : role.guarantees) {
    if (id == name) return std::max<int64_t>(0, guarantee - role.consumed[id]);
  }
  return 0;
}

void HierarchicalAllocator::guaranteeContribution(uint32_t roleIdx, int sign) {
  RoleState& role = roles_[roleIdx];
  if (role.guarantees.empty()) return;
  bool unsatisfied = false;
  for (const auto& [id, guarantee] : role.guarantees) {
    int64_t d = std::max<int64_t>(0, guarantee - role.consumed[id]);
    if (d == 0) continue;
    unsatisfied = true;
    required_.set(id, required_[id] + sign * d);
  }
  if (sign < 0) {
    if (role.unsatisfied) --unsatisfiedRoles_;
    role.unsatisfied = false;
  } else {
    role.unsatisfied = unsatisfied;
    if (unsatisfied) ++unsatisfiedRoles_;
  }
  queueMark(roleIdx);
}

void HierarchicalAllocator::queueMark(uint32_t roleIdx) {
  RoleState& role = roles_[roleIdx];
  if (role.markQueued || role.unsatisfied == role.sorterMarked) return;
  role.markQueued = true;
  markQueue_.push_back(roleIdx);
}

void HierarchicalAllocator::syncRoleMarks() {
  for (uint32_t roleIdx : markQueue_) {
    RoleState& role = roles_[roleIdx];
    role.markQueued = false;
    if (!role.client || role.sorterMarked == role.unsatisfied) continue;
    roleSorter_->setMarked(*role.client, role.unsatisfied);
    role.sorterMarked = role.unsatisfied;
  }
  markQueue_.clear();
}

void HierarchicalAllocator::trackConsumed(uint32_t roleIdx, const QuantityVector& delta, int sign) {
  if (!consumptionTracked_ || delta.isZero()) return;
  for (uint32_t r = roleIdx; r != kNone; r = roles_[r].parent) {
    bool guaranteed = !roles_[r].guarantees.empty();
    if (guaranteed) guaranteeContribution(r, -1);
    if (sign > 0) {
      roles_[r].consumed.add(delta);
    } else {
      roles_[r].consumed.subtract(delta);
    }
    if (guaranteed) guaranteeContribution(r, +1);
  }
}

void HierarchicalAllocator::trackReservations(const Resources& resources, int sign) {
  if (!consumptionTracked_) return;
  for (const auto& [owner, reserved] : resources.reservations()) {
    trackConsumed(roleIndex(owner), QuantityVector::from(reserved.scalarQuantities(), *names_), sign);
  }
}

void HierarchicalAllocator::startTrackingConsumption() {
  // No role has a guarantee yet (that needs quota), so this books
  // consumption alone: no deficits, no headroom.
  consumptionTracked_ = true;
  for (RoleState& role : roles_) role.consumed.clear();
  for (const auto& agent : agents_) {
    if (!agent) continue;
    trackReservations(agent->total, +1);
    for (const auto& [fwRole, pieces] : agent->allocations) {
      trackConsumed(fwRoles_[fwRole]->role, unreservedScalars(pieces.whole()), +1);
    }
  }
}

void HierarchicalAllocator::stopTrackingConsumption() {
  consumptionTracked_ = false;
  for (RoleState& role : roles_) role.consumed.clear();
}

void HierarchicalAllocator::refreshLimited(uint32_t roleIdx) {
  RoleState& role = roles_[roleIdx];
  role.limitedHere = !role.limits.empty() || (role.parent != kNone && roles_[role.parent].limitedHere);
}

void HierarchicalAllocator::syncFrameworkSorterTotal(RoleState& role) {
  if (role.totalVersion == totalVersion_) return;
  QuantityVector old = role.frameworks->total();
  role.frameworks->removeTotal(old);
  role.frameworks->addTotal(clusterTotal_);
  role.totalVersion = totalVersion_;
}

QuantityVector HierarchicalAllocator::unreservedScalars(const Resources& resources) {
  bool any = std::any_of(resources.begin(), resources.end(),
                         [](const Resource& r) { return r.isReserved() || r.revocable; });
  if (!any) return QuantityVector::from(resources.scalarQuantities(), *names_);
  return QuantityVector::from(
      resources.filter([](const Resource& r) { return !r.isReserved() && !r.revocable; }).scalarQuantities(),
      *names_);
}

}  // namespace agora::allocator
