// HttpServer prefix routes ("/x/*") and asynchronous handlers, over real
// sockets.

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include <boost/asio/post.hpp>

#include "agora/common/http.hpp"
#include "http_test_util.hpp"

namespace agora {
namespace {

class HttpRoutesTest : public testing::HttpServerFixture {
 protected:
  void addRoutes(HttpServer& server) override {
    server.route("GET", "/*", [](const HttpRequest& r) { return HttpResponse::text(200, "root " + r.path); });
    server.route("GET", "/agent/*", [](const HttpRequest& r) { return HttpResponse::text(200, "agent " + r.path); });
    server.route("GET", "/agent/exact", [](const HttpRequest&) { return HttpResponse::text(200, "exact"); });
    // Answers from another thread's work, posted back to the loop.
    server.routeAsync("GET", "/later", [this](const HttpRequest& r, HttpServer::Responder respond) {
      std::string value(r.queryParam("v").value_or(""));
      helpers_.emplace_back([this, value, respond = std::move(respond)] {
        boost::asio::post(loop_, [value, respond] { respond(HttpResponse::text(200, "later " + value)); });
      });
    });
    // Answers inline, twice: the second answer is ignored.
    server.routeAsync("GET", "/twice", [](const HttpRequest&, HttpServer::Responder respond) {
      respond(HttpResponse::text(200, "first"));
      respond(HttpResponse::text(500, "second"));
    });
    server.routeAsync("GET", "/throws", [](const HttpRequest&, HttpServer::Responder) {
      throw std::runtime_error("async handler bug");
    });
    // Never answers: only stop() ends the request.
    server.routeAsync("GET", "/never", [this](const HttpRequest&, HttpServer::Responder respond) {
      parked_ = std::move(respond);
    });
  }

  void TearDown() override {
    HttpServerFixture::TearDown();
    for (auto& helper : helpers_) helper.join();
    helpers_.clear();
  }

  std::vector<std::thread> helpers_;  // Appended on the loop thread only.
  HttpServer::Responder parked_;
};

TEST_F(HttpRoutesTest, ExactRouteWinsThenLongestPrefix) {
  start();
  EXPECT_EQ(get("/agent/exact")->body, "exact");
  EXPECT_EQ(get("/agent/x/files/read?path=a")->body, "agent /agent/x/files/read");
  EXPECT_EQ(get("/agent/")->body, "agent /agent/");
  EXPECT_EQ(get("/agent")->body, "root /agent");  // "/agent/*" needs the slash.
  EXPECT_EQ(get("/")->body, "root /");
  EXPECT_EQ(get("/css/app%20x.css")->body, "root /css/app x.css");
}

TEST_F(HttpRoutesTest, PrefixRouteWithWrongMethodIs405) {
  start();
  auto response = post("/agent/x", "");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 405);
  EXPECT_EQ(response->header("Allow"), "GET");
}

TEST_F(HttpRoutesTest, AsyncHandlerAnswersLater) {
  start();
  for (const char* value : {"a", "b"}) {
    auto response = get(std::string("/later?v=") + value);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, std::string("later ") + value);
  }
}

TEST_F(HttpRoutesTest, FirstAnswerWinsAndThrowingIs500) {
  start();
  auto twice = get("/twice");
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->status, 200);
  EXPECT_EQ(twice->body, "first");
  auto throws = get("/throws");
  ASSERT_TRUE(throws.ok());
  EXPECT_EQ(throws->status, 500);
  EXPECT_EQ(get("/twice")->body, "first");  // Still serving.
}

TEST_F(HttpRoutesTest, StopEndsARequestThatNeverGetsAnAnswer) {
  start();
  std::thread client([this] {
    auto socket = connectRaw();
    sendRaw(socket, "GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(readAll(socket), "");  // Closed without an answer.
  });
  ASSERT_TRUE(waitFor([this] { return server_->counters().active_connections == 1; }));
  TearDown();  // Returns only once the waiting request has wound down.
  client.join();
  // A late answer after the stop goes nowhere.
  if (parked_) parked_(HttpResponse::text(200, "late"));
}

}  // namespace
}  // namespace agora
