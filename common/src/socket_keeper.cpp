// The socket keeper (socket_keeper.hpp). The keeper's loop runs in a forked
// child of a possibly multi-threaded process (tests): it makes system calls
// only, allocates nothing and touches no lock.

#include "agora/common/socket_keeper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

namespace agora {

namespace {

// What the keeper sends with the socket, so that a daemon never mistakes
// another program's socket for its keeper.
constexpr char kGreeting[] = "agora-socket-keeper 1";
constexpr char kQuit = 'q';

// The keeper's one message, with the socket attached. The pid is its own:
// SO_PEERCRED would name the process that called listen(), the daemon.
struct Hello {
  char greeting[sizeof(kGreeting)];
  int32_t pid;
};

std::string errnoText(std::string_view what, const std::string& path, int error) {
  return std::string(what) + " '" + path + "': " + std::strerror(error);
}

Result<sockaddr_un> unixAddress(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return Status::InvalidArgument("Socket path '" + path + "' must be 1 to " +
                                   std::to_string(sizeof(address.sun_path) - 1) + " bytes");
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

// The message carrying a Hello in `data` and a socket in `control`, for
// sendmsg() and recvmsg() alike.
msghdr helloMessage(Hello* hello, iovec* data, char* control, size_t controlSize) {
  *data = iovec{hello, sizeof(*hello)};
  msghdr message{};
  message.msg_iov = data;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = controlSize;
  return message;
}

// Removes the keeper's path if it still leads to this keeper's socket.
void unlinkOwn(const char* keeperPath, ino_t inode) {
  struct stat info {};
  if (::stat(keeperPath, &info) == 0 && info.st_ino == inode) ::unlink(keeperPath);
}

// The keeper. `listener` and `server` are its sockets; `inode` is the one its
// socket path must keep leading to. Never returns.
[[noreturn]] void runKeeper(int listener, int server, ino_t inode, const char* keeperPath,
                            std::chrono::milliseconds idleTimeout) {
  // Only the two sockets, at known numbers; nothing inherited may stay open
  // (a pipe held open here would hang whoever waits for its end).
  // Lifted above 4 first, so that moving one cannot overwrite the other.
  const int listenerCopy = ::fcntl(listener, F_DUPFD, 10);
  const int serverCopy = ::fcntl(server, F_DUPFD, 10);
  if (listenerCopy < 0 || serverCopy < 0 || ::dup2(listenerCopy, 3) < 0 || ::dup2(serverCopy, 4) < 0)
    ::_exit(1);
  int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
  }
  ::close_range(5, ~0U, 0);
  ::fcntl(3, F_SETFD, FD_CLOEXEC);
  ::fcntl(4, F_SETFD, FD_CLOEXEC);
  listener = 3;
  server = 4;
  ::prctl(PR_SET_NAME, "agora-keeper", 0, 0, 0);
  ::chdir("/");
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD}) ::signal(signal, SIG_DFL);
  ::signal(SIGPIPE, SIG_IGN);

  const uid_t self = ::geteuid();
  int daemon = -1;  // The connected daemon, if any.
  const int idleMs = static_cast<int>(std::min<int64_t>(idleTimeout.count(), 1 << 30));
  int idleLeftMs = idleMs;
  constexpr int kCheckMs = 1000;  // How often the socket path is checked.
  for (;;) {
    // The socket path must still lead here: a removed work dir, or a newer
    // keeper bound in its place, ends this one.
    struct stat info {};
    if (::stat(keeperPath, &info) != 0 || info.st_ino != inode) ::_exit(0);
    pollfd fds[2] = {{server, POLLIN, 0}, {daemon, POLLIN, 0}};
    const int wait = daemon >= 0 ? kCheckMs : std::min(kCheckMs, idleLeftMs);
    const int ready = ::poll(fds, daemon >= 0 ? 2 : 1, wait);
    if (ready < 0 && errno != EINTR) ::_exit(1);
    if (daemon < 0 && ready == 0) {
      idleLeftMs -= wait;
      if (idleLeftMs <= 0) {
        unlinkOwn(keeperPath, inode);
        ::_exit(0);
      }
    }
    if (daemon >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      char byte = 0;
      const ssize_t got = ::recv(daemon, &byte, 1, MSG_DONTWAIT);
      if (got == 1 && byte == kQuit) {
        unlinkOwn(keeperPath, inode);
        ::_exit(0);
      }
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        ::close(daemon);  // The daemon is gone: wait for the next.
        daemon = -1;
        idleLeftMs = idleMs;
      }
    }
    if ((fds[0].revents & POLLIN) != 0) {
      const int peer = ::accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
      if (peer < 0) continue;
      ucred credentials{};
      socklen_t size = sizeof(credentials);
      if (::getsockopt(peer, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0 ||
          (credentials.uid != self && credentials.uid != 0)) {
        ::close(peer);
        continue;
      }
      char control[CMSG_SPACE(sizeof(int))] = {};
      Hello hello{};
      std::memcpy(hello.greeting, kGreeting, sizeof(kGreeting));
      hello.pid = static_cast<int32_t>(::getpid());
      iovec data;
      msghdr message = helloMessage(&hello, &data, control, sizeof(control));
      cmsghdr* header = CMSG_FIRSTHDR(&message);
      header->cmsg_level = SOL_SOCKET;
      header->cmsg_type = SCM_RIGHTS;
      header->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(header), &listener, sizeof(int));
      if (::sendmsg(peer, &message, MSG_NOSIGNAL) < 0) {
        ::close(peer);
        continue;
      }
      // The newest daemon is the one to watch; an older connection left
      // open belongs to a run that is ending.
      if (daemon >= 0) ::close(daemon);
      daemon = peer;
    }
  }
}

// Connects to the keeper at `keeperPath` and receives the socket. NotFound:
// no keeper listens there.
struct FromKeeper {
  int listener = -1;
  int control = -1;
  pid_t pid = 0;
};

Result<FromKeeper> askKeeper(const std::string& keeperPath) {
  AGORA_ASSIGN_OR_RETURN(sockaddr_un address, unixAddress(keeperPath));
  const int control = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (control < 0) return Status::IoError(errnoText("Failed to create a socket for", keeperPath, errno));
  if (::connect(control, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    ::close(control);
    if (error == ENOENT || error == ECONNREFUSED)
      return Status::NotFound("No socket keeper at '" + keeperPath + "'");
    return Status::IoError(errnoText("Failed to connect to the socket keeper at", keeperPath, error));
  }
  FromKeeper result;
  result.control = control;
  auto fail = [&](std::string why) -> Status {
    ::close(control);
    if (result.listener >= 0) ::close(result.listener);
    return Status::IoError("The socket keeper at '" + keeperPath + "' " + why);
  };
  pollfd ready{control, POLLIN, 0};
  if (::poll(&ready, 1, 2000) != 1) return fail("did not answer within 2 s");
  Hello hello{};
  char control_space[CMSG_SPACE(sizeof(int) * 4)] = {};
  iovec data;
  msghdr message = helloMessage(&hello, &data, control_space, sizeof(control_space));
  const ssize_t got = ::recvmsg(control, &message, MSG_CMSG_CLOEXEC);
  if (got < 0) return fail(std::string("could not be read: ") + std::strerror(errno));
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof(int));
      if (result.listener < 0) {
        result.listener = fd;
      } else {
        ::close(fd);
      }
    }
  }
  if (got != static_cast<ssize_t>(sizeof(hello)) ||
      std::memcmp(hello.greeting, kGreeting, sizeof(kGreeting)) != 0 ||
      (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || hello.pid <= 0) {
    return fail("is not an Agora socket keeper");
  }
  if (result.listener < 0) return fail("sent no socket");
  result.pid = hello.pid;
  return result;
}

// Whether `fd` is a listening Unix stream socket bound to `path`.
bool listensOn(int fd, const std::string& path) {
  int value = 0;
  socklen_t size = sizeof(value);
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &size) != 0 || value != 1) return false;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &size) != 0 || value != SOCK_STREAM) return false;
  sockaddr_un address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
      address.sun_family != AF_UNIX) {
    return false;
  }
  if (std::strncmp(address.sun_path, path.c_str(), sizeof(address.sun_path)) != 0) return false;
  // And the path still leads to a socket (a removed file would leave the
  // socket unreachable).
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode);
}

// Asks the keeper to exit and waits (a second at most) until it has: its
// path is then free for the next keeper.
void sendQuit(int control) {
  const char quit = kQuit;
  if (::send(control, &quit, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) return;
  pollfd gone{control, POLLIN, 0};
  char byte = 0;
  while (::poll(&gone, 1, 1000) == 1 && ::recv(control, &byte, 1, MSG_DONTWAIT) > 0) {
  }
}

// A Unix socket of `type` listening on `path` (a file left there by a
// previous run is replaced).
Result<int> bindListener(const std::string& path, int type, int backlog) {
  AGORA_ASSIGN_OR_RETURN(sockaddr_un address, unixAddress(path));
  const int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IoError(errnoText("Failed to create a socket for", path, errno));
  ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(fd, backlog) != 0) {
    const int error = errno;
    ::close(fd);
    return Status::IoError(errnoText("Failed to listen on", path, error));
  }
  return fd;
}

// Starts a keeper for `listener`; the caller then connects to it like any
// later run. Returns why not, when it could not.
Status startKeeper(const SocketKeeperOptions& options, int listener) {
  AGORA_ASSIGN_OR_RETURN(int server, bindListener(options.keeper_path, SOCK_SEQPACKET, /*backlog=*/16));
  ::chmod(options.keeper_path.c_str(), 0600);
  struct stat info {};
  if (::stat(options.keeper_path.c_str(), &info) != 0) {
    ::close(server);
    return Status::IoError(errnoText("Failed to stat", options.keeper_path, errno));
  }
  const ino_t inode = info.st_ino;
  const pid_t child = ::fork();
  if (child < 0) {
    const int error = errno;
    ::close(server);
    ::unlink(options.keeper_path.c_str());
    return Status::IoError(errnoText("Failed to fork a socket keeper for", options.socket_path, error));
  }
  if (child == 0) {
    // A session of its own, and reparented to init (or the subreaper) by
    // the second fork: the daemon neither waits for it nor takes its
    // signals, and it outlives the daemon like the executors do.
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    runKeeper(listener, server, inode, options.keeper_path.c_str(), options.idle_timeout);
  }
  ::close(server);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return Status::OK();
}

}  // namespace

Result<KeptSocket> KeptSocket::open(const SocketKeeperOptions& options) {
  AGORA_RETURN_IF_ERROR(unixAddress(options.socket_path).status());
  KeptSocket kept;
  // A keeper path too long for a Unix socket finds no keeper here and
  // starts none below: the socket is served without one.
  Result<FromKeeper> previous = askKeeper(options.keeper_path);
  if (previous.ok()) {
    if (listensOn(previous->listener, options.socket_path)) {
      kept.listener_ = previous->listener;
      kept.control_ = previous->control;
      kept.keeperPid_ = previous->pid;
      kept.inherited_ = true;
      return kept;
    }
    // Another path (a moved work dir) or a removed socket file: that keeper
    // serves nobody any more.
    sendQuit(previous->control);
    ::close(previous->control);
    ::close(previous->listener);
    kept.warning_ = "the socket keeper at '" + options.keeper_path + "' held another socket; replaced";
  } else if (previous.error().code() != Status::Code::kNotFound) {
    kept.warning_ = previous.error().message() + "; replaced";
  }

  AGORA_ASSIGN_OR_RETURN(kept.listener_, bindListener(options.socket_path, SOCK_STREAM, options.backlog));
  if (Status started = startKeeper(options, kept.listener_); !started.ok()) {
    kept.warning_ =
        started.message() + "; no socket keeper, executors wait for the socket while the agent restarts";
    return kept;
  }
  Result<FromKeeper> keeper = askKeeper(options.keeper_path);
  if (!keeper.ok()) {
    kept.warning_ = keeper.error().message();
    return kept;
  }
  ::close(keeper->listener);  // The same socket as ours.
  kept.control_ = keeper->control;
  kept.keeperPid_ = keeper->pid;
  return kept;
}

KeptSocket::KeptSocket(KeptSocket&& other) noexcept { *this = std::move(other); }

KeptSocket& KeptSocket::operator=(KeptSocket&& other) noexcept {
  if (this == &other) return *this;
  if (listener_ >= 0) ::close(listener_);
  if (control_ >= 0) ::close(control_);
  listener_ = std::exchange(other.listener_, -1);
  control_ = std::exchange(other.control_, -1);
  inherited_ = other.inherited_;
  keeperPid_ = other.keeperPid_;
  warning_ = std::move(other.warning_);
  return *this;
}

KeptSocket::~KeptSocket() {
  if (listener_ >= 0) ::close(listener_);
  if (control_ >= 0) ::close(control_);
}

int KeptSocket::takeListener() { return std::exchange(listener_, -1); }

void KeptSocket::release() {
  if (control_ < 0) return;
  sendQuit(control_);
  ::close(control_);
  control_ = -1;
  keeperPid_ = 0;
}

}  // namespace agora
