// The executor API (SUBSCRIBE, UPDATE, MESSAGE), framework messages, and
// status updates: recording them, acknowledgements, closed streams.

#include <fmt/format.h>

#include "agent_impl.hpp"
#include "agora/common/id.hpp"

namespace agora::agent {
namespace {

using ExecutorState = ExecutorRecord::State;

constexpr size_t kMaxCompletedTasksPerExecutor = 200;

}  // namespace

// --- Updates -------------------------------------------------------------------

void AgentImpl::agentUpdate(ExecutorRecord& executor, const std::string& taskId, v1::TaskState state,
                            v1::TaskStatus::Reason reason, const std::string& message) {
  auto it = executor.tasks.find(taskId);
  if (it == executor.tasks.end()) return;
  internal::StatusUpdate update = makeAgentUpdate(executor.frameworkId, it->second.task.task_id(),
                                                  &executor.info.executor_id(), state, reason, message);
  if (Status s = recordUpdate(executor, std::move(update)); !s.ok()) {
    log_->error("Failed to record the agent's update for task {}: {}", quoteForLog(taskId), s.message());
  }
}

Status AgentImpl::recordUpdate(ExecutorRecord& executor, internal::StatusUpdate update) {
  const std::string taskId = update.status().task_id().value();
  TaskRecord& task = executor.tasks.at(taskId);
  // Durable (and forwarded if it is the stream's head) first.
  AGORA_RETURN_IF_ERROR(updates_->update(update));
  v1::TaskState state = update.status().state();
  bool wasTerminal = isTerminalState(task.task.state());
  task.task.set_state(state);
  v1::TaskStatus* status = task.task.add_statuses();
  *status = update.status();
  status->clear_data();
  if (state == v1::TASK_STARTING || state == v1::TASK_RUNNING) task.launched = true;
  if (isTerminalState(state) && !wasTerminal) {
    ++counters_.terminalTasks[state];
    executor.resources -= resourcesOf(task.task.resources());
  }
  checkpointTask(executor, task);
  return Status::OK();
}

void AgentImpl::onStatusUpdateAcknowledgement(const PeerId& from, internal::Envelope& envelope) {
  const internal::StatusUpdateAcknowledgement& ack = envelope.status_update_acknowledgement();
  if (!info_.has_id() || ack.agent_id().value() != info_.id().value()) {
    drop(from, envelope, "for another agent");
    return;
  }
  TaskKey key{ack.framework_id().value(), ack.task_id().value()};
  auto acknowledged = updates_->acknowledge(key, ack.uuid());
  if (!acknowledged.ok()) {
    log_->error("Failed to record an acknowledgement for task {}: {}", quoteForLog(key.second),
                acknowledged.error().message());
  } else if (!*acknowledged) {
    log_->debug("Ignoring an acknowledgement for task {} that does not match its pending update",
                quoteForLog(key.second));
  }
}

void AgentImpl::onStreamClosed(const TaskKey& key) {
  ExecutorRecord* executor = executorOfTask(key.first, key.second);
  if (executor == nullptr) {
    // A stream of a task the agent did not have (reconciliation).
    maybeRemoveFramework(key.first);
    return;
  }
  auto it = executor->tasks.find(key.second);
  executor->completedTasks.push_back(it->second.task);
  if (executor->completedTasks.size() > kMaxCompletedTasksPerExecutor) executor->completedTasks.pop_front();
  executor->tasks.erase(it);
  if (Status s = store_->removeTask(key.first, key.second); !s.ok()) log_->error("{}", s.message());
  maybeCompleteExecutor(key.first, executor->info.executor_id().value());
}

// --- The executor API ------------------------------------------------------------

void AgentImpl::onExecutorCall(const PeerId& from, internal::Envelope& envelope) {
  const v1::executor::Call& call = envelope.executor_call();
  auto invalid = [&](const std::string& why) {
    if (call.type() == v1::executor::Call::UPDATE) ++counters_.invalidStatusUpdates;
    if (call.type() == v1::executor::Call::MESSAGE) ++counters_.invalidFrameworkMessages;
    drop(from, envelope, why);
  };
  ExecutorRecord* executor = this->executor(call.framework_id().value(), call.executor_id().value());
  if (executor == nullptr) {
    invalid(this->framework(call.framework_id().value()) == nullptr ? "unknown framework" : "unknown executor");
    return;
  }
  if (call.type() == v1::executor::Call::SUBSCRIBE) {
    onExecutorSubscribe(from, *executor, call);
    return;
  }
  if (executor->peer != from) {
    invalid("not the subscribed executor of " + quoteForLog(call.executor_id().value()));
    return;
  }
  switch (call.type()) {
    case v1::executor::Call::UPDATE:
      onExecutorUpdate(from, *executor, call);
      return;
    case v1::executor::Call::MESSAGE:
      onExecutorMessage(from, *executor, call);
      return;
    case v1::executor::Call::HEARTBEAT:
      return;
    default:
      invalid("unknown call type");
  }
}

void AgentImpl::onExecutorSubscribe(const PeerId& from, ExecutorRecord& executor, const v1::executor::Call& call) {
  const std::string executorId = executor.info.executor_id().value();
  if (executor.state == ExecutorState::kTerminating || executor.state == ExecutorState::kTerminated) {
    log_->warn("Executor {} subscribed while terminating; telling it to shut down", quoteForLog(executorId));
    internal::Envelope envelope;
    *envelope.mutable_executor_event() = executorEvent(v1::executor::Event::SHUTDOWN);
    messenger_.send(from, std::move(envelope));
    return;
  }
  if (executor.timer) clock_.cancel(*executor.timer);
  executor.timer.reset();
  bool resubscribe = !executor.peer.empty();
  // The checkpoint holds the executor's peer; an executor that reconnects
  // to a restarted agent keeps its peer, so there is nothing to write (a
  // durable write per executor would dominate a restart's recovery).
  bool peerChanged = executor.peer != from;
  executor.peer = from;
  executor.state = ExecutorState::kRunning;
  log_->info("Executor {} of framework {} {}subscribed", quoteForLog(executorId), executor.frameworkId.value(),
             resubscribe ? "re" : "");
  // The tasks the executor already has were delivered before a restart.
  for (const v1::TaskInfo& task : call.subscribe().unacknowledged_tasks()) {
    auto it = executor.tasks.find(task.task_id().value());
    if (it != executor.tasks.end() && !it->second.launched) {
      it->second.launched = true;
      checkpointTask(executor, it->second);
    }
  }
  if (peerChanged) checkpointExecutor(executor);

  FrameworkRecord* framework = this->framework(executor.frameworkId.value());
  v1::executor::Event subscribed = executorEvent(v1::executor::Event::SUBSCRIBED);
  *subscribed.mutable_subscribed()->mutable_executor_info() = executor.info;
  *subscribed.mutable_subscribed()->mutable_framework_info() = framework->info;
  *subscribed.mutable_subscribed()->mutable_agent_info() = info_;
  subscribed.mutable_subscribed()->mutable_container_id()->set_value(executor.containerId);
  sendToExecutor(executor, std::move(subscribed));

  // Updates the executor sent while the agent was away.
  for (const v1::executor::Call::Update& update : call.subscribe().unacknowledged_updates()) {
    v1::executor::Call replay;
    *replay.mutable_executor_id() = call.executor_id();
    *replay.mutable_framework_id() = call.framework_id();
    replay.set_type(v1::executor::Call::UPDATE);
    *replay.mutable_update() = update;
    onExecutorUpdate(from, executor, replay);
  }
  deliverQueuedTasks(executor);
}

void AgentImpl::onExecutorUpdate(const PeerId& from, ExecutorRecord& executor, const v1::executor::Call& call) {
  auto invalid = [&](const std::string& why) {
    ++counters_.invalidStatusUpdates;
    ++counters_.droppedMessages;
    log_->warn("Dropping a status update from executor {} ({}): {}", quoteForLog(call.executor_id().value()),
               quoteForLog(from), why);
  };
  if (!call.has_update()) {
    invalid("no update");
    return;
  }
  const v1::TaskStatus& status = call.update().status();
  if (!status.has_uuid() || status.uuid().size() != 16) {
    invalid("the update has no valid uuid");
    return;
  }
  if (status.state() == v1::TASK_STAGING) {
    invalid("executors may not send TASK_STAGING");
    return;
  }
  const std::string& taskId = status.task_id().value();
  auto task = executor.tasks.find(taskId);
  if (task == executor.tasks.end()) {
    for (const v1::Task& done : executor.completedTasks) {
      if (done.task_id().value() == taskId) {
        // Already recorded and acknowledged by the scheduler: let the
        // executor forget it.
        acknowledgeExecutorUpdate(executor, status);
        return;
      }
    }
    invalid("task " + quoteForLog(taskId) + " is not a task of this executor");
    return;
  }
  internal::StatusUpdate update;
  *update.mutable_framework_id() = executor.frameworkId;
  *update.mutable_executor_id() = executor.info.executor_id();
  *update.mutable_agent_id() = info_.id();
  *update.mutable_status() = status;
  v1::TaskStatus* s = update.mutable_status();
  s->set_source(v1::TaskStatus::SOURCE_EXECUTOR);
  *s->mutable_agent_id() = info_.id();
  *s->mutable_executor_id() = executor.info.executor_id();
  double now = std::chrono::duration<double>(clock_.wallNow().time_since_epoch()).count();
  if (!s->has_timestamp()) s->set_timestamp(now);
  update.set_timestamp(s->timestamp());
  update.set_uuid(status.uuid());

  bool live = executor.pid && executor.state != ExecutorState::kTerminated;
  if (status.state() != v1::TASK_FAILED || !live || isTerminalState(task->second.task.state())) {
    recordExecutorUpdate(executor, std::move(update));
    return;
  }
  // A task that failed may have been ended by the container's limits (the
  // OOM killer): ask the containerizer before recording, so that the task
  // fails with the limitation's reason whoever notices first. Resends of
  // the update meanwhile are ignored; the answer records it once.
  if (!executor.limitationChecks.insert(status.uuid()).second) return;
  std::string frameworkId = executor.frameworkId.value();
  std::string executorId = executor.info.executor_id().value();
  std::string containerId = executor.containerId;
  containerizer_.checkLimitation(containerId, [this, alive = alive_, frameworkId, executorId, containerId,
                                               update](std::optional<ContainerTermination> limitation) mutable {
    if (!*alive) return;
    ExecutorRecord* e = this->executor(frameworkId, executorId);
    if (e == nullptr || e->containerId != containerId) return;
    e->limitationChecks.erase(update.uuid());
    if (e->tasks.count(update.status().task_id().value()) == 0) return;
    if (limitation) {
      v1::TaskStatus* s = update.mutable_status();
      s->set_state(limitation->state.value_or(v1::TASK_FAILED));
      s->set_reason(limitation->reason.value_or(v1::TaskStatus::REASON_CONTAINER_LIMITATION));
      s->set_message(limitation->message);
      s->set_source(v1::TaskStatus::SOURCE_AGENT);
      if (limitation->limitation) limitation->limitation->toProto(s->mutable_limitation()->mutable_resources());
    }
    recordExecutorUpdate(*e, std::move(update));
    if (limitation) {
      log_->warn("Container {} of executor {}: {}", containerId, quoteForLog(executorId), limitation->message);
      terminateExecutor(*e,
                        {limitation->state.value_or(v1::TASK_FAILED),
                         limitation->reason.value_or(v1::TaskStatus::REASON_CONTAINER_LIMITATION),
                         limitation->message},
                        Duration::zero(), false);
    }
  });
}

void AgentImpl::acknowledgeExecutorUpdate(const ExecutorRecord& executor, const v1::TaskStatus& status) {
  v1::executor::Event ack = executorEvent(v1::executor::Event::ACKNOWLEDGED);
  *ack.mutable_acknowledged()->mutable_task_id() = status.task_id();
  ack.mutable_acknowledged()->set_uuid(status.uuid());
  sendToExecutor(executor, std::move(ack));
}

void AgentImpl::recordExecutorUpdate(ExecutorRecord& executor, internal::StatusUpdate update) {
  // The executor's own status (the uuid it resends), whatever the agent
  // made of the update.
  v1::TaskStatus acknowledged;
  *acknowledged.mutable_task_id() = update.status().task_id();
  acknowledged.set_uuid(update.uuid());
  const std::string taskId = update.status().task_id().value();
  Status recorded = recordUpdate(executor, std::move(update));
  if (recorded.ok()) {
    ++counters_.validStatusUpdates;
    acknowledgeExecutorUpdate(executor, acknowledged);
  } else if (recorded.code() == Status::Code::kAlreadyExists) {
    log_->debug("Duplicate update for task {}", quoteForLog(taskId));
    acknowledgeExecutorUpdate(executor, acknowledged);
  } else if (recorded.code() == Status::Code::kFailedPrecondition) {
    ++counters_.invalidStatusUpdates;
    ++counters_.droppedMessages;
    log_->warn("Dropping a status update from executor {}: {}", quoteForLog(executor.info.executor_id().value()),
               recorded.message());
    acknowledgeExecutorUpdate(executor, acknowledged);  // So that the executor stops resending it.
  } else {
    // Not durable: no acknowledgement, the executor resends.
    log_->error("Failed to record an update for task {}: {}", quoteForLog(taskId), recorded.message());
  }
}

void AgentImpl::onExecutorMessage(const PeerId&, ExecutorRecord& executor, const v1::executor::Call& call) {
  if (!call.has_message()) {
    ++counters_.invalidFrameworkMessages;
    return;
  }
  ++counters_.validFrameworkMessages;
  internal::Envelope envelope;
  internal::ExecutorToFramework* message = envelope.mutable_executor_to_framework();
  *message->mutable_agent_id() = info_.id();
  *message->mutable_framework_id() = executor.frameworkId;
  *message->mutable_executor_id() = executor.info.executor_id();
  message->set_data(call.message().data());
  sendToMaster(std::move(envelope));
}

void AgentImpl::onFrameworkToExecutor(const PeerId& from, internal::Envelope& envelope) {
  const internal::FrameworkToExecutor& message = envelope.framework_to_executor();
  ExecutorRecord* executor = this->executor(message.framework_id().value(), message.executor_id().value());
  if (executor == nullptr || executor->state != ExecutorState::kRunning) {
    ++counters_.invalidFrameworkMessages;
    drop(from, envelope, "no running executor " + quoteForLog(message.executor_id().value()));
    return;
  }
  ++counters_.validFrameworkMessages;
  v1::executor::Event e = executorEvent(v1::executor::Event::MESSAGE);
  e.mutable_message()->set_data(message.data());
  sendToExecutor(*executor, std::move(e));
}


}  // namespace agora::agent
