// Router and Dealer: the two ends of the ZeroMQ transport (transport.hpp).
// The socket serving itself is in zmq_endpoint.cpp.

#include "agora/common/transport.hpp"

#include <map>

#include "agora/common/id.hpp"
#include "zmq_endpoint.hpp"

namespace agora {
namespace detail {

namespace {

// bind/connect errors: the address is taken or not ours (IoError), or the
// endpoint or an option is malformed (InvalidArgument).
Status zmqSetupError(const zmq::error_t& e, std::string_view what, std::string_view endpoint) {
  const std::string message =
      "Failed to " + std::string(what) + " '" + quoteForLog(endpoint) + "': " + e.what();
  switch (e.num()) {
    case EADDRINUSE:
    case EADDRNOTAVAIL:
    case EACCES:
    case ENODEV:
    case EMFILE:
      return Status::IoError(message);
    default:
      return Status::InvalidArgument(message);
  }
}

std::string describePeer(std::string_view identity, const std::string& address) {
  std::string text = "peer '" + quoteForLog(identity) + "'";
  if (!address.empty()) text += " at " + address;
  return text;
}

constexpr int kHandshakeFailures = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                                   ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                   ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

}  // namespace

class RouterImpl final : public ZmqEndpoint {
 public:
  RouterImpl(boost::asio::io_context& loop, zmq::context_t& context, TransportOptions options,
             Router::Handler handler, Router::DisconnectHandler onDisconnect)
      : ZmqEndpoint(loop, context, zmq::socket_type::router, std::move(options)),
        handler_(std::move(handler)),
        onDisconnect_(std::move(onDisconnect)) {}

  Status bind(std::string_view endpoint) {
    try {
      applySocketOptions();
      socket_.set(zmq::sockopt::router_mandatory, 1);
      socket_.set(zmq::sockopt::router_handover, 1);
      // libzmq listens with a backlog of 100: a restarted agent's executors
      // (or a restarted master's agents) all connect at once, and those
      // past the backlog wait a reconnect interval (ipc) or a SYN
      // retransmission (tcp, a second or more).
      socket_.set(zmq::sockopt::backlog, 1024);
      if (options_.listen_fd >= 0) socket_.set(zmq::sockopt::use_fd, std::exchange(options_.listen_fd, -1));
      startMonitor(ZMQ_EVENT_DISCONNECTED | kHandshakeFailures);
      socket_.bind(std::string(endpoint));
      endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& e) {
      return zmqSetupError(e, "bind", endpoint);
    }
    startWatching();
    return Status::OK();
  }

  Status send(std::string_view identity, std::string_view payload) {
    return sendMessage({identity, payload}, describePeer(identity, ""));
  }

  const std::string& endpoint() const { return endpoint_; }

 private:
  // Identity and payload; a third frame is kept only to be counted.
  size_t framesToKeep() const override { return 2; }

  void onMessage(std::vector<zmq::message_t>& frames, size_t total) override {
    const std::string_view identity = frames[0].to_string_view();
    if (total != 2) {
      ++counters_.dropped_malformed;
      // The identity frame is the router's own; metadata rides on received frames.
      warnDropped(describePeer(identity, peerAddress(frames.back())),
                  "expected one frame, got " + std::to_string(total - 1));
      return;
    }
    // libzmq enforces ZMQ_MAXMSGSIZE on tcp and ipc only; check regardless.
    if (frames[1].size() > options_.max_message_bytes) {
      ++counters_.dropped_oversized;
      warnDropped(describePeer(identity, peerAddress(frames[1])),
                  std::to_string(frames[1].size()) + " bytes is over the limit of " +
                      std::to_string(options_.max_message_bytes));
      return;
    }
    ++counters_.received;
    rememberConnection(identity, frames[1]);
    handler_(identity, frames[1].to_string_view());
  }

  // Which connection (its file descriptor, ZMQ_SRCFD) each identity last
  // spoke on, so that the monitor's DISCONNECTED(fd) can name the peer.
  // Libzmq offers no per-peer notice in its stable API (ZMQ_ROUTER_NOTIFY
  // is a draft, disabled in Debian's build). A peer that reconnects with the
  // same identity (ZMQ_ROUTER_HANDOVER) moves to its new descriptor, so the
  // old connection's close names nobody. Should a new connection reuse a
  // closed descriptor and speak before the old DISCONNECTED is read, the
  // notice names the new peer: owners must treat a later message from a
  // peer as proof that it is connected again (the master does).
  void rememberConnection(std::string_view identity, zmq::message_t& frame) {
    if (!onDisconnect_) return;
    // The C call: cppzmq's get() throws when libzmq has no descriptor for
    // the frame, and nothing about a peer may stop the socket being served.
    const int fd = zmq_msg_get(frame.handle(), ZMQ_SRCFD);
    if (fd < 0) return;
    auto known = fdByIdentity_.find(identity);
    if (known != fdByIdentity_.end()) {
      if (known->second == fd) return;
      identityByFd_.erase(known->second);
      known->second = fd;
    } else {
      fdByIdentity_.emplace(std::string(identity), fd);
    }
    if (auto previous = identityByFd_.find(fd); previous != identityByFd_.end()) {
      fdByIdentity_.erase(previous->second);
    }
    identityByFd_[fd] = std::string(identity);
  }

  void onMonitorEvent(uint16_t event, uint32_t value, std::string_view) override {
    if (event != ZMQ_EVENT_DISCONNECTED || !onDisconnect_) return;
    auto it = identityByFd_.find(static_cast<int>(value));
    if (it == identityByFd_.end()) return;
    const std::string identity = std::move(it->second);
    identityByFd_.erase(it);
    fdByIdentity_.erase(identity);
    onDisconnect_(identity);
  }

  Router::Handler handler_;
  Router::DisconnectHandler onDisconnect_;
  std::map<int, std::string> identityByFd_;
  std::map<std::string, int, std::less<>> fdByIdentity_;
  std::string endpoint_;
};

class DealerImpl final : public ZmqEndpoint {
 public:
  DealerImpl(boost::asio::io_context& loop, zmq::context_t& context, TransportOptions options,
             Dealer::Handler handler, Dealer::EventHandler onEvent)
      : ZmqEndpoint(loop, context, zmq::socket_type::dealer, std::move(options)),
        handler_(std::move(handler)),
        onEvent_(std::move(onEvent)) {}

  Status connect(std::string_view endpoint, std::string_view identity) {
    AGORA_RETURN_IF_ERROR(validateRoutingIdentity(identity));
    identity_ = std::string(identity);
    endpoint_ = std::string(endpoint);
    try {
      applySocketOptions();
      socket_.set(zmq::sockopt::routing_id, identity_);
      socket_.set(zmq::sockopt::reconnect_ivl, static_cast<int>(options_.reconnect_interval.count()));
      socket_.set(zmq::sockopt::reconnect_ivl_max,
                  static_cast<int>(options_.reconnect_interval_max.count()));
      startMonitor(ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | kHandshakeFailures);
      socket_.connect(endpoint_);
    } catch (const zmq::error_t& e) {
      return zmqSetupError(e, "connect to", endpoint);
    }
    startWatching();
    return Status::OK();
  }

  Status send(std::string_view payload) { return sendMessage({payload}, "'" + quoteForLog(endpoint_) + "'"); }

  bool connected() const { return connected_; }
  const std::string& identity() const { return identity_; }

 private:
  size_t framesToKeep() const override { return 1; }

  void onMessage(std::vector<zmq::message_t>& frames, size_t total) override {
    const std::string peer = "peer at '" + quoteForLog(endpoint_) + "'";
    if (total != 1) {
      ++counters_.dropped_malformed;
      warnDropped(peer, "expected one frame, got " + std::to_string(total));
      return;
    }
    if (frames[0].size() > options_.max_message_bytes) {
      ++counters_.dropped_oversized;
      warnDropped(peer, std::to_string(frames[0].size()) + " bytes is over the limit of " +
                            std::to_string(options_.max_message_bytes));
      return;
    }
    ++counters_.received;
    handler_(frames[0].to_string_view());
  }

  void onMonitorEvent(uint16_t event, uint32_t, std::string_view endpoint) override {
    // A disconnect without a handshake is a failed connection attempt, not
    // news to the owner: report transitions only.
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && !connected_) {
      connected_ = true;
      if (onEvent_) onEvent_(Dealer::Event::kConnected, endpoint);
    } else if (event == ZMQ_EVENT_DISCONNECTED && connected_) {
      connected_ = false;
      if (onEvent_) onEvent_(Dealer::Event::kDisconnected, endpoint);
    }
  }

  Dealer::Handler handler_;
  Dealer::EventHandler onEvent_;
  std::string identity_;
  std::string endpoint_;
  bool connected_ = false;
};

}  // namespace detail

Status validateRoutingIdentity(std::string_view identity) {
  if (identity.empty() || identity.size() > 255) {
    return Status::InvalidArgument("Invalid routing identity '" + quoteForLog(identity) +
                                   "': must be 1 to 255 bytes");
  }
  if (identity[0] == '\0') {
    return Status::InvalidArgument("Invalid routing identity '" + quoteForLog(identity) +
                                   "': must not start with a zero byte");
  }
  return Status::OK();
}

Result<std::unique_ptr<Router>> Router::bind(boost::asio::io_context& loop, zmq::context_t& context,
                                             std::string_view endpoint, TransportOptions options,
                                             Handler handler, DisconnectHandler onDisconnect) {
  std::shared_ptr<detail::RouterImpl> impl;
  try {
    impl = std::make_shared<detail::RouterImpl>(loop, context, std::move(options), std::move(handler),
                                                std::move(onDisconnect));
  } catch (const zmq::error_t& e) {
    return Status::IoError(std::string("Failed to create a ZeroMQ socket: ") + e.what());
  }
  AGORA_RETURN_IF_ERROR(impl->bind(endpoint));
  return std::unique_ptr<Router>(new Router(std::move(impl)));
}

Router::Router(std::shared_ptr<detail::RouterImpl> impl) : impl_(std::move(impl)) {}
Router::~Router() { impl_->close(); }
Status Router::send(std::string_view identity, std::string_view payload) { return impl_->send(identity, payload); }
const std::string& Router::endpoint() const { return impl_->endpoint(); }
const TransportCounters& Router::counters() const { return impl_->counters(); }

Result<std::unique_ptr<Dealer>> Dealer::connect(boost::asio::io_context& loop, zmq::context_t& context,
                                                std::string_view endpoint, std::string_view identity,
                                                TransportOptions options, Handler handler,
                                                EventHandler onEvent) {
  std::shared_ptr<detail::DealerImpl> impl;
  try {
    impl = std::make_shared<detail::DealerImpl>(loop, context, std::move(options), std::move(handler),
                                                std::move(onEvent));
  } catch (const zmq::error_t& e) {
    return Status::IoError(std::string("Failed to create a ZeroMQ socket: ") + e.what());
  }
  AGORA_RETURN_IF_ERROR(impl->connect(endpoint, identity));
  return std::unique_ptr<Dealer>(new Dealer(std::move(impl)));
}

Dealer::Dealer(std::shared_ptr<detail::DealerImpl> impl) : impl_(std::move(impl)) {}
Dealer::~Dealer() { impl_->close(); }
Status Dealer::send(std::string_view payload) { return impl_->send(payload); }
bool Dealer::connected() const { return impl_->connected(); }
const std::string& Dealer::identity() const { return impl_->identity(); }
const TransportCounters& Dealer::counters() const { return impl_->counters(); }

std::string_view toString(Dealer::Event event) {
  switch (event) {
    case Dealer::Event::kConnected:
      return "connected";
    case Dealer::Event::kDisconnected:
      return "disconnected";
  }
  return "unknown";
}

}  // namespace agora
