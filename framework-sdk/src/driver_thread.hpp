#pragma once

// The thread a networked driver owns (docs/internals.md, "One loop"): an
// io_context run by one thread, the AsioClock on it, a ZeroMQ context, and a
// worker for blocking work (GET /master/info). Shared by
// AgoraSchedulerDriver and AgoraExecutorDriver; private to the SDK so that
// the public headers show no Asio or ZeroMQ type.

#include <utility>  // Before any Asio header (STYLE.md).

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <zmq.hpp>

#include "agora/common/clock.hpp"
#include "agora/common/status.hpp"

namespace agora::sdk::detail {

// The driver's threads (loop, worker, and the ZeroMQ I/O threads they
// start) never take the process's asynchronous signals (SIGINT, SIGTERM,
// SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2): those stay with the application's
// threads (ShutdownSignals), whenever the driver was created.
class DriverThread {
 public:
  DriverThread();
  // Stops the loop if it still runs and joins the thread.
  ~DriverThread();

  DriverThread(const DriverThread&) = delete;
  DriverThread& operator=(const DriverThread&) = delete;

  boost::asio::io_context& loop() { return loop_; }
  zmq::context_t& zmq() { return zmq_; }
  Clock& clock() { return clock_; }

  // Starts the thread: it runs `first` on the loop, then the loop until
  // stopLoop(), then `afterLoop` on the same thread (closing sockets, so
  // that their linger applies), then closes the ZeroMQ context, which waits
  // for the lingering messages to leave. Only the first call starts
  // anything; later ones return false.
  bool start(std::function<void()> first, std::function<void()> afterLoop);
  bool started() const;

  // Runs `fn` on the loop, later. Safe from any thread; dropped once the
  // loop has ended.
  void post(std::function<void()> fn);
  // Runs `fn` now when called on the loop thread, else posts it: a call
  // made from a callback takes effect before the next callback.
  void dispatch(std::function<void()> fn);
  bool onLoopThread() const;

  // Makes the loop return once the handlers already queued have run. Safe
  // from any thread.
  void stopLoop();

  // Runs `work` on the worker thread, then `done` on the loop.
  template <typename T>
  void offload(std::function<T()> work, std::function<void(T)> done) {
    boost::asio::post(*worker_, [this, work = std::move(work), done = std::move(done)]() mutable {
      T result = work();
      post([done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
    });
  }

  // Waits for the thread (loop, afterLoop and context close) to end.
  // Precondition: not on the loop thread.
  void join();

  // join() for a driver's join(): FailedPrecondition, naming `driver`, when
  // the thread was never started or this is the loop thread (a callback).
  Status joinChecked(std::string_view driver);

 private:
  boost::asio::io_context loop_;
  zmq::context_t zmq_;
  AsioClock clock_{loop_};
  std::unique_ptr<boost::asio::thread_pool> worker_;  // One thread.
  // start() and join() each hold this; started() does not, so a callback
  // may ask while another thread waits in join().
  std::mutex mutex_;
  std::atomic<bool> started_{false};
  std::thread thread_;  // Guarded by mutex_.
  std::atomic<std::thread::id> loopThreadId_{};
  std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
};

}  // namespace agora::sdk::detail
