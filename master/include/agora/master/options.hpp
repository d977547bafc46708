#pragma once

// The master's configuration: what `agora-master` reads from its flags
// (DESIGN.md "Processes and addresses", reference/mesos.md §6.9 names).
//
//   MasterOptions options;
//   Flags flags("agora-master");
//   declareMasterFlags(flags, &options);
//   ... flags.parse(argc, argv) ...
//   if (Status s = checkMasterOptions(options); !s.ok()) { ...exit 1... }
//
// Health checking is deliberately quicker than Mesos (15 s x 5 = 75 s): the
// master pings every 5 s and gives up after 3 missed pongs, so a dead agent
// is unreachable after 15 s.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "agora/allocator/allocator.hpp"
#include "agora/common/clock.hpp"
#include "agora/common/flags.hpp"
#include "agora/common/result.hpp"

namespace agora::master {

struct MasterOptions {
  std::string ip;                 // --ip: listen address (HTTP and ZeroMQ).
  int64_t port = 5050;            // --port: HTTP.
  int64_t zmqPort = 5055;         // --zmq_port: the ROUTER agents and drivers reach.
  std::string hostname;           // --hostname: advertised; empty = the machine's.
  std::string workDir;            // --work_dir (required): registry.db lives here.

  Duration allocationInterval = std::chrono::seconds(1);  // --allocation_interval
  Duration offerTimeout = Duration::zero();                // --offer_timeout; zero = none
  Duration agentPingTimeout = std::chrono::seconds(5);     // --agent_ping_timeout
  int64_t maxAgentPingTimeouts = 3;                        // --max_agent_ping_timeouts
  Duration agentReregisterTimeout = std::chrono::minutes(10);  // --agent_reregister_timeout
  std::string minAllocatableResources = "cpus:0.01|mem:32";    // --min_allocatable_resources
  int64_t maxCompletedFrameworks = 50;                     // --max_completed_frameworks
  int64_t maxCompletedTasksPerFramework = 1000;            // --max_completed_tasks_per_framework
  int64_t maxUnreachableTasksPerFramework = 1000;          // --max_unreachable_tasks_per_framework
  std::string weights;            // --weights: "role1=2,role2=3"
  std::string roleSorter = "drf";       // --role_sorter: drf | random
  std::string frameworkSorter = "drf";  // --framework_sorter: drf | random

  // Not flags: fixed by the scheduler API (Mesos hard-codes 15 s).
  Duration heartbeatInterval = std::chrono::seconds(15);
  // The master's ID; empty means a new UUID per run (Mesos). Tests pin it.
  std::string masterId;
};

// Declares every master flag on `flags`, storing into `*options` (which
// must outlive `flags`).
void declareMasterFlags(Flags& flags, MasterOptions* options);

// Checks what single-flag validators cannot: --work_dir given, weights and
// minimum allocatable resources parse. One line naming the flag.
Status checkMasterOptions(const MasterOptions& options);

// The allocator's options from the master's (parsing the text flags).
Result<allocator::Options> allocatorOptions(const MasterOptions& options);

// --weights "a=2,b=3" as a map. Errors name the bad item.
Result<std::map<std::string, double>> parseWeights(std::string_view text);

}  // namespace agora::master
