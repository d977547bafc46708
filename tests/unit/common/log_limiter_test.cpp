#include "agora/common/log_limiter.hpp"

#include <gtest/gtest.h>

namespace agora {
namespace {

using namespace std::chrono_literals;

TEST(LogLimiterTest, BurstThenOneLinePerIntervalReportingSuppressed) {
  std::chrono::steady_clock::time_point now{};
  LogLimiter limiter([&] { return now; }, /*burst=*/3, /*interval=*/1s);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.admit(), std::optional<uint64_t>(0));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.admit(), std::nullopt);
  now += 1s;
  EXPECT_EQ(limiter.admit(), std::optional<uint64_t>(5));
  EXPECT_EQ(limiter.admit(), std::nullopt);
  EXPECT_EQ(limiter.suppressedTotal(), 6u);

  // A long quiet spell refills the burst, no more.
  now += 1h;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.admit().has_value());
  EXPECT_EQ(limiter.admit(), std::nullopt);
}

TEST(LogLimiterTest, ClockGoingBackwardsDoesNotRefill) {
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::time_point{} + 10s;
  LogLimiter limiter([&] { return now; }, 1, 1s);
  EXPECT_TRUE(limiter.admit().has_value());
  now -= 5s;
  EXPECT_FALSE(limiter.admit().has_value());
  now += 5s;
  EXPECT_FALSE(limiter.admit().has_value());
  now += 1s;
  EXPECT_TRUE(limiter.admit().has_value());
}

}  // namespace
}  // namespace agora
