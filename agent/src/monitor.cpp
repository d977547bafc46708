// /monitor/statistics: the usage of every running executor's container,
// sampled off the loop through the containerizer.

#include <cstdlib>

#include <google/protobuf/util/json_util.h>

#include "agent_impl.hpp"

namespace agora::agent {

nlohmann::json AgentImpl::monitorStatisticsJson() {
  bool stale = !statistics_.taken || clock_.now() - *statistics_.taken >= kStatisticsMaxAge;
  if (stale && !statistics_.inFlight) sampleStatistics();

  nlohmann::json out = nlohmann::json::array();
  for (const auto& [frameworkId, framework] : frameworks_) {
    for (const auto& [executorId, executor] : framework.executors) {
      auto sample = statistics_.usage.find(executor.containerId);
      if (sample == statistics_.usage.end()) continue;
      v1::ResourceStatistics statistics = sample->second.statistics;
      double cpus = executor.resources.scalar("cpus").toDouble();
      if (!statistics.has_cpus_limit() && cpus > 0) statistics.set_cpus_limit(cpus);
      std::string text;
      google::protobuf::util::JsonPrintOptions options;
      options.preserve_proto_field_names = true;
      if (!google::protobuf::util::MessageToJsonString(statistics, &text, options).ok()) continue;
      nlohmann::json entry;
      entry["executor_id"] = executorId;
      entry["executor_name"] = executor.info.name();
      entry["framework_id"] = frameworkId;
      entry["source"] = executorId;
      entry["container_id"] = executor.containerId;
      if (executor.pid) entry["pid"] = *executor.pid;
      entry["statistics"] = nlohmann::json::parse(text, nullptr, false);
      // Protobuf's JSON writes 64-bit integers as strings; Mesos (and every
      // tool reading this endpoint) has numbers.
      for (auto& [name, value] : entry["statistics"].items()) {
        if (value.is_string()) value = std::strtoull(value.get<std::string>().c_str(), nullptr, 10);
      }
      // Agora's additions: the pids controller's view.
      if (sample->second.pidsCurrent) entry["statistics"]["pids_current"] = *sample->second.pidsCurrent;
      if (sample->second.pidsLimit) entry["statistics"]["pids_limit"] = *sample->second.pidsLimit;
      out.push_back(std::move(entry));
    }
  }
  return out;
}

void AgentImpl::sampleStatistics() {
  std::vector<std::string> containerIds;
  for (const auto& [frameworkId, framework] : frameworks_) {
    for (const auto& [executorId, executor] : framework.executors) {
      if (executor.state != ExecutorRecord::State::kTerminated && executor.pid) {
        containerIds.push_back(executor.containerId);
      }
    }
  }
  statistics_.inFlight = true;
  TimePoint started = clock_.now();
  containerizer_.usage(containerIds, [this, alive = alive_, started](std::map<std::string, ContainerUsage> usage) {
    if (!*alive) return;
    statistics_.inFlight = false;
    statistics_.taken = started;
    statistics_.usage = std::move(usage);
  });
}

}  // namespace agora::agent
