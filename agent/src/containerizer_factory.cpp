// makeContainerizer(): --isolation to a containerizer, with the posix
// fallback of the default.

#include <unistd.h>

#include <sstream>

#include <fmt/format.h>

#include "agora/agent/agent.hpp"
#include "agora/agent/cgroups_containerizer.hpp"
#include "agora/agent/posix_containerizer.hpp"

namespace agora::agent {
namespace {

bool wantsCgroups(const std::string& isolation) {
  std::istringstream in(isolation);
  for (std::string name; std::getline(in, name, ',');) {
    if (name.rfind("cgroups/", 0) == 0 || name.rfind("namespaces/", 0) == 0) return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<Containerizer>> makeContainerizer(const AgentOptions& options, bool isolationGiven,
                                                         Clock& clock, RunBlocking runBlocking,
                                                         std::string* effective, std::string* warning,
                                                         WatchReadable watchReadable) {
  auto posix = [&]() -> std::unique_ptr<Containerizer> {
    PosixContainerizerOptions posixOptions;
    posixOptions.runBlocking = runBlocking;
    posixOptions.watchReadable = watchReadable;
    *effective = "posix";
    return makePosixContainerizer(clock, posixOptions);
  };
  if (!wantsCgroups(options.isolation)) return posix();

  Status unavailable = Status::OK();
  std::unique_ptr<containerizer::Cgroups> cgroups;
  if (::geteuid() != 0) {
    unavailable = Status::PermissionDenied("cgroups isolation needs root (the agent runs as uid " +
                                           std::to_string(::geteuid()) + ")");
  } else {
    containerizer::CgroupsOptions cgroupsOptions;
    cgroupsOptions.cgroupsRoot = options.cgroupsRoot;
    cgroupsOptions.hierarchyRoot = options.cgroupsHierarchy;
    auto detected = containerizer::detectCgroups(cgroupsOptions);
    if (detected.ok()) {
      cgroups = std::move(*detected);
    } else {
      unavailable = detected.error().withContext("No cgroups");
    }
  }
  if (!unavailable.ok()) {
    if (isolationGiven) {
      return unavailable.withContext("Cannot provide --isolation=" + options.isolation);
    }
    *warning = fmt::format(
        "{}: running every task with --isolation=posix: NO cpu, memory or pids limits, no OOM detection, "
        "and kills that a process leaving its session can escape",
        unavailable.message());
    return posix();
  }

  CgroupsContainerizerOptions cgroupsOptions;
  applyIsolation(options.isolation, &cgroupsOptions);
  cgroupsOptions.enableCfs = options.cgroupsEnableCfs;
  cgroupsOptions.pidsMax = static_cast<uint64_t>(options.cgroupsPidsMax);
  cgroupsOptions.runBlocking = std::move(runBlocking);
  cgroupsOptions.watchReadable = std::move(watchReadable);
  if (cgroupsOptions.memory && !cgroups->supports(containerizer::Controller::kMemory)) {
    *warning = "The machine has no memory cgroup controller: cgroups/mem sets no limit";
  }
  auto made = makeCgroupsContainerizer(clock, std::move(cgroups), cgroupsOptions);
  *effective = made->isolation();
  return made;
}

}  // namespace agora::agent
