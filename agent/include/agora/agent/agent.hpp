#pragma once

// The agent library: one agora-agent daemon's state and protocol, driven by
// the three seams of docs/internals.md (Clock, Messenger, Containerizer).
// The runtime (ZeroMQ, HTTP, main) is wired around it by the daemon's main;
// tests drive it with a FakeClock, an InMemoryNetwork and a
// FakeContainerizer.
//
//   AgentOptions options;
//   Flags flags("agora-agent");
//   declareAgentFlags(flags, &options);
//   ... flags.parse(argc, argv); validateAgentOptions(options) ...
//   options.executorEndpoint = "ipc://" + options.workDir + "/executors.sock";
//   Agent agent(options, clock, messenger, containerizer);
//   if (Status s = agent.recover(); !s.ok()) { ...exit non-zero... }
//   // every envelope from the master or an executor:
//   agent.receive(from, std::move(envelope));
//
// Peers (internals.md): the master is the peer "master"; every other peer
// is an executor ("executor:<uuid>"), known to the agent from its SUBSCRIBE.
//
// What the agent keeps durable (SQLite at <work_dir>/meta/agent.db): its ID
// and AgentInfo, checkpointed resources (dynamic reservations), frameworks,
// executor runs with their container IDs, pids and executor peers, tasks,
// and every status update until the scheduler acknowledged it. Updates are
// written before they are acknowledged to the executor or forwarded.
//
// Threading: one loop. Every method runs on the loop that runs the clock's
// timers and the messenger's deliveries.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agora/agent/containerizer.hpp"
#include "agora/common/clock.hpp"
#include "agora/common/messenger.hpp"
#include "agora/common/resources.hpp"
#include "agora/common/status.hpp"

namespace agora {
class Flags;
}

namespace agora::agent {

// The agent's configuration. The first group are its flags (declared by
// declareAgentFlags, names in comments); the rest is set by the runtime or
// by tests.
struct AgentOptions {
  std::string master;               // --master: the master's HTTP HOST:PORT (the runtime resolves it)
  std::string ip;                   // --ip: listen address
  int64_t port = 5051;              // --port: HTTP port
  std::string hostname;             // --hostname: reported to the master; empty: the system's
  std::string workDir;              // --work_dir (required)
  std::string resources;            // --resources: text, JSON or file://
  std::string attributes;           // --attributes: rack:a;zone:west;level:10;keys:[1-5]
  std::string defaultRole = "*";    // --default_role: role of unnamed and detected resources
  // --isolation: posix, or cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid
  // (the default, which falls back to posix without root or cgroups).
  std::string isolation = "cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid";
  std::string cgroupsRoot = "agora";       // --cgroups_root
  std::string cgroupsHierarchy = "/sys/fs/cgroup";  // --cgroups_hierarchy
  bool cgroupsEnableCfs = false;           // --cgroups_enable_cfs
  int64_t cgroupsPidsMax = 4096;           // --cgroups_pids_max
  std::string recover = "reconnect";       // --recover: reconnect | cleanup
  Duration executorRegistrationTimeout = std::chrono::minutes(1);    // --executor_registration_timeout
  Duration executorReregistrationTimeout = std::chrono::seconds(2);  // --executor_reregistration_timeout
  Duration executorShutdownGracePeriod = std::chrono::seconds(5);    // --executor_shutdown_grace_period
  Duration registrationBackoffFactor = std::chrono::seconds(1);      // --registration_backoff_factor
  Duration recoveryTimeout = std::chrono::minutes(15);               // --recovery_timeout
  std::string launcherDir;          // --launcher_dir: where agora-executor lives

  // --- Not flags -------------------------------------------------------------

  // The address executors connect to (AGORA_AGENT_ENDPOINT), e.g.
  // "ipc://<work_dir>/executors.sock".
  std::string executorEndpoint;
  // The host's boot ID; empty: read /proc/sys/kernel/random/boot_id. A
  // different boot ID at recovery means no executor survived.
  std::string bootId;
  // What resource detection reads; unset: the machine (tests fix it).
  std::optional<MachineFacts> machineFacts;
  // Seeds the registration backoff jitter (tests fix it).
  uint64_t randomSeed = 0;
  // Called when the master stopped pinging (after its total ping timeout):
  // the runtime re-resolves the master and reconnects; the agent itself
  // starts reregistering.
  std::function<void()> onMasterLost;
  // Called once the agent has shut down on the master's request
  // (ShutdownAgent) and every executor is gone; the runtime exits.
  std::function<void(const std::string& reason)> onShutdown;
};

// Declares the agent flags on `flags`, storing into `*options` (which must
// outlive `flags`). `defaultLauncherDir` is the default of --launcher_dir
// (the directory of the running agora-agent binary).
void declareAgentFlags(Flags& flags, AgentOptions* options, const std::string& defaultLauncherDir = "");

// Checks what the flag parser cannot check alone: --work_dir given,
// --resources and --attributes parse, --isolation and --recover known.
Status validateAgentOptions(const AgentOptions& options);

// Parses --attributes: "rack:abc;zone:west;level:10;keys:[1000-1500];d:{a,b}"
// into TEXT, SCALAR, RANGES and SET attributes. Errors name the item.
Result<std::vector<v1::Attribute>> parseAttributes(std::string_view text);

// Chooses and builds the containerizer for --isolation. posix: the posix
// containerizer. Any cgroups/* or namespaces/pid: the cgroups containerizer
// under --cgroups_root, which needs root and a cgroup hierarchy; without
// them an --isolation given explicitly (`isolationGiven`) is an error and
// the default falls back to posix, setting `*warning`. `*effective` is the
// isolation in use ("posix" or the cgroups isolators). `watchReadable`
// (optional) lets the cgroups containerizer learn of executor exits from the
// loop instead of polling.
Result<std::unique_ptr<Containerizer>> makeContainerizer(const AgentOptions& options, bool isolationGiven,
                                                         Clock& clock, RunBlocking runBlocking,
                                                         std::string* effective, std::string* warning,
                                                         WatchReadable watchReadable = {});

class AgentImpl;

class Agent {
 public:
  // The references must outlive the agent.
  Agent(AgentOptions options, Clock& clock, Messenger& messenger, Containerizer& containerizer);
  ~Agent();

  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Opens the checkpoint, computes the resources (--resources plus detection)
  // and checks them against the checkpointed reservations, recovers
  // executors and status update streams (--recover), and starts registering
  // with the master. Errors (the agent must not run): an unreadable or
  // corrupt checkpoint, --resources conflicting with checkpointed
  // reservations (the message names both), invalid flags. Call once.
  Status recover();

  // One envelope from a peer ("master" or an executor). Malformed, unknown
  // or out-of-place messages are dropped with a warning and counted
  // (slave/invalid_* and slave/dropped_messages); never crashes.
  void receive(const PeerId& from, internal::Envelope&& envelope);

  // /state: id, hostname, resources, reserved/unreserved resources,
  // attributes, flags-derived facts, isolation, frameworks with executors
  // (sandbox directories) and tasks, completed ones.
  nlohmann::json stateJson() const;

  // /monitor/statistics: Mesos's list of {executor_id, executor_name,
  // framework_id, source, container_id, statistics{...}} for the running
  // executors, from the latest sample. A call starts a new sample (off the
  // loop, through the containerizer) when the latest is older than
  // kStatisticsMaxAge, so the answer is at most that old (each entry's
  // statistics.timestamp says when it was taken); the first call after a
  // quiet period may answer with an older or empty list.
  nlohmann::json monitorStatisticsJson();

  // /metrics/snapshot: Mesos-style names (slave/registered,
  // slave/tasks_running, slave/valid_status_updates, ...).
  std::map<std::string, double> metrics() const;

  // The sandbox directory of the executor run that holds `taskId` (for
  // /files/read); nullopt if the task is unknown.
  std::optional<std::string> sandboxPath(const std::string& frameworkId, const std::string& taskId) const;

  // The agent ID once registered (or recovered), empty before.
  std::string agentId() const;
  bool registered() const;

 private:
  std::unique_ptr<AgentImpl> impl_;
};

}  // namespace agora::agent
