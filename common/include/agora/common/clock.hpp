#pragma once

// Time for components: the one seam through which Agora code reads the time
// and sets timers (Envoy's TimeSource, Seastar's manual_clock, Mesos's
// Clock::advance in tests). Components take a `Clock&` and never call
// std::chrono::*_clock::now() themselves, so tests drive time with a
// FakeClock and stay deterministic.
//
//   AsioClock clock(ioContext);          // daemon: timers on its event loop
//   FakeClock clock;                     // tests: time moves only by advance()
//   clock.schedule(std::chrono::seconds(15), [this] { onPingTimeout(); });
//
// Durations as operators type them ("15secs", "500ms") are parsed by
// parseDuration() below, which the flags use.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "agora/common/result.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace agora {

// Nanosecond resolution, signed, ~292 years of range.
using Duration = std::chrono::nanoseconds;

// Monotonic time: for deadlines, timeouts and intervals. Its epoch means
// nothing; only differences do.
using TimePoint = std::chrono::steady_clock::time_point;

// Wall-clock time: only for timestamps that users see (registered_time,
// status update timestamps). Never for deadlines: it jumps.
using WallTime = std::chrono::system_clock::time_point;

// Identifies one scheduled timer. Never reused by a clock; 0 is never issued.
using TimerId = uint64_t;

// The interface components depend on.
//
// Threading: a clock belongs to one event loop. schedule() and cancel() must
// be called on that loop's thread, and callbacks run there, one at a time.
class Clock {
 public:
  virtual ~Clock() = default;

  // Monotonic now.
  virtual TimePoint now() const = 0;

  // Wall-clock now.
  virtual WallTime wallNow() const = 0;

  // Runs `fn` once, on the clock's loop, when `after` has passed (a negative
  // or zero `after` means "as soon as possible", never inside this call).
  // A timer never runs before an earlier-due one. FakeClock also runs timers
  // due at the same time in scheduling order; AsioClock does not promise that.
  virtual TimerId schedule(Duration after, std::function<void()> fn) = 0;

  // Stops a timer that has not run yet; its callback will never run and is
  // destroyed. Returns false if `id` already ran, was already cancelled or is
  // unknown. Safe to call from inside any timer callback.
  virtual bool cancel(TimerId id) = 0;
};

// A clock for tests: time stands still until advance() or setNow(). Timers
// due by the new time fire during that call, in order of due time (ties in
// scheduling order), each exactly once; while one fires, now() equals its due
// time. A timer scheduled by a firing timer also fires within the same
// advance if it falls due by the target time.
class FakeClock final : public Clock {
 public:
  // Starts at an arbitrary fixed monotonic time, and at wall time `wallStart`
  // (default 2024-01-01T00:00:00Z) so timestamps in tests are reproducible.
  FakeClock();
  explicit FakeClock(WallTime wallStart);

  TimePoint now() const override { return now_; }
  WallTime wallNow() const override;
  TimerId schedule(Duration after, std::function<void()> fn) override;
  bool cancel(TimerId id) override;

  // Moves time forward by `d` (precondition: d >= 0), firing timers on the
  // way. advance(Duration::zero()) fires the timers already due.
  void advance(Duration d);

  // Moves time forward to `t` (precondition: t >= now()), firing timers.
  void setNow(TimePoint t);

  // Timers scheduled and neither fired nor cancelled.
  size_t pendingTimers() const { return timers_.size(); }

  // When the earliest pending timer is due; nullopt if there is none.
  std::optional<TimePoint> nextDeadline() const;

 private:
  using Key = std::pair<TimePoint, TimerId>;  // Due time, then scheduling order.

  TimePoint now_;
  TimePoint start_;
  WallTime wallStart_;
  TimerId nextId_ = 1;
  std::map<Key, std::function<void()>> timers_;
  std::unordered_map<TimerId, TimePoint> dueById_;  // Same timers as timers_.
};

// The daemon's clock: std::chrono::steady_clock and system_clock, with timers
// on a Boost.Asio io_context (the daemon's one event loop, DESIGN.md "Inside a
// daemon"). Callbacks run on whichever thread runs that io_context.
//
// The io_context must outlive the clock. Destroying the clock cancels every
// pending timer; callbacks already queued on the loop then do nothing.
class AsioClock final : public Clock {
 public:
  explicit AsioClock(boost::asio::io_context& io);
  ~AsioClock() override;

  AsioClock(const AsioClock&) = delete;
  AsioClock& operator=(const AsioClock&) = delete;

  TimePoint now() const override;
  WallTime wallNow() const override;
  TimerId schedule(Duration after, std::function<void()> fn) override;
  bool cancel(TimerId id) override;

  // Timers scheduled and neither fired nor cancelled.
  size_t pendingTimers() const;

 private:
  struct State;
  boost::asio::io_context& io_;
  std::shared_ptr<State> state_;  // Shared weakly with queued handlers.
};

// Parses a duration as operators write it: a non-negative number (decimals
// allowed) followed by a unit, no space. Units, in Mesos style and short:
//   ns, us, ms, secs/sec/s, mins/min/m, hrs/hr/h, days/day/d, weeks/week/w
// e.g. "15secs", "10mins", "1s", "500ms", "2hrs", "1days", "1.5weeks".
// A missing or unknown unit, a negative or non-finite number, or a value
// beyond ~292 years is an InvalidArgument naming the text.
Result<Duration> parseDuration(std::string_view text);

// The inverse, in Mesos style with the largest unit that is exact:
// "15secs", "500ms", "2hrs", "0secs". parseDuration(formatDuration(d)) == d.
std::string formatDuration(Duration d);

// ISO 8601 UTC with milliseconds, e.g. "2024-01-01T00:00:00.000Z".
std::string formatIso8601(WallTime t);

}  // namespace agora
