#pragma once

// Fixed-point scalars and resource quantities: the lean types for hot paths.
//
// `Scalar` holds a resource amount with exactly three decimal digits (Mesos
// rounds scalars to 0.001), stored as an integer count of thousandths, so that
// adding and subtracting never drifts: 0.1 + 0.2 == 0.3 here.
//
// `ResourceQuantities` is a name -> Scalar map with none of a resource's
// metadata (no reservations, no ranges): "cpus:4;mem:2048;ports:1001". It is
// what quota, minimum allocatable resources and fair-share arithmetic need
// (Mesos introduced its ResourceQuantities because the allocator was slow
// without it).

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agora/common/result.hpp"

namespace agora {

class Scalar {
 public:
  static constexpr int64_t kScale = 1000;
  // Largest magnitude accepted from a double: about 9.2e12, far beyond any
  // real resource (Mesos caps quota at 1e12 for non-memory resources).
  static constexpr double kMaxValue = 9.2e12;

  constexpr Scalar() = default;

  // Rounds to the nearest thousandth. NaN, infinities and magnitudes above
  // kMaxValue are errors naming the value.
  static Result<Scalar> fromDouble(double value);
  static constexpr Scalar fromMillis(int64_t millis) { return Scalar(millis); }
  // For trusted literals in code and tests: Scalar::of(0.5). Aborts on NaN.
  static Scalar of(double value);

  constexpr int64_t millis() const { return millis_; }
  constexpr double toDouble() const { return static_cast<double>(millis_) / kScale; }
  constexpr bool isZero() const { return millis_ == 0; }
  constexpr bool isNegative() const { return millis_ < 0; }

  // Shortest exact decimal form: "4", "0.5", "1.25", "0.001", "-2".
  std::string toString() const;

  constexpr Scalar operator+(Scalar o) const { return Scalar(millis_ + o.millis_); }
  constexpr Scalar operator-(Scalar o) const { return Scalar(millis_ - o.millis_); }
  constexpr Scalar& operator+=(Scalar o) { millis_ += o.millis_; return *this; }
  constexpr Scalar& operator-=(Scalar o) { millis_ -= o.millis_; return *this; }
  constexpr auto operator<=>(const Scalar&) const = default;

 private:
  constexpr explicit Scalar(int64_t millis) : millis_(millis) {}
  int64_t millis_ = 0;
};

std::ostream& operator<<(std::ostream& os, Scalar s);

// A map from resource name to amount, kept sorted by name with no zero
// entries, so equal quantities compare equal. For ranges and sets the amount
// is the number of elements (ports:[31000-31999] counts 1000).
class ResourceQuantities {
 public:
  using Entry = std::pair<std::string, Scalar>;

  ResourceQuantities() = default;
  ResourceQuantities(std::initializer_list<std::pair<std::string_view, double>> entries);

  // "cpus:4;mem:2048" (';'-separated name:value, values non-negative
  // decimals). Errors name the offending item. The empty string is empty.
  static Result<ResourceQuantities> parse(std::string_view text);

  // Amount of `name`, zero when absent.
  Scalar get(std::string_view name) const;
  // Sets `name` to `value`; zero removes the entry.
  void set(std::string_view name, Scalar value);
  void add(std::string_view name, Scalar value) { set(name, get(name) + value); }

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  const std::vector<Entry>& entries() const { return entries_; }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }

  // Every name's amount here is >= its amount in `other`.
  bool contains(const ResourceQuantities& other) const;

  ResourceQuantities& operator+=(const ResourceQuantities& other);
  // Saturating: a name never goes below zero.
  ResourceQuantities& operator-=(const ResourceQuantities& other);
  ResourceQuantities operator+(const ResourceQuantities& other) const;
  ResourceQuantities operator-(const ResourceQuantities& other) const;

  // Per-name minimum; names missing from either side are dropped.
  ResourceQuantities min(const ResourceQuantities& other) const;

  bool operator==(const ResourceQuantities&) const = default;

  // "cpus:4;mem:2048", names in order; "" when empty.
  std::string toString() const;

 private:
  std::vector<Entry> entries_;  // Sorted by name, no zero amounts.
};

std::ostream& operator<<(std::ostream& os, const ResourceQuantities& q);

}  // namespace agora
