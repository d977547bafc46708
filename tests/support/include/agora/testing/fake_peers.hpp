#pragma once

// Stand-ins for a daemon's peers on an InMemoryNetwork: a peer that records
// every envelope it receives and sends whatever the test builds. Used as
// the master in agent tests and as executors (and as agents or schedulers
// elsewhere). Header-only.

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agora/common/messenger.hpp"
#include "agora/testing/network.hpp"

namespace agora::testing {

class FakePeer {
 public:
  FakePeer(InMemoryNetwork& network, PeerId id) : id_(std::move(id)) {
    messenger_ = network.attach(id_, [this](const PeerId& from, internal::Envelope&& envelope) {
      received_.push_back({from, std::move(envelope)});
    });
  }

  const PeerId& id() const { return id_; }
  void send(const PeerId& to, internal::Envelope envelope) { messenger_->send(to, std::move(envelope)); }

  struct Received {
    PeerId from;
    internal::Envelope envelope;
  };

  // Everything received, oldest first.
  const std::deque<Received>& received() const { return received_; }
  void clear() { received_.clear(); }

  // The envelopes of one type (envelopeType prefix), oldest first.
  std::vector<internal::Envelope> ofType(const std::string& type) const {
    std::vector<internal::Envelope> out;
    for (const Received& r : received_) {
      if (envelopeType(r.envelope).rfind(type, 0) == 0) out.push_back(r.envelope);
    }
    return out;
  }
  size_t count(const std::string& type) const { return ofType(type).size(); }

  // Removes and returns the received envelopes of one type.
  std::vector<internal::Envelope> take(const std::string& type) {
    std::vector<internal::Envelope> out;
    for (auto it = received_.begin(); it != received_.end();) {
      if (envelopeType(it->envelope).rfind(type, 0) == 0) {
        out.push_back(std::move(it->envelope));
        it = received_.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

 private:
  PeerId id_;
  std::unique_ptr<Messenger> messenger_;
  std::deque<Received> received_;
};

}  // namespace agora::testing
