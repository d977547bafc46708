#pragma once

// The daemon-to-daemon message seam.
//
// A daemon (master, agent, scheduler driver, executor) talks to its peers
// only through a `Messenger` and receives through an `EnvelopeHandler`
// called on its own event loop. Production wires these to ZeroMQ sockets
// (ROUTER on the master and on the agent's executor socket, DEALER on agents
// and drivers); the in-process cluster harness wires them to an in-memory
// network that can drop, delay or duplicate messages by type. Daemon code
// never sees which.
//
// Delivery is best effort: at-most-once and ordered between two peers.
// Anything that must not be lost is retried by its sender until
// acknowledged, and handlers are idempotent (DESIGN.md, "Wire protocol").

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "agora/common/limits.hpp"
#include "agora/common/result.hpp"
#include "agora/internal/messages.pb.h"

namespace agora {

// The routing identity of an endpoint, e.g. "master", "agent:<uuid>",
// "scheduler:<uuid>", "executor:<framework>/<executor>".
using PeerId = std::string;


class Messenger {
 public:
  virtual ~Messenger() = default;

  // Queues `message` for `to`. Never blocks; never fails loudly: a message
  // that cannot be delivered is dropped and counted (the sender's retry
  // logic, where it matters, covers the loss). Sets protocol_version.
  virtual void send(const PeerId& to, internal::Envelope message) = 0;
};

// Called on the receiving daemon's loop with each well-formed envelope.
using EnvelopeHandler = std::function<void(const PeerId& from, internal::Envelope&& message)>;

// Serializes with the current protocol version set.
std::string encodeEnvelope(internal::Envelope message);

// Parses one envelope from the wire. Errors (all InvalidArgument, naming the
// problem): larger than `maxBytes` (checked before parsing), not a valid
// protobuf, missing fields, another protocol version, no message set.
Result<internal::Envelope> decodeEnvelope(std::string_view bytes, size_t maxBytes = kDefaultMaxMessageBytes);

// The name of the message an envelope carries ("register_agent",
// "scheduler_call", ...); "none" when empty. Used for metrics, logs and the
// test harness's message interception. For scheduler calls and events the
// type is appended: "scheduler_call.ACCEPT", "scheduler_event.OFFERS".
std::string envelopeType(const internal::Envelope& message);

}  // namespace agora
