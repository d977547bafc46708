#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "agora/common/zmq_messenger.hpp"

namespace agora {
namespace {

using namespace std::chrono_literals;

// Runs the loop until `done` holds or a generous bound passes.
bool runUntil(boost::asio::io_context& loop, const std::function<bool()>& done) {
  for (int i = 0; i < 1000 && !done(); ++i) {
    loop.restart();
    loop.run_for(10ms);
  }
  return done();
}

internal::Envelope ping() {
  internal::Envelope envelope;
  envelope.mutable_ping()->set_connected(true);
  return envelope;
}

internal::Envelope pong() {
  internal::Envelope envelope;
  envelope.mutable_pong();
  return envelope;
}

class ZmqMessengerTest : public ::testing::Test {
 protected:
  boost::asio::io_context loop;
  zmq::context_t context;
  std::vector<std::pair<PeerId, std::string>> atMaster;
  std::vector<std::pair<PeerId, std::string>> atAgent;
  std::unique_ptr<RouterMessenger> master;

  void SetUp() override {
    auto bound = RouterMessenger::bind(loop, context, "tcp://127.0.0.1:*", {},
                                       [this](const PeerId& from, internal::Envelope&& envelope) {
                                         atMaster.emplace_back(from, envelopeType(envelope));
                                         master->send(from, pong());
                                       });
    ASSERT_TRUE(bound.ok()) << bound.error();
    master = std::move(bound).value();
  }

  std::unique_ptr<DealerMessenger> connectAgent(const std::string& identity) {
    auto connected = DealerMessenger::connect(loop, context, master->endpoint(), identity, "master", {},
                                              [this](const PeerId& from, internal::Envelope&& envelope) {
                                                atAgent.emplace_back(from, envelopeType(envelope));
                                              });
    EXPECT_TRUE(connected.ok()) << connected.error();
    return connected.ok() ? std::move(connected).value() : nullptr;
  }
};

TEST_F(ZmqMessengerTest, EnvelopesRoundTripWithPeerIdentities) {
  auto agent = connectAgent("agent:one");
  ASSERT_NE(agent, nullptr);
  agent->send("master", ping());
  ASSERT_TRUE(runUntil(loop, [&] { return !atAgent.empty(); }));
  EXPECT_EQ(atMaster.front(), (std::pair<PeerId, std::string>{"agent:one", "ping"}));
  EXPECT_EQ(atAgent.front(), (std::pair<PeerId, std::string>{"master", "pong"}));
  EXPECT_EQ(master->counters().received, 1u);
  EXPECT_EQ(master->counters().sent, 1u);
}

TEST_F(ZmqMessengerTest, DealerRefusesOtherDestinations) {
  auto agent = connectAgent("agent:two");
  ASSERT_NE(agent, nullptr);
  agent->send("agent:elsewhere", ping());
  EXPECT_EQ(agent->counters().send_failures, 1u);
  EXPECT_EQ(agent->counters().sent, 0u);
}

TEST_F(ZmqMessengerTest, UnknownPeerCountsSendFailure) {
  master->send("agent:nobody", pong());
  EXPECT_EQ(master->counters().send_failures, 1u);
}

TEST_F(ZmqMessengerTest, GarbagePayloadsAreDroppedAndCounted) {
  // A well-behaved ZeroMQ peer that sends bytes which are not an envelope.
  zmq::socket_t raw(context, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::routing_id, "garbage");
  raw.set(zmq::sockopt::linger, 0);
  raw.connect(master->endpoint());
  raw.send(zmq::buffer(std::string("\xff\xfe not protobuf")), zmq::send_flags::none);
  internal::Envelope wrongVersion = ping();
  wrongVersion.set_protocol_version(7);
  raw.send(zmq::buffer(wrongVersion.SerializeAsString()), zmq::send_flags::none);
  ASSERT_TRUE(runUntil(loop, [&] { return master->counters().dropped_invalid == 2; }));
  EXPECT_TRUE(atMaster.empty());

  // The master still serves well-formed peers.
  auto agent = connectAgent("agent:three");
  ASSERT_NE(agent, nullptr);
  agent->send("master", ping());
  ASSERT_TRUE(runUntil(loop, [&] { return !atAgent.empty(); }));
  EXPECT_EQ(atMaster.size(), 1u);
}

TEST_F(ZmqMessengerTest, RoutingMessengerPicksBySendDestination) {
  auto agent = connectAgent("agent:four");
  ASSERT_NE(agent, nullptr);
  int dropped = 0;
  RoutingMessenger routing([&](const PeerId& to) -> Messenger* {
    if (to == "master") return agent.get();
    ++dropped;
    return nullptr;
  });
  routing.send("master", ping());
  routing.send("executor:x", ping());
  ASSERT_TRUE(runUntil(loop, [&] { return !atAgent.empty(); }));
  EXPECT_EQ(dropped, 1);
  EXPECT_EQ(atMaster.size(), 1u);
}

}  // namespace
}  // namespace agora
