#include "agora/common/master_address.hpp"

#include <gtest/gtest.h>


namespace agora {
namespace {

TEST(ParseHostPort, AcceptsNamesAddressesAndUrls) {
  auto plain = parseHostPort("10.0.0.1:5050");
  ASSERT_TRUE(plain.ok()) << plain.error().message();
  EXPECT_EQ(plain->host, "10.0.0.1");
  EXPECT_EQ(plain->port, 5050);

  auto url = parseHostPort("http://master.example:5051/");
  ASSERT_TRUE(url.ok()) << url.error().message();
  EXPECT_EQ(url->host, "master.example");
  EXPECT_EQ(url->port, 5051);

  auto v6 = parseHostPort("[::1]:5050");
  ASSERT_TRUE(v6.ok()) << v6.error().message();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->toString(), "::1:5050");
}

TEST(ParseHostPort, RejectsWhatIsNotHostPort) {
  for (const char* bad : {"", "5050", ":5050", "host:", "host:0", "host:65536", "host:50x", "host:-1",
                          "a b:5050", "[::1]5050", "user@host:5050", "host:5050/path"}) {
    auto parsed = parseHostPort(bad, "AGORA_MASTER");
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_NE(parsed.error().message().find("AGORA_MASTER"), std::string::npos) << parsed.error().message();
  }
}

TEST(FetchMasterEndpoint, UnreachableMasterIsUnavailableAndTheDeadlineHolds) {
  // Port 1 on loopback: nothing listens there.
  HostPort nowhere{"127.0.0.1", 1};
  int waits = 0;
  auto endpoint = resolveMasterEndpoint(nowhere, std::chrono::milliseconds(0), std::chrono::milliseconds(1),
                                        [&](int, const Status&) { ++waits; });
  ASSERT_FALSE(endpoint.ok());
  EXPECT_EQ(endpoint.error().code(), Status::Code::kUnavailable);
  EXPECT_EQ(waits, 0);
}

}  // namespace
}  // namespace agora
