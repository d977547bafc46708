#include "agora/common/metrics.hpp"

#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include "agora/common/http.hpp"

namespace agora {

namespace {

// Mesos names that count events rather than describe a state.
bool isCounter(std::string_view name) {
  static constexpr std::string_view kCounterMarkers[] = {
      "_registrations", "_reregistrations", "_removals", "dropped_messages", "invalid_", "valid_",
      "messages_",      "allocation_runs",  "/sent",     "/accepted",        "/declined", "/rescinded",
      "_errors",        "_failures",        "/received",        "http/requests",  "http/responses_",
      "rejected_connections", "http/timeouts", "_reserves", "_unreserves", "_teardowns", "_kills",
      "_invalid_requests", "framework/calls", "framework/events", "/terminal/", "_deactivations", "_reactivations",
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

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// One metric family of the exposition: its samples, by their labels.
struct Family {
  bool counter = false;
  std::vector<std::pair<std::string, double>> samples;  // ("{a=\"b\"}" or "", value)
};

constexpr std::string_view kFrameworkPrefix = "master/frameworks/";

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

namespace {

// master/frameworks/<percent-encoded name>/<id>/<metric> as the family
// agora_master_frameworks_<metric> with the framework in labels (ids in
// family names would make one family per framework). False for other names.
bool frameworkSample(std::string_view name, std::string* family, std::string* labels, bool* counter) {
  if (!name.starts_with(kFrameworkPrefix)) return false;
  std::string_view rest = name.substr(kFrameworkPrefix.size());
  const size_t nameEnd = rest.find('/');
  if (nameEnd == std::string_view::npos) return false;
  const size_t idEnd = rest.find('/', nameEnd + 1);
  if (idEnd == std::string_view::npos || idEnd + 1 >= rest.size()) return false;
  const std::string_view encoded = rest.substr(0, nameEnd);
  const std::string_view id = rest.substr(nameEnd + 1, idEnd - nameEnd - 1);
  const std::string_view metric = rest.substr(idEnd + 1);
  auto decoded = percentDecode(encoded);
  *labels = "{framework_id=\"" + escapeLabelValue(id) + "\",framework_name=\"" +
            escapeLabelValue(decoded.ok() ? *decoded : std::string(encoded)) + "\"}";
  *counter = isCounter("framework/" + std::string(metric));
  *family = prometheusName("master/frameworks/" + std::string(metric)) + (*counter ? "_total" : "");
  return true;
}

}  // namespace

std::string renderPrometheus(const MetricsSnapshot& snapshot) {
  std::map<std::string, Family> families;  // Sorted by family name.
  for (const auto& [name, value] : snapshot) {
    std::string family;
    std::string labels;
    bool counter = false;
    if (!frameworkSample(name, &family, &labels, &counter)) {
      counter = isCounter(name);
      family = prometheusName(name) + (counter ? "_total" : "");
    }
    Family& f = families[family];
    f.counter = counter;
    f.samples.emplace_back(std::move(labels), value);
  }
  std::string out;
  for (const auto& [metric, family] : families) {
    out += "# TYPE " + metric + (family.counter ? " counter\n" : " gauge\n");
    for (const auto& [labels, value] : family.samples) out += metric + labels + " " + formatValue(value) + "\n";
  }
  return out;
}

}  // namespace agora
