// RangeSet: sorted, disjoint, non-adjacent inclusive ranges of uint64.

#include <algorithm>
#include <limits>
#include <string>

#include "agora/common/resources.hpp"

namespace agora {

namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// True when `next` (begin >= prev.begin) overlaps or touches `prev`, so the
// two belong in one range. Careful with prev.end == UINT64_MAX.
bool touches(const Range& prev, const Range& next) {
  return prev.end == kMax || next.begin <= prev.end + 1;
}

// Coalesces ranges sorted by begin into the canonical form.
std::vector<Range> coalesceSorted(const std::vector<Range>& sorted) {
  std::vector<Range> out;
  out.reserve(sorted.size());
  for (const Range& r : sorted) {
    if (!out.empty() && touches(out.back(), r)) {
      out.back().end = std::max(out.back().end, r.end);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

}  // namespace

RangeSet::RangeSet(std::initializer_list<Range> ranges) {
  for (const Range& r : ranges) add(r);
}

void RangeSet::add(Range range) {
  auto pos = std::lower_bound(ranges_.begin(), ranges_.end(), range,
                              [](const Range& a, const Range& b) { return a.begin < b.begin; });
  // Only the neighbours of the insertion point can coalesce with it; merge
  // locally to keep add() linear in the worst case and cheap in the common one.
  std::vector<Range> merged(ranges_.begin(), pos);
  merged.push_back(range);
  merged.insert(merged.end(), pos, ranges_.end());
  ranges_ = coalesceSorted(merged);
}

void RangeSet::add(const RangeSet& other) {
  if (other.empty()) return;
  std::vector<Range> merged;
  merged.reserve(ranges_.size() + other.ranges_.size());
  std::merge(ranges_.begin(), ranges_.end(), other.ranges_.begin(), other.ranges_.end(),
             std::back_inserter(merged), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  ranges_ = coalesceSorted(merged);
}

void RangeSet::subtract(const RangeSet& other) {
  if (other.empty() || empty()) return;
  std::vector<Range> out;
  size_t j = 0;
  for (Range r : ranges_) {
    // Skip removals entirely before r.
    while (j < other.ranges_.size() && other.ranges_[j].end < r.begin) ++j;
    size_t k = j;
    bool alive = true;
    while (alive && k < other.ranges_.size() && other.ranges_[k].begin <= r.end) {
      const Range& cut = other.ranges_[k];
      if (cut.begin > r.begin) out.push_back({r.begin, cut.begin - 1});
      if (cut.end >= r.end) {
        alive = false;
      } else {
        r.begin = cut.end + 1;
        ++k;
      }
    }
    if (alive) out.push_back(r);
    // Removals that ended inside r cannot touch the next range; one that
    // reaches past r may, so resume from k (not past it).
    j = k;
  }
  ranges_ = std::move(out);
}

bool RangeSet::contains(const RangeSet& other) const {
  for (const Range& r : other.ranges_) {
    // The last range starting at or before r.begin must cover all of r,
    // since ranges here are never adjacent.
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), r.begin,
                               [](uint64_t v, const Range& x) { return v < x.begin; });
    if (it == ranges_.begin()) return false;
    --it;
    if (it->end < r.end) return false;
  }
  return true;
}

bool RangeSet::contains(uint64_t value) const { return contains(RangeSet{{value, value}}); }

uint64_t RangeSet::count() const {
  uint64_t total = 0;
  for (const Range& r : ranges_) {
    uint64_t n = r.end - r.begin;  // One less than the count; cannot overflow.
    if (n == kMax || total > kMax - n - 1) return kMax;  // Saturate.
    total += n + 1;
  }
  return total;
}

std::string RangeSet::toString() const {
  std::string out = "[";
  for (size_t i = 0; i < ranges_.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(ranges_[i].begin);
    out += '-';
    out += std::to_string(ranges_[i].end);
  }
  out += ']';
  return out;
}

}  // namespace agora
