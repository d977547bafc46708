// AgentProxy over real sockets: one HttpServer plays both the master (the
// /agent/* proxy route) and the agent it forwards to.

#include "agora/webui/agent_proxy.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "http_test_util.hpp"

namespace agora::webui {
namespace {

class AgentProxyTest : public testing::HttpServerFixture {
 protected:
  void addRoutes(HttpServer& server) override {
    proxy_ = std::make_unique<AgentProxy>(loop_, [this](const std::string& id) -> std::optional<std::string> {
      if (id == "agent-1") return "127.0.0.1:" + std::to_string(port_);
      if (id == "agent-dead") return "127.0.0.1:1";
      if (id == "agent-garbled") return "not an address";
      return std::nullopt;
    });
    server.route("GET", "/files/read", [](const HttpRequest& request) {
      nlohmann::json query = nlohmann::json::object();
      for (const auto& [name, value] : request.query) query[name] = value;
      return HttpResponse::json(200, {{"data", "hello"}, {"query", query}});
    });
    server.route("GET", "/state", [](const HttpRequest&) { return HttpResponse::error(503, "agent busy"); });
    server.routeAsync("GET", "/agent/*", [this](const HttpRequest& request, HttpServer::Responder respond) {
      proxy_->handle(request, std::move(respond));
    });
  }

  void TearDown() override {
    HttpServerFixture::TearDown();
    proxy_.reset();
  }

  std::unique_ptr<AgentProxy> proxy_;
};

TEST_F(AgentProxyTest, ForwardsTheQueryAndTheAnswer) {
  start();
  auto response = get("/agent/agent-1/files/read?path=%2Fsandbox%2Fa%20b%26c&offset=-1");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->content_type, "application/json");
  auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["data"], "hello");
  EXPECT_EQ(body["query"]["path"], "/sandbox/a b&c");
  EXPECT_EQ(body["query"]["offset"], "-1");
  EXPECT_EQ(response->header("Cache-Control"), "no-store");

  auto busy = get("/agent/agent-1/state");  // The agent's own error passes through.
  ASSERT_TRUE(busy.ok());
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(busy->body, "agent busy");
  EXPECT_EQ(proxy_->counters().requests, 2u);
}

TEST_F(AgentProxyTest, RejectsBadPathsAndUnknownAgents) {
  start();
  for (const char* target : {"/agent/agent-1/flags/../../secret", "/agent/agent-1/files/write", "/agent/agent-1",
                             "/agent/agent-1/", "/agent/unknown/state", "/agent/bad%20id/state",
                             "/agent/agent-garbled/state"}) {
    auto response = get(target);
    ASSERT_TRUE(response.ok()) << target;
    EXPECT_EQ(response->status, 404) << target;
  }
  EXPECT_EQ(proxy_->counters().rejected, 7u);
  EXPECT_EQ(proxy_->counters().requests, 0u);
}

TEST_F(AgentProxyTest, UnreachableAgentIs502) {
  start();
  auto response = get("/agent/agent-dead/state");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 502);
  EXPECT_NE(response->body.find("agent-dead"), std::string::npos);
  EXPECT_EQ(proxy_->counters().failures, 1u);
}

TEST(PercentEncodeTest, KeepsOnlyUnreservedBytes) {
  EXPECT_EQ(percentEncode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(percentEncode("a b&c=/%"), "a%20b%26c%3D%2F%25");
  EXPECT_EQ(percentEncode("\xc3\xa9"), "%C3%A9");
}

}  // namespace
}  // namespace agora::webui
