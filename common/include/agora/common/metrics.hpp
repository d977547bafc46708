#pragma once

// Metrics exposition. Daemons keep their counters and gauges as a flat map
// of Mesos-style names ("master/tasks_running" -> 3) and serve it two ways:
// `/metrics/snapshot` as flat JSON (Mesos compatible, so existing dashboards
// and exporters work) and `/metrics` in the Prometheus text format.

#include <map>
#include <string>
#include <string_view>

namespace agora {

using MetricsSnapshot = std::map<std::string, double>;

// Prometheus text exposition (format 0.0.4): names prefixed with "agora_",
// every character outside [a-zA-Z0-9_] mapped to '_' ("master/tasks_running"
// -> "agora_master_tasks_running"); each sample preceded by its TYPE line.
// Names ending in a counter-like suffix (listed in the implementation) are
// typed counter and get "_total"; the rest are gauges. Per-framework names
// (master/frameworks/<percent-encoded name>/<id>/<metric>) become one family
// per <metric> with the framework in labels:
//   agora_master_frameworks_offers_sent_total{framework_id="…",framework_name="…"} 3
// Samples are grouped by family, one TYPE line each.
std::string renderPrometheus(const MetricsSnapshot& snapshot);

// The Prometheus form of one Mesos-style name, without the "_total" suffix.
std::string prometheusName(std::string_view name);

}  // namespace agora
