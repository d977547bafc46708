#pragma once

// The production runtime around a daemon library (master, agent): one
// io_context on the main thread owning all state, the AsioClock on it, a
// ZeroMQ context, the HTTP server with the endpoints every daemon has, a
// worker thread for blocking work, and orderly shutdown on SIGINT/SIGTERM.
// Daemon libraries never see this class; their mains wire it up
// (docs/internals.md).

#include <utility>  // Before any Asio header (STYLE.md).

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "agora/common/clock.hpp"
#include "agora/common/flags.hpp"
#include "agora/common/http.hpp"
#include "agora/common/metrics.hpp"

namespace agora {

// Agora's version, as /version reports it.
std::string agoraVersion();
nlohmann::json versionJson();

class DaemonRuntime {
 public:
  explicit DaemonRuntime(std::string name, HttpServerOptions httpOptions = {});
  ~DaemonRuntime();
  DaemonRuntime(const DaemonRuntime&) = delete;
  DaemonRuntime& operator=(const DaemonRuntime&) = delete;

  const std::string& name() const { return name_; }
  boost::asio::io_context& loop() { return loop_; }
  zmq::context_t& zmq() { return zmq_; }
  Clock& clock() { return *clock_; }
  HttpServer& http() { return *http_; }

  // Routes every daemon serves: GET /health (200 "" when `healthy()`, else
  // 503), /version, /flags (effective values and where each came from),
  // /metrics/snapshot (flat JSON) and /metrics (Prometheus text). The
  // callbacks run on the loop.
  void addStandardRoutes(const Flags& flags, std::function<bool()> healthy,
                         std::function<MetricsSnapshot()> metrics);

  // Runs `work` on the worker thread, then `done(result)` on the loop.
  template <typename T>
  void offload(std::function<T()> work, std::function<void(T)> done) {
    boost::asio::post(workers_, [this, work = std::move(work), done = std::move(done)]() mutable {
      T result = work();
      boost::asio::post(loop_, [done = std::move(done), result = std::move(result)]() mutable {
        done(std::move(result));
      });
    });
  }

  // Called on the loop when a stop is requested (signal or stop()), before
  // the loop winds down: the daemon's graceful shutdown.
  void onStop(std::function<void()> callback) { onStop_ = std::move(callback); }

  // Runs the loop until SIGINT/SIGTERM or stop(). Returns 0.
  int run();
  // Requests a stop; safe from any thread.
  void stop();

 private:
  void requestStop();

  std::string name_;
  boost::asio::io_context loop_;
  zmq::context_t zmq_;
  std::unique_ptr<AsioClock> clock_;
  std::unique_ptr<HttpServer> http_;
  boost::asio::thread_pool workers_{1};
  std::function<void()> onStop_;
  bool stopping_ = false;
};

}  // namespace agora
