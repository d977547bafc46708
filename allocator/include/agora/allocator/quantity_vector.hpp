#pragma once

// Dense resource quantities for the allocator's hot path.
//
// `ResourceNames` interns resource names ("cpus", "mem", ...) into small
// consecutive ids; `QuantityVector` holds one fixed-point amount (thousandths,
// as `Scalar`) per id. Adding two vectors is a loop over a handful of int64s
// instead of a merge of sorted string maps, which is what lets a cycle over
// 10,000 agents stay in the low milliseconds. Conversion to and from
// `ResourceQuantities` happens only at the allocator's boundary.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agora/common/quantities.hpp"

namespace agora::allocator {

class ResourceNames {
 public:
  // Id of `name`, assigning the next one on first sight. Ids never change.
  uint32_t intern(std::string_view name);
  std::optional<uint32_t> find(std::string_view name) const;
  const std::string& name(uint32_t id) const { return names_[id]; }
  size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;  // Indexed by id.
  std::unordered_map<std::string, uint32_t> ids_;
};

// Amounts indexed by ResourceNames id; ids past the end count as zero, so
// vectors built before a new name appeared stay valid.
//
// The first kInline amounts live inside the object (one cache line in
// all), so that the usual handful of names (cpus, mem, disk, ports, gpus)
// never touches the heap: vectors are created, moved and summed on every
// offer, and a heap buffer each would cost a malloc and a free per offer.
class QuantityVector {
 public:
  static constexpr size_t kInline = 6;

  QuantityVector() = default;
  QuantityVector(const QuantityVector& other) { assign(other); }
  QuantityVector(QuantityVector&& other) noexcept { take(other); }
  QuantityVector& operator=(const QuantityVector& other) {
    if (this != &other) assign(other);
    return *this;
  }
  QuantityVector& operator=(QuantityVector&& other) noexcept {
    if (this != &other) take(other);
    return *this;
  }
  ~QuantityVector() = default;

  static QuantityVector from(const ResourceQuantities& quantities, ResourceNames& names);
  ResourceQuantities toQuantities(const ResourceNames& names) const;

  int64_t operator[](size_t id) const { return id < size_ ? data()[id] : 0; }
  void set(size_t id, int64_t millis);
  size_t size() const { return size_; }
  std::span<const int64_t> raw() const { return {data(), size_}; }

  bool isZero() const;
  void clear() { size_ = 0; }

  void add(const QuantityVector& other);
  // Exact subtraction: a negative result is a bookkeeping bug and aborts.
  void subtract(const QuantityVector& other);
  // Each amount floored at zero.
  void subtractSaturating(const QuantityVector& other);
  // Every amount here >= the one in `other`.
  bool contains(const QuantityVector& other) const;
  // Some id is positive in both.
  bool intersects(const QuantityVector& other) const;

  bool operator==(const QuantityVector& other) const;

 private:
  int64_t* data() { return heap_ ? heap_.get() : inline_; }
  const int64_t* data() const { return heap_ ? heap_.get() : inline_; }
  // Grows to `n` amounts, the new ones zero. Precondition: n > size_.
  void grow(size_t n);
  void assign(const QuantityVector& other);
  void take(QuantityVector& other) noexcept;

  uint32_t size_ = 0;
  uint32_t capacity_ = kInline;
  std::unique_ptr<int64_t[]> heap_;  // Null while the amounts fit inline_.
  // Not zeroed: only the first size_ amounts are ever read, and grow()
  // zeroes what it adds. (Zeroing cost a memset per vector, and the
  // allocator makes several per offer.)
  int64_t inline_[kInline];
};

// The operations of every offer, inline.

inline void QuantityVector::take(QuantityVector& other) noexcept {
  size_ = other.size_;
  capacity_ = other.capacity_;
  heap_ = std::move(other.heap_);
  if (!heap_) std::copy_n(other.inline_, size_, inline_);
  other.size_ = 0;
  other.capacity_ = kInline;
}

inline bool QuantityVector::isZero() const {
  const int64_t* v = data();
  for (size_t i = 0; i < size_; ++i) {
    if (v[i] != 0) return false;
  }
  return true;
}

inline void QuantityVector::add(const QuantityVector& other) {
  if (other.size_ > size_) grow(other.size_);
  int64_t* v = data();
  const int64_t* w = other.data();
  for (size_t i = 0; i < other.size_; ++i) v[i] += w[i];
}

inline bool QuantityVector::contains(const QuantityVector& other) const {
  const int64_t* v = data();
  const int64_t* w = other.data();
  for (size_t i = 0; i < other.size_; ++i) {
    if (w[i] > (i < size_ ? v[i] : 0)) return false;
  }
  return true;
}

}  // namespace agora::allocator
