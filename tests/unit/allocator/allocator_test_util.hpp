#pragma once

// Helpers shared by the allocator scenario and property tests.

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agora/allocator/allocator.hpp"
#include "agora/common/resources.hpp"

namespace agora::allocator::testing {

inline Resources R(std::string_view text) {
  auto parsed = Resources::parse(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.ok() ? *parsed : Resources();
}

// A paused clock: time is whatever the test says.
inline TimePoint at(double seconds) {
  return TimePoint{} + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

inline FrameworkInfo roles(std::initializer_list<std::string> names) {
  FrameworkInfo info;
  info.roles = names;
  return info;
}

// Offers by "framework@agent".
inline std::map<std::string, Offer> byKey(const std::vector<Offer>& offers) {
  std::map<std::string, Offer> out;
  for (const Offer& o : offers) out.emplace(o.frameworkId + "@" + o.agentId, o);
  return out;
}

}  // namespace agora::allocator::testing
