// AgentProxy (agent_proxy.hpp): /agent/<id>/<endpoint> on the master.

#include "agora/webui/agent_proxy.hpp"

#include <array>
#include <cctype>

#include <boost/asio/post.hpp>

#include "agora/common/http_client.hpp"
#include "agora/common/id.hpp"
#include "agora/common/master_address.hpp"

namespace agora::webui {

namespace {

constexpr std::string_view kPrefix = "/agent/";

// Read-only agent endpoints the UI may reach.
constexpr std::array<std::string_view, 8> kEndpoints = {
    "state", "flags", "health", "version", "metrics/snapshot", "monitor/statistics", "files/read", "files/browse",
};

bool allowed(std::string_view endpoint) {
  for (std::string_view e : kEndpoints) {
    if (e == endpoint) return true;
  }
  return false;
}

}  // namespace

AgentProxy::AgentProxy(boost::asio::io_context& loop, Resolver resolve, AgentProxyOptions options)
    : loop_(loop), resolve_(std::move(resolve)), options_(options), pool_(options.threads) {}

AgentProxy::~AgentProxy() { pool_.join(); }

void AgentProxy::handle(const HttpRequest& request, HttpServer::Responder respond) {
  auto reject = [&](int status, std::string message) {
    ++shared_->counters.rejected;
    respond(HttpResponse::error(status, message));
  };
  // "/agent/<id>/<endpoint>"
  if (!request.path.starts_with(kPrefix)) return reject(404, "Expected /agent/<agent-id>/<endpoint>");
  std::string_view rest = std::string_view(request.path).substr(kPrefix.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return reject(404, "Expected /agent/<agent-id>/<endpoint>");
  const std::string agentId(rest.substr(0, slash));
  const std::string endpoint(rest.substr(slash + 1));
  if (!allowed(endpoint)) return reject(404, "The master does not proxy the agent endpoint '/" + endpoint + "'");
  if (Status s = validateId(agentId, "agent ID"); !s.ok()) return reject(404, s.message());
  std::optional<std::string> address = resolve_(agentId);
  if (!address) return reject(404, "Unknown agent " + agentId);
  Result<HostPort> hostPort = parseHostPort(*address, "agent address");
  if (!hostPort.ok()) return reject(404, "Agent " + agentId + " has no usable address: " + hostPort.error().message());
  if (shared_->inFlight >= options_.max_in_flight) return reject(503, "Too many requests to agents in flight");

  std::string target = "/" + endpoint;
  char separator = '?';
  for (const auto& [name, value] : request.query) {
    target += separator + percentEncode(name) + "=" + percentEncode(value);
    separator = '&';
  }
  ++shared_->inFlight;
  ++shared_->counters.requests;
  boost::asio::post(pool_, [&loop = loop_, shared = shared_, options = options_, host = *hostPort, target,
                            agentId, respond = std::move(respond)]() mutable {
    Result<HttpResponse> answer =
        httpRequest("GET", host.host, host.port, target, {}, "application/json", options.timeout,
                    options.max_response_bytes);
    boost::asio::post(loop, [shared, agentId, host, answer = std::move(answer), respond = std::move(respond)]() mutable {
      --shared->inFlight;
      if (!answer.ok()) {
        ++shared->counters.failures;
        return respond(HttpResponse::error(
            502, "Agent " + agentId + " at " + host.toString() + " did not answer: " + answer.error().message()));
      }
      HttpResponse response;
      response.status = answer->status;
      response.content_type = answer->content_type;
      response.body = std::move(answer->body);
      response.headers.emplace_back("Cache-Control", "no-store");
      respond(std::move(response));
    });
  });
}

}  // namespace agora::webui
