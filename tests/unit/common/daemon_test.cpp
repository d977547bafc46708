#include <gtest/gtest.h>

#include <thread>

#include "agora/common/daemon.hpp"
#include "agora/common/http_client.hpp"

namespace agora {
namespace {

using namespace std::chrono_literals;

TEST(DaemonRuntimeTest, ServesStandardRoutesAndStops) {
  DaemonRuntime runtime("test");
  Flags flags("agora-test");
  int64_t port = 0;
  flags.add(&port, "port", "Port", 0);
  ASSERT_TRUE(flags.parse({"--port=7"}, {}).ok());
  bool healthy = true;
  runtime.addStandardRoutes(flags, [&] { return healthy; },
                            [] { return MetricsSnapshot{{"test/things_running", 2}}; });
  ASSERT_TRUE(runtime.http().listen("127.0.0.1", 0).ok());
  uint16_t httpPort = runtime.http().port();

  int offloaded = 0;
  std::thread client;
  auto requests = [&] {
    auto health = httpGet("127.0.0.1", httpPort, "/health", 5s);
    EXPECT_TRUE(health.ok() && health->status == 200);
    auto version = httpGet("127.0.0.1", httpPort, "/version", 5s);
    EXPECT_TRUE(version.ok() && version->body.find(agoraVersion()) != std::string::npos);
    auto flagsJson = httpGet("127.0.0.1", httpPort, "/flags", 5s);
    EXPECT_TRUE(flagsJson.ok() && flagsJson->body.find("command_line") != std::string::npos);
    auto snapshot = httpGet("127.0.0.1", httpPort, "/metrics/snapshot", 5s);
    EXPECT_TRUE(snapshot.ok() && snapshot->body.find("\"test/things_running\":2") != std::string::npos);
    auto prometheus = httpGet("127.0.0.1", httpPort, "/metrics", 5s);
    EXPECT_TRUE(prometheus.ok() && prometheus->body.find("agora_test_things_running 2") != std::string::npos);
    runtime.stop();
  };
  // The client starts once the offloaded work has come back to the loop.
  runtime.offload<int>([] { return 41; }, [&](int v) {
    offloaded = v + 1;
    client = std::thread(requests);
  });
  bool stopCalled = false;
  runtime.onStop([&] { stopCalled = true; });
  EXPECT_EQ(runtime.run(), 0);
  client.join();
  EXPECT_TRUE(stopCalled);
  EXPECT_EQ(offloaded, 42);
}

}  // namespace
}  // namespace agora
