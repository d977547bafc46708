#pragma once

// ZeroMQ transport served from a Boost.Asio io_context (DESIGN.md, "Inside a
// daemon" and "Wire protocol"). One message is one payload of bytes; the
// protocol envelope (agora.internal.Envelope) is encoded on top of this layer.
//
//   master                          agent / scheduler driver
//   Router::bind("tcp://IP:PORT")   Dealer::connect("tcp://IP:PORT", "agent:<uuid>")
//   handler(identity, payload)  <-- send(payload)
//   send(identity, payload)     --> handler(payload)
//
// Threading: a Router or Dealer belongs to the thread that runs its
// io_context, which must be run by exactly one thread. Every method, and
// every callback, runs on that thread. Callbacks may call send(), and may
// destroy the Router or Dealer that called them. They must not throw (an
// exception would leave io_context::run()): decode errors are Statuses.
//
// Untrusted input: every frame from the network is checked before it reaches
// a handler. A message that is too large or has the wrong number of frames is
// dropped, counted in TransportCounters and logged at WARNING naming the
// peer, rate-limited (LogLimiter) so that a flood cannot fill the disk.
// libzmq itself cuts off a peer whose frame header announces more than
// max_message_bytes (ZMQ_MAXMSGSIZE), before allocating anything; that shows
// as a disconnect.
//
// Lifetime: the zmq::context_t is the caller's and must outlive every Router
// and Dealer made with it (zmq_ctx_term waits for their sockets to close);
// so must the io_context.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <utility>  // Before any Asio header (STYLE.md, Boost 1.74 on g++ 12).
#include <boost/asio/io_context.hpp>
#include <zmq.hpp>

#include "agora/common/limits.hpp"
#include "agora/common/log_limiter.hpp"
#include "agora/common/result.hpp"
#include "agora/common/status.hpp"

namespace agora {


struct TransportOptions {
  // Largest payload accepted or sent. Also set as ZMQ_MAXMSGSIZE, so a peer
  // announcing a larger frame is disconnected before any allocation.
  size_t max_message_bytes = kDefaultMaxMessageBytes;

  // Messages queued per peer before send() reports Unavailable (outbound) or
  // libzmq stops reading from the peer (inbound).
  int send_high_water_mark = 10000;
  int receive_high_water_mark = 10000;

  // How long unsent messages are kept when the socket closes.
  std::chrono::milliseconds linger{0};

  // Dealer only: libzmq reconnects after this interval, doubling up to the
  // maximum while the peer stays unreachable.
  std::chrono::milliseconds reconnect_interval{100};
  std::chrono::milliseconds reconnect_interval_max{5000};

  // ZMTP heartbeats: a PING every `heartbeat_interval`; a connection that
  // stays silent for `heartbeat_timeout` after a PING is closed, and the
  // remote side is asked to do the same after `heartbeat_ttl`. Zero disables.
  std::chrono::milliseconds heartbeat_interval{5000};
  std::chrono::milliseconds heartbeat_timeout{15000};
  std::chrono::milliseconds heartbeat_ttl{15000};

  // Router only: a socket already listening (e.g. from a KeptSocket,
  // socket_keeper.hpp) to serve instead of binding one (ZMQ_USE_FD). The
  // endpoint given to bind() must name its address. The Router closes it.
  int listen_fd = -1;

  // Time for rate-limiting warnings; empty means the steady clock.
  SteadyTimeSource now;
};

// Cumulative counts since creation, for the daemon's metrics.
struct TransportCounters {
  uint64_t received = 0;           // Messages delivered to the handler.
  uint64_t sent = 0;               // Messages accepted by send().
  uint64_t dropped_oversized = 0;  // Payloads over max_message_bytes (our own check).
  uint64_t dropped_malformed = 0;  // Messages with the wrong number of frames.
  uint64_t send_failures = 0;      // send() calls that returned an error.
  uint64_t handshake_failures = 0; // Peers that failed the ZMTP handshake.
  uint64_t disconnects = 0;        // Connections closed, for any reason (see above).
};

// Validates a routing identity: 1 to 255 bytes, not starting with a zero byte
// (libzmq reserves those for identities it generates).
Status validateRoutingIdentity(std::string_view identity);

namespace detail {
class RouterImpl;
class DealerImpl;
}  // namespace detail

// The server side: a ZeroMQ ROUTER socket. Peers are known by the routing
// identity they connect with. A peer reconnecting with the identity of a
// live connection takes it over (ZMQ_ROUTER_HANDOVER), so a restarted agent
// is reachable at once.
class Router {
 public:
  // `identity` and `payload` are valid only during the call.
  using Handler = std::function<void(std::string_view identity, std::string_view payload)>;
  // The connection a peer last sent on closed (the peer exited, or ZMTP
  // heartbeats timed out). Only peers that have sent a message are named.
  using DisconnectHandler = std::function<void(const std::string& identity)>;

  // Binds `endpoint`: "tcp://IP:PORT" ("tcp://127.0.0.1:*" for an ephemeral
  // port) or "ipc:///path". Starts delivering messages to `handler` when the
  // loop runs. Errors: InvalidArgument for bad options or endpoints, IoError
  // when the bind fails (address in use...).
  static Result<std::unique_ptr<Router>> bind(boost::asio::io_context& loop,
                                              zmq::context_t& context,
                                              std::string_view endpoint,
                                              TransportOptions options, Handler handler,
                                              DisconnectHandler onDisconnect = {});

  // Closes the socket at once (pending outbound messages are kept for
  // `linger`); no callback runs afterwards.
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Queues `payload` for the peer `identity`, without blocking.
  // NotFound: no connected peer has that identity. Unavailable: the peer's
  // queue is full. InvalidArgument: payload over max_message_bytes.
  // FailedPrecondition: closed.
  Status send(std::string_view identity, std::string_view payload);

  // The bound endpoint with the port resolved, e.g. "tcp://127.0.0.1:43127".
  const std::string& endpoint() const;

  const TransportCounters& counters() const;

 private:
  explicit Router(std::shared_ptr<detail::RouterImpl> impl);
  std::shared_ptr<detail::RouterImpl> impl_;
};

// The client side: a ZeroMQ DEALER socket with a stable routing identity,
// e.g. "agent:<uuid>". libzmq connects in the background and reconnects with
// backoff; messages sent while disconnected are queued (up to the high-water
// mark) and delivered once connected. Messages in flight when a connection
// breaks may be lost: the protocol above retries what matters.
class Dealer {
 public:
  // `payload` is valid only during the call.
  using Handler = std::function<void(std::string_view payload)>;

  enum class Event {
    kConnected,     // A ZMTP handshake with the peer succeeded.
    kDisconnected,  // An established connection broke (peer gone, heartbeat timeout).
  };
  using EventHandler = std::function<void(Event event, std::string_view endpoint)>;

  // Connects to `endpoint` (as for Router::bind, without '*'). `onEvent` is
  // optional. Errors: InvalidArgument for a bad identity, option or endpoint.
  static Result<std::unique_ptr<Dealer>> connect(boost::asio::io_context& loop,
                                                 zmq::context_t& context,
                                                 std::string_view endpoint,
                                                 std::string_view identity,
                                                 TransportOptions options, Handler handler,
                                                 EventHandler onEvent = {});

  ~Dealer();
  Dealer(const Dealer&) = delete;
  Dealer& operator=(const Dealer&) = delete;

  // Queues `payload` for the peer, without blocking. Unavailable: the queue
  // is full. InvalidArgument: payload over max_message_bytes.
  Status send(std::string_view payload);

  // Whether a connection is established (between kConnected and kDisconnected).
  bool connected() const;

  const std::string& identity() const;
  const TransportCounters& counters() const;

 private:
  explicit Dealer(std::shared_ptr<detail::DealerImpl> impl);
  std::shared_ptr<detail::DealerImpl> impl_;
};

std::string_view toString(Dealer::Event event);

}  // namespace agora
