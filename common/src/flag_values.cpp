// Text <-> value for each flag type, and byte sizes.

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

#include "agora/common/flags.hpp"
#include "agora/common/id.hpp"

namespace agora {

namespace {

struct ByteUnit {
  std::string_view name;
  uint64_t size;
};

// Largest first, so formatBytes picks the largest exact unit.
constexpr ByteUnit kByteUnits[] = {
    {"TB", uint64_t{1} << 40}, {"GB", uint64_t{1} << 30}, {"MB", uint64_t{1} << 20},
    {"KB", uint64_t{1} << 10}, {"B", 1},
};

template <typename Int>
Status parseInteger(std::string_view text, Int* out) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) return Status::InvalidArgument("out of range");
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status::InvalidArgument("not an integer");
  }
  *out = value;
  return Status::OK();
}

}  // namespace

Result<Bytes> parseBytes(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument(fmt::format("Invalid size '{}': {}", quoteForLog(text), why));
  };
  if (digits == 0) return invalid("expected a whole number followed by a unit, e.g. '512MB'");
  std::string_view unitName = text.substr(digits);
  if (unitName.empty()) return invalid("missing unit (B, KB, MB, GB, TB)");
  for (const ByteUnit& unit : kByteUnits) {
    if (unit.name != unitName) continue;
    uint64_t count = 0;
    if (!parseInteger(text.substr(0, digits), &count).ok() ||
        count > std::numeric_limits<uint64_t>::max() / unit.size) {
      return invalid("too large");
    }
    return Bytes{count * unit.size};
  }
  return invalid(fmt::format("unknown unit '{}' (B, KB, MB, GB, TB)", quoteForLog(unitName)));
}

std::string formatBytes(Bytes bytes) {
  for (const ByteUnit& unit : kByteUnits) {
    if (bytes.value != 0 && bytes.value % unit.size == 0) {
      return fmt::format("{}{}", bytes.value / unit.size, unit.name);
    }
  }
  return fmt::format("{}B", bytes.value);
}

std::string_view flagSourceName(FlagSource source) {
  switch (source) {
    case FlagSource::kDefault: return "default";
    case FlagSource::kConfigFile: return "config_file";
    case FlagSource::kEnvironment: return "environment";
    case FlagSource::kCommandLine: return "command_line";
  }
  return "unknown";
}

FlagValidator<std::string> oneOf(std::vector<std::string> allowed) {
  return [allowed = std::move(allowed)](const std::string& value) {
    for (const std::string& candidate : allowed) {
      if (candidate == value) return Status::OK();
    }
    return Status::InvalidArgument(fmt::format("must be one of: {}", fmt::join(allowed, ", ")));
  };
}

namespace flags_internal {

Status parseValue(std::string_view text, std::string* out) {
  *out = std::string(text);
  return Status::OK();
}

Status parseValue(std::string_view text, int64_t* out) { return parseInteger(text, out); }

Status parseValue(std::string_view text, double* out) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || !std::isfinite(value)) {
    return Status::InvalidArgument("not a finite number");
  }
  *out = value;
  return Status::OK();
}

Status parseValue(std::string_view text, bool* out) {
  if (text == "true" || text == "1" || text == "yes") {
    *out = true;
  } else if (text == "false" || text == "0" || text == "no") {
    *out = false;
  } else {
    return Status::InvalidArgument("expected true or false");
  }
  return Status::OK();
}

Status explanation(const Status& status) {
  std::string_view message = status.message();
  size_t colon = message.find("': ");
  if (status.ok() || colon == std::string_view::npos) return status;
  return Status::InvalidArgument(message.substr(colon + 3));
}

Status parseValue(std::string_view text, Duration* out) {
  Result<Duration> parsed = parseDuration(text);
  if (!parsed.ok()) return explanation(parsed.error());
  *out = *parsed;
  return Status::OK();
}

Status parseValue(std::string_view text, Bytes* out) {
  Result<Bytes> parsed = parseBytes(text);
  if (!parsed.ok()) return explanation(parsed.error());
  *out = *parsed;
  return Status::OK();
}

std::string formatValue(const std::string& value) { return value; }
std::string formatValue(int64_t value) { return fmt::format("{}", value); }
std::string formatValue(double value) { return fmt::format("{}", value); }
std::string formatValue(bool value) { return value ? "true" : "false"; }
std::string formatValue(Duration value) { return formatDuration(value); }
std::string formatValue(Bytes value) { return formatBytes(value); }

void invalidDefault(const std::string& name, const Status& status) {
  std::fprintf(stderr, "Invalid default for flag --%s: %s\n", name.c_str(), status.message().c_str());
  std::abort();
}

}  // namespace flags_internal

}  // namespace agora
