#include "schedule.hpp"

#include <gtest/gtest.h>

namespace agora::examples {
namespace {

WallTime at(const char* text) {
  std::tm tm{};
  strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

TEST(ScheduleTest, IsoRepeatingInterval) {
  Result<Schedule> s = Schedule::parse("R3/2026-01-01T00:00:00Z/PT1M");
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->repetitions(), 3);
  EXPECT_EQ(s->next(at("2025-12-31T00:00:00Z")), at("2026-01-01T00:00:00Z"));
  EXPECT_EQ(s->next(at("2026-01-01T00:00:00Z")), at("2026-01-01T00:01:00Z"));
  EXPECT_EQ(s->next(at("2026-01-01T00:01:30Z")), at("2026-01-01T00:02:00Z"));
  EXPECT_EQ(s->next(at("2026-01-01T00:02:00Z")), std::nullopt);  // The third run was the last.

  Result<Schedule> forever = Schedule::parse("R/2026-01-01T00:00:00Z/P1DT2H");
  ASSERT_TRUE(forever.ok());
  EXPECT_EQ(forever->repetitions(), std::nullopt);
  EXPECT_EQ(forever->next(at("2027-01-01T00:00:00Z")), at("2027-01-01T02:00:00Z"));  // 337 periods of 26 h
}

TEST(ScheduleTest, CronExpression) {
  Result<Schedule> s = Schedule::parse("*/15 2 * * *");
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->next(at("2026-03-01T01:59:59Z")), at("2026-03-01T02:00:00Z"));
  EXPECT_EQ(s->next(at("2026-03-01T02:00:00Z")), at("2026-03-01T02:15:00Z"));
  EXPECT_EQ(s->next(at("2026-03-01T02:45:00Z")), at("2026-03-02T02:00:00Z"));
  // Day of month OR day of week when both are restricted: the 13th, or Fridays.
  Result<Schedule> friday13 = Schedule::parse("0 0 13 * 5");
  ASSERT_TRUE(friday13.ok());
  EXPECT_EQ(friday13->next(at("2026-03-01T00:00:00Z")), at("2026-03-06T00:00:00Z"));  // A Friday.
  Result<Schedule> sunday = Schedule::parse("30 8 * * 7");
  ASSERT_TRUE(sunday.ok());
  EXPECT_EQ(sunday->next(at("2026-03-02T00:00:00Z")), at("2026-03-08T08:30:00Z"));
}

TEST(ScheduleTest, ErrorsNameThePart) {
  for (const char* bad : {"", "R3/2026-01-01/PT1M", "R3/2026-01-01T00:00:00Z/P1M", "R3/2026-01-01T00:00:00Z/PT",
                          "Rx/2026-01-01T00:00:00Z/PT1S", "* * *", "61 * * * *", "*/0 * * * *", "5-1 * * * *"}) {
    EXPECT_FALSE(Schedule::parse(bad).ok()) << bad;
  }
  EXPECT_NE(Schedule::parse("61 * * * *").error().message().find("minute"), std::string::npos);
  EXPECT_NE(Schedule::parse("R/2026-01-01T00:00:00Z/P1Y").error().message().find("years"), std::string::npos);
}

}  // namespace
}  // namespace agora::examples
