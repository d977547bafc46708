#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agora/testing/network.hpp"

namespace agora::testing {
namespace {

internal::Envelope ping() {
  internal::Envelope envelope;
  envelope.mutable_ping();
  return envelope;
}

internal::Envelope pong() {
  internal::Envelope envelope;
  envelope.mutable_pong();
  return envelope;
}

struct Recorder {
  std::vector<std::string> received;
  EnvelopeHandler handler() {
    return [this](const PeerId& from, internal::Envelope&& envelope) {
      received.push_back(from + ":" + envelopeType(envelope));
    };
  }
};

TEST(InMemoryNetworkTest, DeliversInOrderOnlyOnSettle) {
  InMemoryNetwork network;
  Recorder b;
  auto a = network.attach("a", [](const PeerId&, internal::Envelope&&) {});
  network.attach("b", b.handler());
  a->send("b", ping());
  a->send("b", pong());
  EXPECT_TRUE(b.received.empty());
  EXPECT_EQ(network.settle(), 2u);
  EXPECT_EQ(b.received, (std::vector<std::string>{"a:ping", "a:pong"}));
}

TEST(InMemoryNetworkTest, HandlersCanReplyWithinSettle) {
  InMemoryNetwork network;
  Recorder a;
  std::unique_ptr<Messenger> bOut;
  auto aOut = network.attach("a", a.handler());
  bOut = network.attach("b", [&](const PeerId& from, internal::Envelope&&) { bOut->send(from, pong()); });
  aOut->send("b", ping());
  EXPECT_EQ(network.settle(), 2u);
  EXPECT_EQ(a.received, (std::vector<std::string>{"b:pong"}));
}

TEST(InMemoryNetworkTest, DropDuplicateAndHoldByType) {
  InMemoryNetwork network;
  Recorder b;
  auto a = network.attach("a", [](const PeerId&, internal::Envelope&&) {});
  network.attach("b", b.handler());

  network.drop({"ping"}, 1);
  a->send("b", ping());  // dropped
  a->send("b", ping());  // rule used up: delivered
  network.settle();
  EXPECT_EQ(b.received.size(), 1u);
  EXPECT_EQ(network.dropped(), 1u);

  network.duplicate({"pong", "a", "b"}, 1);
  a->send("b", pong());
  network.settle();
  EXPECT_EQ(network.deliveredOfType("pong"), 2u);

  auto rule = network.hold({"ping"});
  a->send("b", ping());
  network.settle();
  EXPECT_EQ(network.held(rule), 1u);
  EXPECT_EQ(network.deliveredOfType("ping"), 1u);
  network.removeRule(rule);  // releases what it held
  network.settle();
  EXPECT_EQ(network.deliveredOfType("ping"), 2u);
}

TEST(InMemoryNetworkTest, PartitionAndDetach) {
  InMemoryNetwork network;
  Recorder b;
  auto a = network.attach("a", [](const PeerId&, internal::Envelope&&) {});
  network.attach("b", b.handler());
  network.partition("a", "b");
  a->send("b", ping());
  network.settle();
  EXPECT_TRUE(b.received.empty());
  network.heal("a", "b");
  a->send("b", ping());
  network.settle();
  EXPECT_EQ(b.received.size(), 1u);

  network.detach("b");
  a->send("b", ping());
  network.settle();
  EXPECT_EQ(b.received.size(), 1u);
  EXPECT_EQ(network.dropped(), 2u);
}

}  // namespace
}  // namespace agora::testing
