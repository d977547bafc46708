#include "agora/executor_core.hpp"

#include <algorithm>
#include <utility>

#include "agora/common/id.hpp"
#include "agora/common/logging.hpp"
#include "backoff.hpp"

namespace agora::sdk {

namespace {

using v1::executor::Call;
using v1::executor::Event;

std::shared_ptr<spdlog::logger> log() {
  static auto logger = agora::logger("executor-driver");
  return logger;
}

double toSeconds(WallTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

const char* toString(ExecutorDriver::State state) {
  switch (state) {
    case ExecutorDriver::State::kNotStarted: return "NOT_STARTED";
    case ExecutorDriver::State::kSubscribing: return "SUBSCRIBING";
    case ExecutorDriver::State::kSubscribed: return "SUBSCRIBED";
    case ExecutorDriver::State::kStopped: return "STOPPED";
  }
  return "UNKNOWN";
}

void Executor::launchGroup(ExecutorDriver& driver, const v1::TaskGroupInfo& taskGroup) {
  for (const v1::TaskInfo& task : taskGroup.tasks()) {
    v1::TaskStatus status;
    *status.mutable_task_id() = task.task_id();
    status.set_state(v1::TASK_FAILED);
    status.set_message("Task groups (LAUNCH_GROUP) are not supported by this executor");
    (void)driver.sendStatusUpdate(std::move(status));
  }
}

PeerId newExecutorPeerId() { return "executor:" + newUuid(); }

ExecutorDriverCore::ExecutorDriverCore(Executor& executor, ExecutorEnvironment environment, Clock& clock,
                                       Messenger& messenger, PeerId agentPeer, ExecutorOptions options,
                                       ExecutorDriver* facade)
    : executor_(executor),
      environment_(std::move(environment)),
      clock_(clock),
      messenger_(messenger),
      agentPeer_(std::move(agentPeer)),
      options_(options),
      facade_(facade),
      random_(detail::seededRandom()) {}

ExecutorDriverCore::~ExecutorDriverCore() { cancelTimers(); }

// --- Subscription -----------------------------------------------------------

void ExecutorDriverCore::start() {
  if (state_ != State::kNotStarted) {
    log()->warn("start() called in state {}; ignored", toString(state_));
    return;
  }
  beginSubscribing(/*immediately=*/true);
}

void ExecutorDriverCore::beginSubscribing(bool immediately) {
  state_ = State::kSubscribing;
  if (updateTimer_ != 0) clock_.cancel(updateTimer_);
  if (subscribeTimer_ != 0) clock_.cancel(subscribeTimer_);
  updateTimer_ = subscribeTimer_ = 0;
  backoff_ = Duration::zero();
  if (immediately) sendSubscribe();
  scheduleSubscribeRetry();
  if (recoveryTimer_ == 0) {
    recoveryTimer_ = clock_.schedule(environment_.recoveryTimeout, [this] {
      recoveryTimer_ = 0;
      if (state_ != State::kSubscribing) return;
      log()->error("Could not subscribe to the agent within the recovery timeout ({}); stopping",
                   formatDuration(environment_.recoveryTimeout));
      stop();
    });
  }
}

void ExecutorDriverCore::scheduleSubscribeRetry() {
  backoff_ = detail::nextBackoff(backoff_, std::min(options_.subscribeBackoffMin, environment_.subscriptionBackoffMax),
                                 environment_.subscriptionBackoffMax);
  subscribeTimer_ = clock_.schedule(detail::jittered(backoff_, random_), [this] {
    subscribeTimer_ = 0;
    if (state_ != State::kSubscribing) return;
    sendSubscribe();
    scheduleSubscribeRetry();
  });
}

void ExecutorDriverCore::sendSubscribe() {
  Call call;
  call.set_type(Call::SUBSCRIBE);
  Call::Subscribe* subscribe = call.mutable_subscribe();
  for (const auto& [id, task] : tasks_) *subscribe->add_unacknowledged_tasks() = task;
  for (const v1::TaskStatus& status : updates_) *subscribe->add_unacknowledged_updates()->mutable_status() = status;
  log()->info("Subscribing executor {} to agent {} ({} unacknowledged tasks, {} updates)",
              quoteForLog(environment_.executorId.value()), quoteForLog(agentPeer_), tasks_.size(), updates_.size());
  sendCall(std::move(call));
}

void ExecutorDriverCore::onSubscribed(const Event::Subscribed& subscribed) {
  if (state_ == State::kSubscribed) {
    log()->debug("Duplicate SUBSCRIBED ignored");
    return;
  }
  if (subscribeTimer_ != 0) clock_.cancel(subscribeTimer_);
  if (recoveryTimer_ != 0) clock_.cancel(recoveryTimer_);
  subscribeTimer_ = recoveryTimer_ = 0;
  state_ = State::kSubscribed;
  agentLost_ = false;
  subscribeQueued_ = false;
  log()->info("Executor {} subscribed", quoteForLog(environment_.executorId.value()));
  scheduleUpdateRetry();
  executor_.subscribed(facade(), subscribed.executor_info(), subscribed.framework_info(), subscribed.agent_info());
}

void ExecutorDriverCore::agentLost() {
  subscribedOnConnection_ = false;
  subscribeQueued_ = false;
  if (state_ == State::kNotStarted || state_ == State::kStopped) return;
  if (!environment_.checkpoint) {
    log()->warn("Lost the agent and the framework does not checkpoint; stopping");
    stop();
    return;
  }
  if (state_ != State::kSubscribed) return;  // Already trying.
  log()->warn("Lost the agent; resubscribing for up to {}", formatDuration(environment_.recoveryTimeout));
  agentLost_ = true;
  // Sent now, the SUBSCRIBE waits in the transport's queue and leaves with
  // the next handshake, from the transport's own thread: the agent has it
  // without a wake-up of this loop, and agentConnected() sends nothing more.
  beginSubscribing(/*immediately=*/true);
  subscribeQueued_ = true;
  // No retries while the transport is disconnected: each would only queue
  // one more SUBSCRIBE behind this one, all delivered together. The retry
  // clock starts when the connection comes back (agentConnected()).
  if (subscribeTimer_ != 0) clock_.cancel(subscribeTimer_);
  subscribeTimer_ = 0;
  executor_.disconnected(facade());
}

void ExecutorDriverCore::agentConnected() {
  if (state_ != State::kSubscribing || !agentLost_) return;
  if (subscribeTimer_ != 0) clock_.cancel(subscribeTimer_);
  subscribeTimer_ = 0;
  backoff_ = Duration::zero();
  // Unless the SUBSCRIBE queued at the loss is current: it went out on this
  // connection.
  if (!subscribeQueued_) sendSubscribe();
  subscribeQueued_ = false;
  subscribedOnConnection_ = true;
  scheduleSubscribeRetry();
}

void ExecutorDriverCore::stop() {
  if (state_ == State::kStopped) return;
  cancelTimers();
  state_ = State::kStopped;
  log()->info("Executor driver stopped");
  if (stoppedHook_) stoppedHook_();
}

void ExecutorDriverCore::cancelTimers() {
  for (TimerId* timer : {&subscribeTimer_, &recoveryTimer_, &updateTimer_, &shutdownTimer_}) {
    if (*timer != 0) clock_.cancel(*timer);
    *timer = 0;
  }
}

// --- Events -----------------------------------------------------------------

void ExecutorDriverCore::handle(const PeerId& from, internal::Envelope&& envelope) {
  if (state_ == State::kNotStarted || state_ == State::kStopped) {
    log()->debug("Dropping {} in state {}", envelopeType(envelope), toString(state_));
    return;
  }
  if (envelope.has_reconnect_executor()) {
    // A restarted agent asks its recovered executors to subscribe again.
    if (state_ == State::kSubscribing && subscribedOnConnection_ && from == agentPeer_) {
      // Our SUBSCRIBE on this connection is already on its way to it (the
      // agent asks every executor it recovers, connected or not): a second
      // one would only be answered twice.
      log()->debug("Agent {} asks to reconnect; already subscribing", quoteForLog(from));
      return;
    }
    log()->info("Agent {} asks to reconnect", quoteForLog(from));
    agentPeer_ = from;
    bool wasSubscribed = state_ == State::kSubscribed;
    beginSubscribing(/*immediately=*/true);
    if (wasSubscribed) executor_.disconnected(facade());
    return;
  }
  if (from != agentPeer_ || !envelope.has_executor_event()) {
    log()->debug("Dropping {} from {}: not an executor event from the agent", envelopeType(envelope),
                 quoteForLog(from));
    return;
  }
  dispatch(std::move(*envelope.mutable_executor_event()));
}

// The table of contents of the executor protocol, as the driver sees it.
void ExecutorDriverCore::dispatch(Event&& event) {
  switch (event.type()) {
    case Event::SUBSCRIBED:
      onSubscribed(event.subscribed());
      break;
    case Event::LAUNCH:
      tasks_[event.launch().task().task_id().value()] = event.launch().task();
      executor_.launch(facade(), event.launch().task());
      break;
    case Event::LAUNCH_GROUP:
      for (const v1::TaskInfo& task : event.launch_group().task_group().tasks()) tasks_[task.task_id().value()] = task;
      executor_.launchGroup(facade(), event.launch_group().task_group());
      break;
    case Event::KILL:
      executor_.kill(facade(), event.kill().task_id(),
                     event.kill().has_kill_policy() ? std::optional<v1::KillPolicy>(event.kill().kill_policy())
                                                    : std::nullopt);
      break;
    case Event::ACKNOWLEDGED:
      onAcknowledged(event.acknowledged().task_id(), event.acknowledged().uuid());
      break;
    case Event::MESSAGE:
      executor_.frameworkMessage(facade(), event.message().data());
      break;
    case Event::SHUTDOWN:
      if (shutdownTimer_ == 0) {
        shutdownTimer_ = clock_.schedule(environment_.shutdownGracePeriod, [this] {
          shutdownTimer_ = 0;
          log()->warn("Executor did not stop within the shutdown grace period; stopping the driver");
          stop();
        });
      }
      executor_.shutdown(facade());
      break;
    case Event::ERROR:
      executor_.error(facade(), event.error().message());
      break;
    case Event::HEARTBEAT:
      break;
    default:
      log()->warn("Dropping executor event of unknown type {}", static_cast<int>(event.type()));
      break;
  }
}

void ExecutorDriverCore::onAcknowledged(const v1::TaskID& taskId, const std::string& uuid) {
  auto it = std::find_if(updates_.begin(), updates_.end(), [&](const v1::TaskStatus& s) {
    return s.uuid() == uuid && s.task_id().value() == taskId.value();
  });
  if (it == updates_.end()) {
    log()->debug("Acknowledgement of an unknown update of task {} ignored", quoteForLog(taskId.value()));
    return;
  }
  updates_.erase(it);
  tasks_.erase(taskId.value());
  executor_.acknowledged(facade(), taskId, uuid);
}

// --- Calls ------------------------------------------------------------------

void ExecutorDriverCore::sendCall(Call call) {
  *call.mutable_executor_id() = environment_.executorId;
  *call.mutable_framework_id() = environment_.frameworkId;
  internal::Envelope envelope;
  *envelope.mutable_executor_call() = std::move(call);
  messenger_.send(agentPeer_, std::move(envelope));
}

void ExecutorDriverCore::sendUpdate(const v1::TaskStatus& status) {
  Call call;
  call.set_type(Call::UPDATE);
  *call.mutable_update()->mutable_status() = status;
  sendCall(std::move(call));
}

void ExecutorDriverCore::scheduleUpdateRetry() {
  if (updateTimer_ != 0 || updates_.empty() || state_ != State::kSubscribed) return;
  updateTimer_ = clock_.schedule(options_.statusUpdateRetryInterval, [this] {
    updateTimer_ = 0;
    if (state_ != State::kSubscribed) return;
    if (!updates_.empty()) log()->info("Resending {} unacknowledged status updates", updates_.size());
    for (const v1::TaskStatus& status : updates_) sendUpdate(status);
    scheduleUpdateRetry();
  });
}

Status ExecutorDriverCore::sendStatusUpdate(v1::TaskStatus status) {
  if (state_ == State::kStopped || state_ == State::kNotStarted) {
    return Status::FailedPrecondition(std::string("Cannot send a status update: the driver is ") + toString(state_));
  }
  if (!status.has_task_id() || status.task_id().value().empty()) {
    return Status::InvalidArgument("Status update without a task id");
  }
  if (status.state() == v1::TASK_STAGING) {
    return Status::InvalidArgument("Executors must not send TASK_STAGING");
  }
  if (!status.has_uuid()) {
    status.set_uuid(newUuidBytes());
  } else if (status.uuid().size() != 16) {
    return Status::InvalidArgument("A status update uuid must be 16 bytes");
  }
  status.set_timestamp(toSeconds(clock_.wallNow()));
  status.set_source(v1::TaskStatus::SOURCE_EXECUTOR);
  *status.mutable_executor_id() = environment_.executorId;
  updates_.push_back(status);
  subscribeQueued_ = false;  // The queued SUBSCRIBE lacks this update: send a fresh one on connecting.
  if (state_ == State::kSubscribed) {
    sendUpdate(status);
    scheduleUpdateRetry();
  }
  return Status::OK();
}

void ExecutorDriverCore::sendFrameworkMessage(const std::string& data) {
  if (state_ != State::kSubscribed) {
    log()->warn("Dropping framework message: driver is {}, not subscribed", toString(state_));
    return;
  }
  Call call;
  call.set_type(Call::MESSAGE);
  call.mutable_message()->set_data(data);
  sendCall(std::move(call));
}

std::vector<v1::TaskStatus> ExecutorDriverCore::unacknowledgedUpdates() const {
  return {updates_.begin(), updates_.end()};
}

std::vector<v1::TaskInfo> ExecutorDriverCore::unacknowledgedTasks() const {
  std::vector<v1::TaskInfo> tasks;
  for (const auto& [id, task] : tasks_) tasks.push_back(task);
  return tasks;
}

}  // namespace agora::sdk
