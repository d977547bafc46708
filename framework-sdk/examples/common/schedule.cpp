#include "schedule.hpp"

#include <ctime>
#include <vector>

#include "agora/common/strings.hpp"

namespace agora::examples {

namespace {

Result<int64_t> number(std::string_view text, std::string_view what) {
  if (text.empty() || text.size() > 9) return Status::InvalidArgument("Invalid " + std::string(what) + " '" + std::string(text) + "'");
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return Status::InvalidArgument("Invalid " + std::string(what) + " '" + std::string(text) + "'");
    value = value * 10 + (c - '0');
  }
  return value;
}

// "2026-01-01T00:00:00Z".
Result<WallTime> parseUtc(std::string_view text) {
  std::tm tm{};
  std::string copy(text);
  const char* end = strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') {
    return Status::InvalidArgument("Invalid start time '" + copy + "': expected YYYY-MM-DDTHH:MM:SSZ");
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// "PT1M", "P1DT2H30M", "PT10S", "P2W". Years and months are refused: their
// length varies.
Result<std::chrono::seconds> parsePeriod(std::string_view text) {
  auto invalid = [&](const std::string& why) {
    return Status::InvalidArgument("Invalid period '" + std::string(text) + "': " + why);
  };
  if (text.size() < 3 || text[0] != 'P') return invalid("expected P[nW][nD][T[nH][nM][nS]]");
  int64_t seconds = 0;
  bool time = false;
  std::string digits;
  for (char c : text.substr(1)) {
    if (c >= '0' && c <= '9') {
      digits += c;
      continue;
    }
    if (c == 'T') {
      if (time || !digits.empty()) return invalid("misplaced T");
      time = true;
      continue;
    }
    if (digits.empty() || digits.size() > 9) return invalid("a unit without a number");
    int64_t n = std::stoll(digits);
    digits.clear();
    if (!time && c == 'W') seconds += n * 7 * 86400;
    else if (!time && c == 'D') seconds += n * 86400;
    else if (time && c == 'H') seconds += n * 3600;
    else if (time && c == 'M') seconds += n * 60;
    else if (time && c == 'S') seconds += n;
    else if (!time && (c == 'Y' || c == 'M')) return invalid("years and months are not supported");
    else return invalid(std::string("unknown unit '") + c + "'");
  }
  if (!digits.empty()) return invalid("a number without a unit");
  if (seconds <= 0) return invalid("must be positive");
  return std::chrono::seconds(seconds);
}

// One cron field: "*", "*/n", "a", "a-b", "a-b/n", comma-separated.
Result<std::set<int>> parseField(std::string_view text, int lo, int hi, std::string_view what) {
  std::set<int> values;
  for (std::string_view part : splitText(text, ',')) {
    int step = 1;
    if (size_t slash = part.find('/'); slash != std::string_view::npos) {
      AGORA_ASSIGN_OR_RETURN(int64_t n, number(part.substr(slash + 1), std::string(what) + " step"));
      if (n <= 0) return Status::InvalidArgument("Invalid " + std::string(what) + " step 0");
      step = static_cast<int>(n);
      part = part.substr(0, slash);
    }
    int from = lo, to = hi;
    if (part != "*") {
      size_t dash = part.find('-');
      AGORA_ASSIGN_OR_RETURN(int64_t a, number(part.substr(0, dash), what));
      int64_t b = a;
      if (dash != std::string_view::npos) {
        AGORA_ASSIGN_OR_RETURN(b, number(part.substr(dash + 1), what));
      }
      if (a < lo || b > hi || a > b) {
        return Status::InvalidArgument("Invalid " + std::string(what) + " '" + std::string(part) + "': not within " +
                                       std::to_string(lo) + "-" + std::to_string(hi));
      }
      from = static_cast<int>(a);
      to = static_cast<int>(b);
    }
    for (int v = from; v <= to; v += step) values.insert(v);
  }
  return values;
}

}  // namespace

Result<Schedule> Schedule::parse(std::string_view text) {
  Schedule schedule;
  if (!text.empty() && text[0] == 'R') {
    std::vector<std::string_view> parts = splitText(text, '/');
    if (parts.size() != 3) return Status::InvalidArgument("Invalid schedule '" + std::string(text) + "': expected R[n]/START/PERIOD");
    if (parts[0].size() > 1) {
      AGORA_ASSIGN_OR_RETURN(int64_t n, number(parts[0].substr(1), "repetitions"));
      schedule.repetitions_ = n;
    }
    AGORA_ASSIGN_OR_RETURN(schedule.start_, parseUtc(parts[1]));
    AGORA_ASSIGN_OR_RETURN(schedule.period_, parsePeriod(parts[2]));
    return schedule;
  }
  std::vector<std::string_view> fields;
  for (std::string_view field : splitText(text, ' ')) {
    if (!field.empty()) fields.push_back(field);
  }
  if (fields.size() != 5) {
    return Status::InvalidArgument("Invalid schedule '" + std::string(text) +
                                   "': expected R[n]/START/PERIOD or five cron fields");
  }
  schedule.cron_ = true;
  AGORA_ASSIGN_OR_RETURN(schedule.minutes_, parseField(fields[0], 0, 59, "minute"));
  AGORA_ASSIGN_OR_RETURN(schedule.hours_, parseField(fields[1], 0, 23, "hour"));
  AGORA_ASSIGN_OR_RETURN(schedule.days_, parseField(fields[2], 1, 31, "day of month"));
  AGORA_ASSIGN_OR_RETURN(schedule.months_, parseField(fields[3], 1, 12, "month"));
  AGORA_ASSIGN_OR_RETURN(schedule.weekdays_, parseField(fields[4], 0, 7, "day of week"));
  if (schedule.weekdays_.count(7)) schedule.weekdays_.insert(0);  // 7 is Sunday too.
  schedule.anyDay_ = fields[2] == "*";
  schedule.anyWeekday_ = fields[4] == "*";
  return schedule;
}

std::optional<WallTime> Schedule::next(WallTime after) const {
  using namespace std::chrono;
  if (!cron_) {
    if (after < start_) return start_;
    int64_t k = duration_cast<seconds>(after - start_).count() / period_.count() + 1;
    if (repetitions_ && k >= *repetitions_) return std::nullopt;
    return start_ + k * period_;
  }
  // Minute by minute, at most a little over four years ahead (Feb 29).
  time_t t = system_clock::to_time_t(after);
  t = t - t % 60 + 60;
  for (int i = 0; i < 4 * 366 * 24 * 60; ++i, t += 60) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    if (!minutes_.count(tm.tm_min) || !hours_.count(tm.tm_hour) || !months_.count(tm.tm_mon + 1)) continue;
    bool day = days_.count(tm.tm_mday) > 0;
    bool weekday = weekdays_.count(tm.tm_wday) > 0;
    // Cron: when both are restricted, either matches.
    bool matches = anyDay_ || anyWeekday_ ? day && weekday : day || weekday;
    if (matches) return system_clock::from_time_t(t);
  }
  return std::nullopt;
}

}  // namespace agora::examples
