#include "agora/testing/network.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace agora::testing {

class NetworkMessenger : public Messenger {
 public:
  NetworkMessenger(InMemoryNetwork* network, PeerId self) : network_(network), self_(std::move(self)) {}
  void send(const PeerId& to, internal::Envelope message) override { network_->enqueue(self_, to, message); }

 private:
  InMemoryNetwork* network_;
  PeerId self_;
};

bool InMemoryNetwork::Match::matches(const PeerId& f, const PeerId& t, const std::string& messageType) const {
  return (from.empty() || from == f) && (to.empty() || to == t) &&
         messageType.compare(0, type.size(), type) == 0;
}

std::unique_ptr<Messenger> InMemoryNetwork::attach(const PeerId& id, EnvelopeHandler handler) {
  endpoints_[id] = std::make_shared<EnvelopeHandler>(std::move(handler));
  return std::make_unique<NetworkMessenger>(this, id);
}

void InMemoryNetwork::detach(const PeerId& id) { endpoints_.erase(id); }

InMemoryNetwork::RuleId InMemoryNetwork::intercept(Action action, Match match, int count) {
  rules_.push_back(Rule{nextRule_, action, std::move(match), count, {}});
  return nextRule_++;
}

void InMemoryNetwork::removeRule(RuleId rule) {
  release(rule);
  std::erase_if(rules_, [&](const Rule& r) { return r.id == rule; });
}

size_t InMemoryNetwork::release(RuleId rule) {
  for (Rule& r : rules_) {
    if (r.id != rule) continue;
    size_t n = r.held.size();
    for (Message& m : r.held) queue_.push_back(std::move(m));
    r.held.clear();
    return n;
  }
  return 0;
}

size_t InMemoryNetwork::held(RuleId rule) const {
  for (const Rule& r : rules_) {
    if (r.id == rule) return r.held.size();
  }
  return 0;
}

void InMemoryNetwork::partition(const PeerId& a, const PeerId& b) {
  drop(Match{"", a, b});
  drop(Match{"", b, a});
}

void InMemoryNetwork::heal(const PeerId& a, const PeerId& b) {
  std::erase_if(rules_, [&](const Rule& r) {
    return r.action == Action::kDrop && r.match.type.empty() &&
           ((r.match.from == a && r.match.to == b) || (r.match.from == b && r.match.to == a));
  });
}

void InMemoryNetwork::enqueue(const PeerId& from, const PeerId& to, const internal::Envelope& envelope) {
  Message message{from, to, envelopeType(envelope), encodeEnvelope(envelope)};
  for (Rule& rule : rules_) {
    if (rule.remaining == 0 || !rule.match.matches(from, to, message.type)) continue;
    if (rule.remaining > 0) --rule.remaining;
    switch (rule.action) {
      case Action::kDrop:
        ++dropped_;
        return;
      case Action::kDuplicate:
        queue_.push_back(message);
        queue_.push_back(std::move(message));
        return;
      case Action::kHold:
        rule.held.push_back(std::move(message));
        return;
    }
  }
  queue_.push_back(std::move(message));
}

void InMemoryNetwork::deliver(Message message) {
  auto it = endpoints_.find(message.to);
  if (it == endpoints_.end()) {
    ++dropped_;
    return;
  }
  Result<internal::Envelope> envelope = decodeEnvelope(message.bytes);
  if (!envelope.ok()) {
    ADD_FAILURE() << "undecodable message from " << message.from << ": " << envelope.error();
    return;
  }
  ++delivered_;
  ++deliveredByType_[message.type];
  for (const auto& observer : observers_) observer(message);
  // Keep the handler alive even if it re-attaches its endpoint meanwhile.
  std::shared_ptr<EnvelopeHandler> handler = it->second;
  (*handler)(message.from, std::move(envelope).value());
}

size_t InMemoryNetwork::settle(size_t maxDeliveries) {
  size_t count = 0;
  while (!queue_.empty()) {
    if (count >= maxDeliveries) {
      ADD_FAILURE() << "network did not settle after " << maxDeliveries << " deliveries";
      break;
    }
    Message message = std::move(queue_.front());
    queue_.pop_front();
    deliver(std::move(message));
    ++count;
  }
  return count;
}

uint64_t InMemoryNetwork::deliveredOfType(const std::string& typePrefix) const {
  uint64_t n = 0;
  for (const auto& [type, count] : deliveredByType_) {
    if (type.compare(0, typePrefix.size(), typePrefix) == 0) n += count;
  }
  return n;
}

}  // namespace agora::testing
