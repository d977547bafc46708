#include "agora/common/metrics.hpp"

#include <cmath>
#include <cstdio>

namespace agora {

namespace {

// Mesos names that count events rather than describe a state.
bool isCounter(std::string_view name) {
  static constexpr std::string_view kCounterMarkers[] = {
      "_registrations", "_reregistrations", "_removals", "dropped_messages", "invalid_", "valid_",
      "messages_",      "allocation_runs",  "/sent",     "/accepted",        "/declined", "/rescinded",
      "_errors",        "_failures",        "/received",        "http/requests",  "http/responses_",
      "rejected_connections", "http/timeouts", "_reserves", "_unreserves", "_teardowns", "_kills",
      "_invalid_requests",
  };
  for (std::string_view marker : kCounterMarkers) {
    if (name.find(marker) != std::string_view::npos) return true;
  }
  return false;
}

std::string formatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", value);
  return buf;
}

}  // namespace

std::string prometheusName(std::string_view name) {
  std::string out = "agora_";
  out.reserve(out.size() + name.size());
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out += ok ? c : '_';
  }
  return out;
}

std::string renderPrometheus(const MetricsSnapshot& snapshot) {
  std::string out;
  for (const auto& [name, value] : snapshot) {
    bool counter = isCounter(name);
    std::string metric = prometheusName(name);
    if (counter) metric += "_total";
    out += "# TYPE " + metric + (counter ? " counter\n" : " gauge\n");
    out += metric + " " + formatValue(value) + "\n";
  }
  return out;
}

}  // namespace agora
