#pragma once

// The master's proxy from the web UI to its agents: GET
// /agent/<agent-id>/<endpoint>?<query> on the master answers with the
// agent's GET /<endpoint>?<query>, so that a browser that reaches only the
// master (firewalls, SSH tunnels) can still follow a task's stdout, and no
// agent needs CORS headers. Only read-only endpoints pass: state, flags,
// health, version, metrics/snapshot, monitor/statistics, files/read and
// files/browse.
//
//   AgentProxy proxy(runtime.loop(), [&](const std::string& id) { return master.agentHttpAddress(id); });
//   server.routeAsync("GET", "/agent/*", [&](const HttpRequest& r, HttpServer::Responder respond) {
//     proxy.handle(r, std::move(respond));
//   });
//
// Answers: the agent's status, content type and body; 404 for an endpoint
// not on the list, a bad or unknown agent ID (not registered now); 503 when
// too many requests are in flight; 502 when the agent cannot be reached or
// does not answer within the timeout.
//
// Threading: handle() and the resolver run on `loop`. The blocking requests
// to agents run on the proxy's own threads, never on the loop; answers are
// posted back to it. The destructor waits for requests in flight.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <utility>  // Before any Asio header (STYLE.md).
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "agora/common/http.hpp"

namespace agora::webui {

struct AgentProxyOptions {
  std::chrono::milliseconds timeout{5000};     // One request to an agent.
  size_t max_in_flight = 32;                   // More get 503.
  size_t max_response_bytes = 8 * 1024 * 1024;
  size_t threads = 2;
};

struct AgentProxyCounters {
  uint64_t requests = 0;  // Forwarded to an agent.
  uint64_t failures = 0;  // Agent unreachable or timed out (502).
  uint64_t rejected = 0;  // Bad path or agent (404) or too busy (503).
};

class AgentProxy {
 public:
  // `resolve` maps an agent ID to its "HOST:PORT", nullopt when unknown.
  using Resolver = std::function<std::optional<std::string>(const std::string& agentId)>;

  AgentProxy(boost::asio::io_context& loop, Resolver resolve, AgentProxyOptions options = {});
  ~AgentProxy();
  AgentProxy(const AgentProxy&) = delete;
  AgentProxy& operator=(const AgentProxy&) = delete;

  // Serves a GET under "/agent/".
  void handle(const HttpRequest& request, HttpServer::Responder respond);

  const AgentProxyCounters& counters() const { return shared_->counters; }

 private:
  // Touched on the loop only; shared with answers still queued on it.
  struct Shared {
    size_t inFlight = 0;
    AgentProxyCounters counters;
  };

  boost::asio::io_context& loop_;
  Resolver resolve_;
  AgentProxyOptions options_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  boost::asio::thread_pool pool_;
};

}  // namespace agora::webui
