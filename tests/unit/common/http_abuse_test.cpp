// Bad input to the HTTP server (operations-and-reliability.md §D.5 and §E.3):
// each gets its 4xx and a closed connection, and the server keeps serving.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agora/common/json_body.hpp"
#include "http_test_util.hpp"

namespace agora {
namespace {

class HttpAbuseTest : public testing::HttpServerFixture {
 protected:
  void addRoutes(HttpServer& server) override {
    server.route("GET", "/health", [](const HttpRequest&) { return HttpResponse::text(200, "OK"); });
    server.route("POST", "/echo", [](const HttpRequest& request) {
      HttpResponse response = HttpResponse::text(200, request.body);
      response.headers.emplace_back("X-Checksum", std::string(request.header("X-Checksum").value_or("")));
      return response;
    });
    server.route("POST", "/json", [](const HttpRequest& request) {
      auto body = parseJsonBody(request.body);
      return body.ok() ? HttpResponse::json(200, *body) : HttpResponse::fromStatus(body.error());
    });
  }

  HttpServerOptions smallLimits() {
    HttpServerOptions options;
    options.max_header_bytes = 1024;
    options.max_body_bytes = 1024;
    return options;
  }

  void expectAlive() {
    auto health = get("/health");
    ASSERT_TRUE(health.ok()) << health.status();
    EXPECT_EQ(health->status, 200);
  }

  static void expectStatus(const std::string& reply, std::string_view statusLine) {
    EXPECT_TRUE(reply.starts_with(statusLine)) << reply.substr(0, 200);
  }
};

// CVE-2017-7687: bad percent-encoding crashed libprocess.
TEST_F(HttpAbuseTest, BadPercentEncodingIs400) {
  start();
  expectStatus(exchangeRaw("GET /%zz% HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 400");
  expectStatus(exchangeRaw("GET /health%2 HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 400");
  expectStatus(exchangeRaw("GET /health?a=%g1 HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 400");
  expectStatus(exchangeRaw("GET /health%00 HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 400");
  expectAlive();
  EXPECT_EQ(server_->counters().responses_4xx, 4u);
}

// CVE-2017-9790: an empty path crashed a parser that assumed a leading '/'.
TEST_F(HttpAbuseTest, EmptyOrAbsoluteFormTargetIs400) {
  start();
  expectStatus(exchangeRaw("GET  HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 400");
  expectStatus(exchangeRaw("GET http://x/health HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 400");
  expectStatus(exchangeRaw("GET * HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 400");
  expectStatus(exchangeRaw("NOT HTTP AT ALL\r\n\r\n"), "HTTP/1.1 400");
  expectAlive();
}

TEST_F(HttpAbuseTest, OversizedHeaderIs431) {
  start(smallLimits());
  expectStatus(exchangeRaw("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n"),
               "HTTP/1.1 431");
  // Many small fields add up the same way.
  std::string many = "GET /health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 200; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  expectStatus(exchangeRaw(many + "\r\n"), "HTTP/1.1 431");
  expectAlive();
}

TEST_F(HttpAbuseTest, OversizedBodyIs413BeforeItIsRead) {
  start(smallLimits());
  // Declared too large: refused on the header alone, the body never sent.
  expectStatus(exchangeRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000000\r\n\r\n"),
               "HTTP/1.1 413");
  // Chunked: refused once the chunks add up past the limit.
  std::string chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) chunked += "200\r\n" + std::string(512, 'z') + "\r\n";
  expectStatus(exchangeRaw(chunked + "0\r\n\r\n"), "HTTP/1.1 413");
  expectAlive();
}

// CVE-2018-1330: a chunked request with trailers hit an assertion.
TEST_F(HttpAbuseTest, ChunkedBodyWithTrailers) {
  start(smallLimits());
  const std::string reply = exchangeRaw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n"
      "Connection: close\r\n\r\n"
      "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Checksum: abc\r\n\r\n");
  expectStatus(reply, "HTTP/1.1 200");
  EXPECT_NE(reply.find("X-Checksum: abc"), std::string::npos) << reply;
  EXPECT_TRUE(reply.ends_with("hello, world")) << reply;

  expectStatus(exchangeRaw("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "zz\r\nhello\r\n0\r\n\r\n"),
               "HTTP/1.1 400");
  expectAlive();
}

// CVE-2018-11793: deeply nested JSON overflowed the stack.
TEST_F(HttpAbuseTest, DeeplyNestedOrTruncatedJsonIs400) {
  start();
  auto deep = post("/json", std::string(100000, '['));
  ASSERT_TRUE(deep.ok());
  EXPECT_EQ(deep->status, 400);
  EXPECT_NE(deep->body.find("nested deeper than 64 at byte 64"), std::string::npos) << deep->body;

  for (const std::string body : {R"({"a": [1, 2)", "", "{\"a\":", "\xff\xfe", R"({"a": "\ud800"})", "[1] [2]"}) {
    auto bad = post("/json", body);
    ASSERT_TRUE(bad.ok());
    EXPECT_EQ(bad->status, 400) << body;
  }
  expectAlive();
}

TEST_F(HttpAbuseTest, SlowClientIsCutOffWithoutBlockingOthers) {
  HttpServerOptions options;
  options.request_timeout = std::chrono::milliseconds(200);
  start(options);
  auto slow = connectRaw();
  sendRaw(slow, "GET /health HTTP/1.1\r\nHost:");  // ...and nothing more.
  expectAlive();                                     // Others are served meanwhile.
  EXPECT_EQ(readAll(slow), "");                      // Then the server hangs up.
  ASSERT_TRUE(waitFor([&] { return server_->counters().timeouts == 1; }));
  expectAlive();
}

TEST_F(HttpAbuseTest, ConnectionsOverTheLimitAreRefused) {
  HttpServerOptions options;
  options.max_connections = 4;
  start(options);
  std::vector<boost::asio::ip::tcp::socket> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(connectRaw());
    sendRaw(idle.back(), "GET /health HTTP/1.1\r\n");  // Half a request: stays open.
  }
  ASSERT_TRUE(waitFor([&] { return server_->counters().active_connections == 4; }));

  for (int i = 0; i < 3; ++i) {
    expectStatus(exchangeRaw("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 503");
  }
  EXPECT_EQ(server_->counters().rejected_connections, 3u);

  idle.pop_back();  // Closing one makes room.
  ASSERT_TRUE(waitFor([&] { return server_->counters().active_connections == 3; }));
  expectAlive();
}

}  // namespace
}  // namespace agora
