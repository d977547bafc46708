#pragma once

// SchedulerDriverCore: the scheduler driver's logic over the two seams every
// Agora daemon uses (docs/internals.md): a Clock for time and timers, and a
// Messenger to send envelopes. Incoming envelopes are handed to handle().
// It owns no thread and no socket, so tests drive it with a FakeClock and an
// in-memory network, and the networked driver runs it on its own loop.
//
//   std::unique_ptr<SchedulerDriverCore> core;
//   auto messenger = network.attach(peer, [&](const PeerId& from, internal::Envelope&& e) {
//     core->handle(from, std::move(e));
//   });
//   core = std::make_unique<SchedulerDriverCore>(scheduler, framework, clock, *messenger);
//   core->start();
//
// Threading: single-threaded. Every method, handle() and the clock's timers
// must run on one thread (the loop); callbacks run there, inside handle() or
// a timer.

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "agora/common/clock.hpp"
#include "agora/common/messenger.hpp"
#include "agora/scheduler.hpp"

namespace agora::sdk {

// "scheduler:<uuid>", a new identity for each driver instance.
PeerId newSchedulerPeerId();

class SchedulerDriverCore final : public SchedulerDriver {
 public:
  // `scheduler`, `clock` and `messenger` must outlive the core. `framework`
  // is sent in SUBSCRIBE; set framework.id to fail over an existing
  // framework. `masterPeer` is the master's PeerId ("master").
  //
  // `facade`, when set, is the driver passed to callbacks instead of the
  // core itself (the networked driver passes itself, so that a scheduler
  // that keeps the reference may call it from any thread).
  SchedulerDriverCore(Scheduler& scheduler, v1::FrameworkInfo framework, Clock& clock, Messenger& messenger,
                      SchedulerOptions options = {}, PeerId masterPeer = "master",
                      SchedulerDriver* facade = nullptr);
  ~SchedulerDriverCore() override;

  SchedulerDriverCore(const SchedulerDriverCore&) = delete;
  SchedulerDriverCore& operator=(const SchedulerDriverCore&) = delete;

  // Delivers one envelope from the network. Anything but a scheduler_event
  // from the master peer is dropped (logged at debug level).
  void handle(const PeerId& from, internal::Envelope&& envelope);

  // The transport saw the connection to the master break (the networked
  // driver's DEALER reports it; libzmq keeps reconnecting underneath). When
  // subscribed, the driver treats the master as lost at once instead of
  // waiting for missed heartbeats: disconnected(), then resubscription with
  // backoff. Ignored in any other state.
  void masterDisconnected();

  // Called whenever the driver gives up on the master (missed heartbeats),
  // before it resubscribes; the networked driver re-resolves the master
  // here. Optional.
  void setMasterLostHook(std::function<void()> hook) { masterLostHook_ = std::move(hook); }

  // Called once when the driver reaches kStopped or kAborted. Optional.
  void setStoppedHook(std::function<void()> hook) { stoppedHook_ = std::move(hook); }

  // SchedulerDriver.
  void start() override;
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
  std::optional<v1::FrameworkID> frameworkId() const override;
  State state() const override { return state_; }

  // The FrameworkInfo the next SUBSCRIBE carries (id filled in once known).
  const v1::FrameworkInfo& frameworkInfo() const { return framework_; }

 private:
  void sendSubscribe();
  void scheduleSubscribeRetry();
  void onSubscribed(const v1::scheduler::Event::Subscribed& subscribed);
  void onMasterLost();
  void armWatchdog();
  void onWatchdog();
  void dispatch(v1::scheduler::Event&& event);
  // Sends `call` with framework_id if subscribed; returns false (and logs
  // `what`) if the call was dropped.
  bool send(v1::scheduler::Call call, const char* what);
  void sendAcknowledge(const v1::TaskStatus& status);
  void sendAcknowledgeOperation(const v1::OperationStatus& status);
  void cancelTimers();
  void finish(State final);
  SchedulerDriver& facade() { return facade_ ? *facade_ : *this; }

  Scheduler& scheduler_;
  v1::FrameworkInfo framework_;  // framework_.id is the id to fail over with, once known.
  Clock& clock_;
  Messenger& messenger_;
  SchedulerOptions options_;
  PeerId masterPeer_;
  SchedulerDriver* facade_;
  std::function<void()> masterLostHook_;
  std::function<void()> stoppedHook_;

  State state_ = State::kNotStarted;
  std::vector<std::string> suppressedRoles_;  // Sent with the next SUBSCRIBE.
  Duration backoff_{};                        // Nominal wait before the next SUBSCRIBE retry.
  TimerId subscribeTimer_ = 0;                // Pending SUBSCRIBE retry (0: none).
  TimerId watchdogTimer_ = 0;                 // Pending master-liveness check (0: none).
  Duration heartbeatInterval_{};              // From SUBSCRIBED.
  TimePoint lastEvent_{};                     // When the master was last heard from.
  std::minstd_rand random_;                   // Jitter of the backoff.
};

}  // namespace agora::sdk
