#pragma once

// An in-memory network for deterministic in-process cluster tests.
//
// Every daemon in the test attaches an endpoint and gets a Messenger; sent
// envelopes go through the real wire codec into one FIFO queue (so per-peer
// order holds, as with ZeroMQ) and are delivered only when the test calls
// settle(). Rules intercept messages by type, sender and receiver to drop,
// duplicate or hold them (Mesos's DROP_PROTOBUFS / FUTURE_PROTOBUF style).
// Single-threaded: everything runs on the test's thread.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agora/common/messenger.hpp"

namespace agora::testing {

class InMemoryNetwork {
 public:
  enum class Action { kDrop, kDuplicate, kHold };
  using RuleId = uint64_t;

  struct Match {
    std::string type;  // Prefix of envelopeType(): "status_update", "scheduler_event.OFFERS"; "" = any.
    PeerId from;       // "" = any.
    PeerId to;         // "" = any.
    bool matches(const PeerId& f, const PeerId& t, const std::string& messageType) const;
  };

  struct Message {
    PeerId from;
    PeerId to;
    std::string type;
    std::string bytes;  // Encoded envelope.
  };

  InMemoryNetwork() = default;
  InMemoryNetwork(const InMemoryNetwork&) = delete;
  InMemoryNetwork& operator=(const InMemoryNetwork&) = delete;

  // Attaches endpoint `id` (replacing a previous one: a restarted daemon).
  // The returned Messenger sends as `id`; it must not outlive the network.
  std::unique_ptr<Messenger> attach(const PeerId& id, EnvelopeHandler handler);
  // Messages to a detached endpoint are dropped (a crashed process).
  void detach(const PeerId& id);
  bool attached(const PeerId& id) const { return endpoints_.count(id) > 0; }

  // Adds an interception rule for the next `count` matching messages
  // (-1: until removed). Rules are checked in the order they were added; the
  // first match wins.
  RuleId intercept(Action action, Match match, int count = -1);
  RuleId drop(Match match, int count = -1) { return intercept(Action::kDrop, std::move(match), count); }
  RuleId duplicate(Match match, int count = -1) { return intercept(Action::kDuplicate, std::move(match), count); }
  RuleId hold(Match match, int count = -1) { return intercept(Action::kHold, std::move(match), count); }
  void removeRule(RuleId rule);
  // Puts the messages a hold rule kept back into the queue, in order.
  size_t release(RuleId rule);
  size_t held(RuleId rule) const;

  // Drops every message between a and b, both ways, until heal().
  void partition(const PeerId& a, const PeerId& b);
  void heal(const PeerId& a, const PeerId& b);

  // Sees every message as it is delivered (after interception).
  void observe(std::function<void(const Message&)> observer) { observers_.push_back(std::move(observer)); }

  // Delivers queued messages in FIFO order, including the ones handlers send
  // meanwhile, until the queue is empty. Returns how many were delivered.
  // Aborts the test after `maxDeliveries` (a message storm is a bug).
  size_t settle(size_t maxDeliveries = 1'000'000);
  size_t pending() const { return queue_.size(); }

  // Counters for assertions.
  uint64_t delivered() const { return delivered_; }
  uint64_t dropped() const { return dropped_; }
  // How many messages of this type prefix were delivered so far.
  uint64_t deliveredOfType(const std::string& typePrefix) const;

 private:
  friend class NetworkMessenger;
  struct Rule {
    RuleId id;
    Action action;
    Match match;
    int remaining;
    std::deque<Message> held;
  };

  void enqueue(const PeerId& from, const PeerId& to, const internal::Envelope& envelope);
  void deliver(Message message);

  std::map<PeerId, std::shared_ptr<EnvelopeHandler>> endpoints_;
  std::vector<Rule> rules_;
  RuleId nextRule_ = 1;
  std::deque<Message> queue_;
  std::vector<std::function<void(const Message&)>> observers_;
  std::map<std::string, uint64_t> deliveredByType_;
  uint64_t delivered_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace agora::testing
