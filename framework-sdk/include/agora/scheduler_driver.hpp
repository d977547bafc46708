#pragma once

// AgoraSchedulerDriver: the scheduler driver a framework uses against a real
// master. It owns one thread, on which it talks to the master (ZeroMQ) and
// runs every Scheduler callback, in order; the contract is the one in
// scheduler.hpp.
//
//   class Pi : public agora::sdk::Scheduler { ... };
//
//   Pi scheduler;
//   agora::v1::FrameworkInfo framework;
//   framework.set_user("alice");
//   framework.set_name("pi");
//   framework.add_roles("dev");
//   agora::sdk::AgoraSchedulerDriver driver(scheduler, framework, "10.0.0.1:5050");
//   agora::Status status = driver.run();   // start() + join()
//   // The scheduler calls driver.stop() when it is done.
//
// The master: its HTTP address, HOST:PORT (DESIGN.md). The driver asks
// GET http://HOST:PORT/master/info for the master's ZeroMQ endpoint and
// connects there. It keeps asking, with backoff, until the master answers
// (or SchedulerOptions::masterTimeout passes, at start only). When the
// connection to the master breaks (the master died or restarted) the driver
// calls disconnected(), resolves the master again (its ZeroMQ endpoint may
// have changed) and resubscribes with its framework id; subscribed() follows
// once the master accepts.
//
// Threads: every call may be made from any thread. Calls made on the
// driver's thread (from a callback) take effect at once; calls from other
// threads are queued to the driver's thread, in the order they were made.
// The driver reference given to callbacks is this object.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agora/common/clock.hpp"
#include "agora/common/status.hpp"
#include "agora/scheduler.hpp"

namespace agora::sdk {

class AgoraSchedulerDriver final : public SchedulerDriver {
 public:
  // `scheduler` must outlive the driver. `framework` is sent in SUBSCRIBE
  // (set framework.id to fail over to an existing framework). `master` is
  // HOST:PORT; a malformed one makes start() fail (error() is called and
  // join() returns the error). Nothing happens before start().
  AgoraSchedulerDriver(Scheduler& scheduler, v1::FrameworkInfo framework, std::string master,
                       SchedulerOptions options = {});

  // Stops the driver if it runs, as stop(true) does (the framework is NOT
  // torn down: its tasks keep running for framework.failover_timeout), and
  // waits for its thread. Must not be called from a callback.
  ~AgoraSchedulerDriver() override;

  AgoraSchedulerDriver(const AgoraSchedulerDriver&) = delete;
  AgoraSchedulerDriver& operator=(const AgoraSchedulerDriver&) = delete;

  // Starts the driver's thread: resolve the master, connect, subscribe.
  // A second call is ignored.
  void start() override;

  // Blocks until the driver has stopped (stop(), teardown(), or an ERROR
  // from the master) and whatever it sent last has left (a teardown is
  // not lost when the process exits right after). Returns OK after stop()
  // or teardown(); the error otherwise (the master's ERROR message, a
  // malformed master address, the master not reachable within
  // masterTimeout). FailedPrecondition when called on the driver's thread
  // or before start().
  Status join();

  // start(), then join().
  Status run();

  // Runs `fn` on the driver's thread (after the callbacks and calls already
  // queued). For work that must touch the scheduler's state from another
  // thread. Dropped once the driver has stopped.
  void post(std::function<void()> fn);

  // The driver's clock: timers whose callbacks run on the driver's thread,
  // between scheduler callbacks (a cron schedule, a launch timeout). Use it
  // only on the driver's thread (from callbacks, or inside post()).
  Clock& clock();

  // SchedulerDriver (scheduler.hpp).
  void stop(bool failover = false) override;
  void accept(const std::vector<v1::OfferID>& offerIds, const std::vector<v1::Offer::Operation>& operations,
              const v1::Filters& filters = v1::Filters()) override;
  void launch(const std::vector<v1::OfferID>& offerIds, const std::vector<v1::TaskInfo>& tasks,
              const v1::Filters& filters = v1::Filters()) override;
  void decline(const std::vector<v1::OfferID>& offerIds, const v1::Filters& filters = v1::Filters()) override;
  void suppress(const std::vector<std::string>& roles = {}) override;
  void revive(const std::vector<std::string>& roles = {}) override;
  void kill(const v1::TaskID& taskId, const std::optional<v1::AgentID>& agentId = std::nullopt,
            const std::optional<v1::KillPolicy>& killPolicy = std::nullopt) override;
  void shutdownExecutor(const v1::ExecutorID& executorId, const v1::AgentID& agentId) override;
  void acknowledge(const v1::TaskStatus& status) override;
  void acknowledgeOperationStatus(const v1::OperationStatus& status) override;
  void reconcile(const std::vector<v1::TaskStatus>& statuses = {}) override;
  void sendFrameworkMessage(const v1::ExecutorID& executorId, const v1::AgentID& agentId,
                            const std::string& data) override;
  void teardown() override;
  void call(v1::scheduler::Call call) override;
  // Thread-safe snapshots; exact on the driver's thread.
  std::optional<v1::FrameworkID> frameworkId() const override;
  State state() const override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace agora::sdk
