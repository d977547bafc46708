#include "zmq_endpoint.hpp"

#include <atomic>
#include <cstring>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "agora/common/check.hpp"
#include "agora/common/id.hpp"

namespace agora::detail {

namespace asio = boost::asio;

ZmqWatch::ZmqWatch(asio::io_context& loop, zmq::socket_t& socket)
    : loop_(loop), socket_(socket), fd_(loop) {}

void ZmqWatch::start(std::weak_ptr<void> owner, std::function<void()> readOne) {
  AGORA_CHECK(!started_, "ZmqWatch started twice");
  started_ = true;
  owner_ = std::move(owner);
  readOne_ = std::move(readOne);
  fd_.assign(socket_.get(zmq::sockopt::fd));
  // Messages may have arrived already, with their notification consumed by
  // the bind/connect calls: look before waiting.
  poke();
}

void ZmqWatch::poke() {
  if (stopped_ || !started_ || drainPosted_) return;
  drainPosted_ = true;
  asio::post(loop_, [this, owner = owner_] {
    auto self = owner.lock();
    if (!self) return;  // `this` died with its owner.
    drainPosted_ = false;
    drain();
  });
}

void ZmqWatch::arm() {
  if (stopped_ || waiting_) return;
  waiting_ = true;
  fd_.async_wait(asio::posix::stream_descriptor::wait_read,
                 [this, owner = owner_](const boost::system::error_code& ec) {
                   auto self = owner.lock();
                   if (!self) return;
                   waiting_ = false;
                   if (ec) return;  // Cancelled by stop().
                   drain();
                 });
}

void ZmqWatch::drain() {
  if (stopped_) return;
  try {
    for (int read = 0; !stopped_ && (socket_.get(zmq::sockopt::events) & ZMQ_POLLIN) != 0; ++read) {
      if (read == kDrainBatch) {
        // The rest after the loop's other ready work: a burst on one socket
        // (a restarted agent's executors all resubscribing) must not hold
        // back another (its master's) until the burst is over.
        poke();
        return;
      }
      readOne_();  // May stop us, or destroy the public object (not `this`: the owner is locked).
    }
  } catch (const zmq::error_t& e) {
    // Only a terminated context or a closed socket gets here: a bug in the
    // owner's shutdown order, not bad input. Stop serving rather than spin.
    spdlog::error("ZeroMQ socket failed while reading, no longer served: {}", e.what());
    stop();
  }
  arm();
}

void ZmqWatch::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (fd_.is_open()) {
    // libzmq owns the descriptor: cancel our waits, never close it.
    fd_.release();
  }
}

size_t receiveMessage(zmq::socket_t& socket, std::vector<zmq::message_t>& frames, size_t keep) {
  frames.clear();
  size_t total = 0;
  while (true) {
    zmq::message_t frame;
    if (!socket.recv(frame, zmq::recv_flags::dontwait)) {
      // Parts of a message arrive together: EAGAIN can only come first.
      return total;
    }
    ++total;
    const bool more = frame.more();
    if (frames.size() < keep) frames.push_back(std::move(frame));
    if (!more) return total;
  }
}

std::string peerAddress(zmq::message_t& frame) {
  const char* address = zmq_msg_gets(frame.handle(), "Peer-Address");
  return address != nullptr ? std::string(address) : std::string();
}

ZmqEndpoint::ZmqEndpoint(asio::io_context& loop, zmq::context_t& context, zmq::socket_type type,
                         TransportOptions options)
    : loop_(loop),
      options_(std::move(options)),
      socket_(context, type),
      context_(context),
      watch_(loop, socket_),
      dropWarnings_(options_.now) {}

ZmqEndpoint::~ZmqEndpoint() { close(); }

void ZmqEndpoint::applySocketOptions() {
  auto ms = [](std::chrono::milliseconds d) { return static_cast<int>(d.count()); };
  socket_.set(zmq::sockopt::linger, ms(options_.linger));
  socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options_.max_message_bytes));
  socket_.set(zmq::sockopt::sndhwm, options_.send_high_water_mark);
  socket_.set(zmq::sockopt::rcvhwm, options_.receive_high_water_mark);
  socket_.set(zmq::sockopt::heartbeat_ivl, ms(options_.heartbeat_interval));
  socket_.set(zmq::sockopt::heartbeat_timeout, ms(options_.heartbeat_timeout));
  socket_.set(zmq::sockopt::heartbeat_ttl, ms(options_.heartbeat_ttl));
}

void ZmqEndpoint::startMonitor(int events) {
  static std::atomic<uint64_t> counter{0};
  const std::string address = "inproc://agora-transport-monitor-" + std::to_string(counter++);
  if (zmq_socket_monitor(socket_.handle(), address.c_str(), events) != 0) {
    throw zmq::error_t();
  }
  monitor_ = zmq::socket_t(context_, zmq::socket_type::pair);
  monitor_.set(zmq::sockopt::linger, 0);
  monitor_.connect(address);
  monitorWatch_ = std::make_unique<ZmqWatch>(loop_, monitor_);
}

void ZmqEndpoint::startWatching() {
  std::weak_ptr<void> self = shared_from_this();
  watch_.start(self, [this] { readMessage(); });
  if (monitorWatch_) monitorWatch_->start(self, [this] { readMonitorEvent(); });
}

void ZmqEndpoint::readMessage() {
  const size_t total = receiveMessage(socket_, frames_, framesToKeep());
  if (total == 0) return;
  onMessage(frames_, total);
  frames_.clear();
}

void ZmqEndpoint::readMonitorEvent() {
  std::vector<zmq::message_t> frames;
  if (receiveMessage(monitor_, frames, 2) != 2 || frames[0].size() < 6) return;
  uint16_t event = 0;
  uint32_t value = 0;
  std::memcpy(&event, frames[0].data(), sizeof(event));
  std::memcpy(&value, static_cast<const char*>(frames[0].data()) + sizeof(event), sizeof(value));
  if (event == ZMQ_EVENT_DISCONNECTED) ++counters_.disconnects;
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL || event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
      event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
    ++counters_.handshake_failures;
  }
  onMonitorEvent(event, value, frames[1].to_string_view());
}

Status ZmqEndpoint::sendMessage(std::initializer_list<std::string_view> frames, std::string_view what) {
  if (closed_) {
    ++counters_.send_failures;
    return Status::FailedPrecondition("Cannot send to " + std::string(what) + ": transport closed");
  }
  const std::string_view payload = *(frames.end() - 1);
  if (payload.size() > options_.max_message_bytes) {
    ++counters_.send_failures;
    return Status::InvalidArgument("Cannot send " + std::to_string(payload.size()) + " bytes to " +
                                   std::string(what) + ": over the limit of " +
                                   std::to_string(options_.max_message_bytes));
  }
  Status status;
  try {
    size_t index = 0;
    for (std::string_view frame : frames) {
      const bool last = ++index == frames.size();
      const auto flags = last ? zmq::send_flags::dontwait
                              : zmq::send_flags::dontwait | zmq::send_flags::sndmore;
      if (!socket_.send(zmq::const_buffer(frame.data(), frame.size()), flags)) {
        // EAGAIN: the high-water mark is reached (on a first frame only, as
        // libzmq checks the pipe before accepting a message's first part).
        status = Status::Unavailable("Cannot send to " + std::string(what) + ": send queue full");
        break;
      }
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) {
      status = Status::NotFound("Cannot send to " + std::string(what) + ": no such peer connected");
    } else {
      status = Status::IoError("Cannot send to " + std::string(what) + ": " + e.what());
    }
  }
  if (status.ok()) {
    ++counters_.sent;
  } else {
    ++counters_.send_failures;
  }
  // The send may have consumed the descriptor's notification of new input.
  watch_.poke();
  return status;
}

void ZmqEndpoint::warnDropped(std::string_view peer, std::string_view reason) {
  if (auto suppressed = dropWarnings_.admit()) {
    if (*suppressed > 0) {
      spdlog::warn("Dropped a message from {}: {} ({} similar warnings suppressed)", peer, reason,
                   *suppressed);
    } else {
      spdlog::warn("Dropped a message from {}: {}", peer, reason);
    }
  }
}

void ZmqEndpoint::close() {
  if (closed_) return;
  closed_ = true;
  watch_.stop();
  if (monitorWatch_) monitorWatch_->stop();
  try {
    if (monitor_) {
      zmq_socket_monitor(socket_.handle(), nullptr, 0);
      monitor_.close();
    }
    socket_.close();
  } catch (const zmq::error_t& e) {
    spdlog::error("Failed to close a ZeroMQ socket: {}", e.what());
  }
}

}  // namespace agora::detail
