// Resources: slot arithmetic, views, the reservation stack and quantities.
// Parsing lives in resources_parse.cpp, wire conversion in
// resources_proto.cpp, text output in resources_text.cpp.

#include "agora/common/resources.hpp"

#include <algorithm>
#include <type_traits>
#include <variant>

#include "agora/common/id.hpp"
#include "agora/common/role.hpp"

namespace agora {

// --- Resource -------------------------------------------------------------------

std::string_view Resource::role() const {
  return reservations.empty() ? kDefaultRole : std::string_view(reservations.back().role);
}

bool Resource::isDynamicallyReserved() const {
  return !reservations.empty() && reservations.back().type == Reservation::Type::kDynamic;
}

bool Resource::isEmpty() const {
  return std::visit(
      [](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Scalar>) {
          return v.isZero();
        } else {
          return v.empty();
        }
      },
      value);
}

bool Resource::isAtomic() const {
  return isPersistentVolume() || (disk && disk->source == DiskInfo::Source::kMount);
}

namespace {

bool sameMetadata(const Resource& a, const Resource& b) {
  return a.name == b.name && a.value.index() == b.value.index() && a.reservations == b.reservations &&
         a.allocationRole == b.allocationRole && a.disk == b.disk && a.revocable == b.revocable &&
         a.shared == b.shared;
}

// a += b. Precondition: same alternative.
void addValue(Resource& a, const Resource& b) {
  std::visit(
      [&b](auto& v) {
        using T = std::decay_t<decltype(v)>;
        const T& w = std::get<T>(b.value);
        if constexpr (std::is_same_v<T, Scalar>) {
          v += w;
        } else if constexpr (std::is_same_v<T, RangeSet>) {
          v.add(w);
        } else {
          v.insert(w.begin(), w.end());
        }
      },
      a.value);
}

// a -= b, never below zero. Precondition: same alternative.
void subtractValue(Resource& a, const Resource& b) {
  std::visit(
      [&b](auto& v) {
        using T = std::decay_t<decltype(v)>;
        const T& w = std::get<T>(b.value);
        if constexpr (std::is_same_v<T, Scalar>) {
          v = w >= v ? Scalar() : v - w;
        } else if constexpr (std::is_same_v<T, RangeSet>) {
          v.subtract(w);
        } else {
          for (const std::string& item : w) v.erase(item);
        }
      },
      a.value);
}

// a's value covers b's. Precondition: same alternative.
bool containsValue(const Resource& a, const Resource& b) {
  return std::visit(
      [&b](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        const T& w = std::get<T>(b.value);
        if constexpr (std::is_same_v<T, Scalar>) {
          return v >= w;
        } else if constexpr (std::is_same_v<T, RangeSet>) {
          return v.contains(w);
        } else {
          return std::includes(v.begin(), v.end(), w.begin(), w.end());
        }
      },
      a.value);
}

// Saturating conversion of an element count to a Scalar quantity.
Scalar countToScalar(uint64_t count) {
  constexpr auto kMaxCount = static_cast<uint64_t>(Scalar::kMaxValue);
  return Scalar::fromMillis(static_cast<int64_t>(std::min(count, kMaxCount)) * Scalar::kScale);
}

Scalar amountOf(const Resource& r) {
  if (const auto* s = std::get_if<Scalar>(&r.value)) return *s;
  if (const auto* ranges = std::get_if<RangeSet>(&r.value)) return countToScalar(ranges->count());
  return countToScalar(std::get<ItemSet>(r.value).size());
}

// A copy with `change` applied to every slot; slots it makes equal merge.
template <typename F>
Resources mapSlots(const Resources& in, F change) {
  Resources out;
  for (Resource r : in) {
    change(r);
    out.add(r);
  }
  return out;
}

std::string describeSlot(const Resource& r) {
  Resources one;
  one.add(r);
  return "'" + quoteForLog(one.toString()) + "'";
}

}  // namespace

bool Resource::sameSlot(const Resource& other) const {
  return !isAtomic() && !other.isAtomic() && sameMetadata(*this, other);
}

// --- Shared slots ------------------------------------------------------------------

namespace detail {

const std::vector<Resource>& SharedSlots::noSlots() {
  static const std::vector<Resource> none;
  return none;
}

std::vector<Resource>& SharedSlots::mut() {
  if (rep_ == nullptr) {
    rep_ = new Rep();
  } else if (rep_->refs.load(std::memory_order_acquire) != 1) {
    Rep* own = new Rep();
    own->slots = rep_->slots;
    release();
    rep_ = own;
  }
  return rep_->slots;
}

}  // namespace detail

// --- Resources: arithmetic ---------------------------------------------------------

void Resources::add(const Resource& resource) {
  if (resource.isEmpty()) return;
  // Find the slot before asking for write access: a shared value that
  // gains a slot is copied once, not twice.
  const auto& current = slots();
  for (size_t i = 0; i < current.size(); ++i) {
    if (current[i].sameSlot(resource)) {
      addValue(items_.mut()[i], resource);
      return;
    }
  }
  items_.mut().push_back(resource);
}

void Resources::subtract(const Resource& resource) {
  if (resource.isEmpty()) return;
  const auto& current = slots();
  for (size_t i = 0; i < current.size(); ++i) {
    if (resource.isAtomic()) {
      // An atomic resource leaves only whole.
      if (current[i] != resource) continue;
      auto& items = items_.mut();
      items.erase(items.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
    if (!current[i].sameSlot(resource)) continue;
    auto& items = items_.mut();
    subtractValue(items[i], resource);
    if (items[i].isEmpty()) items.erase(items.begin() + static_cast<std::ptrdiff_t>(i));
    return;
  }
}

Resources& Resources::operator+=(const Resources& other) {
  if (other.empty()) return *this;
  // Adding to nothing: share the other's slots (they already keep the rules).
  if (empty()) {
    items_ = other.items_;
    return *this;
  }
  if (items_.sameStorage(other.items_)) {
    Resources copy = other;
    copy.items_.mut();  // Slots of its own, so that adding does not read what it writes.
    return *this += copy;
  }
  for (const Resource& r : other.slots()) add(r);
  return *this;
}

Resources& Resources::operator-=(const Resources& other) {
  // The same slots (the same object, or a copy of it): nothing is left.
  if (items_.sameStorage(other.items_)) {
    items_.reset();
    return *this;
  }
  for (const Resource& r : other.slots()) subtract(r);
  return *this;
}

Resources Resources::operator+(const Resources& other) const {
  Resources out = *this;
  out += other;
  return out;
}

Resources Resources::operator-(const Resources& other) const {
  Resources out = *this;
  out -= other;
  return out;
}

bool Resources::contains(const Resource& other) const {
  if (other.isEmpty()) return true;
  for (const Resource& slot : slots()) {
    if (other.isAtomic() ? slot == other : slot.sameSlot(other) && containsValue(slot, other)) return true;
  }
  return false;
}

bool Resources::containsIgnoringAllocation(const Resources& other) const {
  bool anyAtomic = std::any_of(other.begin(), other.end(), [](const Resource& r) { return r.isAtomic(); });
  if (anyAtomic) return unallocate().contains(other.unallocate());  // Rare: persistent volumes.
  return std::all_of(other.begin(), other.end(), [this](const Resource& r) {
    if (r.isEmpty()) return true;
    return std::any_of(slots().begin(), slots().end(), [&r](const Resource& slot) {
      return !slot.isAtomic() && slot.name == r.name && slot.value.index() == r.value.index() &&
             slot.reservations == r.reservations && slot.disk == r.disk && slot.revocable == r.revocable &&
             slot.shared == r.shared && containsValue(slot, r);
    });
  });
}

bool Resources::contains(const Resources& other) const {
  if (items_.sameStorage(other.items_)) return true;
  // Slots of `other` are distinct, so each can be checked on its own, except
  // copies of an atomic resource: remove as we go so that two need two here.
  bool anyAtomic = std::any_of(other.begin(), other.end(), [](const Resource& r) { return r.isAtomic(); });
  if (!anyAtomic) {
    return std::all_of(other.begin(), other.end(), [this](const Resource& r) { return contains(r); });
  }
  Resources remaining = *this;
  for (const Resource& r : other.slots()) {
    if (!remaining.contains(r)) return false;
    remaining.subtract(r);
  }
  return true;
}

bool Resources::operator==(const Resources& other) const {
  if (items_.sameStorage(other.items_)) return true;
  return size() == other.size() && contains(other) && other.contains(*this);
}

// --- Views ---------------------------------------------------------------------------

Resources Resources::filter(const std::function<bool(const Resource&)>& predicate) const {
  // A subset of valid slots is valid as is: no merging needed. Until a
  // slot is left out, the result is this very value (its slots shared).
  const auto& items = slots();
  size_t kept = 0;
  while (kept < items.size() && predicate(items[kept])) ++kept;
  if (kept == items.size()) return *this;
  Resources out;
  auto& outItems = out.items_.mut();
  outItems.assign(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(kept));
  for (size_t i = kept + 1; i < items.size(); ++i) {
    if (predicate(items[i])) outItems.push_back(items[i]);
  }
  if (outItems.empty()) out.items_.reset();
  return out;
}

Resources Resources::unreserved() const {
  return filter([](const Resource& r) { return !r.isReserved(); });
}

Resources Resources::reserved() const {
  return filter([](const Resource& r) { return r.isReserved(); });
}

Resources Resources::reservedTo(std::string_view role) const {
  return filter([role](const Resource& r) { return r.isReserved() && r.role() == role; });
}

Resources Resources::allocatableTo(std::string_view role) const {
  return filter([role](const Resource& r) { return !r.isReserved() || isRoleOrSubrole(role, r.role()); });
}

std::map<std::string, Resources> Resources::reservations() const {
  std::map<std::string, Resources> out;
  for (const Resource& r : slots()) {
    if (r.isReserved()) out[std::string(r.role())].items_.mut().push_back(r);
  }
  return out;
}

Resources Resources::scalars() const {
  return filter([](const Resource& r) { return r.type() == Resource::Type::kScalar; });
}

Resources Resources::revocable() const {
  return filter([](const Resource& r) { return r.revocable; });
}

Resources Resources::nonRevocable() const {
  return filter([](const Resource& r) { return !r.revocable; });
}

Resources Resources::persistentVolumes() const {
  return filter([](const Resource& r) { return r.isPersistentVolume(); });
}

Resources Resources::named(std::string_view name) const {
  return filter([name](const Resource& r) { return r.name == name; });
}

// Setting (or clearing) the allocation role can only make two slots equal
// if they differed in nothing but their allocation roles. When every slot
// has the same allocation role already (the allocator's hot path: all unset
// or all the same role), the slots stay distinct, so a plain copy with the
// role changed is the result and the quadratic merge of mapSlots is skipped.
bool Resources::uniformAllocationRole() const {
  const auto& items = slots();
  return std::all_of(items.begin(), items.end(),
                     [&items](const Resource& r) { return r.allocationRole == items.front().allocationRole; });
}

Resources Resources::allocate(std::string_view role) const& {
  Resources out = *this;
  return std::move(out).allocate(role);
}

Resources Resources::allocate(std::string_view role) && {
  // The allocator's hot path (every offer): no slot allocated yet, so one
  // role for all keeps them distinct. Set in place, no temporaries, and
  // only the roles' engaged flags read to tell.
  const auto& items = slots();
  if (items.empty()) return std::move(*this);
  if (std::none_of(items.begin(), items.end(), [](const Resource& r) { return r.allocationRole.has_value(); })) {
    for (Resource& r : items_.mut()) r.allocationRole.emplace(role);
    return std::move(*this);
  }
  auto set = [role](Resource& r) {
    if (r.allocationRole) {
      r.allocationRole->assign(role);
    } else {
      r.allocationRole.emplace(role);
    }
  };
  if (!uniformAllocationRole()) return mapSlots(*this, set);
  if (slots().front().allocationRole == role) return std::move(*this);
  for (Resource& r : items_.mut()) set(r);
  return std::move(*this);
}

Resources Resources::unallocate() const& {
  Resources out = *this;
  return std::move(out).unallocate();
}

Resources Resources::unallocate() && {
  if (!uniformAllocationRole()) return mapSlots(*this, [](Resource& r) { r.allocationRole.reset(); });
  if (empty() || !slots().front().allocationRole) return std::move(*this);
  for (Resource& r : items_.mut()) r.allocationRole.reset();
  return std::move(*this);
}

std::set<std::string> Resources::allocationRoles() const {
  std::set<std::string> out;
  for (const Resource& r : slots()) {
    if (r.allocationRole) out.insert(*r.allocationRole);
  }
  return out;
}

// --- Reservation stack -------------------------------------------------------------

Result<Resources> Resources::pushReservation(const Reservation& reservation) const {
  const std::string& role = reservation.role;
  if (role == kDefaultRole) return Status::InvalidArgument("Cannot reserve resources for role '*'");
  AGORA_RETURN_IF_ERROR(validateRole(role).withContext("Cannot reserve resources"));
  Resources out;
  for (Resource r : slots()) {
    auto fail = [&r](const std::string& why) {
      return Status::InvalidArgument("Cannot reserve " + describeSlot(r) + ": " + why);
    };
    if (r.revocable) return fail("revocable resources cannot be reserved");
    if (r.isReserved()) {
      if (reservation.type == Reservation::Type::kStatic) {
        return fail("a static reservation cannot refine the reservation for role '" +
                    quoteForLog(r.role()) + "'");
      }
      if (!isStrictSubrole(role, r.role())) {
        return fail("role '" + quoteForLog(role) + "' is not a sub-role of the current owner '" +
                    quoteForLog(r.role()) + "'");
      }
    }
    r.reservations.push_back(reservation);
    out.add(r);
  }
  return out;
}

Result<Resources> Resources::popReservation() const {
  Resources out;
  for (Resource r : slots()) {
    auto fail = [&r](const std::string& why) {
      return Status::InvalidArgument("Cannot unreserve " + describeSlot(r) + ": " + why);
    };
    if (!r.isReserved()) return fail("it is not reserved");
    if (!r.isDynamicallyReserved()) return fail("its reservation for role '" + quoteForLog(r.role()) +
                                                "' is static");
    if (r.isPersistentVolume()) return fail("it is a persistent volume; destroy it first");
    r.reservations.pop_back();
    out.add(r);
  }
  return out;
}

Resources Resources::toUnreserved() const {
  return mapSlots(*this, [](Resource& r) { r.reservations.clear(); });
}

// --- Quantities ----------------------------------------------------------------------

ResourceQuantities Resources::quantities() const {
  ResourceQuantities out;
  for (const Resource& r : slots()) out.add(r.name, amountOf(r));
  return out;
}

ResourceQuantities Resources::scalarQuantities() const {
  ResourceQuantities out;
  for (const Resource& r : slots()) {
    if (const auto* s = std::get_if<Scalar>(&r.value)) out.add(r.name, *s);
  }
  return out;
}

Scalar Resources::scalar(std::string_view name) const {
  Scalar total;
  for (const Resource& r : slots()) {
    if (r.name != name) continue;
    if (const auto* s = std::get_if<Scalar>(&r.value)) total += *s;
  }
  return total;
}

RangeSet Resources::ranges(std::string_view name) const {
  RangeSet out;
  for (const Resource& r : slots()) {
    if (r.name != name) continue;
    if (const auto* s = std::get_if<RangeSet>(&r.value)) out.add(*s);
  }
  return out;
}

ItemSet Resources::items(std::string_view name) const {
  ItemSet out;
  for (const Resource& r : slots()) {
    if (r.name != name) continue;
    if (const auto* s = std::get_if<ItemSet>(&r.value)) out.insert(s->begin(), s->end());
  }
  return out;
}

}  // namespace agora
