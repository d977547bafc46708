// Kills, shutdowns and container terminations.

#include <fmt/format.h>

#include "agent_impl.hpp"
#include "agora/common/id.hpp"

namespace agora::agent {
namespace {

using ExecutorState = ExecutorRecord::State;

}  // namespace

// --- Kills and shutdowns -----------------------------------------------------------

void AgentImpl::onKillTask(const PeerId&, internal::Envelope& envelope) {
  const internal::KillTask& kill = envelope.kill_task();
  const std::string& frameworkId = kill.framework_id().value();
  const std::string& taskId = kill.task_id().value();
  ExecutorRecord* executor = executorOfTask(frameworkId, taskId);
  if (executor == nullptr) {
    log_->warn("Cannot kill unknown task {} of framework {}", quoteForLog(taskId), quoteForLog(frameworkId));
    return;
  }
  TaskRecord& task = executor->tasks.at(taskId);
  if (isTerminalState(task.task.state())) return;
  if (!task.launched) {
    // The executor never saw the task: the agent answers for it.
    agentUpdate(*executor, taskId, v1::TASK_KILLED, v1::TaskStatus::REASON_TASK_KILLED_DURING_LAUNCH,
                "Killed before delivery to the executor");
    bool anyLive = false;
    for (const auto& [id, t] : executor->tasks) anyLive |= !isTerminalState(t.task.state());
    if (!anyLive && executor->state != ExecutorState::kRunning) {
      terminateExecutor(*executor,
                        {v1::TASK_KILLED, v1::TaskStatus::REASON_TASK_KILLED_DURING_LAUNCH, "No tasks left"},
                        Duration::zero(), false);
    }
    return;
  }
  if (executor->state != ExecutorState::kRunning) return;  // Terminating: its tasks end with it.
  v1::executor::Event e = executorEvent(v1::executor::Event::KILL);
  *e.mutable_kill()->mutable_task_id() = kill.task_id();
  if (kill.has_kill_policy()) *e.mutable_kill()->mutable_kill_policy() = kill.kill_policy();
  else if (task.info.has_kill_policy()) *e.mutable_kill()->mutable_kill_policy() = task.info.kill_policy();
  sendToExecutor(*executor, std::move(e));
}

void AgentImpl::onShutdownFramework(const PeerId&, internal::Envelope& envelope) {
  const std::string frameworkId = envelope.shutdown_framework().framework_id().value();
  FrameworkRecord* framework = this->framework(frameworkId);
  if (framework == nullptr) return;
  log_->info("Shutting down framework {}", quoteForLog(frameworkId));
  framework->removing = true;
  std::vector<std::string> executorIds;
  for (auto& [id, executor] : framework->executors) executorIds.push_back(id);
  for (const std::string& id : executorIds) {
    ExecutorRecord* executor = this->executor(frameworkId, id);
    if (executor == nullptr) continue;
    terminateExecutor(*executor, {v1::TASK_KILLED, v1::TaskStatus::REASON_FRAMEWORK_REMOVED, "Framework removed"},
                      shutdownGracePeriod(*executor), true);
  }
  maybeRemoveFramework(frameworkId);
}

void AgentImpl::onShutdownExecutor(const PeerId& from, internal::Envelope& envelope) {
  const internal::ShutdownExecutor& shutdown = envelope.shutdown_executor();
  ExecutorRecord* executor = this->executor(shutdown.framework_id().value(), shutdown.executor_id().value());
  if (executor == nullptr) {
    drop(from, envelope, "unknown executor");
    return;
  }
  terminateExecutor(*executor,
                    {v1::TASK_KILLED, v1::TaskStatus::REASON_EXECUTOR_TERMINATED, "Executor shut down"},
                    shutdownGracePeriod(*executor), true);
}

void AgentImpl::onUpdateFramework(const PeerId&, internal::Envelope& envelope) {
  const internal::UpdateFramework& update = envelope.update_framework();
  if (framework(update.framework_id().value()) == nullptr) return;
  v1::FrameworkInfo info = update.framework_info();
  *info.mutable_id() = update.framework_id();
  ensureFramework(info);
}

void AgentImpl::terminateExecutor(ExecutorRecord& executor, ExecutorRecord::Termination termination, Duration grace,
                                  bool sendShutdown) {
  if (executor.state == ExecutorState::kTerminating || executor.state == ExecutorState::kTerminated) return;
  if (executor.timer) clock_.cancel(*executor.timer);
  executor.timer.reset();
  bool graceful = sendShutdown && executor.state == ExecutorState::kRunning && !executor.peer.empty();
  for (auto& [taskId, task] : executor.tasks) {
    if (isTerminalState(task.task.state())) continue;
    // A subscribed executor reports its delivered tasks itself.
    if (graceful && task.launched) continue;
    agentUpdate(executor, taskId, termination.state, termination.reason, termination.message);
  }
  executor.pendingTermination = termination;
  bool launching = executor.state == ExecutorState::kLaunching;
  executor.state = ExecutorState::kTerminating;
  const std::string containerId = executor.containerId;
  if (graceful) {
    sendToExecutor(executor, executorEvent(v1::executor::Event::SHUTDOWN));
    executor.timer = clock_.schedule(grace, [this, containerId] { containerizer_.destroy(containerId, Duration::zero()); });
  } else if (!launching) {
    containerizer_.destroy(containerId, grace);
  }
  // A launching container is destroyed once its launch returns.
}

void AgentImpl::onExecutorTerminated(const std::string& frameworkId, const std::string& executorId,
                                     const std::string& containerId, const ContainerTermination& termination) {
  ExecutorRecord* executor = this->executor(frameworkId, executorId);
  if (executor == nullptr || executor->containerId != containerId) return;
  if (executor->state == ExecutorState::kTerminated) return;
  if (executor->timer) clock_.cancel(*executor->timer);
  executor->timer.reset();
  log_->info("Executor {} of framework {} terminated: {}", quoteForLog(executorId), frameworkId,
             termination.message);
  for (auto& [taskId, task] : executor->tasks) {
    if (isTerminalState(task.task.state())) continue;
    v1::TaskState state = v1::TASK_FAILED;
    v1::TaskStatus::Reason reason = v1::TaskStatus::REASON_EXECUTOR_TERMINATED;
    std::string message = "Executor terminated: " + termination.message;
    if (termination.state || termination.reason) {
      state = termination.state.value_or(v1::TASK_FAILED);
      reason = termination.reason.value_or(v1::TaskStatus::REASON_CONTAINER_LIMITATION);
      message = termination.message;
    } else if (executor->pendingTermination) {
      state = executor->pendingTermination->state;
      reason = executor->pendingTermination->reason;
      message = executor->pendingTermination->message;
    }
    internal::StatusUpdate update = makeAgentUpdate(executor->frameworkId, task.task.task_id(),
                                                    &executor->info.executor_id(), state, reason, message);
    if (termination.limitation) termination.limitation->toProto(update.mutable_status()->mutable_limitation()->mutable_resources());
    if (Status s = recordUpdate(*executor, std::move(update)); !s.ok()) log_->error("{}", s.message());
  }
  executor->state = ExecutorState::kTerminated;
  ++counters_.executorsTerminated;
  checkpointExecutor(*executor);
  if (!executor->commandExecutor && registration_ == Registration::kRegistered) {
    internal::Envelope envelope;
    internal::ExitedExecutor* exited = envelope.mutable_exited_executor();
    *exited->mutable_agent_id() = info_.id();
    *exited->mutable_framework_id() = executor->frameworkId;
    *exited->mutable_executor_id() = executor->info.executor_id();
    exited->set_status(termination.waitStatus.value_or(-1));
    sendToMaster(std::move(envelope));
  }
  maybeCompleteExecutor(frameworkId, executorId);
  maybeRemoveFramework(frameworkId);
  maybeFinishShutdown();
}


}  // namespace agora::agent
