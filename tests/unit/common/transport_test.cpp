// Router and Dealer over real sockets on 127.0.0.1, ipc and inproc. The test
// runs the io_context itself; waits are bounded by a generous deadline that
// only guards against hangs, never a timing assertion.

#include "agora/common/transport.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "transport_test_util.hpp"

namespace agora {
namespace {

using testing::runUntil;

class TransportTest : public ::testing::Test {
 protected:
  std::unique_ptr<Router> bindRouter(std::string endpoint = "tcp://127.0.0.1:*",
                                     TransportOptions options = {}) {
    auto router = Router::bind(loop_, context_, endpoint, options,
                               [this](std::string_view identity, std::string_view payload) {
                                 received_.emplace_back(std::string(identity), std::string(payload));
                               });
    EXPECT_TRUE(router.ok()) << router.status();
    return router.ok() ? std::move(router).value() : nullptr;
  }

  std::unique_ptr<Dealer> connectDealer(const std::string& endpoint, const std::string& identity,
                                        std::vector<std::string>* inbox,
                                        std::vector<Dealer::Event>* events = nullptr,
                                        TransportOptions options = {}) {
    auto dealer = Dealer::connect(
        loop_, context_, endpoint, identity, options,
        [inbox](std::string_view payload) { inbox->emplace_back(payload); },
        [events](Dealer::Event event, std::string_view) {
          if (events != nullptr) events->push_back(event);
        });
    EXPECT_TRUE(dealer.ok()) << dealer.status();
    return dealer.ok() ? std::move(dealer).value() : nullptr;
  }

  bool receivedPayload(std::string_view payload) const {
    for (const auto& [identity, p] : received_) {
      if (p == payload) return true;
    }
    return false;
  }

  zmq::context_t context_;
  boost::asio::io_context loop_;
  std::vector<std::pair<std::string, std::string>> received_;
};

TEST_F(TransportTest, RoundTripWithSeveralDealers) {
  auto router = bindRouter();
  ASSERT_NE(router, nullptr);
  EXPECT_TRUE(router->endpoint().starts_with("tcp://127.0.0.1:")) << router->endpoint();

  std::map<std::string, std::vector<std::string>> inboxes;
  std::vector<std::unique_ptr<Dealer>> dealers;
  for (const std::string identity : {"agent:a", "agent:b", "scheduler:c"}) {
    dealers.push_back(connectDealer(router->endpoint(), identity, &inboxes[identity]));
    ASSERT_TRUE(dealers.back()->send("hello from " + identity).ok());
  }
  ASSERT_TRUE(runUntil(loop_, [&] { return received_.size() == 3; }));

  for (const auto& [identity, payload] : received_) {
    EXPECT_EQ(payload, "hello from " + identity);
    ASSERT_TRUE(router->send(identity, "reply to " + identity).ok());
  }
  ASSERT_TRUE(runUntil(loop_, [&] {
    for (auto& [identity, inbox] : inboxes) {
      if (inbox.empty()) return false;
    }
    return true;
  }));
  for (auto& [identity, inbox] : inboxes) {
    EXPECT_EQ(inbox, std::vector<std::string>{"reply to " + identity});
  }
  EXPECT_EQ(router->counters().received, 3u);
  EXPECT_EQ(router->counters().sent, 3u);
  EXPECT_EQ(dealers[0]->counters().sent, 1u);
  EXPECT_EQ(dealers[0]->counters().received, 1u);
  EXPECT_EQ(dealers[0]->identity(), "agent:a");
}

TEST_F(TransportTest, ManyMessagesKeepTheirOrder) {
  auto router = bindRouter();
  std::vector<std::string> inbox;
  auto dealer = connectDealer(router->endpoint(), "agent:order", &inbox);
  constexpr int kCount = 2000;
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(dealer->send(std::to_string(i)).ok());
  ASSERT_TRUE(runUntil(loop_, [&] { return received_.size() == kCount; }));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(received_[i].second, std::to_string(i));
}

TEST_F(TransportTest, IpcEndpoint) {
  testing::TempDir dir;
  auto router = bindRouter("ipc://" + dir.path() + "/agent.sock");
  ASSERT_NE(router, nullptr);
  std::vector<std::string> inbox;
  auto dealer = connectDealer(router->endpoint(), "executor:e1", &inbox);
  ASSERT_TRUE(dealer->send("subscribe").ok());
  ASSERT_TRUE(runUntil(loop_, [&] { return received_.size() == 1; }));
  EXPECT_EQ(received_[0], (std::pair<std::string, std::string>{"executor:e1", "subscribe"}));
  ASSERT_TRUE(router->send("executor:e1", "launch").ok());
  ASSERT_TRUE(runUntil(loop_, [&] { return inbox.size() == 1; }));
  EXPECT_EQ(inbox[0], "launch");
}

// What a restarted agent does with the socket its keeper held
// (socket_keeper.hpp): a peer that connected while nobody served the socket
// is served by the Router given it, and the Router leaves the path alone.
TEST_F(TransportTest, ARouterServesAListeningSocketItIsGiven) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/executors.sock";
  const int listener = testing::listenUnix(path);
  ASSERT_GE(listener, 0);

  std::vector<std::string> inbox;
  auto dealer = connectDealer("ipc://" + path, "executor:e1", &inbox);
  ASSERT_TRUE(dealer->send("subscribe").ok());  // Waits in the listener's queue.
  loop_.run_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(received_.empty());

  TransportOptions options;
  options.listen_fd = listener;
  auto router = bindRouter("ipc://" + path, options);
  ASSERT_NE(router, nullptr);
  ASSERT_TRUE(runUntil(loop_, [&] { return received_.size() == 1; }));
  EXPECT_EQ(received_[0], (std::pair<std::string, std::string>{"executor:e1", "subscribe"}));
  ASSERT_TRUE(router->send("executor:e1", "subscribed").ok());
  ASSERT_TRUE(runUntil(loop_, [&] { return inbox.size() == 1; }));
  router.reset();
  EXPECT_TRUE(std::filesystem::exists(path)) << "the Router removed a path it did not bind";
}

// A burst on one socket (a restarted agent's executors all resubscribing)
// does not hold back another socket on the same loop (its master's) until
// the burst is over: sockets are read in bounded turns.
TEST_F(TransportTest, ABurstOnOneSocketDoesNotHoldBackAnother) {
  std::map<std::string, int> perRouter;
  std::optional<int> burstSeenWhenOtherArrived;
  auto makeRouter = [&](const std::string& endpoint, const std::string& name) {
    auto router = Router::bind(loop_, context_, endpoint, {},
                               [&, name](std::string_view, std::string_view) {
                                 ++perRouter[name];
                                 if (name == "other") burstSeenWhenOtherArrived = perRouter["burst"];
                               });
    EXPECT_TRUE(router.ok()) << router.status();
    return router.ok() ? std::move(router).value() : nullptr;
  };
  auto burst = makeRouter("inproc://burst", "burst");
  auto other = makeRouter("inproc://other", "other");
  std::vector<std::string> inbox;
  auto flooding = connectDealer("inproc://burst", "executor:e1", &inbox);
  auto single = connectDealer("inproc://other", "master", &inbox);
  // inproc: every message is in the routers' queues before the loop runs.
  constexpr int kBurst = 1000;
  for (int i = 0; i < kBurst; ++i) ASSERT_TRUE(flooding->send("subscribe").ok());
  ASSERT_TRUE(single->send("ping").ok());
  ASSERT_TRUE(runUntil(loop_, [&] { return perRouter["burst"] == kBurst && perRouter["other"] == 1; }));
  ASSERT_TRUE(burstSeenWhenOtherArrived.has_value());
  EXPECT_LT(*burstSeenWhenOtherArrived, kBurst);
}

TEST_F(TransportTest, SendToUnknownIdentityFails) {
  auto router = bindRouter();
  Status status = router->send("agent:nobody", "hello");
  EXPECT_EQ(status.code(), Status::Code::kNotFound) << status;
  EXPECT_NE(status.message().find("agent:nobody"), std::string::npos) << status;
  EXPECT_EQ(router->counters().send_failures, 1u);
  EXPECT_EQ(router->counters().sent, 0u);
}

TEST_F(TransportTest, RejectsBadIdentitiesAndEndpoints) {
  std::vector<std::string> inbox;
  auto empty = Dealer::connect(loop_, context_, "tcp://127.0.0.1:1", "", {}, [](std::string_view) {});
  EXPECT_EQ(empty.status().code(), Status::Code::kInvalidArgument);
  auto zero = Dealer::connect(loop_, context_, "tcp://127.0.0.1:1", std::string("\0x", 2), {},
                              [](std::string_view) {});
  EXPECT_EQ(zero.status().code(), Status::Code::kInvalidArgument);
  auto bad = Router::bind(loop_, context_, "nonsense://here", {}, {});
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument) << bad.status();

  auto router = bindRouter();
  auto again = Router::bind(loop_, context_, router->endpoint(), {}, {});
  EXPECT_EQ(again.status().code(), Status::Code::kIoError) << again.status();
}

TEST_F(TransportTest, RefusesToSendOversizedPayload) {
  TransportOptions options;
  options.max_message_bytes = 1024;
  auto router = bindRouter("tcp://127.0.0.1:*", options);
  std::vector<std::string> inbox;
  auto dealer = connectDealer(router->endpoint(), "agent:big", &inbox, nullptr, options);
  Status status = dealer->send(std::string(2048, 'x'));
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << status;
  EXPECT_EQ(dealer->counters().send_failures, 1u);
}

TEST_F(TransportTest, DealerReconnectsWhenRouterComesBack) {
  auto router = bindRouter();
  const std::string endpoint = router->endpoint();
  std::vector<std::string> inbox;
  std::vector<Dealer::Event> events;
  auto dealer = connectDealer(endpoint, "agent:r", &inbox, &events);

  ASSERT_TRUE(runUntil(loop_, [&] { return dealer->connected(); }));
  EXPECT_EQ(events, std::vector<Dealer::Event>{Dealer::Event::kConnected});
  ASSERT_TRUE(dealer->send("before").ok());
  ASSERT_TRUE(runUntil(loop_, [&] { return received_.size() == 1; }));

  router.reset();
  ASSERT_TRUE(runUntil(loop_, [&] { return !dealer->connected(); }));
  EXPECT_EQ(events, (std::vector<Dealer::Event>{Dealer::Event::kConnected, Dealer::Event::kDisconnected}));

  // Queued while the router is away, delivered once it is back.
  ASSERT_TRUE(dealer->send("while away").ok());
  router = bindRouter(endpoint);
  ASSERT_NE(router, nullptr);
  ASSERT_TRUE(runUntil(loop_, [&] { return receivedPayload("while away"); }));
  ASSERT_TRUE(runUntil(loop_, [&] { return dealer->connected(); }));
  EXPECT_EQ(events.back(), Dealer::Event::kConnected);
  ASSERT_TRUE(router->send("agent:r", "welcome back").ok());
  ASSERT_TRUE(runUntil(loop_, [&] { return inbox.size() == 1; }));
  EXPECT_EQ(inbox[0], "welcome back");
}

TEST_F(TransportTest, ReconnectingIdentityTakesOver) {
  auto router = bindRouter();
  std::vector<std::string> first, second;
  auto old = connectDealer(router->endpoint(), "agent:same", &first);
  ASSERT_TRUE(old->send("old").ok());
  ASSERT_TRUE(runUntil(loop_, [&] { return receivedPayload("old"); }));

  // A restarted agent connects with the same identity while the old
  // connection still looks alive to the router.
  auto fresh = connectDealer(router->endpoint(), "agent:same", &second);
  ASSERT_TRUE(fresh->send("new").ok());
  ASSERT_TRUE(runUntil(loop_, [&] { return receivedPayload("new"); }));
  ASSERT_TRUE(router->send("agent:same", "to the new one").ok());
  ASSERT_TRUE(runUntil(loop_, [&] { return second.size() == 1; }));
  EXPECT_TRUE(first.empty());
}

TEST_F(TransportTest, HandlerMayDestroyTheRouter) {
  std::unique_ptr<Router> router;
  int calls = 0;
  auto bound = Router::bind(loop_, context_, "tcp://127.0.0.1:*", {},
                            [&](std::string_view, std::string_view) {
                              ++calls;
                              router.reset();
                            });
  ASSERT_TRUE(bound.ok());
  router = std::move(bound).value();
  std::vector<std::string> inbox;
  auto dealer = connectDealer(router->endpoint(), "agent:x", &inbox);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(dealer->send("m").ok());
  ASSERT_TRUE(runUntil(loop_, [&] { return router == nullptr; }));
  loop_.restart();
  loop_.poll();
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace agora

namespace agora {
namespace {

class RouterDisconnectTest : public ::testing::Test {
 protected:
  std::unique_ptr<Router> bindRouter() {
    auto router = Router::bind(
        loop_, context_, "tcp://127.0.0.1:*", TransportOptions{},
        [this](std::string_view identity, std::string_view payload) {
          received_.emplace_back(std::string(identity), std::string(payload));
        },
        [this](const std::string& identity) { disconnected_.push_back(identity); });
    EXPECT_TRUE(router.ok()) << router.status();
    return router.ok() ? std::move(router).value() : nullptr;
  }

  std::unique_ptr<Dealer> connectDealer(const std::string& endpoint, const std::string& identity) {
    auto dealer = Dealer::connect(loop_, context_, endpoint, identity, TransportOptions{}, [](std::string_view) {});
    EXPECT_TRUE(dealer.ok()) << dealer.status();
    return dealer.ok() ? std::move(dealer).value() : nullptr;
  }

  size_t receivedCount() const { return received_.size(); }

  zmq::context_t context_;
  boost::asio::io_context loop_;
  std::vector<std::pair<std::string, std::string>> received_;
  std::vector<std::string> disconnected_;
};

TEST_F(RouterDisconnectTest, NamesThePeerWhoseConnectionClosed) {
  auto router = bindRouter();
  auto stays = connectDealer(router->endpoint(), "scheduler:stays");
  auto leaves = connectDealer(router->endpoint(), "scheduler:leaves");
  ASSERT_TRUE(stays->send("a").ok());
  ASSERT_TRUE(leaves->send("b").ok());
  ASSERT_TRUE(testing::runUntil(loop_, [&] { return receivedCount() == 2; }));

  leaves.reset();  // The process exits: its connection closes.
  ASSERT_TRUE(testing::runUntil(loop_, [&] { return !disconnected_.empty(); }));
  EXPECT_EQ(disconnected_, std::vector<std::string>{"scheduler:leaves"});

  // The other peer is still reachable, and still named when it goes.
  ASSERT_TRUE(router->send("scheduler:stays", "still there").ok());
  stays.reset();
  ASSERT_TRUE(testing::runUntil(loop_, [&] { return disconnected_.size() == 2; }));
  EXPECT_EQ(disconnected_.back(), "scheduler:stays");
}

TEST_F(RouterDisconnectTest, AHandedOverIdentityIsNotReportedWhenItsOldConnectionCloses) {
  auto router = bindRouter();
  auto old = connectDealer(router->endpoint(), "agent:same");
  ASSERT_TRUE(old->send("old").ok());
  ASSERT_TRUE(testing::runUntil(loop_, [&] { return receivedCount() == 1; }));
  auto fresh = connectDealer(router->endpoint(), "agent:same");
  ASSERT_TRUE(fresh->send("new").ok());
  ASSERT_TRUE(testing::runUntil(loop_, [&] { return receivedCount() == 2; }));

  old.reset();
  // A peer that never spoke is never named; use one to know the monitor
  // has caught up past the old connection's close.
  auto marker = connectDealer(router->endpoint(), "marker");
  ASSERT_TRUE(marker->send("m").ok());
  ASSERT_TRUE(testing::runUntil(loop_, [&] { return receivedCount() == 3; }));
  marker.reset();
  ASSERT_TRUE(testing::runUntil(loop_, [&] { return !disconnected_.empty(); }));
  EXPECT_EQ(disconnected_, std::vector<std::string>{"marker"});
  ASSERT_TRUE(router->send("agent:same", "to the new one").ok());
}

}  // namespace
}  // namespace agora
