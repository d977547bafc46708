#include "agora/scheduler_driver.hpp"

#include <utility>  // Before any Asio header (STYLE.md).

#include <atomic>
#include <mutex>

#include "agora/common/id.hpp"
#include "agora/common/logging.hpp"
#include "agora/common/master_address.hpp"
#include "agora/common/zmq_messenger.hpp"
#include "agora/scheduler_core.hpp"
#include "backoff.hpp"
#include "driver_thread.hpp"
#include "switch_messenger.hpp"

namespace agora::sdk {

namespace {

using namespace std::chrono_literals;

std::shared_ptr<spdlog::logger> log() {
  static auto logger = agora::logger("scheduler-driver");
  return logger;
}

// While the driver is not subscribed it asks /master/info again after about
// this long (doubling from the minimum while the master does not answer),
// in case the master moved to another ZeroMQ endpoint.
constexpr Duration kResolveBackoffMin = 500ms;
constexpr Duration kResolveBackoffMax = 10s;
constexpr auto kResolveTimeout = 2s;

}  // namespace

// The loop-side state. Everything but the snapshot (mutex_) belongs to the
// driver's thread. It stands between the core and the user's scheduler to
// keep the snapshot and to learn the ERROR message.
class AgoraSchedulerDriver::Impl final : public Scheduler {
 public:
  Impl(AgoraSchedulerDriver& facade, Scheduler& scheduler, v1::FrameworkInfo framework, std::string master,
       SchedulerOptions options)
      : facade_(facade),
        scheduler_(scheduler),
        master_(std::move(master)),
        options_(options),
        peer_(newSchedulerPeerId()),
        random_(detail::seededRandom()),
        core_(*this, std::move(framework), thread_.clock(), messenger_, std::move(options), "master", &facade) {
    core_.setMasterLostHook([this] { onMasterLost(); });
    core_.setStoppedHook([this] { onStopped(); });
  }

  ~Impl() override {
    if (thread_.started() && !thread_.onLoopThread()) {
      thread_.dispatch([this] { core_.stop(/*failover=*/true); });
      thread_.join();
    }
  }

  detail::DriverThread thread_;  // First member constructed, last destroyed.

  void start() {
    if (!thread_.start([this] { onStart(); }, [this] { afterLoop(); })) log()->warn("start() called twice; ignored");
  }

  Status join() {
    AGORA_RETURN_IF_ERROR(thread_.joinChecked("scheduler"));
    std::lock_guard<std::mutex> lock(mutex_);
    return final_;
  }

  State state() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return state_;
  }

  std::optional<v1::FrameworkID> frameworkId() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return frameworkId_;
  }

  SchedulerDriverCore& core() { return core_; }

  // Scheduler: forwarded to the user's, keeping the snapshot.
  void subscribed(SchedulerDriver& driver, const v1::FrameworkID& frameworkId,
                  const v1::MasterInfo& masterInfo) override {
    cancelResolve();
    setSnapshot(State::kSubscribed, frameworkId);
    scheduler_.subscribed(driver, frameworkId, masterInfo);
  }
  void disconnected(SchedulerDriver& driver) override { scheduler_.disconnected(driver); }
  void offers(SchedulerDriver& driver, const std::vector<v1::Offer>& offers) override {
    scheduler_.offers(driver, offers);
  }
  void offerRescinded(SchedulerDriver& driver, const v1::OfferID& offerId) override {
    scheduler_.offerRescinded(driver, offerId);
  }
  void statusUpdate(SchedulerDriver& driver, const v1::TaskStatus& status) override {
    scheduler_.statusUpdate(driver, status);
  }
  void frameworkMessage(SchedulerDriver& driver, const v1::AgentID& agentId, const v1::ExecutorID& executorId,
                        const std::string& data) override {
    scheduler_.frameworkMessage(driver, agentId, executorId, data);
  }
  void agentLost(SchedulerDriver& driver, const v1::AgentID& agentId) override {
    scheduler_.agentLost(driver, agentId);
  }
  void executorLost(SchedulerDriver& driver, const v1::ExecutorID& executorId, const v1::AgentID& agentId,
                    std::optional<int> status) override {
    scheduler_.executorLost(driver, executorId, agentId, status);
  }
  void error(SchedulerDriver& driver, const std::string& message) override {
    if (error_.ok()) error_ = Status::FailedPrecondition("Error from the master: " + message);
    scheduler_.error(driver, message);
  }
  void heartbeat(SchedulerDriver& driver) override { scheduler_.heartbeat(driver); }
  void operationStatus(SchedulerDriver& driver, const v1::OperationStatus& status) override {
    scheduler_.operationStatus(driver, status);
  }

 private:
  void onStart() {
    Result<HostPort> address = parseHostPort(master_, "the master address");
    if (!address.ok()) {
      fail(address.error());
      return;
    }
    address_ = *address;
    startedAt_ = thread_.clock().now();
    resolve();
  }

  // Asks /master/info on the worker thread; onResolved() follows on the loop.
  void resolve() {
    if (resolving_ || stopped_) return;
    resolving_ = true;
    resolveTimer_ = 0;
    HostPort address = address_;
    thread_.offload<Result<std::string>>(
        [address] { return fetchMasterEndpoint(address, kResolveTimeout); },
        [this](Result<std::string> endpoint) { onResolved(std::move(endpoint)); });
  }

  void onResolved(Result<std::string> endpoint) {
    resolving_ = false;
    if (stopped_) return;
    if (endpoint.ok()) {
      failures_ = 0;
      if (*endpoint != endpoint_) connect(*endpoint);
      if (core_.state() == State::kNotStarted && messenger_.connected()) {
        setSnapshot(State::kSubscribing, std::nullopt);
        core_.start();
      }
    } else {
      ++failures_;
      if (failures_ == 1 || failures_ % 10 == 0) {
        log()->warn("Cannot reach the master at {} (attempt {}): {}", address_.toString(), failures_,
                    endpoint.error().message());
      }
      if (core_.state() == State::kNotStarted && options_.masterTimeout &&
          thread_.clock().now() - startedAt_ >= *options_.masterTimeout) {
        fail(Status::Unavailable("Could not reach the master at " + address_.toString() + " within " +
                                 formatDuration(*options_.masterTimeout) + ": " + endpoint.error().message()));
        return;
      }
    }
    // Until subscribed, check again: the master may still be starting, or
    // have moved to another endpoint.
    if (core_.state() == State::kNotStarted || core_.state() == State::kSubscribing) {
      backoff_ = endpoint.ok() ? kResolveBackoffMax / 2 : detail::nextBackoff(backoff_, kResolveBackoffMin, kResolveBackoffMax);
      resolveTimer_ = thread_.clock().schedule(detail::jittered(backoff_, random_), [this] { resolve(); });
    }
  }

  void connect(const std::string& endpoint) {
    TransportOptions transport;
    // What was sent last (a TEARDOWN) still leaves when the driver stops.
    transport.linger = std::chrono::seconds(2);
    auto dealer = DealerMessenger::connect(
        thread_.loop(), thread_.zmq(), endpoint, peer_, "master", transport,
        [this](const PeerId& from, internal::Envelope&& envelope) { core_.handle(from, std::move(envelope)); },
        [this](Dealer::Event event, std::string_view) {
          if (event == Dealer::Event::kDisconnected) core_.masterDisconnected();
        });
    if (!dealer.ok()) {
      log()->warn("Cannot connect to the master's endpoint {}: {}", quoteForLog(endpoint),
                  dealer.error().message());
      return;
    }
    log()->info("{} the master at {} ({})", endpoint_.empty() ? "Connecting to" : "Reconnecting to",
                address_.toString(), endpoint);
    endpoint_ = endpoint;
    messenger_.set(std::move(*dealer));
  }

  void onMasterLost() {
    setSnapshot(State::kSubscribing, std::nullopt);
    backoff_ = Duration::zero();
    cancelResolve();
    resolve();
  }

  void cancelResolve() {
    if (resolveTimer_ != 0) thread_.clock().cancel(resolveTimer_);
    resolveTimer_ = 0;
  }

  // A local fatal error (not from the master): stop and tell the scheduler.
  void fail(Status status) {
    log()->error("{}", status.message());
    error_ = status;
    core_.stop(/*failover=*/true);
    scheduler_.error(facade_, status.message());
  }

  void onStopped() {
    stopped_ = true;
    cancelResolve();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      state_ = error_.ok() ? core_.state() : State::kAborted;
    }
    thread_.stopLoop();
  }

  // On the driver's thread, after the loop: close the socket (its linger
  // flushes the last calls), then publish the outcome.
  void afterLoop() {
    messenger_.set(nullptr);
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopped_) {
      state_ = State::kAborted;
      final_ = Status::Internal("The scheduler driver's thread ended unexpectedly (a callback threw)");
    } else if (core_.state() == State::kAborted || !error_.ok()) {
      state_ = State::kAborted;
      final_ = error_.ok() ? Status::FailedPrecondition("Aborted") : error_;
    } else {
      final_ = Status::OK();
    }
  }

  void setSnapshot(State state, const std::optional<v1::FrameworkID>& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    state_ = state;
    if (id) frameworkId_ = id;
  }

  SchedulerDriver& facade_;
  Scheduler& scheduler_;
  std::string master_;
  SchedulerOptions options_;
  PeerId peer_;
  std::minstd_rand random_;
  detail::SwitchMessenger messenger_;
  SchedulerDriverCore core_;

  HostPort address_;
  std::string endpoint_;   // The ZeroMQ endpoint connected to ("" before the first).
  bool resolving_ = false;
  bool stopped_ = false;   // The core reached kStopped or kAborted.
  TimerId resolveTimer_ = 0;
  Duration backoff_{};
  int failures_ = 0;       // Consecutive failed /master/info requests.
  TimePoint startedAt_{};
  Status error_;           // Why the driver aborted, if it did.

  mutable std::mutex mutex_;
  State state_ = State::kNotStarted;               // Guarded by mutex_.
  std::optional<v1::FrameworkID> frameworkId_;     // Guarded by mutex_.
  Status final_ = Status::OK();                    // Guarded by mutex_: join()'s answer.
};

AgoraSchedulerDriver::AgoraSchedulerDriver(Scheduler& scheduler, v1::FrameworkInfo framework, std::string master,
                                           SchedulerOptions options)
    : impl_(std::make_unique<Impl>(*this, scheduler, std::move(framework), std::move(master), std::move(options))) {}

AgoraSchedulerDriver::~AgoraSchedulerDriver() = default;

void AgoraSchedulerDriver::start() { impl_->start(); }
Status AgoraSchedulerDriver::join() { return impl_->join(); }

Status AgoraSchedulerDriver::run() {
  start();
  return join();
}

void AgoraSchedulerDriver::post(std::function<void()> fn) { impl_->thread_.post(std::move(fn)); }
Clock& AgoraSchedulerDriver::clock() { return impl_->thread_.clock(); }

// Every call runs on the driver's thread: at once from a callback, queued
// from any other thread.
void AgoraSchedulerDriver::stop(bool failover) {
  impl_->thread_.dispatch([impl = impl_.get(), failover] { impl->core().stop(failover); });
}

void AgoraSchedulerDriver::accept(const std::vector<v1::OfferID>& offerIds,
                                  const std::vector<v1::Offer::Operation>& operations, const v1::Filters& filters) {
  impl_->thread_.dispatch(
      [impl = impl_.get(), offerIds, operations, filters] { impl->core().accept(offerIds, operations, filters); });
}

void AgoraSchedulerDriver::launch(const std::vector<v1::OfferID>& offerIds, const std::vector<v1::TaskInfo>& tasks,
                                  const v1::Filters& filters) {
  impl_->thread_.dispatch(
      [impl = impl_.get(), offerIds, tasks, filters] { impl->core().launch(offerIds, tasks, filters); });
}

void AgoraSchedulerDriver::decline(const std::vector<v1::OfferID>& offerIds, const v1::Filters& filters) {
  impl_->thread_.dispatch([impl = impl_.get(), offerIds, filters] { impl->core().decline(offerIds, filters); });
}

void AgoraSchedulerDriver::suppress(const std::vector<std::string>& roles) {
  impl_->thread_.dispatch([impl = impl_.get(), roles] { impl->core().suppress(roles); });
}

void AgoraSchedulerDriver::revive(const std::vector<std::string>& roles) {
  impl_->thread_.dispatch([impl = impl_.get(), roles] { impl->core().revive(roles); });
}

void AgoraSchedulerDriver::kill(const v1::TaskID& taskId, const std::optional<v1::AgentID>& agentId,
                                const std::optional<v1::KillPolicy>& killPolicy) {
  impl_->thread_.dispatch(
      [impl = impl_.get(), taskId, agentId, killPolicy] { impl->core().kill(taskId, agentId, killPolicy); });
}

void AgoraSchedulerDriver::shutdownExecutor(const v1::ExecutorID& executorId, const v1::AgentID& agentId) {
  impl_->thread_.dispatch(
      [impl = impl_.get(), executorId, agentId] { impl->core().shutdownExecutor(executorId, agentId); });
}

void AgoraSchedulerDriver::acknowledge(const v1::TaskStatus& status) {
  impl_->thread_.dispatch([impl = impl_.get(), status] { impl->core().acknowledge(status); });
}

void AgoraSchedulerDriver::acknowledgeOperationStatus(const v1::OperationStatus& status) {
  impl_->thread_.dispatch([impl = impl_.get(), status] { impl->core().acknowledgeOperationStatus(status); });
}

void AgoraSchedulerDriver::reconcile(const std::vector<v1::TaskStatus>& statuses) {
  impl_->thread_.dispatch([impl = impl_.get(), statuses] { impl->core().reconcile(statuses); });
}

void AgoraSchedulerDriver::sendFrameworkMessage(const v1::ExecutorID& executorId, const v1::AgentID& agentId,
                                                const std::string& data) {
  impl_->thread_.dispatch([impl = impl_.get(), executorId, agentId, data] {
    impl->core().sendFrameworkMessage(executorId, agentId, data);
  });
}

void AgoraSchedulerDriver::teardown() {
  impl_->thread_.dispatch([impl = impl_.get()] { impl->core().teardown(); });
}

void AgoraSchedulerDriver::call(v1::scheduler::Call call) {
  impl_->thread_.dispatch([impl = impl_.get(), call = std::move(call)]() mutable { impl->core().call(std::move(call)); });
}

std::optional<v1::FrameworkID> AgoraSchedulerDriver::frameworkId() const { return impl_->frameworkId(); }
SchedulerDriver::State AgoraSchedulerDriver::state() const { return impl_->state(); }

}  // namespace agora::sdk
