#pragma once

// A broadcast wake-up through a named pipe (FIFO). Waiters open the FIFO for
// reading and watch the descriptor; a waker opens it for writing and closes
// it again, and every waiter that had it open at that moment sees a hang-up
// (POLLHUP, which also makes it readable) until it closes. A waiter that
// opens it later sees nothing until the next wake.
//
// The agent uses one to tell its executors that its executor socket is back
// after a restart, so they reconnect at once instead of at their next
// reconnect timer, and need no short timer while it is away. Unlike inotify
// it has no per-user instance limit (128 by default, fewer than the
// executors of a large agent), and the wake reaches only those who wait.

#include <string>

#include "agora/common/result.hpp"

namespace agora {

// Creates the FIFO at `path` (mode 0644: any user may wait, only the owner
// may wake), replacing whatever that is not a FIFO is there.
Status makeWakeFifo(const std::string& path);

// Wakes every current waiter. Returns how it went: true if at least one
// waited, false if none did (or there is no FIFO); never blocks.
Result<bool> wakeFifoWaiters(const std::string& path);

// One waiter's descriptor: readable (hung up) once woken. Movable.
class WakeFifoWaiter {
 public:
  // Opens `path` for reading without blocking. NotFound: no FIFO there;
  // InvalidArgument: something else than a FIFO.
  static Result<WakeFifoWaiter> open(const std::string& path);

  WakeFifoWaiter(WakeFifoWaiter&& other) noexcept;
  WakeFifoWaiter& operator=(WakeFifoWaiter&& other) noexcept;
  WakeFifoWaiter(const WakeFifoWaiter&) = delete;
  WakeFifoWaiter& operator=(const WakeFifoWaiter&) = delete;
  ~WakeFifoWaiter();

  int fd() const { return fd_; }
  // Whether the wake has come (polls without waiting).
  bool woken() const;
  // Hands the descriptor over (the caller closes it).
  int release();

 private:
  explicit WakeFifoWaiter(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace agora
