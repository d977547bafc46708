#include "agora/common/zmq_messenger.hpp"

#include "agora/common/id.hpp"
#include "agora/common/logging.hpp"

namespace agora {

namespace {

// Decodes and delivers one payload, or drops it with a rate-limited warning.
void deliver(std::string_view peer, std::string_view payload, size_t maxBytes, LogLimiter& limiter,
             MessengerCounters& counters, const EnvelopeHandler& handler) {
  Result<internal::Envelope> envelope = decodeEnvelope(payload, maxBytes);
  if (!envelope.ok()) {
    ++counters.dropped_invalid;
    if (auto suppressed = limiter.admit()) {
      logger("messenger")->warn("Dropped a message from peer '{}': {}{}", quoteForLog(peer),
                                envelope.error().message(),
                                *suppressed > 0 ? " (" + std::to_string(*suppressed) + " similar suppressed)" : "");
    }
    return;
  }
  ++counters.received;
  handler(PeerId(peer), std::move(envelope).value());
}

void countSend(const Status& status, std::string_view to, LogLimiter& limiter, MessengerCounters& counters) {
  if (status.ok()) {
    ++counters.sent;
    return;
  }
  ++counters.send_failures;
  if (auto suppressed = limiter.admit()) {
    logger("messenger")->warn("Failed to send to peer '{}': {}", quoteForLog(to), status.message());
  }
}

}  // namespace

RouterMessenger::RouterMessenger(EnvelopeHandler handler, size_t maxBytes, SteadyTimeSource now)
    : handler_(std::move(handler)), maxBytes_(maxBytes), limiter_(std::move(now)) {}

Result<std::unique_ptr<RouterMessenger>> RouterMessenger::bind(boost::asio::io_context& loop,
                                                               zmq::context_t& context, std::string_view endpoint,
                                                               TransportOptions options, EnvelopeHandler handler,
                                                               Router::DisconnectHandler onDisconnect) {
  std::unique_ptr<RouterMessenger> messenger(
      new RouterMessenger(std::move(handler), options.max_message_bytes, options.now));
  RouterMessenger* self = messenger.get();
  AGORA_ASSIGN_OR_RETURN(
      messenger->router_,
      Router::bind(loop, context, endpoint, options, [self](std::string_view identity, std::string_view payload) {
        deliver(identity, payload, self->maxBytes_, self->limiter_, self->counters_, self->handler_);
      },
      std::move(onDisconnect)));
  return messenger;
}

void RouterMessenger::send(const PeerId& to, internal::Envelope message) {
  countSend(router_->send(to, encodeEnvelope(std::move(message))), to, limiter_, counters_);
}

DealerMessenger::DealerMessenger(PeerId peerName, EnvelopeHandler handler, size_t maxBytes, SteadyTimeSource now)
    : peerName_(std::move(peerName)), handler_(std::move(handler)), maxBytes_(maxBytes), limiter_(std::move(now)) {}

Result<std::unique_ptr<DealerMessenger>> DealerMessenger::connect(boost::asio::io_context& loop,
                                                                  zmq::context_t& context, std::string_view endpoint,
                                                                  std::string_view identity, PeerId peerName,
                                                                  TransportOptions options, EnvelopeHandler handler,
                                                                  Dealer::EventHandler onEvent) {
  std::unique_ptr<DealerMessenger> messenger(
      new DealerMessenger(std::move(peerName), std::move(handler), options.max_message_bytes, options.now));
  DealerMessenger* self = messenger.get();
  AGORA_ASSIGN_OR_RETURN(messenger->dealer_,
                         Dealer::connect(
                             loop, context, endpoint, identity, options,
                             [self](std::string_view payload) {
                               deliver(self->peerName_, payload, self->maxBytes_, self->limiter_, self->counters_,
                                       self->handler_);
                             },
                             std::move(onEvent)));
  return messenger;
}

void DealerMessenger::send(const PeerId& to, internal::Envelope message) {
  if (to != peerName_) {
    countSend(Status::NotFound("this socket only reaches '" + peerName_ + "'"), to, limiter_, counters_);
    return;
  }
  countSend(dealer_->send(encodeEnvelope(std::move(message))), to, limiter_, counters_);
}

void RoutingMessenger::send(const PeerId& to, internal::Envelope message) {
  if (Messenger* target = route_(to)) target->send(to, std::move(message));
}

}  // namespace agora
