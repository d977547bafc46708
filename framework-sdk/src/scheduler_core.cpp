#include "agora/scheduler_core.hpp"

#include <algorithm>
#include <utility>

#include "agora/common/id.hpp"
#include "agora/common/logging.hpp"
#include "backoff.hpp"

namespace agora::sdk {

namespace {

using v1::scheduler::Call;
using v1::scheduler::Event;

constexpr Duration kDefaultHeartbeatInterval = std::chrono::seconds(15);

std::shared_ptr<spdlog::logger> log() {
  static auto logger = agora::logger("scheduler-driver");
  return logger;
}

Duration secondsToDuration(double seconds) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

std::vector<std::string> frameworkRoles(const v1::FrameworkInfo& framework) {
  if (framework.roles_size() > 0) return {framework.roles().begin(), framework.roles().end()};
  // The deprecated single-role form, for frameworks without MULTI_ROLE.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  return {framework.role()};
#pragma GCC diagnostic pop
}

}  // namespace

const char* toString(SchedulerDriver::State state) {
  switch (state) {
    case SchedulerDriver::State::kNotStarted: return "NOT_STARTED";
    case SchedulerDriver::State::kSubscribing: return "SUBSCRIBING";
    case SchedulerDriver::State::kSubscribed: return "SUBSCRIBED";
    case SchedulerDriver::State::kStopped: return "STOPPED";
    case SchedulerDriver::State::kAborted: return "ABORTED";
  }
  return "UNKNOWN";
}

PeerId newSchedulerPeerId() { return "scheduler:" + newUuid(); }

SchedulerDriverCore::SchedulerDriverCore(Scheduler& scheduler, v1::FrameworkInfo framework, Clock& clock,
                                         Messenger& messenger, SchedulerOptions options, PeerId masterPeer,
                                         SchedulerDriver* facade)
    : scheduler_(scheduler),
      framework_(std::move(framework)),
      clock_(clock),
      messenger_(messenger),
      options_(std::move(options)),
      masterPeer_(std::move(masterPeer)),
      facade_(facade),
      suppressedRoles_(options_.suppressedRoles),
      random_(detail::seededRandom()) {}

SchedulerDriverCore::~SchedulerDriverCore() { cancelTimers(); }

// --- Subscription lifecycle -------------------------------------------------

void SchedulerDriverCore::start() {
  if (state_ != State::kNotStarted) {
    log()->warn("start() called in state {}; ignored", toString(state_));
    return;
  }
  state_ = State::kSubscribing;
  backoff_ = Duration::zero();
  sendSubscribe();
  scheduleSubscribeRetry();
}

void SchedulerDriverCore::sendSubscribe() {
  Call call;
  call.set_type(Call::SUBSCRIBE);
  if (framework_.has_id()) *call.mutable_framework_id() = framework_.id();
  Call::Subscribe* subscribe = call.mutable_subscribe();
  *subscribe->mutable_framework_info() = framework_;
  for (const std::string& role : suppressedRoles_) subscribe->add_suppressed_roles(role);
  log()->info("Subscribing framework '{}'{} to {}", quoteForLog(framework_.name()),
              framework_.has_id() ? " (id " + quoteForLog(framework_.id().value()) + ")" : std::string(),
              masterPeer_);
  internal::Envelope envelope;
  *envelope.mutable_scheduler_call() = std::move(call);
  messenger_.send(masterPeer_, std::move(envelope));
}

void SchedulerDriverCore::scheduleSubscribeRetry() {
  backoff_ = detail::nextBackoff(backoff_, options_.subscribeBackoffMin, options_.subscribeBackoffMax);
  subscribeTimer_ = clock_.schedule(detail::jittered(backoff_, random_), [this] {
    subscribeTimer_ = 0;
    if (state_ != State::kSubscribing) return;
    sendSubscribe();
    scheduleSubscribeRetry();
  });
}

void SchedulerDriverCore::onSubscribed(const Event::Subscribed& subscribed) {
  if (state_ == State::kSubscribed && framework_.has_id() && framework_.id().value() == subscribed.framework_id().value()) {
    // The answer to a retried SUBSCRIBE that crossed the first SUBSCRIBED.
    log()->debug("Duplicate SUBSCRIBED ignored");
    return;
  }
  if (subscribeTimer_ != 0) clock_.cancel(subscribeTimer_);
  subscribeTimer_ = 0;
  backoff_ = Duration::zero();

  *framework_.mutable_id() = subscribed.framework_id();
  double heartbeat = subscribed.heartbeat_interval_seconds();
  heartbeatInterval_ = heartbeat > 0 ? secondsToDuration(heartbeat) : kDefaultHeartbeatInterval;
  state_ = State::kSubscribed;
  log()->info("Subscribed with framework id {}", quoteForLog(framework_.id().value()));
  armWatchdog();
  scheduler_.subscribed(facade(), framework_.id(), subscribed.master_info());
}

void SchedulerDriverCore::armWatchdog() {
  if (watchdogTimer_ != 0) clock_.cancel(watchdogTimer_);
  Duration timeout = heartbeatInterval_ * std::max(1, options_.missedHeartbeats);
  Duration remaining = lastEvent_ + timeout - clock_.now();
  watchdogTimer_ = clock_.schedule(remaining, [this] {
    watchdogTimer_ = 0;
    onWatchdog();
  });
}

void SchedulerDriverCore::onWatchdog() {
  if (state_ != State::kSubscribed) return;
  Duration timeout = heartbeatInterval_ * std::max(1, options_.missedHeartbeats);
  if (clock_.now() - lastEvent_ >= timeout) {
    log()->warn("No event from the master for {}; resubscribing", formatDuration(timeout));
    onMasterLost();
  } else {
    armWatchdog();
  }
}

void SchedulerDriverCore::masterDisconnected() {
  if (state_ != State::kSubscribed) return;
  log()->warn("Lost the connection to the master; resubscribing");
  onMasterLost();
}

void SchedulerDriverCore::onMasterLost() {
  state_ = State::kSubscribing;
  if (masterLostHook_) masterLostHook_();
  scheduler_.disconnected(facade());
  if (state_ != State::kSubscribing) return;  // The scheduler stopped the driver.
  // Wait before the first attempt too: a restarted master is not flooded by
  // every framework at once.
  backoff_ = Duration::zero();
  scheduleSubscribeRetry();
}

void SchedulerDriverCore::cancelTimers() {
  if (subscribeTimer_ != 0) clock_.cancel(subscribeTimer_);
  if (watchdogTimer_ != 0) clock_.cancel(watchdogTimer_);
  subscribeTimer_ = watchdogTimer_ = 0;
}

void SchedulerDriverCore::finish(State final) {
  if (state_ == State::kStopped || state_ == State::kAborted) return;
  cancelTimers();
  state_ = final;
  if (stoppedHook_) stoppedHook_();
}

void SchedulerDriverCore::stop(bool failover) {
  if (!failover && state_ == State::kSubscribed) {
    teardown();
    return;
  }
  finish(State::kStopped);
}

// --- Events -----------------------------------------------------------------

void SchedulerDriverCore::handle(const PeerId& from, internal::Envelope&& envelope) {
  if (from != masterPeer_ || !envelope.has_scheduler_event()) {
    log()->debug("Dropping {} from {}: not a scheduler event from the master", envelopeType(envelope),
                 quoteForLog(from));
    return;
  }
  if (state_ != State::kSubscribing && state_ != State::kSubscribed) {
    log()->debug("Dropping {} in state {}", envelopeType(envelope), toString(state_));
    return;
  }
  lastEvent_ = clock_.now();
  dispatch(std::move(*envelope.mutable_scheduler_event()));
}

// The table of contents of the scheduler protocol, as the driver sees it.
void SchedulerDriverCore::dispatch(Event&& event) {
  if (event.type() == Event::SUBSCRIBED) {
    if (!event.has_subscribed()) {
      log()->warn("SUBSCRIBED without a body dropped");
      return;
    }
    onSubscribed(event.subscribed());
    return;
  }
  if (event.type() == Event::ERROR) {
    std::string message = event.has_error() ? event.error().message() : "Unknown error";
    log()->error("Error from the master: {}", quoteForLog(message, 200));
    finish(State::kAborted);
    scheduler_.error(facade(), message);
    return;
  }
  if (state_ != State::kSubscribed) {
    // Left over from a subscription we gave up on.
    log()->debug("Dropping {} event while subscribing", Event::Type_Name(event.type()));
    return;
  }

  switch (event.type()) {
    case Event::HEARTBEAT:
      scheduler_.heartbeat(facade());
      break;
    case Event::OFFERS: {
      std::vector<v1::Offer> offers(event.offers().offers().begin(), event.offers().offers().end());
      if (!offers.empty()) scheduler_.offers(facade(), offers);
      break;
    }
    case Event::RESCIND:
      scheduler_.offerRescinded(facade(), event.rescind().offer_id());
      break;
    case Event::UPDATE: {
      const v1::TaskStatus& status = event.update().status();
      scheduler_.statusUpdate(facade(), status);
      if (options_.implicitAcknowledgements && state_ == State::kSubscribed) sendAcknowledge(status);
      break;
    }
    case Event::UPDATE_OPERATION_STATUS: {
      const v1::OperationStatus& status = event.update_operation_status().status();
      scheduler_.operationStatus(facade(), status);
      if (options_.implicitAcknowledgements && state_ == State::kSubscribed) sendAcknowledgeOperation(status);
      break;
    }
    case Event::MESSAGE:
      scheduler_.frameworkMessage(facade(), event.message().agent_id(), event.message().executor_id(),
                                  event.message().data());
      break;
    case Event::FAILURE: {
      const Event::Failure& failure = event.failure();
      if (failure.has_executor_id()) {
        scheduler_.executorLost(facade(), failure.executor_id(), failure.agent_id(),
                                failure.has_status() ? std::optional<int>(failure.status()) : std::nullopt);
      } else if (failure.has_agent_id()) {
        scheduler_.agentLost(facade(), failure.agent_id());
      } else {
        log()->warn("FAILURE without agent or executor dropped");
      }
      break;
    }
    case Event::INVERSE_OFFERS:
    case Event::RESCIND_INVERSE_OFFER:
      // Maintenance is not implemented by Agora's master yet.
      log()->debug("Ignoring {}", Event::Type_Name(event.type()));
      break;
    default:
      log()->warn("Dropping scheduler event of unknown type {}", static_cast<int>(event.type()));
      break;
  }
}

// --- Calls ------------------------------------------------------------------

bool SchedulerDriverCore::send(Call call, const char* what) {
  if (state_ != State::kSubscribed) {
    log()->warn("Dropping {} call: driver is {}, not subscribed", what, toString(state_));
    return false;
  }
  *call.mutable_framework_id() = framework_.id();
  internal::Envelope envelope;
  *envelope.mutable_scheduler_call() = std::move(call);
  messenger_.send(masterPeer_, std::move(envelope));
  return true;
}

void SchedulerDriverCore::accept(const std::vector<v1::OfferID>& offerIds,
                                 const std::vector<v1::Offer::Operation>& operations, const v1::Filters& filters) {
  Call call;
  call.set_type(Call::ACCEPT);
  Call::Accept* accept = call.mutable_accept();
  for (const v1::OfferID& id : offerIds) *accept->add_offer_ids() = id;
  for (const v1::Offer::Operation& operation : operations) *accept->add_operations() = operation;
  *accept->mutable_filters() = filters;
  send(std::move(call), "ACCEPT");
}

void SchedulerDriverCore::launch(const std::vector<v1::OfferID>& offerIds, const std::vector<v1::TaskInfo>& tasks,
                                 const v1::Filters& filters) {
  std::vector<v1::Offer::Operation> operations;
  if (!tasks.empty()) {
    v1::Offer::Operation& operation = operations.emplace_back();
    operation.set_type(v1::Offer::Operation::LAUNCH);
    for (const v1::TaskInfo& task : tasks) *operation.mutable_launch()->add_task_infos() = task;
  }
  accept(offerIds, operations, filters);
}

void SchedulerDriverCore::decline(const std::vector<v1::OfferID>& offerIds, const v1::Filters& filters) {
  Call call;
  call.set_type(Call::DECLINE);
  for (const v1::OfferID& id : offerIds) *call.mutable_decline()->add_offer_ids() = id;
  *call.mutable_decline()->mutable_filters() = filters;
  send(std::move(call), "DECLINE");
}

void SchedulerDriverCore::suppress(const std::vector<std::string>& roles) {
  // Remembered even while disconnected: the next SUBSCRIBE carries it.
  for (const std::string& role : roles.empty() ? frameworkRoles(framework_) : roles) {
    if (std::find(suppressedRoles_.begin(), suppressedRoles_.end(), role) == suppressedRoles_.end()) {
      suppressedRoles_.push_back(role);
    }
  }
  Call call;
  call.set_type(Call::SUPPRESS);
  for (const std::string& role : roles) call.mutable_suppress()->add_roles(role);
  send(std::move(call), "SUPPRESS");
}

void SchedulerDriverCore::revive(const std::vector<std::string>& roles) {
  if (roles.empty()) {
    suppressedRoles_.clear();
  } else {
    std::erase_if(suppressedRoles_,
                  [&](const std::string& r) { return std::find(roles.begin(), roles.end(), r) != roles.end(); });
  }
  Call call;
  call.set_type(Call::REVIVE);
  for (const std::string& role : roles) call.mutable_revive()->add_roles(role);
  send(std::move(call), "REVIVE");
}

void SchedulerDriverCore::kill(const v1::TaskID& taskId, const std::optional<v1::AgentID>& agentId,
                               const std::optional<v1::KillPolicy>& killPolicy) {
  Call call;
  call.set_type(Call::KILL);
  *call.mutable_kill()->mutable_task_id() = taskId;
  if (agentId) *call.mutable_kill()->mutable_agent_id() = *agentId;
  if (killPolicy) *call.mutable_kill()->mutable_kill_policy() = *killPolicy;
  send(std::move(call), "KILL");
}

void SchedulerDriverCore::shutdownExecutor(const v1::ExecutorID& executorId, const v1::AgentID& agentId) {
  Call call;
  call.set_type(Call::SHUTDOWN);
  *call.mutable_shutdown()->mutable_executor_id() = executorId;
  *call.mutable_shutdown()->mutable_agent_id() = agentId;
  send(std::move(call), "SHUTDOWN");
}

void SchedulerDriverCore::sendAcknowledge(const v1::TaskStatus& status) {
  if (!status.has_uuid()) return;  // Not a reliable update: nothing to acknowledge.
  if (!status.has_agent_id()) {
    log()->warn("Cannot acknowledge the update of task {}: it names no agent", quoteForLog(status.task_id().value()));
    return;
  }
  Call call;
  call.set_type(Call::ACKNOWLEDGE);
  *call.mutable_acknowledge()->mutable_agent_id() = status.agent_id();
  *call.mutable_acknowledge()->mutable_task_id() = status.task_id();
  call.mutable_acknowledge()->set_uuid(status.uuid());
  send(std::move(call), "ACKNOWLEDGE");
}

void SchedulerDriverCore::sendAcknowledgeOperation(const v1::OperationStatus& status) {
  if (!status.has_uuid() || !status.has_operation_id()) return;
  Call call;
  call.set_type(Call::ACKNOWLEDGE_OPERATION_STATUS);
  Call::AcknowledgeOperationStatus* ack = call.mutable_acknowledge_operation_status();
  if (status.has_agent_id()) *ack->mutable_agent_id() = status.agent_id();
  if (status.has_resource_provider_id()) *ack->mutable_resource_provider_id() = status.resource_provider_id();
  ack->set_uuid(status.uuid().value());
  *ack->mutable_operation_id() = status.operation_id();
  send(std::move(call), "ACKNOWLEDGE_OPERATION_STATUS");
}

void SchedulerDriverCore::acknowledge(const v1::TaskStatus& status) {
  if (options_.implicitAcknowledgements) {
    log()->warn("acknowledge() ignored: the driver acknowledges implicitly");
    return;
  }
  sendAcknowledge(status);
}

void SchedulerDriverCore::acknowledgeOperationStatus(const v1::OperationStatus& status) {
  if (options_.implicitAcknowledgements) {
    log()->warn("acknowledgeOperationStatus() ignored: the driver acknowledges implicitly");
    return;
  }
  sendAcknowledgeOperation(status);
}

void SchedulerDriverCore::reconcile(const std::vector<v1::TaskStatus>& statuses) {
  Call call;
  call.set_type(Call::RECONCILE);
  Call::Reconcile* reconcile = call.mutable_reconcile();
  for (const v1::TaskStatus& status : statuses) {
    Call::Reconcile::Task* task = reconcile->add_tasks();
    *task->mutable_task_id() = status.task_id();
    if (status.has_agent_id()) *task->mutable_agent_id() = status.agent_id();
  }
  send(std::move(call), "RECONCILE");
}

void SchedulerDriverCore::sendFrameworkMessage(const v1::ExecutorID& executorId, const v1::AgentID& agentId,
                                               const std::string& data) {
  Call call;
  call.set_type(Call::MESSAGE);
  *call.mutable_message()->mutable_agent_id() = agentId;
  *call.mutable_message()->mutable_executor_id() = executorId;
  call.mutable_message()->set_data(data);
  send(std::move(call), "MESSAGE");
}

void SchedulerDriverCore::teardown() {
  Call call;
  call.set_type(Call::TEARDOWN);
  send(std::move(call), "TEARDOWN");
  finish(State::kStopped);
}

void SchedulerDriverCore::call(Call call) {
  if (call.type() == Call::SUBSCRIBE) {
    log()->warn("call(SUBSCRIBE) ignored: the driver subscribes by itself");
    return;
  }
  std::string what = Call::Type_Name(call.type());
  send(std::move(call), what.c_str());
}

std::optional<v1::FrameworkID> SchedulerDriverCore::frameworkId() const {
  if (!framework_.has_id()) return std::nullopt;
  return framework_.id();
}

}  // namespace agora::sdk
