#pragma once

// A small synchronous HTTP/1.1 client (Boost.Beast) for tests, the CLI, and
// agents and scheduler drivers resolving their master with GET /master/info.
// It blocks the calling thread for up to `timeout` (resolution, connection,
// request and response together): never call it from a daemon's loop.

#include <chrono>
#include <cstdint>
#include <string_view>

#include "agora/common/http.hpp"
#include "agora/common/result.hpp"

namespace agora {

inline constexpr std::chrono::milliseconds kDefaultHttpClientTimeout{10000};
inline constexpr size_t kDefaultMaxHttpResponseBytes = 64 * 1024 * 1024;

// Sends one request on a fresh connection to host:port (a name or an IP)
// and returns the response, whatever its status. `target` is the
// origin-form "/path?query", sent as is (encode it first). Unavailable when
// the server cannot be reached, times out or answers with something that is
// not HTTP or is over `maxResponseBytes`.
Result<HttpResponse> httpRequest(std::string_view method, std::string_view host, uint16_t port,
                                 std::string_view target, std::string_view body = {},
                                 std::string_view contentType = "application/json",
                                 std::chrono::milliseconds timeout = kDefaultHttpClientTimeout,
                                 size_t maxResponseBytes = kDefaultMaxHttpResponseBytes);

Result<HttpResponse> httpGet(std::string_view host, uint16_t port, std::string_view target,
                             std::chrono::milliseconds timeout = kDefaultHttpClientTimeout);

Result<HttpResponse> httpPost(std::string_view host, uint16_t port, std::string_view target,
                              std::string_view body,
                              std::chrono::milliseconds timeout = kDefaultHttpClientTimeout,
                              std::string_view contentType = "application/json");

}  // namespace agora
