#include "driver_thread.hpp"

#include <pthread.h>
#include <signal.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "agora/common/logging.hpp"

namespace agora::sdk::detail {

namespace {

// Blocks the asynchronous signals in the calling thread while it lives, so
// that threads started meanwhile inherit the mask.
class BlockSignals {
 public:
  BlockSignals() {
    sigset_t signals;
    sigemptyset(&signals);
    for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&signals, signal);
    pthread_sigmask(SIG_BLOCK, &signals, &previous_);
  }
  ~BlockSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

 private:
  sigset_t previous_;
};

}  // namespace

DriverThread::DriverThread()
    : guard_(std::make_unique<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
          loop_.get_executor())) {
  BlockSignals blocked;
  worker_ = std::make_unique<boost::asio::thread_pool>(1);
}

DriverThread::~DriverThread() {
  stopLoop();
  join();
  worker_->join();
}

bool DriverThread::start(std::function<void()> first, std::function<void()> afterLoop) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (started_) return false;
  started_ = true;
  post(std::move(first));
  BlockSignals blocked;
  thread_ = std::thread([this, afterLoop = std::move(afterLoop)] {
    loopThreadId_ = std::this_thread::get_id();
    try {
      loop_.run();
    } catch (const std::exception& e) {
      // Handlers do not throw; a callback that does ends the driver rather
      // than the process.
      logger("driver")->error("Driver loop ended by an exception: {}", e.what());
    }
    if (afterLoop) afterLoop();
    zmq_.close();
  });
  return true;
}

bool DriverThread::started() const { return started_; }

void DriverThread::post(std::function<void()> fn) { boost::asio::post(loop_, std::move(fn)); }

void DriverThread::dispatch(std::function<void()> fn) {
  if (onLoopThread()) {
    fn();
  } else {
    post(std::move(fn));
  }
}

bool DriverThread::onLoopThread() const { return loopThreadId_.load() == std::this_thread::get_id(); }

void DriverThread::stopLoop() {
  // Let the handlers already queued run (a teardown posted just before),
  // then stop.
  post([this] {
    guard_.reset();
    loop_.stop();
  });
}

Status DriverThread::joinChecked(std::string_view driver) {
  if (!started()) return Status::FailedPrecondition("The " + std::string(driver) + " driver was not started");
  if (onLoopThread()) return Status::FailedPrecondition("join() called on the driver's thread (from a callback)");
  join();
  return Status::OK();
}

void DriverThread::join() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (thread_.joinable()) thread_.join();
}

}  // namespace agora::sdk::detail
