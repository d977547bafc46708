#include "agora/common/clock.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <limits>

#include <fmt/format.h>

#include "agora/common/check.hpp"
#include "agora/common/id.hpp"

namespace agora {

namespace {

// 2024-01-01T00:00:00Z.
constexpr std::chrono::seconds kDefaultFakeWallStart{1704067200};

struct Unit {
  std::string_view name;  // Canonical (Mesos) name, used by formatDuration.
  std::string_view aliases[3];
  Duration length;
};

// Largest first, so formatDuration picks the largest exact unit.
constexpr Unit kUnits[] = {
    {"weeks", {"week", "w", {}}, std::chrono::hours(24 * 7)},
    {"days", {"day", "d", {}}, std::chrono::hours(24)},
    {"hrs", {"hr", "h", {}}, std::chrono::hours(1)},
    {"mins", {"min", "m", {}}, std::chrono::minutes(1)},
    {"secs", {"sec", "s", {}}, std::chrono::seconds(1)},
    {"ms", {"msecs", {}, {}}, std::chrono::milliseconds(1)},
    {"us", {"usecs", {}, {}}, std::chrono::microseconds(1)},
    {"ns", {"nsecs", {}, {}}, std::chrono::nanoseconds(1)},
};

const Unit* findUnit(std::string_view name) {
  for (const Unit& unit : kUnits) {
    if (unit.name == name) return &unit;
    for (std::string_view alias : unit.aliases) {
      if (!alias.empty() && alias == name) return &unit;
    }
  }
  return nullptr;
}

}  // namespace

// --- FakeClock -------------------------------------------------------------

FakeClock::FakeClock() : FakeClock(WallTime(kDefaultFakeWallStart)) {}

FakeClock::FakeClock(WallTime wallStart)
    // An arbitrary non-zero start, so code that treats TimePoint{} as "unset"
    // is not confused by the fake clock.
    : now_(TimePoint(std::chrono::hours(1000))), start_(now_), wallStart_(wallStart) {}

WallTime FakeClock::wallNow() const {
  return wallStart_ + std::chrono::duration_cast<WallTime::duration>(now_ - start_);
}

TimerId FakeClock::schedule(Duration after, std::function<void()> fn) {
  TimerId id = nextId_++;
  TimePoint due = now_ + std::max(after, Duration::zero());
  timers_.emplace(Key{due, id}, std::move(fn));
  dueById_.emplace(id, due);
  return id;
}

bool FakeClock::cancel(TimerId id) {
  auto it = dueById_.find(id);
  if (it == dueById_.end()) return false;
  timers_.erase(Key{it->second, id});
  dueById_.erase(it);
  return true;
}

void FakeClock::advance(Duration d) {
  AGORA_CHECK(d >= Duration::zero(), "FakeClock cannot go back in time");
  setNow(now_ + d);
}

void FakeClock::setNow(TimePoint t) {
  AGORA_CHECK(t >= now_, "FakeClock cannot go back in time");
  // Re-read the earliest timer after every callback: a callback may schedule
  // (possibly due before `t`) or cancel other timers.
  while (!timers_.empty() && timers_.begin()->first.first <= t) {
    auto node = timers_.extract(timers_.begin());
    dueById_.erase(node.key().second);
    now_ = node.key().first;
    node.mapped()();
  }
  now_ = t;
}

std::optional<TimePoint> FakeClock::nextDeadline() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.first;
}

// --- Durations -------------------------------------------------------------

Result<Duration> parseDuration(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument(
        fmt::format("Invalid duration '{}': {}", quoteForLog(text), why));
  };
  size_t unitStart = 0;
  while (unitStart < text.size() &&
         ((text[unitStart] >= '0' && text[unitStart] <= '9') || text[unitStart] == '.')) {
    ++unitStart;
  }
  if (text.empty()) return invalid("empty");
  if (text[0] == '-') return invalid("must not be negative");
  if (unitStart == 0) return invalid("expected a number followed by a unit, e.g. '15secs'");
  std::string_view number = text.substr(0, unitStart);
  std::string_view unitName = text.substr(unitStart);
  if (unitName.empty()) {
    return invalid("missing unit (ns, us, ms, secs, mins, hrs, days, weeks)");
  }
  const Unit* unit = findUnit(unitName);
  if (unit == nullptr) {
    return invalid(fmt::format("unknown unit '{}' (ns, us, ms, secs, mins, hrs, days, weeks)",
                               quoteForLog(unitName)));
  }
  size_t dots = std::count(number.begin(), number.end(), '.');
  if (dots > 1 || number.front() == '.' || number.back() == '.') return invalid("malformed number");
  constexpr auto kMax = std::numeric_limits<Duration::rep>::max();
  if (dots == 0) {
    // Whole numbers exactly, in integers.
    uint64_t count = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), count);
    uint64_t unitNanos = static_cast<uint64_t>(unit->length.count());
    if (ec != std::errc() || count > static_cast<uint64_t>(kMax) / unitNanos) return invalid("too large");
    return Duration(static_cast<Duration::rep>(count * unitNanos));
  }
  // from_chars, unlike strtod, ignores the locale.
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  double nanos = value * static_cast<double>(unit->length.count());
  if (ec != std::errc() || !std::isfinite(nanos) || nanos >= static_cast<double>(kMax)) {
    return invalid("too large");
  }
  return Duration(static_cast<Duration::rep>(std::llround(nanos)));
}

std::string formatDuration(Duration d) {
  if (d == Duration::zero()) return "0secs";
  if (d == Duration::min()) return fmt::format("{}ns", d.count());  // Cannot be negated.
  if (d < Duration::zero()) return "-" + formatDuration(-d);
  for (const Unit& unit : kUnits) {
    if (d.count() % unit.length.count() == 0) {
      return fmt::format("{}{}", d.count() / unit.length.count(), unit.name);
    }
  }
  return fmt::format("{}ns", d.count());  // Unreachable: 1ns divides everything.
}

std::string formatIso8601(WallTime t) {
  auto sinceEpoch = t.time_since_epoch();
  auto seconds = std::chrono::floor<std::chrono::seconds>(sinceEpoch);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(sinceEpoch - seconds).count();
  std::time_t tt = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&tt, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03}Z", buffer, millis);
}

}  // namespace agora
