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
  const int64_t* v = data();
  for (size_t i = 0; i < size_; ++i) {
    if (v[i] != 0) out.set(names.name(static_cast<uint32_t>(i)), Scalar::fromMillis(v[i]));
  }
  return out;
}

void QuantityVector::grow(size_t n) {
  if (n > capacity_) {
    size_t capacity = std::max<size_t>(n, 2 * capacity_);
    auto bigger = std::make_unique<int64_t[]>(capacity);  // Zeroed.
    std::copy_n(data(), size_, bigger.get());
    heap_ = std::move(bigger);
    capacity_ = static_cast<uint32_t>(capacity);
  } else {
    std::fill(data() + size_, data() + n, 0);
  }
  size_ = static_cast<uint32_t>(n);
}

void QuantityVector::assign(const QuantityVector& other) {
  size_ = 0;
  if (other.size_ > size_) grow(other.size_);
  std::copy_n(other.data(), other.size_, data());
  size_ = other.size_;
}

void QuantityVector::set(size_t id, int64_t millis) {
  if (id >= size_) {
    if (millis == 0) return;
    grow(id + 1);
  }
  data()[id] = millis;
}

void QuantityVector::subtract(const QuantityVector& other) {
  if (other.size_ > size_) grow(other.size_);
  int64_t* v = data();
  const int64_t* w = other.data();
  bool negative = false;
  for (size_t i = 0; i < other.size_; ++i) {
    v[i] -= w[i];
    negative |= v[i] < 0;
  }
  AGORA_CHECK(!negative, "quantity went negative");
}

void QuantityVector::subtractSaturating(const QuantityVector& other) {
  size_t n = std::min(size_, other.size_);
  int64_t* v = data();
  const int64_t* w = other.data();
  for (size_t i = 0; i < n; ++i) v[i] = std::max<int64_t>(0, v[i] - w[i]);
}

bool QuantityVector::intersects(const QuantityVector& other) const {
  size_t n = std::min(size_, other.size_);
  const int64_t* v = data();
  const int64_t* w = other.data();
  for (size_t i = 0; i < n; ++i) {
    if (v[i] > 0 && w[i] > 0) return true;
  }
  return false;
}

bool QuantityVector::operator==(const QuantityVector& other) const {
  size_t n = std::max(size_, other.size_);
  for (size_t i = 0; i < n; ++i) {
    if ((*this)[i] != other[i]) return false;
  }
  return true;
}

}  // namespace agora::allocator
