#pragma once

// HTTP server glue on Boost.Beast, served from a daemon's io_context, for the
// operator endpoints (/health, /state, /api/v1...) of DESIGN.md.
//
//   HttpServer server(loop, options);
//   server.route("GET", "/health", [](const HttpRequest&) { return HttpResponse::text(200, "OK"); });
//   AGORA_RETURN_IF_ERROR(server.listen("0.0.0.0", 5050));
//
// Every byte is untrusted (the Mesos DoS CVEs were all in pre-auth parsing,
// operations-and-reliability.md §D.5). Each limit below ends the request with
// a 4xx and closes the connection; a handler that throws gets a 500; nothing
// a client sends stops the server or blocks other clients.
//
//   request target not "/..." (empty, absolute-form)  400
//   bad percent-encoding in path or query              400
//   malformed request line, header or chunk            400
//   header over max_header_bytes                       431
//   body over max_body_bytes (chunked or not)          413
//   no route for the path                              404 (405 + Allow: for a wrong method)
//   request not complete within request_timeout        connection closed
//   over max_connections at once                       503, connection closed
//
// Threading: the server belongs to the thread that runs its io_context
// (exactly one thread); handlers run there and must not block. counters() is
// safe from any thread. The io_context must outlive the server.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "agora/common/log_limiter.hpp"
#include "agora/common/result.hpp"
#include "agora/common/status.hpp"

namespace agora {

struct HttpRequest {
  std::string method;  // As sent, e.g. "GET".
  std::string path;    // Percent-decoded, without the query, e.g. "/master/info".
  // Percent-decoded query parameters, '+' as space. The first of repeated
  // names wins; a name without '=' maps to "".
  std::map<std::string, std::string, std::less<>> query;
  // Header fields in order, names lower-cased. Chunked trailers are included.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string peer;  // "IP:PORT" of the client.

  // Case-insensitive; the first field with that name.
  std::optional<std::string_view> header(std::string_view name) const;
  std::optional<std::string_view> queryParam(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Extra fields.

  static HttpResponse text(int status, std::string body);
  // Compact JSON; invalid UTF-8 in strings is replaced, never thrown.
  static HttpResponse json(int status, const nlohmann::json& body);
  // An error with `message` as a plain-text body (Mesos style).
  static HttpResponse error(int status, std::string_view message);
  // The HTTP status for a Status code (InvalidArgument 400, PermissionDenied
  // 403, NotFound 404, AlreadyExists and FailedPrecondition 409,
  // ResourceExhausted 413, Unavailable 503, others 500; OK 200) with the
  // message as body.
  static HttpResponse fromStatus(const Status& status);

  std::optional<std::string_view> header(std::string_view name) const;
};

struct HttpServerOptions {
  size_t max_header_bytes = 8 * 1024;     // Request line and header fields.
  size_t max_body_bytes = 1024 * 1024;    // After de-chunking.
  size_t max_connections = 1024;          // Open at once; more are refused with 503.
  // A whole request (header and body) must arrive within this, measured
  // from when the server starts reading it; idle keep-alive connections
  // close after it too. Defeats slowloris.
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};  // To send one response.

  // Time for rate-limiting warnings about bad requests; empty means the
  // steady clock.
  SteadyTimeSource now;
};

struct HttpCounters {
  uint64_t requests = 0;              // Requests answered, errors included.
  uint64_t responses_4xx = 0;
  uint64_t responses_5xx = 0;
  uint64_t rejected_connections = 0;  // Over max_connections.
  uint64_t timeouts = 0;              // Connections closed by request_timeout.
  uint64_t active_connections = 0;    // Open now.
};

namespace detail {
struct HttpServerState;
}

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  // Answers a request; see AsyncHandler.
  using Responder = std::function<void(HttpResponse)>;
  // A handler that answers later (e.g. after a worker thread or another
  // server replied): it calls `respond` once, on the loop thread, before or
  // after returning. Later calls, and calls after the connection is gone,
  // are ignored. A request whose handler never responds waits until stop().
  using AsyncHandler = std::function<void(const HttpRequest&, Responder respond)>;

  HttpServer(boost::asio::io_context& loop, HttpServerOptions options = {});
  // Stops (see stop()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves `method` requests for `path` (decoded) with `handler`, replacing
  // any earlier route for both. May be called before or after listen().
  // `path` is exact ("/state"), or a prefix when it ends in "/*":
  // "/agent/*" serves "/agent/" and every path under it, "/*" every path.
  // An exact route wins over prefixes, a longer prefix over a shorter one;
  // the request's path (HttpRequest::path) is always the full path.
  void route(std::string_view method, std::string path, Handler handler);
  void routeAsync(std::string_view method, std::string path, AsyncHandler handler);

  // Binds ip:port (port 0: an ephemeral port, see port()) and starts
  // accepting when the loop runs. InvalidArgument for a bad address,
  // IoError when the bind fails, FailedPrecondition if already listening.
  Status listen(std::string_view ip, uint16_t port);

  // The bound port, 0 before listen().
  uint16_t port() const;

  // Stops accepting, closes every connection and calls no handler again.
  // Idempotent.
  void stop();

  HttpCounters counters() const;

 private:
  std::shared_ptr<detail::HttpServerState> state_;
};

// Percent-decodes `text`. InvalidArgument, naming the offset, for '%' not
// followed by two hex digits. With `plusIsSpace`, '+' decodes to ' ' (query
// strings).
Result<std::string> percentDecode(std::string_view text, bool plusIsSpace = false);

// "a b&c" -> "a%20b%26c": every byte but RFC 3986's unreserved ones
// (A-Z a-z 0-9 - . _ ~), for a query value or a path segment.
std::string percentEncode(std::string_view text);

// Parses "a=1&b=x%20y&c" into {a:1, b:"x y", c:""}; the first of repeated
// names wins. Empty pieces ("a=1&&b=2") are skipped.
Result<std::map<std::string, std::string, std::less<>>> parseQuery(std::string_view query);

}  // namespace agora
