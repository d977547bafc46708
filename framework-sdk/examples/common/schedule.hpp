#pragma once

// When a cron example runs (agora-example-cron): an ISO 8601 repeating
// interval or a cron expression, both in UTC.
//
//   R5/2026-01-01T00:00:00Z/PT1M   five runs a minute apart from that time
//   R/2026-01-01T00:00:00Z/P1D     every day, forever
//   */15 * * * *                   minute hour day-of-month month day-of-week
//
// Pure computation: the caller supplies the time.

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "agora/common/clock.hpp"
#include "agora/common/result.hpp"

namespace agora::examples {

class Schedule {
 public:
  // Either syntax; errors name the part that is wrong.
  static Result<Schedule> parse(std::string_view text);

  // The first run time strictly after `after`; nullopt when the schedule
  // has no more runs (ISO with R<n>: the n-th run was at or before `after`).
  std::optional<WallTime> next(WallTime after) const;

  // Total runs of an ISO schedule with R<n>; nullopt for R and cron.
  std::optional<int64_t> repetitions() const { return repetitions_; }

 private:
  bool cron_ = false;
  // ISO 8601.
  std::optional<int64_t> repetitions_;
  WallTime start_{};
  std::chrono::seconds period_{};
  // Cron: the allowed values of each field.
  std::set<int> minutes_, hours_, days_, months_, weekdays_;
  bool anyDay_ = true, anyWeekday_ = true;  // Field was "*" (cron's day OR weekday rule).
};

}  // namespace agora::examples
