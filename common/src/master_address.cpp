#include "agora/common/master_address.hpp"

#include <charconv>
#include <thread>

#include <nlohmann/json.hpp>

#include "agora/common/http_client.hpp"
#include "agora/common/id.hpp"

namespace agora {

Result<HostPort> parseHostPort(std::string_view text, std::string_view what) {
  const std::string original(text);
  auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument(std::string(what) + " must be HOST:PORT (" + std::string(why) + "), got '" +
                                   quoteForLog(original) + "'");
  };
  if (text.starts_with("http://")) text.remove_prefix(7);
  if (text.ends_with("/")) text.remove_suffix(1);
  std::string_view host;
  std::string_view port;
  if (text.starts_with("[")) {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return invalid("an IPv6 address goes in brackets: [::1]:5050");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return invalid("no port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) return invalid("no host");
  if (host.find_first_of(" /?#@") != std::string_view::npos) return invalid("bad host");
  unsigned value = 0;
  auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (error != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    return invalid("bad port");
  }
  return HostPort{std::string(host), static_cast<uint16_t>(value)};
}

Result<std::string> fetchMasterEndpoint(const HostPort& master, std::chrono::milliseconds timeout) {
  Result<HttpResponse> response = httpGet(master.host, master.port, "/master/info", timeout);
  if (!response.ok()) return response.error();
  if (response->status != 200) {
    return Status::Unavailable("the master at " + master.toString() + " answered /master/info with HTTP " +
                               std::to_string(response->status));
  }
  nlohmann::json info = nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (!info.is_object() || !info.contains("zmq_endpoint") || !info["zmq_endpoint"].is_string()) {
    return Status::InvalidArgument("the master at " + master.toString() +
                                   " answered /master/info without zmq_endpoint");
  }
  return info["zmq_endpoint"].get<std::string>();
}

Result<std::string> resolveMasterEndpoint(const HostPort& master, std::optional<std::chrono::milliseconds> deadline,
                                          std::chrono::milliseconds retryInterval,
                                          const std::function<void(int, const Status&)>& onWait) {
  const auto start = std::chrono::steady_clock::now();
  for (int attempt = 0;; ++attempt) {
    Result<std::string> endpoint = fetchMasterEndpoint(master);
    if (endpoint.ok() || endpoint.error().code() != Status::Code::kUnavailable) return endpoint;
    if (deadline && std::chrono::steady_clock::now() - start >= *deadline) return endpoint;
    if (onWait) onWait(attempt, endpoint.error());
    std::this_thread::sleep_for(retryInterval);
  }
}

}  // namespace agora
