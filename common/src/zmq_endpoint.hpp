#pragma once

// Private: serving a ZeroMQ socket from an Asio loop, shared by Router and
// Dealer.
//
// libzmq exposes ZMQ_FD, an edge-triggered notification descriptor: it
// becomes readable when the socket *may* have changed state, and the only
// truth is ZMQ_EVENTS. Any call into the socket (recv, send, even reading
// ZMQ_EVENTS) may consume the notification. So a ZmqWatch always drains
// until ZMQ_EVENTS shows no input before waiting again, and a send from
// outside the drain schedules one more drain on the loop.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <utility>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <zmq.hpp>

#include "agora/common/log_limiter.hpp"
#include "agora/common/status.hpp"
#include "agora/common/transport.hpp"

namespace agora::detail {

// Watches one socket. Holds the owner weakly: a wait completing after the
// owner is gone does nothing.
class ZmqWatch {
 public:
  // `socket` must outlive the watch or stop() must be called first.
  ZmqWatch(boost::asio::io_context& loop, zmq::socket_t& socket);
  ~ZmqWatch() { stop(); }

  // Starts waiting. `readOne` is called while the socket has input; it must
  // receive one whole message (or call stop()).
  void start(std::weak_ptr<void> owner, std::function<void()> readOne);

  // Schedules a drain on the loop: call after any send on the socket.
  void poke();

  // Cancels waits and gives the descriptor back to libzmq. Idempotent.
  void stop();

 private:
  // Messages read per turn of the loop before its other ready work runs.
  static constexpr int kDrainBatch = 64;

  void arm();
  void drain();

  boost::asio::io_context& loop_;
  zmq::socket_t& socket_;
  boost::asio::posix::stream_descriptor fd_;
  std::weak_ptr<void> owner_;
  std::function<void()> readOne_;
  bool started_ = false;
  bool stopped_ = false;
  bool waiting_ = false;      // An async_wait is pending.
  bool drainPosted_ = false;  // A drain is queued on the loop.
};

// Receives one whole message without blocking, keeping at most `keep` frames
// in `frames` and discarding the rest. Returns the total number of frames,
// 0 when nothing was ready.
size_t receiveMessage(zmq::socket_t& socket, std::vector<zmq::message_t>& frames, size_t keep);

// The peer's address as libzmq saw it ("127.0.0.1"), or "" (ipc, inproc).
std::string peerAddress(zmq::message_t& frame);

// What Router and Dealer share: the socket, its monitor, options, counters
// and the rate-limited warning. Lives in a shared_ptr; the public classes own
// it and close it when they die.
class ZmqEndpoint : public std::enable_shared_from_this<ZmqEndpoint> {
 public:
  virtual ~ZmqEndpoint();

  // Closes the sockets; no callback runs afterwards. Idempotent.
  void close();
  bool closed() const { return closed_; }

  const TransportCounters& counters() const { return counters_; }
  const TransportOptions& options() const { return options_; }

 protected:
  ZmqEndpoint(boost::asio::io_context& loop, zmq::context_t& context, zmq::socket_type type,
              TransportOptions options);

  // Applies the options common to both sides. May throw zmq::error_t.
  void applySocketOptions();

  // Starts the socket monitor for `events` (ZMQ_EVENT_*); must precede
  // bind/connect so that no event is missed. May throw zmq::error_t.
  void startMonitor(int events);

  // Starts serving both sockets. Call once, after bind/connect.
  void startWatching();

  // One inbound message: `frames` holds up to `keep` frames of `total`.
  virtual size_t framesToKeep() const = 0;
  virtual void onMessage(std::vector<zmq::message_t>& frames, size_t total) = 0;
  // `value` is the event's value: the file descriptor for ACCEPTED and
  // DISCONNECTED (zmq_socket_monitor(3)).
  virtual void onMonitorEvent(uint16_t event, uint32_t value, std::string_view endpoint) = 0;

  // Sends the frames as one message, without blocking. `what` names the
  // peer in errors. Counts sent or send_failures.
  Status sendMessage(std::initializer_list<std::string_view> frames, std::string_view what);

  // Logs one warning about a dropped message, rate-limited.
  void warnDropped(std::string_view peer, std::string_view reason);

  boost::asio::io_context& loop_;
  TransportOptions options_;
  zmq::socket_t socket_;
  TransportCounters counters_;

 private:
  void readMessage();
  void readMonitorEvent();

  zmq::context_t& context_;
  zmq::socket_t monitor_;  // PAIR end of zmq_socket_monitor; invalid when not monitored.
  ZmqWatch watch_;
  std::unique_ptr<ZmqWatch> monitorWatch_;
  LogLimiter dropWarnings_;
  std::vector<zmq::message_t> frames_;  // Reused between reads.
  bool closed_ = false;
};

}  // namespace agora::detail
