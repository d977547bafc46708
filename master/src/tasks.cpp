// Tasks: status updates and acknowledgements, kill, reconciliation, and the
// messages between schedulers and executors.

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "agora/common/check.hpp"
#include "agora/common/id.hpp"
#include "process.hpp"

namespace agora::master {

namespace {

constexpr size_t kMaxStatusesPerTask = 16;
constexpr size_t kUuidBytes = 16;

double seconds(WallTime t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

// The state a framework without PARTITION_AWARE sees instead of `state`.
v1::TaskState forFramework(const FrameworkEntry& framework, v1::TaskState state) {
  if (framework.partitionAware()) return state;
  switch (state) {
    case v1::TASK_DROPPED:
    case v1::TASK_UNREACHABLE:
    case v1::TASK_GONE:
    case v1::TASK_GONE_BY_OPERATOR:
    case v1::TASK_UNKNOWN:
      return v1::TASK_LOST;
    default:
      return state;
  }
}

// The state the framework was last told (Mesos: status_update_state).
v1::TaskState lastForwarded(const v1::Task& task) {
  return task.has_status_update_state() ? task.status_update_state() : task.state();
}

}  // namespace

void MasterProcess::addTask(FrameworkEntry& framework, AgentEntry& agent, v1::Task task, Resources resources) {
  std::string taskId = task.task_id().value();
  TaskEntry entry;
  entry.released = isTerminal(task.state());
  entry.task = std::move(task);
  entry.resources = std::move(resources);
  framework.tasks[taskId] = std::move(entry);
  agent.tasks[framework.id].insert(taskId);
}

void MasterProcess::countTaskState(FrameworkEntry& framework, v1::TaskState state) {
  if (!isTerminal(state)) return;
  std::string name = v1::TaskState_Name(state);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  counters_["master/tasks_" + name.substr(5)] += 1;  // "task_" off.
  framework.counters["tasks/terminal/" + name] += 1;
}

void MasterProcess::sendMasterUpdate(FrameworkEntry& framework, const std::string& taskId,
                                     const std::string& agentId, v1::TaskState state,
                                     v1::TaskStatus::Reason reason, const std::string& message) {
  Event event;
  event.set_type(Event::UPDATE);
  v1::TaskStatus* status = event.mutable_update()->mutable_status();
  status->mutable_task_id()->set_value(taskId);
  status->set_state(forFramework(framework, state));
  status->set_reason(reason);
  status->set_source(v1::TaskStatus::SOURCE_MASTER);
  status->set_message(message);
  status->set_timestamp(seconds(clock_.wallNow()));
  if (!agentId.empty()) status->mutable_agent_id()->set_value(agentId);
  if (state == v1::TASK_UNREACHABLE) *status->mutable_unreachable_time() = toTimeInfo(clock_.wallNow());
  if (reason != v1::TaskStatus::REASON_RECONCILIATION && reason != v1::TaskStatus::REASON_AGENT_REREGISTERED) {
    countTaskState(framework, status->state());
  }
  sendEvent(framework, std::move(event));
}

void MasterProcess::updateTaskState(FrameworkEntry& framework, TaskEntry& task, const v1::TaskStatus& status,
                                    v1::TaskState latest) {
  if (task.task.state() != latest) countTaskState(framework, latest);
  task.task.set_state(latest);
  task.task.set_status_update_state(status.state());
  if (status.has_uuid()) task.task.set_status_update_uuid(status.uuid());
  *task.task.add_statuses() = status;
  if (static_cast<size_t>(task.task.statuses_size()) > kMaxStatusesPerTask) {
    task.task.mutable_statuses()->DeleteSubrange(0, 1);
  }
  if (isTerminal(latest)) releaseTaskResources(framework, task);
}

void MasterProcess::releaseTaskResources(FrameworkEntry& framework, TaskEntry& task) {
  if (task.released) return;
  task.released = true;
  const std::string& agentId = task.task.agent_id().value();
  allocator_.recoverResources(framework.id, agentId, task.resources, std::nullopt, clock_.now());
  allocate(allocator::Scope::agents({agentId}));
}

void MasterProcess::completeTask(FrameworkEntry& framework, const std::string& taskId) {
  auto it = framework.tasks.find(taskId);
  if (it == framework.tasks.end()) return;
  releaseTaskResources(framework, it->second);
  if (auto agent = agents_.find(it->second.task.agent_id().value()); agent != agents_.end()) {
    auto tasks = agent->second->tasks.find(framework.id);
    if (tasks != agent->second->tasks.end()) {
      tasks->second.erase(taskId);
      if (tasks->second.empty()) agent->second->tasks.erase(tasks);
    }
  }
  framework.completedTasks.push_back(std::move(it->second.task));
  framework.tasks.erase(it);
  while (framework.completedTasks.size() > static_cast<size_t>(options_.maxCompletedTasksPerFramework)) {
    framework.completedTasks.pop_front();
  }
}

void MasterProcess::statusUpdate(const PeerId& from, const internal::StatusUpdate& update) {
  AgentEntry* agent = agentOf(from, update.has_agent_id() ? &update.agent_id() : nullptr, "status_update");
  if (agent == nullptr) return;
  const std::string& frameworkId = update.framework_id().value();
  const std::string& taskId = update.status().task_id().value();
  if (!validateId(frameworkId).ok() || !validateId(taskId).ok()) {
    counters_["master/invalid_status_updates"] += 1;
    return drop(from, "status_update", "invalid framework or task ID");
  }
  if (update.has_uuid() && update.uuid() != update.status().uuid()) {
    counters_["master/invalid_status_updates"] += 1;
    return drop(from, "status_update", "uuid differs from status.uuid");
  }
  auto fit = frameworks_.find(frameworkId);
  if (fit == frameworks_.end()) {
    counters_["master/invalid_status_updates"] += 1;
    log_->warn("Status update for task {} of unknown framework {} from agent {}", quoteForLog(taskId),
               quoteForLog(frameworkId), agent->id);
    bool removed = std::any_of(completedFrameworks_.begin(), completedFrameworks_.end(),
                               [&](const auto& f) { return f->id == frameworkId; });
    if (removed) {
      internal::Envelope shutdown;
      *shutdown.mutable_shutdown_framework()->mutable_framework_id() = update.framework_id();
      send(agent->peer, std::move(shutdown));
    }
    return;
  }
  FrameworkEntry& framework = *fit->second;
  v1::TaskStatus status = update.status();
  *status.mutable_agent_id() = agent->info.id();

  auto task = framework.tasks.find(taskId);
  if (task != framework.tasks.end() && task->second.task.agent_id().value() != agent->id) {
    counters_["master/invalid_status_updates"] += 1;
    return drop(from, "status_update", "task runs on another agent");
  }
  if (task != framework.tasks.end()) {
    v1::TaskState latest = update.has_latest_state() ? update.latest_state() : status.state();
    updateTaskState(framework, task->second, status, latest);
    counters_["master/valid_status_updates"] += 1;
  } else {
    // Not ours (e.g. the agent's answer to a reconciliation): forwarded so
    // that the scheduler can acknowledge it and the agent stops resending.
    counters_["master/invalid_status_updates"] += 1;
  }
  Event event;
  event.set_type(Event::UPDATE);
  *event.mutable_update()->mutable_status() = std::move(status);
  sendEvent(framework, std::move(event));
}

void MasterProcess::acknowledge(FrameworkEntry& framework, const Call::Acknowledge& ack) {
  const std::string& agentId = ack.agent_id().value();
  const std::string& taskId = ack.task_id().value();
  auto agent = agents_.find(agentId);
  if (ack.uuid().size() != kUuidBytes || !validateId(taskId).ok() || agent == agents_.end()) {
    counters_["master/invalid_status_update_acknowledgements"] += 1;
    return drop(framework.peer, "scheduler_call.ACKNOWLEDGE", "invalid uuid, task ID or unknown agent");
  }
  auto task = framework.tasks.find(taskId);
  if (task != framework.tasks.end() && task->second.task.status_update_uuid() == ack.uuid() &&
      isTerminal(task->second.task.status_update_state())) {
    completeTask(framework, taskId);
  }
  internal::Envelope envelope;
  auto* forwarded = envelope.mutable_status_update_acknowledgement();
  *forwarded->mutable_agent_id() = ack.agent_id();
  forwarded->mutable_framework_id()->set_value(framework.id);
  *forwarded->mutable_task_id() = ack.task_id();
  forwarded->set_uuid(ack.uuid());
  send(agent->second->peer, std::move(envelope));
  counters_["master/valid_status_update_acknowledgements"] += 1;
}

void MasterProcess::kill(FrameworkEntry& framework, const Call::Kill& kill) {
  const std::string& taskId = kill.task_id().value();
  if (!validateId(taskId).ok()) return drop(framework.peer, "scheduler_call.KILL", "invalid task ID");
  auto task = framework.tasks.find(taskId);
  if (task == framework.tasks.end()) {
    // Unknown: answer as an explicit reconciliation would.
    std::optional<std::string> agentId;
    if (kill.has_agent_id()) agentId = kill.agent_id().value();
    if (framework.unreachableTasks.count(taskId) > 0) {
      log_->info("Framework {} kills unreachable task {}: sent if its agent comes back", framework.id,
                 quoteForLog(taskId));
      framework.unreachableKills[taskId] =
          kill.has_kill_policy() ? std::optional<v1::KillPolicy>(kill.kill_policy()) : std::nullopt;
    }
    bool answer = false;
    v1::TaskStatus status = reconciliationStatus(framework, taskId, agentId, &answer);
    if (answer) {
      sendMasterUpdate(framework, taskId, status.agent_id().value(), status.state(),
                       v1::TaskStatus::REASON_RECONCILIATION, "Killing an unknown task");
    }
    return;
  }
  TaskEntry& entry = task->second;
  entry.killRequested = true;
  // A second kill may only shorten the grace period (the agent enforces it).
  if (kill.has_kill_policy()) entry.killPolicy = kill.kill_policy();
  auto agent = agents_.find(entry.task.agent_id().value());
  if (agent == agents_.end()) return;  // Sent when the agent reregisters.
  sendKill(*agent->second, framework.id, entry);
}

void MasterProcess::sendKill(const AgentEntry& agent, const std::string& frameworkId, const TaskEntry& task) {
  internal::Envelope envelope;
  auto* message = envelope.mutable_kill_task();
  message->mutable_framework_id()->set_value(frameworkId);
  *message->mutable_task_id() = task.task.task_id();
  if (task.killPolicy) *message->mutable_kill_policy() = *task.killPolicy;
  send(agent.peer, std::move(envelope));
}

void MasterProcess::resendKills(const AgentEntry& agent) {
  for (const auto& [frameworkId, taskIds] : agent.tasks) {
    auto framework = frameworks_.find(frameworkId);
    if (framework == frameworks_.end()) continue;
    for (const auto& taskId : taskIds) {
      auto task = framework->second->tasks.find(taskId);
      if (task == framework->second->tasks.end() || !task->second.killRequested) continue;
      if (isTerminal(task->second.task.state())) continue;
      log_->info("Sending the kill of task {} of framework {} again to reregistered agent {}", quoteForLog(taskId),
                 frameworkId, agent.id);
      counters_["master/task_kills_resent"] += 1;
      sendKill(agent, frameworkId, task->second);
    }
  }
}

v1::TaskStatus MasterProcess::reconciliationStatus(const FrameworkEntry& framework, const std::string& taskId,
                                                   const std::optional<std::string>& agentId, bool* answer) const {
  v1::TaskStatus status;
  status.mutable_task_id()->set_value(taskId);
  *answer = true;
  if (auto task = framework.tasks.find(taskId); task != framework.tasks.end()) {
    status.set_state(lastForwarded(task->second.task));
    *status.mutable_agent_id() = task->second.task.agent_id();
    return status;
  }
  if (auto task = framework.unreachableTasks.find(taskId); task != framework.unreachableTasks.end()) {
    status.set_state(v1::TASK_UNREACHABLE);
    *status.mutable_agent_id() = task->second.agent_id();
    return status;
  }
  if (agentId) status.mutable_agent_id()->set_value(*agentId);
  if (!agentId) {
    *answer = recoveredAgents_.empty();
    status.set_state(v1::TASK_UNKNOWN);
  } else if (recoveredAgents_.count(*agentId) > 0) {
    *answer = false;  // It may still come back with the task: ask again later.
  } else if (agents_.count(*agentId) > 0) {
    status.set_state(v1::TASK_GONE);
  } else if (unreachable_.count(*agentId) > 0) {
    status.set_state(v1::TASK_UNREACHABLE);
  } else if (gone_.count(*agentId) > 0) {
    status.set_state(v1::TASK_GONE_BY_OPERATOR);
  } else {
    status.set_state(v1::TASK_UNKNOWN);
  }
  return status;
}

void MasterProcess::reconcile(FrameworkEntry& framework, const Call::Reconcile& reconcile) {
  if (reconcile.tasks_size() == 0) {
    // Implicit: every task the master knows (terminal-but-unacked included).
    for (const auto& [taskId, task] : framework.tasks) {
      sendMasterUpdate(framework, taskId, task.task.agent_id().value(), lastForwarded(task.task),
                       v1::TaskStatus::REASON_RECONCILIATION, "Reconciliation: latest task state");
    }
    return;
  }
  for (const auto& entry : reconcile.tasks()) {
    const std::string& taskId = entry.task_id().value();
    if (!validateId(taskId).ok()) continue;
    std::optional<std::string> agentId;
    if (entry.has_agent_id()) agentId = entry.agent_id().value();
    bool answer = false;
    v1::TaskStatus status = reconciliationStatus(framework, taskId, agentId, &answer);
    if (!answer) continue;
    sendMasterUpdate(framework, taskId, status.has_agent_id() ? status.agent_id().value() : "", status.state(),
                     v1::TaskStatus::REASON_RECONCILIATION, "Reconciliation: latest task state");
  }
}

void MasterProcess::frameworkMessage(FrameworkEntry& framework, const Call::Message& message) {
  auto agent = agents_.find(message.agent_id().value());
  if (agent == agents_.end() || !agent->second->connected || !validateId(message.executor_id().value()).ok()) {
    counters_["master/invalid_framework_to_executor_messages"] += 1;
    return;
  }
  internal::Envelope envelope;
  auto* forwarded = envelope.mutable_framework_to_executor();
  *forwarded->mutable_agent_id() = message.agent_id();
  forwarded->mutable_framework_id()->set_value(framework.id);
  *forwarded->mutable_executor_id() = message.executor_id();
  forwarded->set_data(message.data());
  send(agent->second->peer, std::move(envelope));
  counters_["master/valid_framework_to_executor_messages"] += 1;
}

void MasterProcess::shutdownExecutor(FrameworkEntry& framework, const Call::Shutdown& shutdown) {
  auto agent = agents_.find(shutdown.agent_id().value());
  if (agent == agents_.end() || !agent->second->connected) return;
  internal::Envelope envelope;
  envelope.mutable_shutdown_executor()->mutable_framework_id()->set_value(framework.id);
  *envelope.mutable_shutdown_executor()->mutable_executor_id() = shutdown.executor_id();
  send(agent->second->peer, std::move(envelope));
}

void MasterProcess::executorMessage(const PeerId& from, const internal::ExecutorToFramework& message) {
  AgentEntry* agent = agentOf(from, &message.agent_id(), "executor_to_framework");
  if (agent == nullptr) return;
  auto framework = frameworks_.find(message.framework_id().value());
  if (framework == frameworks_.end() || !framework->second->connected) {
    counters_["master/invalid_executor_to_framework_messages"] += 1;
    return;
  }
  Event event;
  event.set_type(Event::MESSAGE);
  *event.mutable_message()->mutable_agent_id() = message.agent_id();
  *event.mutable_message()->mutable_executor_id() = message.executor_id();
  event.mutable_message()->set_data(message.data());
  sendEvent(*framework->second, std::move(event));
  counters_["master/valid_executor_to_framework_messages"] += 1;
}

void MasterProcess::exitedExecutor(const PeerId& from, const internal::ExitedExecutor& message) {
  AgentEntry* agent = agentOf(from, &message.agent_id(), "exited_executor");
  if (agent == nullptr) return;
  if (auto executors = agent->executors.find(message.framework_id().value()); executors != agent->executors.end()) {
    executors->second.erase(message.executor_id().value());
  }
  auto framework = frameworks_.find(message.framework_id().value());
  if (framework == frameworks_.end()) return;
  Event event;
  event.set_type(Event::FAILURE);
  *event.mutable_failure()->mutable_agent_id() = message.agent_id();
  *event.mutable_failure()->mutable_executor_id() = message.executor_id();
  event.mutable_failure()->set_status(message.status());
  sendEvent(*framework->second, std::move(event));
}

}  // namespace agora::master
