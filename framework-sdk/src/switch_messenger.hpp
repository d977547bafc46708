#pragma once

// The Messenger a networked driver's core sends through: whichever DEALER
// is current. The scheduler driver replaces its DEALER when the master's
// ZeroMQ endpoint changes; the core keeps one Messenger& for its lifetime.

#include <memory>

#include "agora/common/logging.hpp"
#include "agora/common/zmq_messenger.hpp"

namespace agora::sdk::detail {

class SwitchMessenger final : public Messenger {
 public:
  // Replaces (closes) the current DEALER; nullptr closes it.
  void set(std::unique_ptr<DealerMessenger> dealer) { dealer_ = std::move(dealer); }
  bool connected() const { return dealer_ != nullptr; }
  DealerMessenger* current() { return dealer_.get(); }

  // Before the first connection there is nowhere to send: dropped, as a
  // message to an unreachable peer would be (the core retries what matters).
  void send(const PeerId& to, internal::Envelope message) override {
    if (dealer_ != nullptr) dealer_->send(to, std::move(message));
  }

 private:
  std::unique_ptr<DealerMessenger> dealer_;
};

}  // namespace agora::sdk::detail
