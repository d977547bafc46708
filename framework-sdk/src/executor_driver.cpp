#include "agora/executor_driver.hpp"

#include <utility>  // Before any Asio header (STYLE.md).

#include <atomic>
#include <mutex>

#include "agora/common/id.hpp"
#include "agora/common/logging.hpp"
#include "agora/common/zmq_messenger.hpp"
#include "agora/executor_core.hpp"
#include "driver_thread.hpp"
#include "switch_messenger.hpp"

namespace agora::sdk {

namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = agora::logger("executor-driver");
  return logger;
}

}  // namespace

// The loop-side state; stands between the core and the user's executor to
// keep the thread-safe snapshot of the state.
class AgoraExecutorDriver::Impl final : public Executor {
 public:
  Impl(AgoraExecutorDriver& facade, Executor& executor, Result<ExecutorEnvironment> environment)
      : facade_(facade), executor_(executor) {
    if (environment.ok()) {
      environment_ = std::move(*environment);
      core_ = std::make_unique<ExecutorDriverCore>(*this, environment_, thread_.clock(), messenger_,
                                                   "agent", ExecutorOptions{}, &facade_);
      core_->setStoppedHook([this] { onStopped(); });
    } else {
      environmentError_ = environment.error();
    }
  }

  ~Impl() override {
    if (thread_.started() && !thread_.onLoopThread()) {
      thread_.dispatch([this] {
        if (core_ != nullptr) core_->stop();
      });
      thread_.join();
    }
  }

  detail::DriverThread thread_;  // Constructed first, destroyed last.

  void start() {
    if (!thread_.start([this] { onStart(); }, [this] { afterLoop(); })) log()->warn("start() called twice; ignored");
  }

  Status join() {
    AGORA_RETURN_IF_ERROR(thread_.joinChecked("executor"));
    std::lock_guard<std::mutex> lock(mutex_);
    return final_;
  }

  State state() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return state_;
  }

  ExecutorDriverCore* core() { return core_.get(); }
  const ExecutorEnvironment& environment() const { return environment_; }

  // Executor: forwarded, keeping the snapshot.
  void subscribed(ExecutorDriver& driver, const v1::ExecutorInfo& executorInfo,
                  const v1::FrameworkInfo& frameworkInfo, const v1::AgentInfo& agentInfo) override {
    setState(State::kSubscribed);
    executor_.subscribed(driver, executorInfo, frameworkInfo, agentInfo);
  }
  void disconnected(ExecutorDriver& driver) override {
    setState(State::kSubscribing);
    executor_.disconnected(driver);
  }
  void launch(ExecutorDriver& driver, const v1::TaskInfo& task) override { executor_.launch(driver, task); }
  void launchGroup(ExecutorDriver& driver, const v1::TaskGroupInfo& taskGroup) override {
    executor_.launchGroup(driver, taskGroup);
  }
  void kill(ExecutorDriver& driver, const v1::TaskID& taskId,
            const std::optional<v1::KillPolicy>& killPolicy) override {
    executor_.kill(driver, taskId, killPolicy);
  }
  void acknowledged(ExecutorDriver& driver, const v1::TaskID& taskId, const std::string& uuid) override {
    executor_.acknowledged(driver, taskId, uuid);
  }
  void frameworkMessage(ExecutorDriver& driver, const std::string& data) override {
    executor_.frameworkMessage(driver, data);
  }
  void shutdown(ExecutorDriver& driver) override { executor_.shutdown(driver); }
  void error(ExecutorDriver& driver, const std::string& message) override { executor_.error(driver, message); }

 private:
  void onStart() {
    if (core_ == nullptr) {
      fail(environmentError_);
      return;
    }
    TransportOptions transport;
    // The last updates still leave when the executor stops right after them.
    transport.linger = std::chrono::seconds(2);
    // The agent is local (ipc://): retry quickly while it restarts, so that
    // it gets its executors back at once. libzmq waits the interval plus a
    // random part of up to the initial interval, doubling the interval up to
    // the cap: 10-20 ms, 20-30, 40-50, then 50-60 ms while the agent stays
    // away (a failed connect to a local socket costs microseconds).
    transport.reconnect_interval = std::chrono::milliseconds(10);
    transport.reconnect_interval_max = std::chrono::milliseconds(50);
    auto dealer = DealerMessenger::connect(
        thread_.loop(), thread_.zmq(), environment_.agentEndpoint, newExecutorPeerId(), "agent", transport,
        [this](const PeerId& from, internal::Envelope&& envelope) { core_->handle(from, std::move(envelope)); },
        [this](Dealer::Event event, std::string_view) {
          if (event == Dealer::Event::kDisconnected) core_->agentLost();
          if (event == Dealer::Event::kConnected) core_->agentConnected();
        });
    if (!dealer.ok()) {
      fail(dealer.error().withContext("Failed to connect to the agent at " + environment_.agentEndpoint));
      return;
    }
    messenger_.set(std::move(*dealer));
    setState(State::kSubscribing);
    core_->start();
  }

  void fail(Status status) {
    log()->error("{}", status.message());
    error_ = std::move(status);
    setState(State::kStopped);
    thread_.stopLoop();
  }

  void onStopped() {
    stopped_ = true;
    setState(State::kStopped);
    thread_.stopLoop();
  }

  void afterLoop() {
    messenger_.set(nullptr);
    std::lock_guard<std::mutex> lock(mutex_);
    state_ = State::kStopped;
    if (!error_.ok()) {
      final_ = error_;
    } else if (!stopped_) {
      final_ = Status::Internal("The executor driver's thread ended unexpectedly (a callback threw)");
    } else {
      final_ = Status::OK();
    }
  }

  void setState(State state) {
    std::lock_guard<std::mutex> lock(mutex_);
    state_ = state;
  }

  AgoraExecutorDriver& facade_;
  Executor& executor_;
  ExecutorEnvironment environment_;
  Status environmentError_;
  detail::SwitchMessenger messenger_;
  std::unique_ptr<ExecutorDriverCore> core_;  // Null when the environment was incomplete.
  bool stopped_ = false;  // The core reached kStopped.
  Status error_;          // A local failure (environment, socket).

  mutable std::mutex mutex_;
  State state_ = State::kNotStarted;  // Guarded by mutex_.
  Status final_ = Status::OK();       // Guarded by mutex_: join()'s answer.
};

AgoraExecutorDriver::AgoraExecutorDriver(Executor& executor)
    : impl_(std::make_unique<Impl>(*this, executor, ExecutorEnvironment::fromProcess())) {}

AgoraExecutorDriver::AgoraExecutorDriver(Executor& executor, ExecutorEnvironment environment)
    : impl_(std::make_unique<Impl>(*this, executor, std::move(environment))) {}

AgoraExecutorDriver::~AgoraExecutorDriver() = default;

void AgoraExecutorDriver::start() { impl_->start(); }
Status AgoraExecutorDriver::join() { return impl_->join(); }

Status AgoraExecutorDriver::run() {
  start();
  return join();
}

void AgoraExecutorDriver::post(std::function<void()> fn) { impl_->thread_.post(std::move(fn)); }
Clock& AgoraExecutorDriver::clock() { return impl_->thread_.clock(); }
const ExecutorEnvironment& AgoraExecutorDriver::environment() const { return impl_->environment(); }

void AgoraExecutorDriver::stop() {
  impl_->thread_.dispatch([impl = impl_.get()] {
    if (impl->core() != nullptr) impl->core()->stop();
  });
}

Status AgoraExecutorDriver::sendStatusUpdate(v1::TaskStatus status) {
  if (impl_->thread_.onLoopThread()) {
    if (impl_->core() == nullptr) return Status::FailedPrecondition("The executor driver has no environment");
    return impl_->core()->sendStatusUpdate(std::move(status));
  }
  impl_->thread_.post([impl = impl_.get(), status = std::move(status)]() mutable {
    if (impl->core() == nullptr) return;
    std::string task = status.task_id().value();
    Status sent = impl->core()->sendStatusUpdate(std::move(status));
    if (!sent.ok()) log()->warn("Dropped the status update of task {}: {}", quoteForLog(task), sent.message());
  });
  return Status::OK();
}

void AgoraExecutorDriver::sendFrameworkMessage(const std::string& data) {
  impl_->thread_.dispatch([impl = impl_.get(), data] {
    if (impl->core() != nullptr) impl->core()->sendFrameworkMessage(data);
  });
}

ExecutorDriver::State AgoraExecutorDriver::state() const { return impl_->state(); }

}  // namespace agora::sdk
