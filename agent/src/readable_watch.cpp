// asioWatchReadable(): WatchReadable on an Asio loop. Each watch registers
// the descriptor with the loop's reactor for one async_wait and deregisters
// it (without closing it) when destroyed. Watching anew registers anew, and
// registering reports a descriptor that is readable already: nothing that
// became readable between two watches is missed (Asio's reactor is
// edge-triggered, and a one-shot async_wait armed after an edge would not
// see it).

#include <utility>  // Before any Asio header (STYLE.md).

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/error_code.hpp>

#include "agora/agent/containerizer.hpp"

namespace agora::agent {
namespace {

class AsioReadableWatch final : public ReadableWatch {
 public:
  AsioReadableWatch(boost::asio::io_context& loop, int fd) : descriptor_(loop) {
    boost::system::error_code error;
    descriptor_.assign(fd, error);
    assigned_ = !error;
  }

  ~AsioReadableWatch() override {
    *cancelled_ = true;
    if (assigned_) {
      boost::system::error_code ignored;
      descriptor_.cancel(ignored);
      (void)descriptor_.release();  // The descriptor is the caller's.
    }
  }

  bool assigned() const { return assigned_; }

  void arm(std::function<void()> ready) {
    descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                           [cancelled = cancelled_, ready = std::move(ready)](const boost::system::error_code& error) {
                             if (error || *cancelled) return;
                             ready();
                           });
  }

 private:
  boost::asio::posix::stream_descriptor descriptor_;
  bool assigned_ = false;
  // Set when the watch goes away; a completion already queued then does
  // nothing.
  std::shared_ptr<bool> cancelled_ = std::make_shared<bool>(false);
};

}  // namespace

WatchReadable asioWatchReadable(boost::asio::io_context& loop) {
  return [&loop](int fd, std::function<void()> ready) -> std::unique_ptr<ReadableWatch> {
    auto watch = std::make_unique<AsioReadableWatch>(loop, fd);
    if (!watch->assigned()) return nullptr;
    watch->arm(std::move(ready));
    return watch;
  };
}

}  // namespace agora::agent
