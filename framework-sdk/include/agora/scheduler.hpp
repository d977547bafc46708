#pragma once

// The scheduler side of the framework SDK: the callbacks a framework
// implements (`Scheduler`) and the calls it makes (`SchedulerDriver`), one to
// one with the Mesos v1 scheduler API (events and calls of
// agora/v1/scheduler.proto).
//
//   class MyScheduler : public agora::sdk::Scheduler { ... };
//
//   MyScheduler scheduler;
//   v1::FrameworkInfo framework;   // user, name, roles, capabilities...
//   SchedulerDriverCore driver(scheduler, framework, clock, messenger);
//   driver.start();                // SUBSCRIBE, retried until SUBSCRIBED
//
// Contract shared by every driver implementation:
//
// - Callbacks run one at a time, in the order the master sent the events, on
//   the driver's own thread (its event loop). A callback may call the driver;
//   those calls are sent before the next callback runs. Callbacks must not
//   block: the driver cannot receive anything while one runs.
// - Calls are asynchronous and best effort, like the master's protocol: the
//   answer, if any, arrives as a later event (a status update, an offer, a
//   rescind). A call made while the driver is not subscribed is dropped with
//   a warning; after every `subscribed` the scheduler should reconcile its
//   tasks (reconcile() with no tasks asks for all of them).
// - Offers are valid until accepted, declined or rescinded. Use an offer id
//   once.
// - Status updates that carry a uuid are reliable: the agent resends them
//   until they are acknowledged. By default the driver acknowledges each one
//   right after statusUpdate() returns ("implicit acknowledgements"); with
//   `SchedulerOptions::implicitAcknowledgements = false` the scheduler must
//   call acknowledge() itself, which lets it persist the state first.
// - Master loss: when no event (heartbeats included) arrives for
//   `missedHeartbeats` heartbeat intervals, the driver calls disconnected(),
//   then resubscribes with the framework id (failover) with randomized
//   exponential backoff and calls subscribed() again when it succeeds.
//   The master keeps the framework's tasks for FrameworkInfo.failover_timeout
//   seconds; set it if tasks must survive a scheduler or master restart.
// - ERROR from the master is fatal (invalid subscription, framework removed,
//   failed over by another scheduler instance): error() is called and the
//   driver stops without reconnecting.

#include <optional>
#include <string>
#include <vector>

#include "agora/common/clock.hpp"
#include "agora/v1/agora.pb.h"
#include "agora/v1/scheduler.pb.h"

namespace agora::sdk {

class SchedulerDriver;

// Implemented by the framework. Every callback gets the driver that calls it,
// valid for the duration of the callback (and for as long as the driver lives).
class Scheduler {
 public:
  virtual ~Scheduler() = default;

  // The master accepted the subscription (the first one, or a resubscription
  // after disconnected()). `frameworkId` is the id to persist for failover;
  // it equals FrameworkInfo.id when the framework had one.
  virtual void subscribed(SchedulerDriver& driver, const v1::FrameworkID& frameworkId,
                          const v1::MasterInfo& masterInfo) = 0;

  // The driver lost the master (no event for several heartbeat intervals).
  // Outstanding offers are invalid. The driver is resubscribing.
  virtual void disconnected(SchedulerDriver& driver) = 0;

  // New offers, each one agent x one role (Offer.allocation_info.role).
  virtual void offers(SchedulerDriver& driver, const std::vector<v1::Offer>& offers) = 0;

  // `offerId` can no longer be used (agent lost, offer timeout, ...). An
  // ACCEPT of it already in flight fails with TASK_LOST/TASK_DROPPED updates.
  virtual void offerRescinded(SchedulerDriver& driver, const v1::OfferID& offerId) = 0;

  // A task status update. With implicit acknowledgements the driver
  // acknowledges it when this returns (if status.uuid is set).
  virtual void statusUpdate(SchedulerDriver& driver, const v1::TaskStatus& status) = 0;

  // Opaque bytes sent by an executor (best effort).
  virtual void frameworkMessage(SchedulerDriver& driver, const v1::AgentID& agentId,
                                const v1::ExecutorID& executorId, const std::string& data) = 0;

  // The agent was removed; its tasks' updates (TASK_LOST, TASK_UNREACHABLE,
  // ...) arrive separately, in no particular order with this callback.
  virtual void agentLost(SchedulerDriver& driver, const v1::AgentID& agentId) = 0;

  // A custom executor exited; `status` is the raw wait status (absent when
  // the master did not know it).
  virtual void executorLost(SchedulerDriver& driver, const v1::ExecutorID& executorId,
                            const v1::AgentID& agentId, std::optional<int> status) = 0;

  // Fatal error from the master; the driver has stopped (see above).
  virtual void error(SchedulerDriver& driver, const std::string& message) = 0;

  // Optional. A HEARTBEAT from the master (every ~15 s).
  virtual void heartbeat(SchedulerDriver& /*driver*/) {}

  // Optional. The status of an operation that carried an
  // Offer.Operation.id. Acknowledged like task updates.
  virtual void operationStatus(SchedulerDriver& /*driver*/, const v1::OperationStatus& /*status*/) {}
};

// Driver settings. The defaults suit a production framework.
struct SchedulerOptions {
  // Acknowledge reliable updates right after statusUpdate() returns.
  bool implicitAcknowledgements = true;

  // Roles (a subset of FrameworkInfo.roles) that want no offers when the
  // driver subscribes; later changed with suppress() and revive().
  std::vector<std::string> suppressedRoles;

  // SUBSCRIBE is retried until SUBSCRIBED arrives: the first retry after
  // about `subscribeBackoffMin`, each later one after about twice as long,
  // capped at `subscribeBackoffMax`. Each wait is randomized to between
  // half and all of its nominal value.
  Duration subscribeBackoffMin = std::chrono::seconds(1);
  Duration subscribeBackoffMax = std::chrono::seconds(30);

  // The master is lost after this many heartbeat intervals without any
  // event (Mesos advises 5). The interval comes from SUBSCRIBED (15 s when
  // the master does not say).
  int missedHeartbeats = 5;

  // Networked driver (AgoraSchedulerDriver) only: at start, give up when the
  // master has not answered GET /master/info within this long; error() is
  // called and join() returns Unavailable. Unset: keep trying (a framework
  // may start before its master). After the first connection the driver
  // never gives up on a lost master.
  std::optional<Duration> masterTimeout;
};

// The calls. Implemented by SchedulerDriverCore (scheduler_core.hpp), which a
// test or any event loop can drive, and by the networked driver that owns
// its own thread. All calls are asynchronous; see the contract above.
class SchedulerDriver {
 public:
  enum class State {
    kNotStarted,   // Constructed; start() not called yet.
    kSubscribing,  // SUBSCRIBE sent, retried until SUBSCRIBED.
    kSubscribed,   // Calls go to the master.
    kStopped,      // stop() or teardown(); nothing is sent any more.
    kAborted,      // ERROR from the master; nothing is sent any more.
  };

  virtual ~SchedulerDriver() = default;

  // Starts subscribing. Precondition: state kNotStarted (a second call is
  // ignored).
  virtual void start() = 0;

  // Stops the driver: no more calls or callbacks. With `failover` false (the
  // default) a subscribed framework is torn down first, so the master kills
  // its tasks, as Mesos's driver does; with `failover` true the master
  // keeps the framework for failover_timeout so that a new scheduler
  // instance can resubscribe with the same framework id.
  virtual void stop(bool failover = false) = 0;

  // Applies `operations` (LAUNCH, LAUNCH_GROUP, RESERVE, UNRESERVE, CREATE,
  // DESTROY) in order to the resources of `offerIds` (same agent and role);
  // whatever is left is declined with `filters`.
  virtual void accept(const std::vector<v1::OfferID>& offerIds,
                      const std::vector<v1::Offer::Operation>& operations,
                      const v1::Filters& filters = v1::Filters()) = 0;

  // Shorthand: accept(offerIds, {LAUNCH tasks}, filters).
  virtual void launch(const std::vector<v1::OfferID>& offerIds, const std::vector<v1::TaskInfo>& tasks,
                      const v1::Filters& filters = v1::Filters()) = 0;

  // Returns the offers unused; the allocator does not offer those resources
  // to this framework again for filters.refuse_seconds (default 5 s).
  virtual void decline(const std::vector<v1::OfferID>& offerIds, const v1::Filters& filters = v1::Filters()) = 0;

  // Stops offers for `roles` (every role of the framework when empty).
  virtual void suppress(const std::vector<std::string>& roles = {}) = 0;

  // Unsuppresses `roles` (all when empty) and clears their decline filters.
  virtual void revive(const std::vector<std::string>& roles = {}) = 0;

  // Kills a task. `killPolicy` overrides the task's grace period (a second
  // kill can only shorten it). The answer is a status update (TASK_KILLED,
  // or TASK_LOST/UNKNOWN/GONE for a task the master does not know).
  virtual void kill(const v1::TaskID& taskId, const std::optional<v1::AgentID>& agentId = std::nullopt,
                    const std::optional<v1::KillPolicy>& killPolicy = std::nullopt) = 0;

  // Shuts down a custom executor (its tasks are killed).
  virtual void shutdownExecutor(const v1::ExecutorID& executorId, const v1::AgentID& agentId) = 0;

  // Acknowledges `status` (needs status.uuid and status.agent_id; a status
  // without uuid is not acknowledged and this does nothing). Only for
  // explicit acknowledgements; ignored with a warning otherwise.
  virtual void acknowledge(const v1::TaskStatus& status) = 0;

  // Acknowledges an operation status that carried a uuid (explicit mode).
  virtual void acknowledgeOperationStatus(const v1::OperationStatus& status) = 0;

  // Asks the master for the latest state of the tasks of `statuses` (their
  // task_id and, when set, agent_id); an empty vector asks for every task
  // the master knows (implicit reconciliation). Answers are status updates
  // with REASON_RECONCILIATION and no uuid.
  virtual void reconcile(const std::vector<v1::TaskStatus>& statuses = {}) = 0;

  // Sends opaque bytes to an executor (best effort).
  virtual void sendFrameworkMessage(const v1::ExecutorID& executorId, const v1::AgentID& agentId,
                                    const std::string& data) = 0;

  // Removes the framework: the master kills its tasks and forgets it. The
  // driver then stops (state kStopped).
  virtual void teardown() = 0;

  // Sends any other call (UPDATE_FRAMEWORK, REQUEST, inverse offers...).
  // The driver fills in framework_id.
  virtual void call(v1::scheduler::Call call) = 0;

  // The framework id: set from SUBSCRIBED (or the FrameworkInfo given to
  // the driver); nullopt before the first subscription of a new framework.
  virtual std::optional<v1::FrameworkID> frameworkId() const = 0;

  virtual State state() const = 0;
};

const char* toString(SchedulerDriver::State state);

}  // namespace agora::sdk
