// Bad input to the transport (operations-and-reliability.md §E.1, §E.2):
// oversized frames, wrong frame counts and non-ZeroMQ bytes are dropped and
// counted, and the loop keeps delivering well-formed messages afterwards.

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <utility>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "agora/common/transport.hpp"
#include "transport_test_util.hpp"

namespace agora {
namespace {

using testing::runUntil;

constexpr size_t kMax = 1024;

class TransportAbuseTest : public ::testing::Test {
 protected:
  void SetUp() override { options_.max_message_bytes = kMax; }

  std::unique_ptr<Router> bindRouter(const std::string& endpoint) {
    auto router = Router::bind(loop_, context_, endpoint, options_,
                               [this](std::string_view identity, std::string_view payload) {
                                 received_.emplace_back(std::string(identity), std::string(payload));
                               });
    EXPECT_TRUE(router.ok()) << router.status();
    return router.ok() ? std::move(router).value() : nullptr;
  }

  // A plain libzmq DEALER, not ours: it sends whatever the test asks.
  zmq::socket_t rawDealer(const std::string& endpoint, const std::string& identity) {
    zmq::socket_t socket(context_, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::routing_id, identity);
    socket.set(zmq::sockopt::reconnect_ivl, 20);
    socket.connect(endpoint);
    return socket;
  }

  bool received(std::string_view identity, std::string_view payload) const {
    for (const auto& [i, p] : received_) {
      if (i == identity && p == payload) return true;
    }
    return false;
  }

  TransportOptions options_;
  zmq::context_t context_;
  boost::asio::io_context loop_;
  std::vector<std::pair<std::string, std::string>> received_;
};

TEST_F(TransportAbuseTest, OversizedFramesOverTcpCutThePeerOffBeforeAllocation) {
  auto router = bindRouter("tcp://127.0.0.1:*");
  zmq::socket_t raw = rawDealer(router->endpoint(), "raw:big");

  raw.send(zmq::buffer(std::string(2 * kMax, 'x')), zmq::send_flags::none);
  zmq::message_t huge(100u * 1024 * 1024);
  std::memset(huge.data(), 'y', huge.size());
  raw.send(huge, zmq::send_flags::none);
  raw.send(zmq::str_buffer("after"), zmq::send_flags::none);

  // libzmq drops each oversized frame by closing the connection (counted as
  // disconnects); the peer reconnects and its next message arrives.
  ASSERT_TRUE(runUntil(loop_, [&] { return received("raw:big", "after"); }));
  ASSERT_TRUE(runUntil(loop_, [&] { return router->counters().disconnects >= 2; }));
  EXPECT_EQ(received_.size(), 1u);
  EXPECT_EQ(router->counters().received, 1u);
}

TEST_F(TransportAbuseTest, OversizedPayloadCaughtByOwnCheckWhereLibzmqHasNone) {
  // inproc bypasses ZMQ_MAXMSGSIZE; our check still applies.
  auto router = bindRouter("inproc://agora-abuse-oversized");
  zmq::socket_t raw = rawDealer("inproc://agora-abuse-oversized", "raw:inproc");
  raw.send(zmq::buffer(std::string(2 * kMax, 'x')), zmq::send_flags::none);
  raw.send(zmq::buffer(std::string(kMax, 'x')), zmq::send_flags::none);  // At the limit: fine.
  ASSERT_TRUE(runUntil(loop_, [&] { return received_.size() == 1; }));
  EXPECT_EQ(received_[0].second.size(), kMax);
  EXPECT_EQ(router->counters().dropped_oversized, 1u);
}

TEST_F(TransportAbuseTest, WrongFrameCountsAreDroppedAndLoggedOnceEachRateLimited) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));

  // A clock that never moves: exactly the burst gets logged.
  const auto frozen = std::chrono::steady_clock::time_point{};
  options_.now = [frozen] { return frozen; };
  auto router = bindRouter("tcp://127.0.0.1:*");
  zmq::socket_t raw = rawDealer(router->endpoint(), "raw:\x01multi");
  constexpr int kFloods = 100;
  for (int i = 0; i < kFloods; ++i) {
    raw.send(zmq::str_buffer("a"), zmq::send_flags::sndmore);
    raw.send(zmq::str_buffer("b"), zmq::send_flags::none);
  }
  raw.send(zmq::str_buffer(""), zmq::send_flags::none);  // Empty but well-formed.
  raw.send(zmq::str_buffer("ok"), zmq::send_flags::none);
  ASSERT_TRUE(runUntil(loop_, [&] { return received_.size() == 2; }));
  spdlog::set_default_logger(previous);

  EXPECT_EQ(received_[0].second, "");
  EXPECT_EQ(received_[1].second, "ok");
  EXPECT_EQ(router->counters().dropped_malformed, static_cast<uint64_t>(kFloods));
  const std::vector<std::string> lines = sink->last_formatted();
  EXPECT_EQ(lines.size(), 10u);  // LogLimiter's default burst.
  ASSERT_FALSE(lines.empty());
  // The peer is named, its control byte escaped.
  EXPECT_NE(lines[0].find("peer 'raw:\\x01multi' at 127.0.0.1"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("expected one frame, got 2"), std::string::npos) << lines[0];
}

TEST_F(TransportAbuseTest, DealerDropsMalformedMessagesFromItsPeer) {
  zmq::socket_t raw(context_, zmq::socket_type::router);
  raw.set(zmq::sockopt::linger, 0);
  raw.set(zmq::sockopt::rcvtimeo, 30000);
  raw.bind("tcp://127.0.0.1:*");
  std::vector<std::string> inbox;
  auto dealer = Dealer::connect(loop_, context_, raw.get(zmq::sockopt::last_endpoint), "agent:m",
                                options_, [&](std::string_view p) { inbox.emplace_back(p); });
  ASSERT_TRUE(dealer.ok());
  ASSERT_TRUE((*dealer)->send("hi").ok());
  zmq::message_t identity, payload;
  ASSERT_TRUE(raw.recv(identity));  // libzmq's I/O threads deliver without our loop.
  ASSERT_TRUE(raw.recv(payload));
  EXPECT_EQ(identity.to_string(), "agent:m");

  raw.send(zmq::str_buffer("agent:m"), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("x"), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("y"), zmq::send_flags::none);
  raw.send(zmq::str_buffer("agent:m"), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("ok"), zmq::send_flags::none);
  ASSERT_TRUE(runUntil(loop_, [&] { return inbox.size() == 1; }));
  EXPECT_EQ(inbox[0], "ok");
  EXPECT_EQ((*dealer)->counters().dropped_malformed, 1u);
}

TEST_F(TransportAbuseTest, NonZeroMqBytesOnTheTcpPortDoNotHurtTheRouter) {
  auto router = bindRouter("tcp://127.0.0.1:*");
  const std::string& endpoint = router->endpoint();
  const auto port = static_cast<uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));

  std::mt19937 random(42);
  std::string noise(64 * 1024, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  // A ZMTP 3 signature and version, then a mechanism nobody knows.
  std::string badGreeting("\xff\0\0\0\0\0\0\0\x01\x7f\x03\x00", 12);
  badGreeting += std::string("BOGUS") + std::string(15 + 1 + 31, '\0');
  const std::vector<std::string> attacks = {noise, badGreeting, "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                                            std::string("\xff", 1)};

  boost::asio::io_context clientLoop;
  for (const std::string& bytes : attacks) {
    boost::asio::ip::tcp::socket socket(clientLoop);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    boost::system::error_code ec;  // The router may hang up mid-write: fine.
    boost::asio::write(socket, boost::asio::buffer(bytes), ec);
    socket.close();
  }
  ASSERT_TRUE(runUntil(loop_, [&] { return router->counters().disconnects >= attacks.size(); }));
  EXPECT_GE(router->counters().handshake_failures, 1u);  // The bogus mechanism, at least.

  std::vector<std::string> inbox;
  auto dealer = Dealer::connect(loop_, context_, endpoint, "agent:after", options_,
                                [&](std::string_view p) { inbox.emplace_back(p); });
  ASSERT_TRUE(dealer.ok());
  ASSERT_TRUE((*dealer)->send("still there?").ok());
  ASSERT_TRUE(runUntil(loop_, [&] { return received("agent:after", "still there?"); }));
  ASSERT_TRUE(router->send("agent:after", "yes").ok());
  ASSERT_TRUE(runUntil(loop_, [&] { return inbox.size() == 1; }));
}

}  // namespace
}  // namespace agora
