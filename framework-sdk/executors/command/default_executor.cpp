#include "default_executor.hpp"

#include <filesystem>

#include "agora/common/id.hpp"
#include "agora/common/logging.hpp"

namespace agora::sdk {

namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = agora::logger("default-executor");
  return logger;
}

}  // namespace

// What one task's CommandExecutor sees as its driver: updates go to the real
// driver (after the group has looked at them), stop() means "this task is
// done".
class DefaultExecutor::TaskDriver final : public ExecutorDriver {
 public:
  TaskDriver(DefaultExecutor& parent, TaskRun& run) : parent_(parent), run_(run) {}

  void start() override {}
  void stop() override { parent_.taskDone(run_); }
  Status sendStatusUpdate(v1::TaskStatus status) override;
  void sendFrameworkMessage(const std::string& data) override {
    if (parent_.driver_ != nullptr) parent_.driver_->sendFrameworkMessage(data);
  }
  State state() const override { return parent_.driver_ != nullptr ? parent_.driver_->state() : State::kNotStarted; }

 private:
  DefaultExecutor& parent_;
  TaskRun& run_;
};

struct DefaultExecutor::TaskRun {
  std::string taskId;
  uint64_t group = 0;
  v1::TaskState state = v1::TASK_STAGING;  // The last state sent.
  bool done = false;                       // Terminal and acknowledged (or given up on).
  std::unique_ptr<TaskDriver> driver;
  std::unique_ptr<CommandExecutor> executor;
};

Status DefaultExecutor::TaskDriver::sendStatusUpdate(v1::TaskStatus status) {
  if (parent_.driver_ == nullptr) return Status::FailedPrecondition("The executor is not subscribed");
  v1::TaskStatus copy = status;
  Status sent = parent_.driver_->sendStatusUpdate(std::move(status));
  if (sent.ok()) parent_.taskStatus(run_, copy);
  return sent;
}

DefaultExecutor::DefaultExecutor(Clock& clock, ProcessRunner& runner, CommandExecutorOptions options)
    : clock_(clock), runner_(runner), options_(std::move(options)) {}

DefaultExecutor::~DefaultExecutor() = default;

std::string DefaultExecutor::taskDirectory(const std::string& taskId) const {
  return options_.directory.empty() ? "" : options_.directory + "/tasks/" + taskId;
}

void DefaultExecutor::subscribed(ExecutorDriver& driver, const v1::ExecutorInfo& executorInfo,
                                 const v1::FrameworkInfo& frameworkInfo, const v1::AgentInfo& agentInfo) {
  driver_ = &driver;
  executorInfo_ = executorInfo;
  framework_ = frameworkInfo;
  agent_ = agentInfo;
}

void DefaultExecutor::launch(ExecutorDriver& driver, const v1::TaskInfo& task) {
  v1::TaskGroupInfo group;
  *group.add_tasks() = task;
  launchGroup(driver, group);
}

void DefaultExecutor::launchGroup(ExecutorDriver& driver, const v1::TaskGroupInfo& taskGroup) {
  driver_ = &driver;
  uint64_t group = nextGroup_++;
  std::vector<std::pair<TaskRun*, const v1::TaskInfo*>> started;
  for (const v1::TaskInfo& task : taskGroup.tasks()) {
    const std::string& taskId = task.task_id().value();
    auto refuse = [&](const std::string& why) {
      log()->warn("Refusing task {}: {}", quoteForLog(taskId), why);
      v1::TaskStatus status;
      *status.mutable_task_id() = task.task_id();
      status.set_state(v1::TASK_FAILED);
      status.set_message(why);
      (void)driver.sendStatusUpdate(std::move(status));
    };
    if (shuttingDown_) {
      refuse("The executor is shutting down");
      continue;
    }
    if (runs_.count(taskId) > 0) {
      refuse("Task " + quoteForLog(taskId) + " was already launched on this executor");
      continue;
    }
    CommandExecutorOptions options = options_;
    options.directory = taskDirectory(taskId);
    if (!options.directory.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(options.directory, ec);
      if (ec) {
        refuse("Failed to create the task's sandbox '" + options.directory + "': " + ec.message());
        continue;
      }
      std::erase_if(options.environment, [](const std::string& e) { return e.rfind("AGORA_SANDBOX=", 0) == 0; });
      options.environment.push_back("AGORA_SANDBOX=" + options.directory);
    }
    auto run = std::make_unique<TaskRun>();
    run->taskId = taskId;
    run->group = group;
    run->driver = std::make_unique<TaskDriver>(*this, *run);
    run->executor = std::make_unique<CommandExecutor>(clock_, runner_, std::move(options));
    run->executor->subscribed(*run->driver, executorInfo_, framework_, agent_);
    TaskRun& stored = *(runs_[taskId] = std::move(run));
    started.emplace_back(&stored, &task);
  }
  log()->info("Launching a group of {} task(s)", started.size());
  for (auto& [run, task] : started) {
    if (endedGroups_.count(group) > 0) {
      // An earlier task of the group failed to start: this one never runs.
      v1::TaskStatus status;
      *status.mutable_task_id() = task->task_id();
      status.set_state(v1::TASK_KILLED);
      status.set_message("Another task of its group failed to start");
      run->state = v1::TASK_KILLED;
      run->done = true;
      (void)driver.sendStatusUpdate(std::move(status));
      continue;
    }
    run->executor->launch(*run->driver, *task);
  }
  maybeStop();
}

void DefaultExecutor::kill(ExecutorDriver& driver, const v1::TaskID& taskId,
                           const std::optional<v1::KillPolicy>& killPolicy) {
  driver_ = &driver;
  auto it = runs_.find(taskId.value());
  if (it == runs_.end()) {
    log()->warn("Kill of unknown task {} ignored", quoteForLog(taskId.value()));
    return;
  }
  TaskRun& run = *it->second;
  run.executor->kill(*run.driver, taskId, killPolicy);
  killGroup(run.group, run.taskId);  // A group lives and dies together.
}

void DefaultExecutor::acknowledged(ExecutorDriver& driver, const v1::TaskID& taskId, const std::string& uuid) {
  driver_ = &driver;
  auto it = runs_.find(taskId.value());
  if (it != runs_.end()) it->second->executor->acknowledged(*it->second->driver, taskId, uuid);
}

void DefaultExecutor::frameworkMessage(ExecutorDriver& /*driver*/, const std::string& data) {
  log()->info("Ignoring a framework message of {} bytes", data.size());
}

void DefaultExecutor::shutdown(ExecutorDriver& driver) {
  driver_ = &driver;
  shuttingDown_ = true;
  log()->info("Shutting down: killing {} task(s)", runs_.size());
  for (auto& [taskId, run] : runs_) {
    if (!run->done) run->executor->shutdown(*run->driver);
  }
  maybeStop();
}

void DefaultExecutor::error(ExecutorDriver& /*driver*/, const std::string& message) {
  log()->error("Error from the agent: {}", quoteForLog(message, 200));
}

void DefaultExecutor::taskStatus(TaskRun& run, const v1::TaskStatus& status) {
  run.state = status.state();
  if (!isTerminalState(status.state()) || status.state() == v1::TASK_FINISHED) return;
  endedGroups_.insert(run.group);
  killGroup(run.group, run.taskId);
}

void DefaultExecutor::killGroup(uint64_t group, const std::string& except) {
  for (auto& [taskId, run] : runs_) {
    if (run->group != group || taskId == except || isTerminalState(run->state)) continue;
    if (run->state == v1::TASK_KILLING) continue;
    run->executor->killBecause(*run->driver, "Killed with its group: task " + quoteForLog(except) + " ended");
  }
}

void DefaultExecutor::taskDone(TaskRun& run) {
  run.done = true;
  maybeStop();
}

void DefaultExecutor::maybeStop() {
  if (stopped_ || driver_ == nullptr) return;
  for (const auto& [taskId, run] : runs_) {
    if (!run->done) return;
  }
  if (runs_.empty() && !shuttingDown_) return;  // Nothing launched yet.
  stopped_ = true;
  log()->info("Every task is done; exiting");
  driver_->stop();
}

}  // namespace agora::sdk
