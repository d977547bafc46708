#pragma once

// A listening Unix socket that outlives the daemon serving it.
//
// The agent's executors outlive the agent. While an agent restarts, nobody
// listens on its executor socket: every executor's reconnection attempt is
// refused and retried on a timer, and the new agent gets its executors back
// one retry interval after it binds, in a storm of wake-ups on a machine
// already busy with its recovery. A keeper, a small process started by the
// first agent, holds a copy of the listening socket instead. While no agent
// runs, the kernel queues the executors' connections on it (each executor
// connects once and waits, using no CPU); the next agent takes the socket
// from the keeper and accepts them all at once. systemd's socket activation
// and file descriptor store serve the same purpose; the keeper works without
// systemd, after a crash and under `kill -9` alike.
//
//   agent (first run)              keeper                 executors
//   bind + listen executors.sock
//   fork ----------------------->  holds the socket
//   connect executors.keeper ----> sends the socket (SCM_RIGHTS)
//   ... kill -9 ...                still listening   <--- connect (queued)
//   agent (next run)
//   connect executors.keeper ----> sends the socket
//   accept ----------------------------------------------> handshakes
//
// The keeper:
// - is a grandchild of the daemon's first run, in a session of its own, named
//   "agora-keeper" (prctl), with no open files but its two sockets;
// - answers only peers of its own user (SO_PEERCRED);
// - exits when asked (release()), when its socket path no longer leads to it,
//   or when no daemon has been connected to it for `idle_timeout` (the agent
//   passes --recovery_timeout: by then its executors have given up too).

#include <sys/types.h>

#include <chrono>
#include <string>

#include "agora/common/result.hpp"
#include "agora/common/status.hpp"

namespace agora {

struct SocketKeeperOptions {
  std::string socket_path;  // The listening socket, e.g. <work_dir>/executors.sock.
  std::string keeper_path;  // The keeper's own socket, e.g. <work_dir>/executors.keeper.
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(15)};
  int backlog = 4096;  // listen()'s backlog (the kernel caps it at somaxconn).
};

// The daemon's side. Moves only; closing it (destruction) leaves the keeper
// waiting for the next run, release() stops it.
class KeptSocket {
 public:
  // Takes the socket from the keeper of a previous run, or (none, or it does
  // not hold `socket_path`) binds a new one and starts a keeper for it.
  // Must run before the process starts any thread: it forks. When no keeper
  // can be started, the socket is still returned (keeperPid() is 0 and
  // warning() says why; also when `keeper_path` is too long for a Unix
  // socket): the daemon works as without a keeper. Errors: `socket_path` is
  // too long (InvalidArgument) or cannot be bound (IoError).
  static Result<KeptSocket> open(const SocketKeeperOptions& options);

  KeptSocket() = default;
  KeptSocket(KeptSocket&& other) noexcept;
  KeptSocket& operator=(KeptSocket&& other) noexcept;
  ~KeptSocket();

  // The listening socket (close-on-exec). takeListener() hands it over: the
  // caller closes it (a Router given it as TransportOptions::listen_fd does).
  int listener() const { return listener_; }
  int takeListener();

  // Whether the socket came from a previous run's keeper.
  bool inherited() const { return inherited_; }
  pid_t keeperPid() const { return keeperPid_; }
  const std::string& warning() const { return warning_; }

  // Asks the keeper to exit and removes its socket: the daemon stops for
  // good (its executors are gone). Idempotent.
  void release();

 private:
  int listener_ = -1;
  int control_ = -1;  // Connection to the keeper, open for the daemon's life.
  bool inherited_ = false;
  pid_t keeperPid_ = 0;
  std::string warning_;
};

}  // namespace agora
