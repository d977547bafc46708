#pragma once

// Randomized exponential backoff shared by the drivers' subscription retries.

#include <algorithm>
#include <random>

#include "agora/common/clock.hpp"
#include "agora/common/id.hpp"

namespace agora::sdk::detail {

// A random engine seeded from the UUID source (never the clock).
inline std::minstd_rand seededRandom() {
  std::string bytes = newUuidBytes();
  std::seed_seq seq(bytes.begin(), bytes.end());
  return std::minstd_rand(seq);
}

// A wait of between half and all of `nominal`.
inline Duration jittered(Duration nominal, std::minstd_rand& random) {
  if (nominal <= Duration::zero()) return Duration::zero();
  std::uniform_int_distribution<int64_t> half(0, nominal.count() / 2);
  return nominal - Duration(half(random));
}

// The next nominal wait: twice `current`, within [min, max].
inline Duration nextBackoff(Duration current, Duration min, Duration max) {
  if (current < min) return std::min(min, max);
  return std::min(current * 2, max);
}

}  // namespace agora::sdk::detail
