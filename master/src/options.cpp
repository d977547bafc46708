#include "agora/master/options.hpp"

#include <cmath>

#include "agora/common/role.hpp"

namespace agora::master {

namespace {

Status positiveDuration(const Duration& d) {
  return d > Duration::zero() ? Status::OK() : Status::InvalidArgument("must be positive");
}

Result<std::vector<ResourceQuantities>> parseMinAllocatable(std::string_view text) {
  std::vector<ResourceQuantities> sets;
  size_t start = 0;
  while (start <= text.size()) {
    size_t bar = text.find('|', start);
    std::string_view part = text.substr(start, bar == std::string_view::npos ? text.npos : bar - start);
    if (!part.empty()) {
      AGORA_ASSIGN_OR_RETURN(ResourceQuantities quantities, ResourceQuantities::parse(part));
      sets.push_back(std::move(quantities));
    }
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return sets;
}

}  // namespace

void declareMasterFlags(Flags& flags, MasterOptions* o) {
  flags.add(&o->ip, "ip", "Address to listen on (HTTP and ZeroMQ); empty = all interfaces", "");
  flags.add(&o->port, "port", "HTTP port (operators, /master/info)", 5050, inRange<int64_t>(1, 65535));
  flags.add(&o->zmqPort, "zmq_port", "ZeroMQ port that agents and scheduler drivers connect to", 5055,
            inRange<int64_t>(1, 65535));
  flags.add(&o->hostname, "hostname", "Hostname to advertise; empty = the machine's", "");
  flags.add(&o->workDir, "work_dir", "Directory of the registry (registry.db); required", "");
  flags.add(&o->allocationInterval, "allocation_interval", "Period of batch allocation",
            std::chrono::seconds(1), positiveDuration);
  flags.add(&o->offerTimeout, "offer_timeout", "Rescind offers not used for this long; 0secs = never",
            Duration::zero());
  flags.add(&o->agentPingTimeout, "agent_ping_timeout",
            "Period of agent pings; a pong must arrive within it (Mesos: 15secs)", std::chrono::seconds(5),
            positiveDuration);
  flags.add(&o->maxAgentPingTimeouts, "max_agent_ping_timeouts",
            "Missed pongs in a row after which an agent is unreachable (Mesos: 5)", 3,
            inRange<int64_t>(1, 1000));
  flags.add(&o->agentReregisterTimeout, "agent_reregister_timeout",
            "After a master failover, agents that do not reregister within this are unreachable",
            std::chrono::minutes(10), positiveDuration);
  flags.add(&o->minAllocatableResources, "min_allocatable_resources",
            "Smallest offer: '|'-separated sets, an offer holds one entirely", "cpus:0.01|mem:32",
            parsesWith(parseMinAllocatable));
  flags.add(&o->maxCompletedFrameworks, "max_completed_frameworks", "Completed frameworks kept for /state",
            50, inRange<int64_t>(0, 1000000));
  flags.add(&o->maxCompletedTasksPerFramework, "max_completed_tasks_per_framework",
            "Completed tasks kept per framework", 1000, inRange<int64_t>(0, 10000000));
  flags.add(&o->maxUnreachableTasksPerFramework, "max_unreachable_tasks_per_framework",
            "Unreachable tasks kept per framework", 1000, inRange<int64_t>(0, 10000000));
  flags.add(&o->weights, "weights", "Role weights, e.g. 'eng=2,ops=3'", "", parsesWith(parseWeights));
  flags.add(&o->roleSorter, "role_sorter", "Policy ordering roles", "drf", oneOf({"drf", "random"}));
  flags.add(&o->frameworkSorter, "framework_sorter", "Policy ordering frameworks in a role", "drf",
            oneOf({"drf", "random"}));
}

Result<std::map<std::string, double>> parseWeights(std::string_view text) {
  std::map<std::string, double> weights;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    std::string item(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start));
    size_t eq = item.find('=');
    if (eq == std::string::npos) return Status::InvalidArgument("Invalid weight '" + item + "': expected ROLE=WEIGHT");
    std::string role = item.substr(0, eq);
    if (Status s = validateRole(role); !s.ok()) return s.withContext("Invalid weight '" + item + "'");
    char* end = nullptr;
    std::string number = item.substr(eq + 1);
    double weight = std::strtod(number.c_str(), &end);
    if (number.empty() || *end != '\0' || !std::isfinite(weight) || weight <= 0) {
      return Status::InvalidArgument("Invalid weight '" + item + "': must be a positive number");
    }
    weights[role] = weight;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return weights;
}

Status checkMasterOptions(const MasterOptions& options) {
  if (options.workDir.empty()) return Status::InvalidArgument("Flag --work_dir is required");
  AGORA_RETURN_IF_ERROR(allocatorOptions(options).status());
  AGORA_RETURN_IF_ERROR(parseWeights(options.weights).status().withContext("Invalid flag --weights"));
  return Status::OK();
}

Result<allocator::Options> allocatorOptions(const MasterOptions& options) {
  allocator::Options result;
  result.allocationInterval = options.allocationInterval;
  auto sets = parseMinAllocatable(options.minAllocatableResources);
  if (!sets.ok()) return sets.error().withContext("Invalid flag --min_allocatable_resources");
  result.minAllocatable = *sets;
  result.roleSorter = options.roleSorter == "random" ? allocator::SorterKind::kRandom : allocator::SorterKind::kDrf;
  result.frameworkSorter =
      options.frameworkSorter == "random" ? allocator::SorterKind::kRandom : allocator::SorterKind::kDrf;
  return result;
}

}  // namespace agora::master
