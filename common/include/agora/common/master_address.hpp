#pragma once

// The one address users give for a master: its HTTP HOST:PORT (DESIGN.md,
// "Processes and addresses"). Agents, scheduler drivers and the CLI all
// parse it here and resolve the master's ZeroMQ endpoint with
// GET /master/info. These calls block: never call them from a daemon's loop.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agora/common/result.hpp"

namespace agora {

struct HostPort {
  std::string host;
  uint16_t port = 0;

  std::string toString() const { return host + ":" + std::to_string(port); }
};

// "HOST:PORT" (a name, an IPv4 address, or [IPv6]:PORT; an optional
// "http://" prefix and trailing "/" are accepted). `what` names the
// source in errors ("--master", "AGORA_MASTER").
Result<HostPort> parseHostPort(std::string_view text, std::string_view what = "--master");

// GET http://HOST:PORT/master/info once and returns its `zmq_endpoint`.
// Unavailable when the master cannot be reached; InvalidArgument when it
// answers without an endpoint.
Result<std::string> fetchMasterEndpoint(const HostPort& master,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Retries fetchMasterEndpoint every `retryInterval` until it succeeds, the
// answer is malformed (returned at once), or `deadline` passes (nullopt:
// forever). `onWait` is called with each failure (for logging).
Result<std::string> resolveMasterEndpoint(const HostPort& master, std::optional<std::chrono::milliseconds> deadline,
                                          std::chrono::milliseconds retryInterval,
                                          const std::function<void(int attempt, const Status&)>& onWait = {});

}  // namespace agora
