#pragma once

// Messengers over ZeroMQ: the production side of the Messenger seam
// (docs/internals.md). Each wraps one transport socket, encodes outgoing
// envelopes, and decodes incoming payloads before handing them to the
// daemon's EnvelopeHandler on the same io_context. Payloads that are not a
// valid envelope (garbage, another protocol version, oversized) are dropped,
// counted and logged once per burst, naming the peer; the daemon never sees
// them.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "agora/common/log_limiter.hpp"
#include "agora/common/messenger.hpp"
#include "agora/common/transport.hpp"

namespace agora {

struct MessengerCounters {
  uint64_t sent = 0;             // Envelopes handed to the transport.
  uint64_t received = 0;         // Envelopes delivered to the handler.
  uint64_t dropped_invalid = 0;  // Payloads that did not decode as an envelope.
  uint64_t send_failures = 0;    // Sends the transport refused (unknown peer, queue full).
};

// A ROUTER: many peers, addressed by their routing identity. The master's
// socket, and the agent's socket for its executors.
class RouterMessenger final : public Messenger {
 public:
  static Result<std::unique_ptr<RouterMessenger>> bind(boost::asio::io_context& loop, zmq::context_t& context,
                                                       std::string_view endpoint, TransportOptions options,
                                                       EnvelopeHandler handler,
                                                       Router::DisconnectHandler onDisconnect = {});

  void send(const PeerId& to, internal::Envelope message) override;

  // With the real port for "tcp://IP:*" or ":0".
  const std::string& endpoint() const { return router_->endpoint(); }
  const MessengerCounters& counters() const { return counters_; }
  const TransportCounters& transportCounters() const { return router_->counters(); }

 private:
  RouterMessenger(EnvelopeHandler handler, size_t maxBytes, SteadyTimeSource now);

  EnvelopeHandler handler_;
  size_t maxBytes_;
  LogLimiter limiter_;
  MessengerCounters counters_;
  std::unique_ptr<Router> router_;
};

// A DEALER connected to one peer (agents and scheduler drivers to the
// master, executors to their agent). send() ignores `to` beyond checking it
// names that peer; incoming envelopes are reported as coming from
// `peerName`. libzmq reconnects with backoff; `onEvent` reports connection
// changes so a driver can tell its user.
class DealerMessenger final : public Messenger {
 public:
  static Result<std::unique_ptr<DealerMessenger>> connect(boost::asio::io_context& loop, zmq::context_t& context,
                                                          std::string_view endpoint, std::string_view identity,
                                                          PeerId peerName, TransportOptions options,
                                                          EnvelopeHandler handler,
                                                          Dealer::EventHandler onEvent = {});

  void send(const PeerId& to, internal::Envelope message) override;

  bool connected() const { return dealer_->connected(); }
  const std::string& identity() const { return dealer_->identity(); }
  const MessengerCounters& counters() const { return counters_; }
  const TransportCounters& transportCounters() const { return dealer_->counters(); }

 private:
  DealerMessenger(PeerId peerName, EnvelopeHandler handler, size_t maxBytes, SteadyTimeSource now);

  PeerId peerName_;
  EnvelopeHandler handler_;
  size_t maxBytes_;
  LogLimiter limiter_;
  MessengerCounters counters_;
  std::unique_ptr<Dealer> dealer_;
};

// Sends through whichever messenger `route` picks for the destination (the
// agent: "master" to its DEALER, executors to its ROUTER). A null route
// drops the message.
class RoutingMessenger final : public Messenger {
 public:
  explicit RoutingMessenger(std::function<Messenger*(const PeerId&)> route) : route_(std::move(route)) {}
  void send(const PeerId& to, internal::Envelope message) override;

 private:
  std::function<Messenger*(const PeerId&)> route_;
};

}  // namespace agora
