// HttpServer routing and the synchronous client, over real sockets.

#include "agora/common/http.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "agora/common/http_client.hpp"
#include "agora/common/json_body.hpp"
#include "http_test_util.hpp"

namespace agora {
namespace {

class HttpServerTest : public testing::HttpServerFixture {
 protected:
  void addRoutes(HttpServer& server) override {
    server.route("GET", "/hello", [](const HttpRequest&) { return HttpResponse::text(200, "hello"); });
    server.route("POST", "/echo", [](const HttpRequest& request) {
      HttpResponse response = HttpResponse::text(200, request.body);
      response.content_type = std::string(request.header("Content-Type").value_or("none"));
      response.headers.emplace_back("X-Trailer", std::string(request.header("x-checksum").value_or("")));
      return response;
    });
    server.route("GET", "/query", [](const HttpRequest& request) {
      nlohmann::json query = nlohmann::json::object();
      for (const auto& [name, value] : request.query) query[name] = value;
      return HttpResponse::json(200, {{"path", request.path}, {"query", query}, {"peer", request.peer}});
    });
    server.route("GET", "/a b", [](const HttpRequest& request) { return HttpResponse::text(200, request.path); });
    server.route("POST", "/json", [](const HttpRequest& request) {
      auto body = parseJsonBody(request.body);
      if (!body.ok()) return HttpResponse::fromStatus(body.error());
      return HttpResponse::json(200, {{"size", body->size()}});
    });
    server.route("GET", "/throw", [this](const HttpRequest&) -> HttpResponse {
      ++throws_;
      throw std::runtime_error("handler bug");
    });
  }

  int throws_ = 0;  // Touched on the loop thread only, read after a response.
};

TEST_F(HttpServerTest, RoutesGetAndPost) {
  start();
  auto hello = get("/hello");
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->status, 200);
  EXPECT_EQ(hello->body, "hello");
  EXPECT_EQ(hello->content_type, "text/plain; charset=utf-8");

  auto echo = post("/echo", R"({"x":1})");
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->status, 200);
  EXPECT_EQ(echo->body, R"({"x":1})");
  EXPECT_EQ(echo->content_type, "application/json");

  const HttpCounters counters = server_->counters();
  EXPECT_EQ(counters.requests, 2u);
  EXPECT_EQ(counters.responses_4xx, 0u);
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405) {
  start();
  auto missing = get("/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  auto wrong = post("/hello", "");
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->header("Allow"), "GET");
  EXPECT_EQ(server_->counters().responses_4xx, 2u);
}

TEST_F(HttpServerTest, DecodesPathAndQuery) {
  start();
  auto response = get("/query?name=a%20b&sum=1+2&flag&name=second&&empty=");
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->status, 200) << response->body;
  const auto json = nlohmann::json::parse(response->body);
  EXPECT_EQ(json["path"], "/query");
  EXPECT_EQ(json["query"], (nlohmann::json{{"name", "a b"}, {"sum", "1 2"}, {"flag", ""}, {"empty", ""}}));
  EXPECT_TRUE(json["peer"].get<std::string>().starts_with("127.0.0.1:"));

  auto spaced = get("/a%20b");
  ASSERT_TRUE(spaced.ok());
  EXPECT_EQ(spaced->status, 200);
  EXPECT_EQ(spaced->body, "/a b");
}

TEST_F(HttpServerTest, HandlerExceptionIs500AndServingGoesOn) {
  start();
  auto failed = get("/throw");
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->status, 500);
  EXPECT_EQ(failed->body.find("handler bug"), std::string::npos);  // No internals leaked.
  auto next = get("/hello");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(throws_, 1);
  EXPECT_EQ(server_->counters().responses_5xx, 1u);
}

TEST_F(HttpServerTest, KeepAliveServesPipelinedRequests) {
  start();
  const std::string reply = exchangeRaw(
      "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
      "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  size_t oks = 0;
  for (size_t at = reply.find("HTTP/1.1 200 OK"); at != std::string::npos; at = reply.find("HTTP/1.1 200 OK", at + 1)) ++oks;
  EXPECT_EQ(oks, 3u) << reply;
  EXPECT_NE(reply.find("abc"), std::string::npos);
}

TEST_F(HttpServerTest, AnswersExpectContinue) {
  start();
  auto socket = connectRaw();
  sendRaw(socket, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  std::string interim(25, '\0');
  boost::system::error_code ec;
  boost::asio::read(socket, boost::asio::buffer(interim), ec);
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  sendRaw(socket, "hello");
  socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send);
  const std::string reply = readAll(socket);
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 OK")) << reply;
  EXPECT_TRUE(reply.ends_with("hello")) << reply;
}

TEST_F(HttpServerTest, ValidJsonBodyParses) {
  start();
  auto response = post("/json", R"({"a": [1, 2, {"b": "]]]]"}], "c": "\"[["})");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(response->body, R"({"size":2})");
}

TEST_F(HttpServerTest, ClientReportsUnreachableServer) {
  start();
  const uint16_t port = port_;
  boost::asio::post(loop_, [this] { server_->stop(); });
  ASSERT_TRUE(waitFor([&] { return !httpGet("127.0.0.1", port, "/hello").ok(); }));
  auto response = httpGet("127.0.0.1", port, "/hello");
  EXPECT_EQ(response.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(response.status().message().find("GET http://127.0.0.1:"), std::string::npos) << response.status();
  EXPECT_EQ(httpGet("127.0.0.1", port, "no-slash").status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace agora
