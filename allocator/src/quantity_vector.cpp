#include "agora/allocator/quantity_vector.hpp"

#include <algorithm>

#include "agora/common/check.hpp"

namespace agora::allocator {

uint32_t ResourceNames::intern(std::string_view name) {
  if (auto it = ids_.find(std::string(name)); it != ids_.end()) return it->second;
  auto id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(names_.back(), id);
  return id;
}

std::optional<uint32_t> ResourceNames::find(std::string_view name) const {
  auto it = ids_.find(std::string(name));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

QuantityVector QuantityVector::from(const ResourceQuantities& quantities, ResourceNames& names) {
  QuantityVector out;
  for (const auto& [name, amount] : quantities) out.set(names.intern(name), amount.millis());
  return out;
}

ResourceQuantities QuantityVector::toQuantities(const ResourceNames& names) const {
  ResourceQuantities out;
  for (size_t i = 0; i < v_.size(); ++i) {
    if (v_[i] != 0) out.set(names.name(static_cast<uint32_t>(i)), Scalar::fromMillis(v_[i]));
  }
  return out;
}

void QuantityVector::set(size_t id, int64_t millis) {
  if (id >= v_.size()) {
    if (millis == 0) return;
    v_.resize(id + 1, 0);
  }
  v_[id] = millis;
}

bool QuantityVector::isZero() const {
  return std::all_of(v_.begin(), v_.end(), [](int64_t x) { return x == 0; });
}

void QuantityVector::add(const QuantityVector& other) {
  if (other.v_.size() > v_.size()) v_.resize(other.v_.size(), 0);
  for (size_t i = 0; i < other.v_.size(); ++i) v_[i] += other.v_[i];
}

void QuantityVector::subtract(const QuantityVector& other) {
  if (other.v_.size() > v_.size()) v_.resize(other.v_.size(), 0);
  for (size_t i = 0; i < other.v_.size(); ++i) {
    v_[i] -= other.v_[i];
    AGORA_CHECK(v_[i] >= 0, "quantity went negative");
  }
}

void QuantityVector::subtractSaturating(const QuantityVector& other) {
  size_t n = std::min(v_.size(), other.v_.size());
  for (size_t i = 0; i < n; ++i) v_[i] = std::max<int64_t>(0, v_[i] - other.v_[i]);
}

bool QuantityVector::contains(const QuantityVector& other) const {
  for (size_t i = 0; i < other.v_.size(); ++i) {
    if (other.v_[i] > (*this)[i]) return false;
  }
  return true;
}

bool QuantityVector::intersects(const QuantityVector& other) const {
  size_t n = std::min(v_.size(), other.v_.size());
  for (size_t i = 0; i < n; ++i) {
    if (v_[i] > 0 && other.v_[i] > 0) return true;
  }
  return false;
}

bool QuantityVector::operator==(const QuantityVector& other) const {
  size_t n = std::max(v_.size(), other.v_.size());
  for (size_t i = 0; i < n; ++i) {
    if ((*this)[i] != other[i]) return false;
  }
  return true;
}

}  // namespace agora::allocator
