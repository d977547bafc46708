// agora-master: the master daemon. All logic lives in agora_master; this
// file wires it to the production runtime (docs/internals.md): flags,
// logging, the ZeroMQ ROUTER on --zmq_port, the HTTP endpoints on --port.

#include <utility>  // Before any Asio header (STYLE.md).

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>

#include "agora/common/daemon.hpp"
#include "agora/common/json.hpp"
#include "agora/common/logging.hpp"
#include "agora/common/zmq_messenger.hpp"
#include "agora/master/master.hpp"
#include "agora/master/operator_http.hpp"
#include "agora/master/options.hpp"
#include "agora/webui/agent_proxy.hpp"
#include "agora/webui/webui.hpp"

namespace {

int fail(const std::string& message) {
  std::cerr << "agora-master: " << message << std::endl;
  return EXIT_FAILURE;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace agora;

  master::MasterOptions options;
  LoggingFlags loggingFlags;
  std::string webuiDir;
  Flags flags("agora-master");
  master::declareMasterFlags(flags, &options);
  flags.add(&webuiDir, "webui_dir",
            "Serve the web UI at / from this folder (e.g. webui/app of a source tree) instead of the copy "
            "built into agora-master",
            "");
  loggingFlags.declare(flags);
  if (Status status = flags.parse(argc, argv); !status.ok()) return fail(status.message());
  if (flags.helpRequested()) {
    std::cout << flags.usage();
    return EXIT_SUCCESS;
  }
  if (Status status = master::checkMasterOptions(options); !status.ok()) return fail(status.message());
  Result<webui::WebUi> webUi = webui::WebUi::create(webuiDir);
  if (!webUi.ok()) return fail(webUi.error().message());
  initLogging(loggingFlags.options());
  auto log = logger("master");

  std::error_code error;
  std::filesystem::create_directories(options.workDir, error);
  if (error) return fail("Failed to create --work_dir '" + options.workDir + "': " + error.message());

  const std::string ip = options.ip.empty() ? "0.0.0.0" : options.ip;
  DaemonRuntime runtime("master");

  master::Master* master = nullptr;  // Set below; the loop delivers nothing before run().
  auto router = RouterMessenger::bind(runtime.loop(), runtime.zmq(),
                                      "tcp://" + ip + ":" + std::to_string(options.zmqPort), TransportOptions{},
                                      [&master](const PeerId& from, internal::Envelope&& envelope) {
                                        master->receive(from, std::move(envelope));
                                      },
                                      // A scheduler's connection closed: its failover timeout starts.
                                      [&master](const std::string& peer) { master->disconnected(peer); });
  if (!router.ok()) return fail("Failed to bind the ZeroMQ port: " + router.error().message());

  master::Master daemon(options, runtime.clock(), **router);
  master = &daemon;
  if (Status status = daemon.recover(); !status.ok()) return fail(status.message());

  const RouterMessenger& messenger = **router;
  webui::AgentProxy agentProxy(runtime.loop(),
                               [&daemon](const std::string& agentId) { return daemon.agentHttpAddress(agentId); });
  std::function<MetricsSnapshot()> metrics;
  master::OperatorHttp operatorHttp(daemon, [&flags] { return flags.toJson(); }, [&metrics] { return metrics(); });
  metrics = [&daemon, &messenger, &operatorHttp, &webUi, &agentProxy] {
    MetricsSnapshot snapshot = daemon.metrics();
    const MessengerCounters& counters = messenger.counters();
    snapshot["master/messages_received"] = static_cast<double>(counters.received);
    snapshot["master/messages_sent"] = static_cast<double>(counters.sent);
    snapshot["master/invalid_messages"] = static_cast<double>(counters.dropped_invalid);
    snapshot["master/message_send_failures"] = static_cast<double>(counters.send_failures);
    const TransportCounters& transport = messenger.transportCounters();
    snapshot["master/dropped_messages"] =
        static_cast<double>(counters.dropped_invalid + transport.dropped_malformed + transport.dropped_oversized);
    snapshot["master/http_invalid_requests"] = static_cast<double>(operatorHttp.invalidRequests());
    snapshot["master/webui/files_served"] = static_cast<double>(webUi->counters().served);
    snapshot["master/webui/files_not_found"] = static_cast<double>(webUi->counters().not_found);
    snapshot["master/webui/paths_rejected"] = static_cast<double>(webUi->counters().rejected);
    snapshot["master/webui/agent_proxy_requests"] = static_cast<double>(agentProxy.counters().requests);
    snapshot["master/webui/agent_proxy_failures"] = static_cast<double>(agentProxy.counters().failures);
    snapshot["master/webui/agent_proxy_rejected"] = static_cast<double>(agentProxy.counters().rejected);
    return snapshot;
  };
  runtime.addStandardRoutes(flags, [] { return true; }, metrics);
  operatorHttp.install(runtime.http());
  auto json = [](const nlohmann::json& body) { return HttpResponse::json(200, body); };
  runtime.http().route("GET", "/master/info", [&daemon](const HttpRequest&) {
    Result<nlohmann::json> info = toJsonValue(daemon.masterInfo());
    return info.ok() ? HttpResponse::json(200, *info) : HttpResponse::fromStatus(info.error());
  });
  for (const char* path : {"/state", "/master/state"}) {
    runtime.http().route("GET", path, [&daemon, json](const HttpRequest&) { return json(daemon.stateJson()); });
  }
  // The web UI at / (every path no other route claims) and its proxy to
  // agents (docs/operations.md, "Web UI").
  runtime.http().route("GET", "/*", [&webUi](const HttpRequest& request) { return webUi->serve(request); });
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
    runtime.http().route(method, "/*", [](const HttpRequest&) { return HttpResponse::error(404, "No such endpoint"); });
  }
  runtime.http().routeAsync("GET", "/agent/*", [&agentProxy](const HttpRequest& request, HttpServer::Responder respond) {
    agentProxy.handle(request, std::move(respond));
  });

  if (Status status = runtime.http().listen(ip, static_cast<uint16_t>(options.port)); !status.ok()) {
    return fail("Failed to listen on " + ip + ":" + std::to_string(options.port) + ": " + status.message());
  }
  log->info("Master {} listening on http://{}:{} (ZeroMQ {})", daemon.masterInfo().id(), ip,
            runtime.http().port(), messenger.endpoint());
  return runtime.run();
}
