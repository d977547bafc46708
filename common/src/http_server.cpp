// HttpServer (http.hpp): an accept loop and one coroutine per connection,
// reading requests with Beast's parser under the configured limits.

#include <utility>  // Before any Asio header (STYLE.md, Boost 1.74 on g++ 12).

#include <unordered_map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "agora/common/http.hpp"
#include "agora/common/id.hpp"

// g++ 12 at -O2 flags Boost 1.74's coroutine frames: awaitable_frame_base's
// class operator delete returns memory from its own operator new (through
// thread_info_base's recycling cache), which the warning cannot see. A known
// false positive for every asio::awaitable in this file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace agora {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace detail {

// A request whose handler has not answered yet: the connection's coroutine
// sleeps on `wake` until the Responder (or stop()) cancels it.
struct PendingResponse {
  explicit PendingResponse(asio::io_context& loop) : wake(loop, asio::steady_timer::time_point::max()) {}
  std::optional<HttpResponse> response;
  asio::steady_timer wake;
};

struct HttpServerState {
  HttpServerState(asio::io_context& loop, HttpServerOptions options)
      : loop(loop), options(std::move(options)), acceptor(loop), warnings(this->options.now) {}

  asio::io_context& loop;
  const HttpServerOptions options;
  tcp::acceptor acceptor;
  // path -> method -> handler; prefixes without their trailing '*'.
  std::map<std::string, std::map<std::string, HttpServer::AsyncHandler>, std::less<>> routes;
  std::map<std::string, std::map<std::string, HttpServer::AsyncHandler>, std::less<>> prefixRoutes;
  // Open connections, closed by stop(). Each entry lives as long as its
  // connection's coroutine.
  std::unordered_map<uint64_t, beast::tcp_stream*> connections;
  // Requests waiting for an AsyncHandler, woken by stop().
  std::unordered_map<uint64_t, std::shared_ptr<PendingResponse>> waiting;
  uint64_t nextConnectionId = 0;
  uint16_t port = 0;
  bool listening = false;
  bool stopped = false;
  LogLimiter warnings;

  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> responses4xx{0};
  std::atomic<uint64_t> responses5xx{0};
  std::atomic<uint64_t> rejectedConnections{0};
  std::atomic<uint64_t> timeouts{0};
  std::atomic<uint64_t> activeConnections{0};
};

}  // namespace detail

namespace {

using State = detail::HttpServerState;
constexpr auto kAwait = asio::use_awaitable;

void warnBadRequest(State& state, std::string_view peer, int status, std::string_view reason) {
  if (auto suppressed = state.warnings.admit()) {
    spdlog::warn("Answered {} to a bad request from {}: {}{}", status, peer, reason,
                 *suppressed > 0 ? " (" + std::to_string(*suppressed) + " similar warnings suppressed)"
                                 : std::string());
  }
}

// The status for a request that failed to parse, or 0 when the connection
// just went away (nobody to answer).
int statusForReadError(const beast::error_code& ec) {
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) return 431;
  if (ec == http::error::body_limit) return 413;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return 0;
  if (ec.category() == make_error_code(http::error::bad_target).category()) return 400;
  return 0;
}

std::string describeEndpoint(const tcp::socket& socket) {
  boost::system::error_code ec;
  const tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec) return "unknown peer";
  return remote.address().to_string() + ":" + std::to_string(remote.port());
}

bool safeFieldText(std::string_view text) {
  return text.find_first_of("\r\n") == std::string_view::npos && !text.empty();
}

using MethodHandlers = std::map<std::string, HttpServer::AsyncHandler>;

// The handlers for `path`: its exact route, else the longest prefix route.
const MethodHandlers* findRoute(const State& state, const std::string& path) {
  if (auto exact = state.routes.find(path); exact != state.routes.end()) return &exact->second;
  const MethodHandlers* best = nullptr;
  size_t bestLength = 0;
  for (const auto& [prefix, handlers] : state.prefixRoutes) {
    if (path.starts_with(prefix) && (best == nullptr || prefix.size() > bestLength)) {
      best = &handlers;
      bestLength = prefix.size();
    }
  }
  return best;
}

// What to do with a parsed request: answer `response` now, or call
// `handler` with `request`.
struct Dispatch {
  std::optional<HttpResponse> response;
  bool malformed = false;  // The target itself is bad: answer 400 and hang up.
  const HttpServer::AsyncHandler* handler = nullptr;
  HttpRequest request;
};

// Finds the route for a parsed request. Never throws.
Dispatch dispatch(State& state, http::request<http::string_body>& message, const std::string& peer) {
  Dispatch out;
  const std::string_view target(message.target().data(), message.target().size());
  out.malformed = true;
  if (target.empty() || target[0] != '/') {
    out.response = HttpResponse::error(400, "Request target must be an absolute path");
    return out;
  }
  const size_t question = target.find('?');
  auto path = percentDecode(target.substr(0, question));
  if (!path.ok()) {
    out.response = HttpResponse::fromStatus(path.error().withContext("Invalid request path"));
    return out;
  }
  if (path->find('\0') != std::string::npos) {
    out.response = HttpResponse::error(400, "Invalid request path: NUL byte");
    return out;
  }
  auto query = parseQuery(question == std::string_view::npos ? std::string_view() : target.substr(question + 1));
  if (!query.ok()) {
    out.response = HttpResponse::fromStatus(query.error());
    return out;
  }
  out.malformed = false;

  const MethodHandlers* route = findRoute(state, *path);
  if (route == nullptr) {
    out.response = HttpResponse::error(404, "No such endpoint");
    return out;
  }
  const std::string method(message.method_string());
  auto handler = route->find(method);
  if (handler == route->end()) {
    HttpResponse response = HttpResponse::error(405, "Method not allowed");
    std::string allow;
    for (const auto& [name, unused] : *route) allow += (allow.empty() ? "" : ", ") + name;
    response.headers.emplace_back("Allow", allow);
    out.response = std::move(response);
    return out;
  }

  HttpRequest& request = out.request;
  request.method = method;
  request.path = std::move(path).value();
  request.query = std::move(query).value();
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  request.body = std::move(message.body());
  request.peer = peer;
  out.handler = &handler->second;
  return out;
}

// Runs `handler` and waits for its answer; nullopt when the server stopped
// first. A handler that throws before answering gets a 500.
asio::awaitable<std::optional<HttpResponse>> runHandler(State& state, uint64_t connection,
                                                        HttpServer::AsyncHandler handler,
                                                        const HttpRequest& request) {
  auto pending = std::make_shared<detail::PendingResponse>(state.loop);
  std::weak_ptr<detail::PendingResponse> weak = pending;
  HttpServer::Responder respond = [weak](HttpResponse response) {
    auto p = weak.lock();
    if (!p || p->response) return;
    p->response = std::move(response);
    p->wake.cancel();
  };
  try {
    handler(request, std::move(respond));
  } catch (const std::exception& e) {
    spdlog::error("Handler for {} {} threw: {}", request.method, quoteForLog(request.path), e.what());
    if (!pending->response) pending->response = HttpResponse::error(500, "Internal server error");
  } catch (...) {
    spdlog::error("Handler for {} {} threw a non-exception", request.method, quoteForLog(request.path));
    if (!pending->response) pending->response = HttpResponse::error(500, "Internal server error");
  }
  if (!pending->response && !state.stopped) {
    state.waiting.emplace(connection, pending);
    beast::error_code ec;
    co_await pending->wake.async_wait(asio::redirect_error(kAwait, ec));
    state.waiting.erase(connection);
  }
  co_return std::move(pending->response);
}

http::response<http::string_body> toMessage(HttpResponse response, unsigned version, bool keepAlive) {
  if (response.status < 100 || response.status > 599) {
    spdlog::error("Handler returned invalid HTTP status {}", response.status);
    response = HttpResponse::error(500, "Internal server error");
  }
  http::response<http::string_body> message{static_cast<http::status>(response.status), version};
  message.set(http::field::server, "agora");
  message.set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) {
    if (!safeFieldText(name) || value.find_first_of("\r\n") != std::string::npos) {
      spdlog::error("Dropped response header {} with a line break", quoteForLog(name));
      continue;
    }
    message.set(name, value);
  }
  message.body() = std::move(response.body);
  message.keep_alive(keepAlive);
  message.prepare_payload();
  return message;
}

asio::awaitable<bool> writeResponse(State& state, beast::tcp_stream& stream, HttpResponse response,
                                    unsigned version, bool keepAlive) {
  ++state.requests;
  if (response.status >= 400 && response.status < 500) ++state.responses4xx;
  if (response.status >= 500) ++state.responses5xx;
  auto message = toMessage(std::move(response), version, keepAlive);
  beast::error_code ec;
  stream.expires_after(state.options.write_timeout);
  co_await http::async_write(stream, message, asio::redirect_error(kAwait, ec));
  co_return !ec;
}

// After an error response the client may still be sending: read and discard
// a little so that closing does not reset the connection before the client
// has read our answer.
asio::awaitable<void> lingeringClose(beast::tcp_stream& stream) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(std::chrono::seconds(1));
  std::array<char, 4096> sink;
  for (size_t discarded = 0; !ec && discarded < 256 * 1024;) {
    discarded += co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(kAwait, ec));
  }
  stream.close();
}

asio::awaitable<void> serveConnection(std::shared_ptr<State> state, tcp::socket socket) {
  const std::string peer = describeEndpoint(socket);
  beast::tcp_stream stream(std::move(socket));
  const uint64_t id = state->nextConnectionId++;
  state->connections.emplace(id, &stream);
  ++state->activeConnections;
  struct Unregister {
    State& state;
    uint64_t id;
    ~Unregister() {
      state.connections.erase(id);
      --state.activeConnections;
    }
  } unregister{*state, id};

  beast::flat_buffer buffer;
  while (!state->stopped) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(std::min<size_t>(state->options.max_header_bytes, UINT32_MAX)));
    parser.body_limit(state->options.max_body_bytes);
    beast::error_code ec;
    stream.expires_after(state->options.request_timeout);
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(kAwait, ec));
    if (!ec && !parser.is_done()) {
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> proceed{http::status::continue_, parser.get().version()};
        co_await http::async_write(stream, proceed, asio::redirect_error(kAwait, ec));
      }
      if (!ec) co_await http::async_read(stream, buffer, parser, asio::redirect_error(kAwait, ec));
    }
    if (ec == beast::error::timeout) {
      ++state->timeouts;  // tcp_stream closed the socket already.
      co_return;
    }
    if (ec) {
      if (const int status = statusForReadError(ec); status != 0 && !state->stopped) {
        warnBadRequest(*state, peer, status, ec.message());
        const unsigned version = parser.is_header_done() ? parser.get().version() : 11;
        if (co_await writeResponse(*state, stream, HttpResponse::error(status, ec.message()), version, false)) {
          co_await lingeringClose(stream);
        }
      }
      co_return;
    }
    if (state->stopped) co_return;

    auto message = parser.release();
    Dispatch route = dispatch(*state, message, peer);
    if (route.malformed) warnBadRequest(*state, peer, 400, route.response->body);
    if (!route.response) {
      // Copied: stop() clears the routes while a request may be waiting.
      route.response = co_await runHandler(*state, id, *route.handler, route.request);
      if (!route.response || state->stopped) co_return;
    }
    const bool keepAlive = message.keep_alive() && !route.malformed;
    if (!co_await writeResponse(*state, stream, std::move(*route.response), message.version(), keepAlive)) {
      co_return;
    }
    if (!keepAlive) break;
  }
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.close();
}

// Over the connection limit: say so and hang up, without a coroutine. A
// fresh socket's send buffer takes this whole, so the write cannot block.
void refuseConnection(tcp::socket& socket) {
  static constexpr std::string_view kRefusal =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n"
      "Connection: close\r\n\r\nToo many connections";
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(asio::buffer(kRefusal), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

void logUnexpectedException(std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("HTTP connection failed: {}", e.what());
  } catch (...) {
    spdlog::error("HTTP connection failed with a non-exception");
  }
}

asio::awaitable<void> acceptLoop(std::shared_ptr<State> state) {
  while (!state->stopped) {
    beast::error_code ec;
    tcp::socket socket = co_await state->acceptor.async_accept(asio::redirect_error(kAwait, ec));
    if (state->stopped) co_return;
    if (ec) {
      // Out of descriptors, typically: back off rather than spin.
      spdlog::warn("HTTP server failed to accept a connection: {}", ec.message());
      asio::steady_timer pause(state->loop, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(kAwait, ec));
      continue;
    }
    if (state->connections.size() >= state->options.max_connections) {
      ++state->rejectedConnections;
      refuseConnection(socket);
      continue;
    }
    asio::co_spawn(state->loop, serveConnection(state, std::move(socket)), logUnexpectedException);
  }
}

}  // namespace

HttpServer::HttpServer(asio::io_context& loop, HttpServerOptions options)
    : state_(std::make_shared<detail::HttpServerState>(loop, std::move(options))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(std::string_view method, std::string path, Handler handler) {
  routeAsync(method, std::move(path), [handler = std::move(handler)](const HttpRequest& request, Responder respond) {
    respond(handler(request));
  });
}

void HttpServer::routeAsync(std::string_view method, std::string path, AsyncHandler handler) {
  if (path.ends_with("/*")) {
    path.pop_back();
    state_->prefixRoutes[std::move(path)][std::string(method)] = std::move(handler);
  } else {
    state_->routes[std::move(path)][std::string(method)] = std::move(handler);
  }
}

Status HttpServer::listen(std::string_view ip, uint16_t port) {
  if (state_->listening || state_->stopped) return Status::FailedPrecondition("HTTP server already started");
  const std::string where = std::string(ip) + ":" + std::to_string(port);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(std::string(ip), ec);
  if (ec) return Status::InvalidArgument("Invalid listen address '" + quoteForLog(ip) + "'");
  const tcp::endpoint endpoint(address, port);
  auto& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) state_->port = acceptor.local_endpoint(ec).port();
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return Status::IoError("Failed to listen on " + where + ": " + ec.message());
  }
  state_->listening = true;
  asio::co_spawn(state_->loop, acceptLoop(state_), logUnexpectedException);
  return Status::OK();
}

uint16_t HttpServer::port() const { return state_->port; }

void HttpServer::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  boost::system::error_code ec;
  state_->acceptor.close(ec);
  // Closing completes their pending reads with an error; each coroutine then
  // unregisters itself (never inline, so iterating here is safe).
  for (auto& [id, stream] : state_->connections) stream->close();
  for (auto& [id, pending] : state_->waiting) pending->wake.cancel();
  state_->routes.clear();
  state_->prefixRoutes.clear();
}

HttpCounters HttpServer::counters() const {
  const auto& s = *state_;
  return HttpCounters{s.requests.load(), s.responses4xx.load(), s.responses5xx.load(),
                      s.rejectedConnections.load(), s.timeouts.load(), s.activeConnections.load()};
}

}  // namespace agora
