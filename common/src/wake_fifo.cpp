#include "agora/common/wake_fifo.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace agora {
namespace {

Status osError(const std::string& what, const std::string& path, int error) {
  return Status::IoError(what + " '" + path + "': " + std::strerror(error));
}

}  // namespace

Status makeWakeFifo(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISFIFO(st.st_mode)) return Status::OK();
    if (::unlink(path.c_str()) != 0) return osError("Failed to remove", path, errno);
  }
  if (::mkfifo(path.c_str(), 0644) != 0 && errno != EEXIST)
    return osError("Failed to create the FIFO", path, errno);
  // mkfifo applies the umask; waiters running as other users must read it.
  if (::chmod(path.c_str(), 0644) != 0) return osError("Failed to set the mode of", path, errno);
  return Status::OK();
}

Result<bool> wakeFifoWaiters(const std::string& path) {
  // Without a reader, a non-blocking open for writing fails with ENXIO.
  int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENXIO || errno == ENOENT) return false;
    return osError("Failed to open", path, errno);
  }
  // The last writer's close is the wake-up.
  ::close(fd);
  return true;
}

Result<WakeFifoWaiter> WakeFifoWaiter::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("No wake-up FIFO at '" + path + "'");
    return osError("Failed to open", path, errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument("'" + path + "' is not a FIFO");
  }
  return WakeFifoWaiter(fd);
}

WakeFifoWaiter::WakeFifoWaiter(WakeFifoWaiter&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

WakeFifoWaiter& WakeFifoWaiter::operator=(WakeFifoWaiter&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

WakeFifoWaiter::~WakeFifoWaiter() {
  if (fd_ >= 0) ::close(fd_);
}

bool WakeFifoWaiter::woken() const {
  if (fd_ < 0) return false;
  pollfd p{};
  p.fd = fd_;
  p.events = POLLIN;
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLIN)) != 0;
}

int WakeFifoWaiter::release() { return std::exchange(fd_, -1); }

}  // namespace agora
