#pragma once

// ExecutorDriverCore: the executor driver's logic over a Clock and a
// Messenger (docs/internals.md, "One loop, seams for everything else"). It
// owns no thread and no socket: the in-process cluster tests and the unit
// tests drive it with a FakeClock and an in-memory network, and the
// networked driver runs it on its own loop.
//
//   std::unique_ptr<ExecutorDriverCore> core;
//   auto messenger = network.attach(peer, [&](const PeerId& from, internal::Envelope&& e) {
//     core->handle(from, std::move(e));
//   });
//   core = std::make_unique<ExecutorDriverCore>(executor, environment, clock, *messenger, agentPeer);
//   core->start();
//
// Threading: single-threaded, like SchedulerDriverCore.

#include <deque>
#include <functional>
#include <map>
#include <random>
#include <string>

#include "agora/common/clock.hpp"
#include "agora/common/messenger.hpp"
#include "agora/executor.hpp"

namespace agora::sdk {

// "executor:<uuid>", new for each executor process run.
PeerId newExecutorPeerId();

struct ExecutorOptions {
  // Unacknowledged updates are sent again this often while subscribed
  // (messages to the agent are at-most-once).
  Duration statusUpdateRetryInterval = std::chrono::seconds(10);
  // The first SUBSCRIBE retry comes after about this long (randomized),
  // doubling up to ExecutorEnvironment::subscriptionBackoffMax.
  Duration subscribeBackoffMin = std::chrono::milliseconds(500);
};

class ExecutorDriverCore final : public ExecutorDriver {
 public:
  // `executor`, `clock` and `messenger` must outlive the core. `agentPeer`
  // is the agent's PeerId as the messenger knows it (a ZeroMQ DEALER has a
  // single peer; the in-memory network uses "agent:<uuid>"). A
  // ReconnectExecutor from another peer (a restarted agent) replaces it.
  // `facade`: the driver passed to callbacks, when not the core itself.
  ExecutorDriverCore(Executor& executor, ExecutorEnvironment environment, Clock& clock, Messenger& messenger,
                     PeerId agentPeer, ExecutorOptions options = {}, ExecutorDriver* facade = nullptr);
  ~ExecutorDriverCore() override;

  ExecutorDriverCore(const ExecutorDriverCore&) = delete;
  ExecutorDriverCore& operator=(const ExecutorDriverCore&) = delete;

  // Delivers one envelope: executor_event from the agent peer, or
  // reconnect_executor from any peer. Anything else is dropped.
  void handle(const PeerId& from, internal::Envelope&& envelope);

  // The transport noticed that the agent is gone (its socket closed). With
  // checkpointing the driver calls disconnected(), sends SUBSCRIBE at once
  // (the transport queues it and delivers it as soon as it connects again,
  // without waiting for this loop: a restarted agent gets its executors
  // back within the handshake), then, once connected again, resubscribes
  // with backoff until the recovery timeout; without checkpointing, it stops.
  void agentLost();

  // The transport (re)connected to the agent's socket. A driver that is
  // resubscribing after agentLost() sends SUBSCRIBE now rather than at its
  // next retry, unless the one queued by agentLost() is still current (no
  // update since, and this is the first connection since the loss): that
  // one has just gone out on this connection. Otherwise nothing (the first
  // SUBSCRIBE is already on its way).
  void agentConnected();

  // Called once when the driver reaches kStopped (the process should exit).
  void setStoppedHook(std::function<void()> hook) { stoppedHook_ = std::move(hook); }

  // ExecutorDriver.
  void start() override;
  void stop() override;
  Status sendStatusUpdate(v1::TaskStatus status) override;
  void sendFrameworkMessage(const std::string& data) override;
  State state() const override { return state_; }

  // Updates not yet acknowledged by the agent, oldest first.
  std::vector<v1::TaskStatus> unacknowledgedUpdates() const;
  // Tasks launched for which no update was acknowledged yet.
  std::vector<v1::TaskInfo> unacknowledgedTasks() const;
  const ExecutorEnvironment& environment() const { return environment_; }

 private:
  void sendSubscribe();
  void beginSubscribing(bool immediately);
  void scheduleSubscribeRetry();
  void scheduleUpdateRetry();
  void onSubscribed(const v1::executor::Event::Subscribed& subscribed);
  void onAcknowledged(const v1::TaskID& taskId, const std::string& uuid);
  void dispatch(v1::executor::Event&& event);
  void sendCall(v1::executor::Call call);
  void sendUpdate(const v1::TaskStatus& status);
  void cancelTimers();
  ExecutorDriver& facade() { return facade_ ? *facade_ : *this; }

  Executor& executor_;
  ExecutorEnvironment environment_;
  Clock& clock_;
  Messenger& messenger_;
  PeerId agentPeer_;
  ExecutorOptions options_;
  ExecutorDriver* facade_;
  std::function<void()> stoppedHook_;

  State state_ = State::kNotStarted;
  // Updates the agent has not acknowledged, in the order they were sent
  // (per-task order matters to the agent's status update manager).
  std::deque<v1::TaskStatus> updates_;
  // Launched tasks with no acknowledged update yet, by task id.
  std::map<std::string, v1::TaskInfo> tasks_;
  Duration backoff_{};
  TimerId subscribeTimer_ = 0;   // Next SUBSCRIBE retry.
  TimerId recoveryTimer_ = 0;    // Gives up resubscribing (checkpointing only).
  bool agentLost_ = false;       // Resubscribing after agentLost(), until SUBSCRIBED.
  bool subscribedOnConnection_ = false;  // agentConnected() sent a SUBSCRIBE; no agentLost() since.
  // agentLost() queued a SUBSCRIBE for the next connection, and nothing it
  // carries (updates, tasks) changed since: agentConnected() need not send
  // another. Cleared by that connection, by a second loss (the queued one
  // may have gone out on a connection that broke), and by SUBSCRIBED.
  bool subscribeQueued_ = false;
  TimerId updateTimer_ = 0;      // Next resend of unacknowledged updates.
  TimerId shutdownTimer_ = 0;    // Stops the driver after the shutdown grace period.
  std::minstd_rand random_;
};

}  // namespace agora::sdk
