// agora-agent: the agent daemon. All logic lives in agora_agent; this file
// wires it to the production runtime (docs/internals.md): flags, logging,
// master resolution through GET /master/info, a ZeroMQ DEALER to the master,
// a ROUTER on an ipc:// socket for executors, the HTTP endpoints on --port.

#include <utility>  // Before any Asio header (STYLE.md).

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "agora/agent/agent.hpp"
#include "agora/agent/files.hpp"
#include "agora/common/daemon.hpp"
#include "agora/common/id.hpp"
#include "agora/common/logging.hpp"
#include "agora/common/master_address.hpp"
#include "agora/common/socket_keeper.hpp"
#include "agora/common/zmq_messenger.hpp"

namespace {

int fail(const std::string& message) {
  std::cerr << "agora-agent: " << message << std::endl;
  return EXIT_FAILURE;
}

// Where agora-executor is by default: beside agora-agent when installed, or
// in its build-tree folder when run from a build.
std::string defaultLauncherDir() {
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return ".";
  std::filesystem::path dir = self.parent_path();
  for (const auto& candidate : {dir, dir / ".." / "framework-sdk" / "executors" / "command"}) {
    if (std::filesystem::exists(candidate / "agora-executor")) return candidate.lexically_normal().string();
  }
  return dir.string();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace agora;
  using namespace agora::agent;

  AgentOptions options;
  LoggingFlags loggingFlags;
  Flags flags("agora-agent");
  declareAgentFlags(flags, &options, defaultLauncherDir());
  loggingFlags.declare(flags);
  if (Status status = flags.parse(argc, argv); !status.ok()) return fail(status.message());
  if (flags.helpRequested()) {
    std::cout << flags.usage();
    return EXIT_SUCCESS;
  }
  if (Status status = validateAgentOptions(options); !status.ok()) return fail(status.message());
  initLogging(loggingFlags.options());
  auto log = logger("agent");

  std::error_code error;
  std::filesystem::create_directories(options.workDir, error);
  if (error) return fail("Failed to create --work_dir '" + options.workDir + "': " + error.message());
  const std::string workDir = std::filesystem::absolute(options.workDir).string();

  // The executor socket, held across restarts by a keeper process
  // (socket_keeper.hpp): while this agent is away, executors' connections
  // wait in its queue instead of being refused. Before any thread starts
  // (it forks).
  SocketKeeperOptions keeperOptions;
  keeperOptions.socket_path = workDir + "/executors.sock";
  keeperOptions.keeper_path = workDir + "/executors.keeper";
  options.executorEndpoint = "ipc://" + keeperOptions.socket_path;
  keeperOptions.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.recoveryTimeout);
  auto executorSocket = KeptSocket::open(keeperOptions);
  if (!executorSocket.ok())
    return fail("Failed to open the executor socket: " + executorSocket.error().message());
  if (!executorSocket->warning().empty()) log->warn("Executor socket: {}", executorSocket->warning());
  if (executorSocket->inherited()) {
    log->info("Executor socket {} taken over from its keeper (keeper pid {})", keeperOptions.socket_path,
              executorSocket->keeperPid());
  } else if (executorSocket->keeperPid() != 0) {
    log->info("Executor socket {} bound; kept across restarts by its keeper (keeper pid {})",
              keeperOptions.socket_path, executorSocket->keeperPid());
  }

  // Agents may start before their master: wait for it.
  Result<HostPort> masterAddress = parseHostPort(options.master);
  if (!masterAddress.ok()) return fail(masterAddress.error().message());
  Result<std::string> masterEndpoint = resolveMasterEndpoint(
      *masterAddress, std::nullopt, std::chrono::seconds(1), [&](int attempt, const Status& why) {
        if (attempt % 10 == 0) log->warn("Waiting for the master at {}: {}", options.master, why.message());
      });
  if (!masterEndpoint.ok()) return fail(masterEndpoint.error().message());

  DaemonRuntime runtime("agent");
  Agent* agent = nullptr;  // Set below; the loop delivers nothing before run().
  EnvelopeHandler deliver = [&agent](const PeerId& from, internal::Envelope&& envelope) {
    agent->receive(from, std::move(envelope));
  };
  auto toMaster = DealerMessenger::connect(runtime.loop(), runtime.zmq(), *masterEndpoint,
                                           "agent:" + newUuid(), "master", TransportOptions{}, deliver);
  if (!toMaster.ok()) return fail("Failed to connect to the master: " + toMaster.error().message());
  // Served before recovery: executors that reconnected while the agent was
  // away get their handshakes done on the second core meanwhile (their
  // SUBSCRIBEs wait for the loop). Binding after recovery was measured
  // slower (docs/benchmarks.md). Not before the master is found: until
  // then they wait in the queue, where they cost nothing.
  TransportOptions executorTransport;
  executorTransport.listen_fd = executorSocket->takeListener();
  auto toExecutors = RouterMessenger::bind(runtime.loop(), runtime.zmq(), options.executorEndpoint,
                                           executorTransport, deliver);
  if (!toExecutors.ok()) return fail("Failed to serve the executor socket: " + toExecutors.error().message());
  RoutingMessenger messenger([&](const PeerId& to) -> Messenger* {
    if (to == "master") return toMaster->get();
    return toExecutors->get();
  });

  RunBlocking runBlocking = [&runtime](std::function<void()> work, std::function<void()> done) {
    runtime.offload<bool>(
        [work = std::move(work)] {
          work();
          return true;
        },
        [done = std::move(done)](bool) { done(); });
  };
  std::string isolation;
  std::string isolationWarning;
  auto containerizer =
      makeContainerizer(options, flags.source("isolation") != FlagSource::kDefault, runtime.clock(),
                        runBlocking, &isolation, &isolationWarning, asioWatchReadable(runtime.loop()));
  if (!containerizer.ok()) return fail(containerizer.error().message());
  if (!isolationWarning.empty()) log->warn("{}", isolationWarning);
  options.isolation = isolation;  // /flags shows the isolation in effect.
  options.onShutdown = [&runtime, &executorSocket, log](const std::string& reason) {
    log->warn("Shutting down: {}", reason);
    // Its executors are gone: nobody is left to wait for a next run.
    executorSocket->release();
    runtime.stop();
  };

  Agent daemon(options, runtime.clock(), messenger, **containerizer);
  agent = &daemon;
  if (Status status = daemon.recover(); !status.ok()) return fail(status.message());

  uint64_t invalidFileRequests = 0;
  runtime.addStandardRoutes(
      flags, [] { return true; },
      [&daemon, &toMaster, &toExecutors, &invalidFileRequests] {
        MetricsSnapshot snapshot = daemon.metrics();
        snapshot["slave/files_invalid_requests"] = static_cast<double>(invalidFileRequests);
        snapshot["slave/invalid_messages"] = static_cast<double>((*toMaster)->counters().dropped_invalid +
                                                                 (*toExecutors)->counters().dropped_invalid);
        return snapshot;
      });
  for (const char* path : {"/monitor/statistics", "/monitor/statistics.json"}) {
    runtime.http().route("GET", path, [&daemon](const HttpRequest&) {
      return HttpResponse::json(200, daemon.monitorStatisticsJson());
    });
  }
  for (const char* path : {"/state", "/slave(1)/state"}) {
    runtime.http().route(
        "GET", path, [&daemon](const HttpRequest&) { return HttpResponse::json(200, daemon.stateJson()); });
  }

  addFilesRoutes(runtime.http(),
                 SandboxFiles{options.workDir, [&daemon] { return daemon.agentId(); },
                              [&daemon](const std::string& frameworkId, const std::string& taskId) {
                                return daemon.sandboxPath(frameworkId, taskId);
                              }},
                 &invalidFileRequests);

  const std::string ip = options.ip.empty() ? "0.0.0.0" : options.ip;
  if (Status status = runtime.http().listen(ip, static_cast<uint16_t>(options.port)); !status.ok()) {
    return fail("Failed to listen on " + ip + ":" + std::to_string(options.port) + ": " + status.message());
  }
  log->info("Agent listening on http://{}:{}, master {} ({}), isolation {}", ip, runtime.http().port(),
            options.master, *masterEndpoint, (*containerizer)->isolation());
  return runtime.run();
}
