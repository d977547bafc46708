#include "agora/common/daemon.hpp"

#include <boost/asio/signal_set.hpp>

#include "agora/common/logging.hpp"

#ifndef AGORA_VERSION
#define AGORA_VERSION "0.0.0"
#endif

namespace agora {

std::string agoraVersion() { return AGORA_VERSION; }

nlohmann::json versionJson() { return {{"version", agoraVersion()}, {"name", "agora"}}; }

DaemonRuntime::DaemonRuntime(std::string name, HttpServerOptions httpOptions)
    : name_(std::move(name)),
      clock_(std::make_unique<AsioClock>(loop_)),
      http_(std::make_unique<HttpServer>(loop_, std::move(httpOptions))) {}

DaemonRuntime::~DaemonRuntime() {
  workers_.join();
  http_.reset();
  clock_.reset();
}

void DaemonRuntime::addStandardRoutes(const Flags& flags, std::function<bool()> healthy,
                                      std::function<MetricsSnapshot()> daemonMetrics) {
  // Every daemon also reports its HTTP server (bad requests are counted here).
  auto metrics = [this, daemonMetrics = std::move(daemonMetrics)] {
    MetricsSnapshot snapshot = daemonMetrics();
    const HttpCounters http = http_->counters();
    snapshot["http/requests"] = static_cast<double>(http.requests);
    snapshot["http/responses_4xx"] = static_cast<double>(http.responses_4xx);
    snapshot["http/responses_5xx"] = static_cast<double>(http.responses_5xx);
    snapshot["http/rejected_connections"] = static_cast<double>(http.rejected_connections);
    snapshot["http/timeouts"] = static_cast<double>(http.timeouts);
    snapshot["http/active_connections"] = static_cast<double>(http.active_connections);
    return snapshot;
  };
  http_->route("GET", "/health", [healthy](const HttpRequest&) {
    return healthy() ? HttpResponse::text(200, "") : HttpResponse::text(503, "unhealthy");
  });
  http_->route("GET", "/version", [](const HttpRequest&) { return HttpResponse::json(200, versionJson()); });
  http_->route("GET", "/flags", [&flags](const HttpRequest&) { return HttpResponse::json(200, flags.toJson()); });
  http_->route("GET", "/metrics/snapshot", [metrics](const HttpRequest&) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [name, value] : metrics()) out[name] = value;
    return HttpResponse::json(200, out);
  });
  http_->route("GET", "/metrics", [metrics](const HttpRequest&) {
    HttpResponse response = HttpResponse::text(200, renderPrometheus(metrics()));
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return response;
  });
}

int DaemonRuntime::run() {
  boost::asio::signal_set signals(loop_, SIGINT, SIGTERM);
  signals.async_wait([this](const boost::system::error_code& error, int signal) {
    if (error) return;
    logger(name_)->info("Received signal {}, stopping", signal);
    requestStop();
  });
  loop_.run();
  return 0;
}

void DaemonRuntime::stop() {
  boost::asio::post(loop_, [this] { requestStop(); });
}

void DaemonRuntime::requestStop() {
  if (stopping_) return;
  stopping_ = true;
  if (onStop_) onStop_();
  http_->stop();
  loop_.stop();
}

}  // namespace agora
