// ACCEPT (reference/mesos.md §4.6): validate the offers, apply the
// operations in order against what the offers hold, tell the agent, give
// back what is left.

#include <fmt/format.h>

#include "agora/common/check.hpp"
#include "agora/common/id.hpp"
#include "process.hpp"

namespace agora::master {

namespace {

// Step 1: the offers. On success, their agent and allocation role.
Status validateOffers(const Call::Accept& accept, const std::string& frameworkId,
                      const std::map<std::string, OfferEntry>& offers,
                      const std::map<std::string, std::unique_ptr<AgentEntry>>& agents) {
  if (accept.offer_ids_size() == 0) return Status::InvalidArgument("No offer IDs");
  std::set<std::string> seen;
  const OfferEntry* first = nullptr;
  for (const auto& offerId : accept.offer_ids()) {
    if (!seen.insert(offerId.value()).second) {
      return Status::InvalidArgument("Duplicate offer " + quoteForLog(offerId.value()));
    }
    auto it = offers.find(offerId.value());
    if (it == offers.end()) return Status::InvalidArgument("Offer " + quoteForLog(offerId.value()) + " is no longer valid");
    const OfferEntry& offer = it->second;
    if (offer.frameworkId != frameworkId) {
      return Status::InvalidArgument("Offer " + quoteForLog(offerId.value()) + " belongs to another framework");
    }
    if (first == nullptr) {
      first = &offer;
      continue;
    }
    if (offer.agentId != first->agentId) return Status::InvalidArgument("Offers are from different agents");
    if (offer.role != first->role) return Status::InvalidArgument("Offers are for different allocation roles");
  }
  auto agent = agents.find(first->agentId);
  if (agent == agents.end() || !agent->second->connected) {
    return Status::InvalidArgument("Agent " + first->agentId + " is not connected");
  }
  return Status::OK();
}

// Records `executor` as one of `frameworkId`'s on `agent` (with the
// framework's ID filled in) unless it already is; true when it is new, i.e.
// the agent is to start it.
bool addExecutor(AgentEntry& agent, const std::string& frameworkId, const v1::ExecutorInfo& executor) {
  auto [it, added] = agent.executors[frameworkId].try_emplace(executor.executor_id().value(), executor);
  if (added) it->second.mutable_framework_id()->set_value(frameworkId);
  return added;
}

// The master's record of a task it launches.
v1::Task stagingTask(const v1::TaskInfo& taskInfo, const FrameworkEntry& framework, const AgentEntry& agent,
                     const v1::ExecutorID* executorId) {
  v1::Task task;
  task.set_name(taskInfo.name());
  *task.mutable_task_id() = taskInfo.task_id();
  task.mutable_framework_id()->set_value(framework.id);
  if (executorId != nullptr) *task.mutable_executor_id() = *executorId;
  *task.mutable_agent_id() = agent.info.id();
  task.set_state(v1::TASK_STAGING);
  *task.mutable_resources() = taskInfo.resources();
  if (taskInfo.has_labels()) *task.mutable_labels() = taskInfo.labels();
  if (taskInfo.has_health_check()) *task.mutable_health_check() = taskInfo.health_check();
  if (taskInfo.has_kill_policy()) *task.mutable_kill_policy() = taskInfo.kill_policy();
  *task.mutable_limits() = taskInfo.limits();
  task.set_user(taskInfo.has_command() && taskInfo.command().has_user() ? taskInfo.command().user()
                                                                        : framework.info.user());
  return task;
}

}  // namespace

void MasterProcess::accept(FrameworkEntry& framework, const Call::Accept& accept) {
  std::optional<Duration> refuse = refuseOf(accept.has_filters() ? &accept.filters() : nullptr);

  if (Status s = validateOffers(accept, framework.id, offers_, agents_); !s.ok()) {
    log_->warn("Invalid ACCEPT from framework {}: {}", framework.id, s.message());
    counters_["master/invalid_accepts"] += 1;
    std::set<std::string> agentsTouched;
    for (const auto& offerId : accept.offer_ids()) {
      auto it = offers_.find(offerId.value());
      if (it == offers_.end() || it->second.frameworkId != framework.id) continue;
      agentsTouched.insert(it->second.agentId);
      removeOffer(offerId.value(), true, std::nullopt, false);
    }
    v1::TaskState state = framework.partitionAware() ? v1::TASK_DROPPED : v1::TASK_LOST;
    for (const auto& operation : accept.operations()) {
      const auto* tasks = operation.type() == v1::Offer::Operation::LAUNCH         ? &operation.launch().task_infos()
                          : operation.type() == v1::Offer::Operation::LAUNCH_GROUP ? &operation.launch_group().task_group().tasks()
                                                                                   : nullptr;
      if (tasks == nullptr) continue;
      for (const auto& task : *tasks) {
        sendMasterUpdate(framework, task.task_id().value(), task.agent_id().value(), state,
                         v1::TaskStatus::REASON_INVALID_OFFERS, s.message());
      }
    }
    if (!agentsTouched.empty()) allocate(allocator::Scope::agents({agentsTouched.begin(), agentsTouched.end()}));
    return;
  }

  // Step 2: take the offers; apply operations to what they hold.
  std::string agentId = offers_.at(accept.offer_ids(0).value()).agentId;
  std::string role = offers_.at(accept.offer_ids(0).value()).role;
  AgentEntry& agent = *agents_.at(agentId);
  Resources remaining;
  for (const auto& offerId : accept.offer_ids()) {
    remaining += offers_.at(offerId.value()).resources;
    removeOffer(offerId.value(), false, std::nullopt, false);
  }
  counters_["master/offers_accepted"] += accept.offer_ids_size();
  framework.counters["offers/accepted"] += accept.offer_ids_size();
  Resources converted;  // Made by RESERVE/UNRESERVE here: returned without a filter.
  bool checkpointChanged = false;

  for (const auto& operation : accept.operations()) {
    switch (operation.type()) {
      case v1::Offer::Operation::LAUNCH: {
        for (const auto& taskInfo : operation.launch().task_infos()) {
          auto consumed = validateTask(taskInfo, TaskCheck{framework, agent, role, remaining});
          if (!consumed.ok()) {
            counters_["master/invalid_tasks"] += 1;
            sendMasterUpdate(framework, taskInfo.task_id().value(), agentId, v1::TASK_ERROR,
                             v1::TaskStatus::REASON_TASK_INVALID, consumed.error().message());
            continue;
          }
          remaining -= *consumed;
          bool launchExecutor = false;
          Resources taskResources = *consumed;
          if (taskInfo.has_executor()) launchExecutor = addExecutor(agent, framework.id, taskInfo.executor());
          addTask(framework, agent,
                  stagingTask(taskInfo, framework, agent,
                              taskInfo.has_executor() ? &taskInfo.executor().executor_id() : nullptr),
                  taskResources);
          countTaskState(framework, v1::TASK_STAGING);

          internal::Envelope run;
          *run.mutable_run_task()->mutable_framework_info() = framework.info;
          *run.mutable_run_task()->mutable_task() = taskInfo;
          run.mutable_run_task()->set_launch_executor(launchExecutor || !taskInfo.has_executor());
          send(agent.peer, std::move(run));
          log_->info("Launching task {} of framework {} on agent {}", quoteForLog(taskInfo.task_id().value()),
                     framework.id, agentId);
        }
        break;
      }
      case v1::Offer::Operation::RESERVE:
      case v1::Offer::Operation::UNRESERVE: {
        bool reserve = operation.type() == v1::Offer::Operation::RESERVE;
        auto conversion = reserve ? validateReserve(operation.reserve(), framework, role, remaining)
                                  : validateUnreserve(operation.unreserve(), framework, role, remaining);
        if (!conversion.ok()) {
          counters_["master/invalid_operations"] += 1;
          log_->warn("Dropping {} from framework {}: {}", reserve ? "RESERVE" : "UNRESERVE", framework.id,
                     conversion.error().message());
          break;
        }
        remaining -= conversion->from;
        remaining += conversion->to;
        converted -= conversion->from;
        converted += conversion->to;
        allocator_.updateAllocation(framework.id, agentId, conversion->from, conversion->to);
        convertAgentResources(agent, conversion->from.unallocate(), conversion->to.unallocate());
        checkpointChanged = true;
        counters_[reserve ? "master/operations_reserve" : "master/operations_unreserve"] += 1;
        log_->info("Applied {} of {} for framework {} on agent {}", reserve ? "RESERVE" : "UNRESERVE",
                   conversion->to.toString(), framework.id, agentId);
        break;
      }
      case v1::Offer::Operation::LAUNCH_GROUP: {
        // All or nothing: one invalid task fails the whole group.
        const v1::ExecutorInfo& executorInfo = operation.launch_group().executor();
        const v1::TaskGroupInfo& group = operation.launch_group().task_group();
        auto consumed = validateTaskGroup(executorInfo, group, TaskCheck{framework, agent, role, remaining});
        if (!consumed.ok()) {
          counters_["master/invalid_tasks"] += group.tasks_size();
          for (const auto& taskInfo : group.tasks()) {
            sendMasterUpdate(framework, taskInfo.task_id().value(), agentId, v1::TASK_ERROR,
                             v1::TaskStatus::REASON_TASK_GROUP_INVALID, consumed.error().message());
          }
          break;
        }
        remaining -= consumed->total;
        const std::string& executorId = executorInfo.executor_id().value();
        bool launchExecutor = addExecutor(agent, framework.id, executorInfo);
        for (int i = 0; i < group.tasks_size(); ++i) {
          // The first task of a group that starts its executor carries the
          // executor's resources, as a LAUNCH with a new executor does.
          Resources taskResources = consumed->tasks[static_cast<size_t>(i)];
          if (i == 0) taskResources += consumed->executor;
          addTask(framework, agent, stagingTask(group.tasks(i), framework, agent, &executorInfo.executor_id()),
                  taskResources);
          countTaskState(framework, v1::TASK_STAGING);
        }
        internal::Envelope run;
        internal::RunTaskGroup* message = run.mutable_run_task_group();
        *message->mutable_framework_info() = framework.info;
        *message->mutable_executor_info() = agent.executors[framework.id][executorId];
        *message->mutable_task_group() = group;
        message->set_launch_executor(launchExecutor);
        send(agent.peer, std::move(run));
        log_->info("Launching a group of {} task(s) of framework {} in executor {} on agent {}", group.tasks_size(),
                   framework.id, quoteForLog(executorId), agentId);
        break;
      }
      default:
        counters_["master/invalid_operations"] += 1;
        log_->warn("Dropping unsupported operation {} from framework {}",
                   v1::Offer::Operation::Type_Name(operation.type()), framework.id);
        break;
    }
  }

  if (checkpointChanged) sendCheckpointedResources(agent);

  // Step 3: what operations made goes back unfiltered, the rest is declined
  // with the accept's filters.
  Resources unfiltered;
  for (const Resource& r : converted) {
    if (remaining.contains(r)) {
      unfiltered.add(r);
      remaining.subtract(r);
    }
  }
  if (!unfiltered.empty()) allocator_.recoverResources(framework.id, agentId, unfiltered, std::nullopt, clock_.now());
  if (!remaining.empty()) allocator_.recoverResources(framework.id, agentId, remaining, refuse, clock_.now());
  allocate(allocator::Scope::agents({agentId}));
}

}  // namespace agora::master
