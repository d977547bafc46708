// Boost 1.74 coroutines on g++ 12 need <utility> before any Asio header.
#include <utility>

#include <boost/asio/io_context.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agora/common/clock.hpp"

namespace agora {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(FakeClockTest, TimeMovesOnlyByAdvance) {
  FakeClock clock;
  TimePoint start = clock.now();
  WallTime wallStart = clock.wallNow();
  EXPECT_EQ(clock.now(), start);
  clock.advance(seconds(5));
  EXPECT_EQ(clock.now() - start, seconds(5));
  EXPECT_EQ(clock.wallNow() - wallStart, seconds(5));
  clock.setNow(start + minutes(1));
  EXPECT_EQ(clock.now() - start, minutes(1));
  EXPECT_EQ(formatIso8601(wallStart), "2024-01-01T00:00:00.000Z");
}

TEST(FakeClockTest, TimersFireInDueOrderWithTiesInSchedulingOrder) {
  FakeClock clock;
  std::vector<std::string> fired;
  clock.schedule(seconds(3), [&] { fired.push_back("c"); });
  clock.schedule(seconds(1), [&] { fired.push_back("a"); });
  clock.schedule(seconds(2), [&] { fired.push_back("b1"); });
  clock.schedule(seconds(2), [&] { fired.push_back("b2"); });
  EXPECT_EQ(clock.pendingTimers(), 4u);
  EXPECT_EQ(clock.nextDeadline(), clock.now() + seconds(1));

  clock.advance(seconds(2));
  EXPECT_THAT(fired, ElementsAre("a", "b1", "b2"));
  EXPECT_EQ(clock.pendingTimers(), 1u);
  clock.advance(seconds(10));
  EXPECT_THAT(fired, ElementsAre("a", "b1", "b2", "c"));
  EXPECT_EQ(clock.pendingTimers(), 0u);
  EXPECT_EQ(clock.nextDeadline(), std::nullopt);
}

TEST(FakeClockTest, TimerFiresExactlyOnceAndSeesItsDueTime) {
  FakeClock clock;
  TimePoint start = clock.now();
  int count = 0;
  TimePoint seen;
  clock.schedule(seconds(1), [&] {
    ++count;
    seen = clock.now();
  });
  clock.advance(milliseconds(999));
  EXPECT_EQ(count, 0);
  clock.advance(seconds(5));
  EXPECT_EQ(count, 1);
  EXPECT_EQ(seen, start + seconds(1));
  EXPECT_EQ(clock.now(), start + milliseconds(5999));
  clock.advance(hours(1));
  EXPECT_EQ(count, 1);
}

TEST(FakeClockTest, ZeroDelayFiresOnNextAdvanceNotInsideSchedule) {
  FakeClock clock;
  bool fired = false;
  clock.schedule(Duration::zero(), [&] { fired = true; });
  EXPECT_FALSE(fired);
  clock.advance(Duration::zero());
  EXPECT_TRUE(fired);
}

TEST(FakeClockTest, CancelPreventsFiring) {
  FakeClock clock;
  int fired = 0;
  TimerId id = clock.schedule(seconds(1), [&] { ++fired; });
  EXPECT_TRUE(clock.cancel(id));
  EXPECT_FALSE(clock.cancel(id));
  EXPECT_FALSE(clock.cancel(12345));
  clock.advance(seconds(2));
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(clock.pendingTimers(), 0u);

  TimerId ran = clock.schedule(seconds(1), [&] { ++fired; });
  clock.advance(seconds(1));
  EXPECT_FALSE(clock.cancel(ran));
  EXPECT_EQ(fired, 1);
}

TEST(FakeClockTest, FiringTimerMayCancelALaterOne) {
  FakeClock clock;
  bool second = false;
  TimerId later = clock.schedule(seconds(2), [&] { second = true; });
  clock.schedule(seconds(1), [&] { EXPECT_TRUE(clock.cancel(later)); });
  clock.advance(seconds(5));
  EXPECT_FALSE(second);
}

TEST(FakeClockTest, NestedTimerDueWithinTheSameAdvanceFires) {
  FakeClock clock;
  TimePoint start = clock.now();
  std::vector<std::pair<std::string, Duration>> fired;
  auto record = [&](std::string name) { fired.emplace_back(name, clock.now() - start); };
  clock.schedule(seconds(1), [&] {
    record("outer");
    clock.schedule(seconds(1), [&] {
      record("inner");
      clock.schedule(seconds(5), [&] { record("late"); });
    });
  });
  clock.schedule(seconds(3), [&] { record("other"); });
  clock.advance(seconds(4));
  EXPECT_THAT(fired, ElementsAre(std::pair<std::string, Duration>("outer", seconds(1)),
                                 std::pair<std::string, Duration>("inner", seconds(2)),
                                 std::pair<std::string, Duration>("other", seconds(3))));
  EXPECT_EQ(clock.pendingTimers(), 1u);
  EXPECT_EQ(clock.nextDeadline(), start + seconds(7));
}

TEST(AsioClockTest, TimersFireOnTheIoContextInDueOrder) {
  boost::asio::io_context io;
  AsioClock clock(io);
  std::vector<std::string> fired;
  // Scheduled later but due sooner. The gap is wide so that a loaded
  // machine pausing between the two calls cannot make "early" due later.
  clock.schedule(milliseconds(300), [&] { fired.push_back("late"); });
  clock.schedule(milliseconds(1), [&] { fired.push_back("early"); });
  TimerId cancelled = clock.schedule(milliseconds(5), [&] { fired.push_back("cancelled"); });
  EXPECT_EQ(clock.pendingTimers(), 3u);
  EXPECT_TRUE(clock.cancel(cancelled));
  EXPECT_TRUE(fired.empty());  // Never inside schedule().
  io.run();                    // Returns once no timer is pending.
  EXPECT_THAT(fired, ElementsAre("early", "late"));
  EXPECT_EQ(clock.pendingTimers(), 0u);
}

TEST(AsioClockTest, CancelFromAnotherCallbackWins) {
  boost::asio::io_context io;
  AsioClock clock(io);
  bool fired = false;
  // The second's handler may already be queued when the first cancels it
  // (the race AsioClock guards against), or not yet; either way it must not
  // run.
  TimerId second = 0;
  clock.schedule(Duration::zero(), [&] { EXPECT_TRUE(clock.cancel(second)); });
  second = clock.schedule(microseconds(1), [&] { fired = true; });
  io.run();
  EXPECT_FALSE(fired);
  EXPECT_EQ(clock.pendingTimers(), 0u);
}

TEST(AsioClockTest, NestedSchedulingAndDestructionWithPendingTimers) {
  boost::asio::io_context io;
  int fired = 0;
  {
    AsioClock clock(io);
    clock.schedule(milliseconds(1), [&] {
      ++fired;
      clock.schedule(milliseconds(1), [&] { ++fired; });
    });
    io.run();
    EXPECT_EQ(fired, 2);
    io.restart();
    clock.schedule(hours(1), [&] { ++fired; });
  }
  io.run();  // The destroyed clock's timer was cancelled; run() returns.
  EXPECT_EQ(fired, 2);
}

TEST(AsioClockTest, ReadsRealTime) {
  boost::asio::io_context io;
  AsioClock clock(io);
  TimePoint before = clock.now();
  EXPECT_GE(clock.now(), before);
  EXPECT_GT(clock.wallNow().time_since_epoch().count(), 0);
}

TEST(DurationTest, ParsesMesosAndShortForms) {
  EXPECT_EQ(parseDuration("15secs").value(), seconds(15));
  EXPECT_EQ(parseDuration("10mins").value(), minutes(10));
  EXPECT_EQ(parseDuration("1s").value(), seconds(1));
  EXPECT_EQ(parseDuration("500ms").value(), milliseconds(500));
  EXPECT_EQ(parseDuration("2hrs").value(), hours(2));
  EXPECT_EQ(parseDuration("1days").value(), hours(24));
  EXPECT_EQ(parseDuration("1weeks").value(), hours(24 * 7));
  EXPECT_EQ(parseDuration("3m").value(), minutes(3));
  EXPECT_EQ(parseDuration("1.5secs").value(), milliseconds(1500));
  EXPECT_EQ(parseDuration("250us").value(), microseconds(250));
  EXPECT_EQ(parseDuration("7ns").value(), Duration(7));
  EXPECT_EQ(parseDuration("0secs").value(), Duration::zero());
  EXPECT_EQ(parseDuration("9223372036854775807ns").value(), Duration::max());  // Exact.
  EXPECT_FALSE(parseDuration("9223372036854775808ns").ok());
}

TEST(DurationTest, RejectsJunkWithTheTextInTheMessage) {
  for (const char* junk : {"", "15", "secs", "-1secs", "1 secs", "1.2.3secs", ".5s", "5.s",
                           "1fortnights", "1e3s", "abc", "99999999999weeks", "1secsx"}) {
    Result<Duration> result = parseDuration(junk);
    ASSERT_FALSE(result.ok()) << junk;
    EXPECT_EQ(result.error().code(), Status::Code::kInvalidArgument);
    EXPECT_THAT(result.error().message(), HasSubstr(std::string("'") + junk + "'"));
  }
  EXPECT_THAT(parseDuration("15").error().message(), HasSubstr("missing unit"));
  EXPECT_THAT(parseDuration("1fortnights").error().message(), HasSubstr("unknown unit 'fortnights'"));
}

TEST(DurationTest, FormatsWithTheLargestExactUnitAndRoundTrips) {
  EXPECT_EQ(formatDuration(seconds(15)), "15secs");
  EXPECT_EQ(formatDuration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(formatDuration(hours(48)), "2days");
  EXPECT_EQ(formatDuration(Duration::zero()), "0secs");
  EXPECT_EQ(formatDuration(-seconds(3)), "-3secs");
  for (Duration d : {Duration(1), Duration(microseconds(7)), Duration(minutes(90)), Duration(hours(24 * 14))}) {
    EXPECT_EQ(parseDuration(formatDuration(d)).value(), d) << formatDuration(d);
  }
}

}  // namespace
}  // namespace agora
