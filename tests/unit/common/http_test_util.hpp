#pragma once

// An HttpServer on 127.0.0.1 served by its own loop thread, so that the test
// thread can act as clients (the synchronous helper, or raw sockets).

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <utility>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "agora/common/http.hpp"
#include "agora/common/http_client.hpp"

namespace agora::testing {

class HttpServerFixture : public ::testing::Test {
 protected:
  // Routes, then listen, then the loop thread. Call once per test.
  void start(HttpServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(loop_, options);
    addRoutes(*server_);
    ASSERT_TRUE(server_->listen("127.0.0.1", 0).ok());
    port_ = server_->port();
    thread_ = std::thread([this] { loop_.run(); });
  }

  virtual void addRoutes(HttpServer& server) = 0;

  void TearDown() override {
    if (!thread_.joinable()) return;
    boost::asio::post(loop_, [this] {
      server_->stop();
      work_.reset();
    });
    thread_.join();  // Returns once every connection has wound down.
    server_.reset();
  }

  // Polls `done` from the test thread; the deadline only stops a hung test.
  template <typename Predicate>
  static bool waitFor(Predicate done) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  // A plain TCP connection to the server with a receive timeout, so that a
  // server bug fails the test instead of hanging it.
  boost::asio::ip::tcp::socket connectRaw() {
    boost::asio::ip::tcp::socket socket(clientLoop_);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
    timeval timeout{30, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    return socket;
  }

  static void sendRaw(boost::asio::ip::tcp::socket& socket, std::string_view bytes) {
    boost::system::error_code ec;  // The server may hang up early: fine.
    boost::asio::write(socket, boost::asio::buffer(bytes), ec);
  }

  // Everything the server sends until it closes the connection.
  static std::string readAll(boost::asio::ip::tcp::socket& socket) {
    std::string out;
    boost::system::error_code ec;
    boost::asio::read(socket, boost::asio::dynamic_buffer(out), ec);
    return out;
  }

  std::string exchangeRaw(std::string_view request) {
    auto socket = connectRaw();
    sendRaw(socket, request);
    return readAll(socket);
  }

  Result<HttpResponse> get(std::string_view target) { return httpGet("127.0.0.1", port_, target); }
  Result<HttpResponse> post(std::string_view target, std::string_view body) {
    return httpPost("127.0.0.1", port_, target, body);
  }

  boost::asio::io_context loop_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      boost::asio::make_work_guard(loop_)};
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  boost::asio::io_context clientLoop_;
};

}  // namespace agora::testing
