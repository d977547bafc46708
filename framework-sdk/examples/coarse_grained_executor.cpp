// agora-example-coarse-grained-executor: the custom executor of
// agora-example-coarse-grained. The agent starts one per worker task; it
// reports the task RUNNING and then answers work items that arrive as
// framework messages:
//
//   scheduler -> executor   "item ID SAMPLES SEED"
//   executor  -> scheduler  "result ID HITS SAMPLES"
//
// HITS of SAMPLES random points of the unit square fall in the quarter
// circle, so 4 * HITS / SAMPLES estimates pi.

#include <cstdint>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string>

#include "agora/common/id.hpp"
#include "agora/common/logging.hpp"
#include "agora/common/task_state.hpp"
#include "agora/executor_driver.hpp"

namespace {

using namespace agora;

class PiExecutor final : public sdk::Executor {
 public:
  void subscribed(sdk::ExecutorDriver&, const v1::ExecutorInfo& executor, const v1::FrameworkInfo&,
                  const v1::AgentInfo& agent) override {
    log_->info("Executor {} subscribed on {}", executor.executor_id().value(), agent.hostname());
  }

  void launch(sdk::ExecutorDriver& driver, const v1::TaskInfo& task) override {
    task_ = task.task_id();
    update(driver, v1::TASK_RUNNING, "Ready for work items");
  }

  void kill(sdk::ExecutorDriver& driver, const v1::TaskID& taskId, const std::optional<v1::KillPolicy>&) override {
    if (task_ && task_->value() == taskId.value()) end(driver);
  }

  void acknowledged(sdk::ExecutorDriver& driver, const v1::TaskID&, const std::string& uuid) override {
    if (uuid == terminalUuid_) driver.stop();  // The agent has the terminal update.
  }

  void frameworkMessage(sdk::ExecutorDriver& driver, const std::string& data) override {
    std::istringstream in(data);
    std::string kind, id;
    int64_t samples = 0;
    uint64_t seed = 0;
    if (!(in >> kind >> id >> samples >> seed) || kind != "item" || samples <= 0 || samples > 100'000'000) {
      log_->warn("Ignoring a malformed work item of {} bytes", data.size());
      return;
    }
    // A few milliseconds per 100k samples: done inline (a real executor
    // would hand longer work to a thread and reply from there).
    std::mt19937_64 random(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    int64_t hits = 0;
    for (int64_t i = 0; i < samples; ++i) {
      double x = unit(random), y = unit(random);
      hits += x * x + y * y <= 1.0;
    }
    driver.sendFrameworkMessage("result " + id + " " + std::to_string(hits) + " " + std::to_string(samples));
  }

  void shutdown(sdk::ExecutorDriver& driver) override {
    if (task_) {
      end(driver);
    } else {
      driver.stop();
    }
  }

  void error(sdk::ExecutorDriver&, const std::string& message) override { log_->error("Error: {}", message); }

 private:
  void update(sdk::ExecutorDriver& driver, v1::TaskState state, const std::string& message) {
    v1::TaskStatus status;
    *status.mutable_task_id() = *task_;
    status.set_state(state);
    status.set_message(message);
    if (isTerminalState(state)) {
      terminalUuid_ = newUuidBytes();
      status.set_uuid(terminalUuid_);
    }
    Status sent = driver.sendStatusUpdate(status);
    if (!sent.ok()) log_->warn("Cannot send {}: {}", v1::TaskState_Name(state), sent.message());
  }

  void end(sdk::ExecutorDriver& driver) {
    if (!terminalUuid_.empty()) return;
    update(driver, v1::TASK_KILLED, "Worker stopped");
  }

  std::shared_ptr<spdlog::logger> log_ = logger("pi-executor");
  std::optional<v1::TaskID> task_;
  std::string terminalUuid_;
};

}  // namespace

int main() {
  agora::initLogging(agora::LoggingOptions{});
  PiExecutor executor;
  agora::sdk::AgoraExecutorDriver driver(executor);
  agora::Status status = driver.run();
  if (!status.ok()) {
    std::cerr << "agora-example-coarse-grained-executor: " << status.message() << std::endl;
    return 1;
  }
  return 0;
}
