#include "agora/common/http_client.hpp"

#include <utility>  // Before any Asio header (STYLE.md, Boost 1.74 on g++ 12).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

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

namespace {

struct Exchange {
  std::string method, host, target, body, contentType;
  uint16_t port = 0;
  std::chrono::milliseconds timeout{};
  size_t maxResponseBytes = 0;
  bool done = false;
  beast::error_code error;
  const char* stage = "connect";
  HttpResponse response;
};

asio::awaitable<void> exchange(Exchange& x) {
  auto token = asio::redirect_error(asio::use_awaitable, x.error);
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  const auto endpoints = co_await resolver.async_resolve(x.host, std::to_string(x.port), token);
  if (x.error) co_return;

  beast::tcp_stream stream(executor);
  stream.expires_after(x.timeout);
  co_await stream.async_connect(endpoints, token);
  if (x.error) co_return;

  x.stage = "send";
  http::request<http::string_body> request{http::string_to_verb(x.method), x.target, 11};
  if (request.method() == http::verb::unknown) request.method_string(x.method);
  request.set(http::field::host, x.host + ":" + std::to_string(x.port));
  request.set(http::field::user_agent, "agora");
  if (!x.body.empty() || request.method() == http::verb::post || request.method() == http::verb::put) {
    request.set(http::field::content_type, x.contentType);
    request.body() = std::move(x.body);
  }
  request.keep_alive(false);
  request.prepare_payload();
  co_await http::async_write(stream, request, token);
  if (x.error) co_return;

  x.stage = "receive";
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(x.maxResponseBytes);
  parser.header_limit(64 * 1024);
  co_await http::async_read(stream, buffer, parser, token);
  if (x.error) co_return;

  auto message = parser.release();
  x.response.status = static_cast<int>(message.result_int());
  x.response.content_type = std::string(message[http::field::content_type]);
  for (const auto& field : message) {
    if (field.name() == http::field::content_type) continue;
    x.response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  x.response.body = std::move(message.body());
  x.done = true;
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace

Result<HttpResponse> httpRequest(std::string_view method, std::string_view host, uint16_t port,
                                 std::string_view target, std::string_view body,
                                 std::string_view contentType, std::chrono::milliseconds timeout,
                                 size_t maxResponseBytes) {
  const std::string what = std::string(method) + " http://" + std::string(host) + ":" +
                           std::to_string(port) + quoteForLog(target, 200);
  if (target.empty() || target[0] != '/' || target.find_first_of("\r\n ") != std::string_view::npos) {
    return Status::InvalidArgument("Cannot " + what + ": target must be '/...' without spaces or line breaks");
  }
  Exchange x{std::string(method), std::string(host), std::string(target), std::string(body),
             std::string(contentType)};
  x.port = port;
  x.timeout = timeout;
  x.maxResponseBytes = maxResponseBytes;

  asio::io_context loop;
  std::exception_ptr failure;
  asio::co_spawn(loop, exchange(x), [&](std::exception_ptr e) { failure = e; });
  // The overall deadline, resolution included; the stream's own timeout
  // covers connecting, sending and receiving.
  loop.run_for(timeout);
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      return Status::Unavailable("Failed to " + what + ": " + e.what());
    }
  }
  if (x.done) return std::move(x.response);
  if (!x.error) return Status::Unavailable("Failed to " + what + ": timed out");
  return Status::Unavailable("Failed to " + what + ": " + x.stage + ": " + x.error.message());
}

Result<HttpResponse> httpGet(std::string_view host, uint16_t port, std::string_view target,
                             std::chrono::milliseconds timeout) {
  return httpRequest("GET", host, port, target, {}, {}, timeout);
}

Result<HttpResponse> httpPost(std::string_view host, uint16_t port, std::string_view target,
                              std::string_view body, std::chrono::milliseconds timeout,
                              std::string_view contentType) {
  return httpRequest("POST", host, port, target, body, contentType, timeout);
}

}  // namespace agora
