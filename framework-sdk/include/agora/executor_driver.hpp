#pragma once

// AgoraExecutorDriver: the executor driver a custom executor process uses.
// The agent starts the executor with the AGORA_* environment
// (ExecutorEnvironment, executor.hpp); the driver connects to the agent's
// executor socket on its own thread and runs every Executor callback there,
// in order (the contract in executor.hpp).
//
//   class Worker : public agora::sdk::Executor { ... };
//
//   int main() {
//     Worker worker;
//     agora::sdk::AgoraExecutorDriver driver(worker);
//     return driver.run().ok() ? 0 : 1;   // until the executor calls stop()
//   }
//
// Agent restart: when the framework checkpoints, the driver resubscribes to
// the restarted agent (disconnected(), then subscribed() again) and resends
// the updates the agent had not acknowledged.
//
// Threads: calls may be made from any thread. From a callback they take
// effect at once; from other threads they are queued to the driver's thread
// in order (sendStatusUpdate() then returns OK once queued; its errors are
// logged).

#include <functional>
#include <memory>

#include "agora/common/clock.hpp"
#include "agora/common/result.hpp"
#include "agora/common/status.hpp"
#include "agora/executor.hpp"

namespace agora::sdk {

class AgoraExecutorDriver final : public ExecutorDriver {
 public:
  // The environment from ExecutorEnvironment::fromProcess(): start() fails
  // (join() returns the error naming the variable) when it is incomplete.
  explicit AgoraExecutorDriver(Executor& executor);
  // An explicit environment (tests, embedding). `executor` must outlive the
  // driver; it is not called before start(), so it may be constructed after
  // the driver (with the driver's clock()).
  AgoraExecutorDriver(Executor& executor, ExecutorEnvironment environment);

  // Stops the driver if it runs and waits for its thread. Not from a
  // callback.
  ~AgoraExecutorDriver() override;

  AgoraExecutorDriver(const AgoraExecutorDriver&) = delete;
  AgoraExecutorDriver& operator=(const AgoraExecutorDriver&) = delete;

  // Connects to the agent and subscribes. A second call is ignored.
  void start() override;

  // Blocks until the driver stopped (the executor called stop(), the agent
  // was lost for good, or the shutdown grace period passed) and the last
  // messages left. OK then; the error when the environment was incomplete
  // or the agent's socket unusable. FailedPrecondition on the driver's
  // thread or before start().
  Status join();

  // start(), then join().
  Status run();

  // Runs `fn` on the driver's thread (after what is already queued): how a
  // worker thread hands results to the executor. Dropped after the driver
  // stopped.
  void post(std::function<void()> fn);

  // Timers on the driver's thread. Use only on the driver's thread.
  Clock& clock();

  // The environment the driver uses (valid after construction; fields are
  // empty when it could not be read).
  const ExecutorEnvironment& environment() const;

  // ExecutorDriver (executor.hpp).
  void stop() override;
  Status sendStatusUpdate(v1::TaskStatus status) override;
  void sendFrameworkMessage(const std::string& data) override;
  // A thread-safe snapshot; exact on the driver's thread.
  State state() const override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace agora::sdk
