// Pure checks of what frameworks and agents send (reference/mesos.md §1.6,
// §4.4, §4.6). Every error is one line a scheduler can act on.

#include <cmath>

#include <fmt/format.h>

#include "agora/common/id.hpp"
#include "agora/common/master_address.hpp"
#include "agora/common/role.hpp"
#include "process.hpp"

namespace agora::master {

namespace {

// FrameworkInfo.role is deprecated in the proto (MULTI_ROLE replaces it) but
// still honoured for frameworks without MULTI_ROLE, as Mesos does.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
const std::string& legacyRole(const v1::FrameworkInfo& info) { return info.role(); }
bool hasLegacyRole(const v1::FrameworkInfo& info) { return info.has_role(); }
#pragma GCC diagnostic pop

}  // namespace

bool hasCapability(const v1::FrameworkInfo& info, v1::FrameworkInfo::Capability::Type type) {
  for (const auto& capability : info.capabilities()) {
    if (capability.type() == type) return true;
  }
  return false;
}

std::set<std::string> frameworkRoles(const v1::FrameworkInfo& info) {
  if (hasCapability(info, v1::FrameworkInfo::Capability::MULTI_ROLE)) {
    return {info.roles().begin(), info.roles().end()};
  }
  return {legacyRole(info)};
}

Duration failoverTimeoutOf(const v1::FrameworkInfo& info) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(info.failover_timeout()));
}

Status validateSubscribeInfo(const v1::FrameworkInfo& info) {
  if (info.name().empty()) return Status::InvalidArgument("FrameworkInfo.name must not be empty");
  if (info.has_id()) AGORA_RETURN_IF_ERROR(validateId(info.id().value(), "framework ID"));
  bool multiRole = hasCapability(info, v1::FrameworkInfo::Capability::MULTI_ROLE);
  if (multiRole) {
    if (hasLegacyRole(info)) return Status::InvalidArgument("FrameworkInfo.role must not be set with MULTI_ROLE");
    if (info.roles_size() == 0) return Status::InvalidArgument("FrameworkInfo.roles must not be empty");
    std::set<std::string> seen;
    for (const auto& role : info.roles()) {
      AGORA_RETURN_IF_ERROR(validateRole(role).withContext("Invalid FrameworkInfo.roles"));
      if (!seen.insert(role).second) return Status::InvalidArgument("Duplicate role '" + role + "' in FrameworkInfo.roles");
    }
  } else {
    if (info.roles_size() > 0) return Status::InvalidArgument("FrameworkInfo.roles requires the MULTI_ROLE capability");
    AGORA_RETURN_IF_ERROR(validateRole(legacyRole(info)).withContext("Invalid FrameworkInfo.role"));
  }
  double timeout = info.failover_timeout();
  constexpr double kMaxFailoverSeconds = 100.0 * 365 * 24 * 3600;  // Far below Duration's range.
  if (!std::isfinite(timeout) || timeout < 0 || timeout > kMaxFailoverSeconds) {
    return Status::InvalidArgument(fmt::format("Invalid FrameworkInfo.failover_timeout {}", timeout));
  }
  for (const auto& [role, filters] : info.offer_filters()) {
    for (const auto& quantities : filters.min_allocatable_resources().quantities()) {
      for (const auto& [name, scalar] : quantities.quantities()) {
        if (!Scalar::fromDouble(scalar.value()).ok() || scalar.value() < 0) {
          return Status::InvalidArgument("Invalid offer_filters quantity for '" + quoteForLog(name) + "'");
        }
      }
    }
  }
  return Status::OK();
}

Status validateSubscribe(const Call& call, const FrameworkEntry* existing) {
  const v1::FrameworkInfo& info = call.subscribe().framework_info();
  AGORA_RETURN_IF_ERROR(validateSubscribeInfo(info));
  if (call.has_framework_id()) {
    AGORA_RETURN_IF_ERROR(validateId(call.framework_id().value(), "framework ID"));
    if (info.has_id() && info.id().value() != call.framework_id().value()) {
      return Status::InvalidArgument("Call.framework_id differs from FrameworkInfo.id");
    }
  }
  std::set<std::string> roles = frameworkRoles(info);
  for (const auto& role : call.subscribe().suppressed_roles()) {
    if (roles.count(role) == 0) return Status::InvalidArgument("Suppressed role '" + quoteForLog(role) + "' is not a framework role");
  }
  if (existing != nullptr && existing->info.principal() != info.principal()) {
    return Status::InvalidArgument("Changing the framework's principal is not allowed");
  }
  return Status::OK();
}

Status validateAgentInfo(const v1::AgentInfo& info) {
  if (info.hostname().empty() || info.hostname().size() > 255) return Status::InvalidArgument("Invalid agent hostname");
  for (const auto& resource : info.resources()) AGORA_RETURN_IF_ERROR(validateResource(resource));
  for (const auto& attribute : info.attributes()) {
    if (attribute.name().empty()) return Status::InvalidArgument("Agent attribute without a name");
  }
  return Status::OK();
}

std::string httpAddressOf(const v1::AgentInfo& info, const std::string& reported) {
  if (!reported.empty() && parseHostPort(reported, "http_address").ok()) return reported;
  return info.hostname() + ":" + std::to_string(info.port());
}

Result<Resources> agentTotal(const v1::AgentInfo& info,
                             const google::protobuf::RepeatedPtrField<v1::Resource>& checkpointed) {
  AGORA_ASSIGN_OR_RETURN(Resources total, Resources::fromProto(info.resources()));
  AGORA_ASSIGN_OR_RETURN(Resources extra, Resources::fromProto(checkpointed));
  for (const Resource& r : extra) {
    // Undo dynamic reservations (and volumes) to find what it was made from.
    Resource base = r;
    base.disk.reset();
    while (!base.reservations.empty() && base.reservations.back().type == Reservation::Type::kDynamic) {
      base.reservations.pop_back();
    }
    if (!total.contains(base)) {
      return Status::InvalidArgument("Checkpointed resource " + Resources(total).toString() +
                                     " does not fit the agent's resources");
    }
    total.subtract(base);
    total.add(r);
  }
  return total;
}

Resources withAllocationRole(const Resources& resources, const std::string& role) {
  Resources result;
  for (Resource r : resources) {
    if (!r.allocationRole) r.allocationRole = role;
    result.add(r);
  }
  return result;
}

namespace {

Result<Resources> offeredForm(const google::protobuf::RepeatedPtrField<v1::Resource>& proto,
                              const std::string& role, std::string_view what) {
  if (proto.empty()) return Status::InvalidArgument(std::string(what) + " uses no resources");
  auto parsed = Resources::fromProto(proto);
  if (!parsed.ok()) return parsed.error().withContext(std::string("Invalid ") + std::string(what) + " resources");
  Resources resources = withAllocationRole(*parsed, role);
  auto roles = resources.allocationRoles();
  if (roles.size() != 1 || *roles.begin() != role) {
    return Status::InvalidArgument(std::string(what) + " resources are not allocated to the offer's role '" + role + "'");
  }
  return resources;
}

Status validateCommand(const v1::CommandInfo& command) {
  if (command.shell() && !command.has_value()) return Status::InvalidArgument("Shell command without a value");
  if (!command.shell() && !command.has_value()) return Status::InvalidArgument("Command without a program to run");
  return Status::OK();
}

// Mesos's shape rules for TaskInfo.health_check and TaskInfo.check: a type
// with its matching field, a usable command, ports in 1..65535, an HTTP
// path starting with '/', a scheme of http or https, no negative durations.
Status validatePort(uint32_t port, const std::string& what) {
  if (port == 0 || port > 65535) return Status::InvalidArgument(what + " port " + std::to_string(port) + " is out of range");
  return Status::OK();
}

Status validateProbeDurations(std::initializer_list<std::pair<const char*, double>> durations, const std::string& what) {
  for (const auto& [name, value] : durations) {
    if (!(value >= 0)) return Status::InvalidArgument(what + "'s " + name + " must be non-negative");
  }
  return Status::OK();
}

Status validateHttpPath(const std::string& path, const std::string& what) {
  if (!path.empty() && path[0] != '/') return Status::InvalidArgument(what + "'s HTTP path must start with '/'");
  return Status::OK();
}

Status validateHealthCheck(const v1::HealthCheck& check) {
  const std::string what = "Task's health check";
  AGORA_RETURN_IF_ERROR(validateProbeDurations({{"delay_seconds", check.delay_seconds()},
                                                {"interval_seconds", check.interval_seconds()},
                                                {"timeout_seconds", check.timeout_seconds()},
                                                {"grace_period_seconds", check.grace_period_seconds()}},
                                               what));
  switch (check.type()) {
    case v1::HealthCheck::COMMAND:
      if (!check.has_command()) return Status::InvalidArgument(what + " of type COMMAND has no 'command'");
      return validateCommand(check.command());
    case v1::HealthCheck::HTTP:
      if (!check.has_http()) return Status::InvalidArgument(what + " of type HTTP has no 'http'");
      if (check.http().has_scheme() && check.http().scheme() != "http" && check.http().scheme() != "https") {
        return Status::InvalidArgument(what + "'s scheme must be http or https");
      }
      AGORA_RETURN_IF_ERROR(validateHttpPath(check.http().path(), what));
      return validatePort(check.http().port(), what);
    case v1::HealthCheck::TCP:
      if (!check.has_tcp()) return Status::InvalidArgument(what + " of type TCP has no 'tcp'");
      return validatePort(check.tcp().port(), what);
    default:
      return Status::InvalidArgument(what + " must set 'type' to COMMAND, HTTP or TCP");
  }
}

Status validateCheck(const v1::CheckInfo& check) {
  const std::string what = "Task's check";
  AGORA_RETURN_IF_ERROR(validateProbeDurations({{"delay_seconds", check.delay_seconds()},
                                                {"interval_seconds", check.interval_seconds()},
                                                {"timeout_seconds", check.timeout_seconds()}},
                                               what));
  switch (check.type()) {
    case v1::CheckInfo::COMMAND:
      if (!check.has_command()) return Status::InvalidArgument(what + " of type COMMAND has no 'command'");
      return validateCommand(check.command().command());
    case v1::CheckInfo::HTTP:
      if (!check.has_http()) return Status::InvalidArgument(what + " of type HTTP has no 'http'");
      AGORA_RETURN_IF_ERROR(validateHttpPath(check.http().path(), what));
      return validatePort(check.http().port(), what);
    case v1::CheckInfo::TCP:
      if (!check.has_tcp()) return Status::InvalidArgument(what + " of type TCP has no 'tcp'");
      return validatePort(check.tcp().port(), what);
    default:
      return Status::InvalidArgument(what + " must set 'type' to COMMAND, HTTP or TCP");
  }
}

// An executor a task or group names: valid IDs, a command unless DEFAULT,
// the same ExecutorInfo as a running executor with its ID. The resources it
// adds: its own when it is new, none when it runs.
Result<Resources> validateExecutor(const v1::ExecutorInfo& executor, const TaskCheck& check) {
  AGORA_RETURN_IF_ERROR(validateId(executor.executor_id().value(), "executor ID"));
  if (executor.has_framework_id() && executor.framework_id().value() != check.framework.id) {
    return Status::InvalidArgument("ExecutorInfo has another framework's ID");
  }
  if (executor.type() == v1::ExecutorInfo::DEFAULT) {
    if (executor.has_command()) return Status::InvalidArgument("Executor of type DEFAULT must not have a CommandInfo");
  } else {
    if (!executor.has_command()) return Status::InvalidArgument("Executor has no CommandInfo");
    AGORA_RETURN_IF_ERROR(validateCommand(executor.command()));
  }
  auto executors = check.agent.executors.find(check.framework.id);
  const v1::ExecutorInfo* running = nullptr;
  if (executors != check.agent.executors.end()) {
    auto it = executors->second.find(executor.executor_id().value());
    if (it != executors->second.end()) running = &it->second;
  }
  if (running != nullptr) {
    v1::ExecutorInfo given = executor;
    given.mutable_framework_id()->set_value(check.framework.id);
    if (given.SerializeAsString() != running->SerializeAsString()) {
      return Status::InvalidArgument("ExecutorInfo differs from the running executor's with the same ID");
    }
    return Resources();
  }
  if (executor.resources_size() == 0) return Resources();
  return offeredForm(executor.resources(), check.role, "Executor");
}

}  // namespace

Result<Resources> validateTask(const v1::TaskInfo& task, const TaskCheck& check) {
  AGORA_RETURN_IF_ERROR(validateId(task.task_id().value(), "task ID"));
  const std::string& taskId = task.task_id().value();
  if (check.framework.tasks.count(taskId) > 0 || check.framework.unreachableTasks.count(taskId) > 0) {
    return Status::InvalidArgument("Task '" + taskId + "' already exists");
  }
  if (task.agent_id().value() != check.agent.id) {
    return Status::InvalidArgument("Task uses agent ID " + quoteForLog(task.agent_id().value()) +
                                   " but the offer is for " + check.agent.id);
  }
  if (task.has_command() == task.has_executor()) {
    return Status::InvalidArgument("Task should have exactly one of CommandInfo or ExecutorInfo present");
  }
  if (task.has_command()) AGORA_RETURN_IF_ERROR(validateCommand(task.command()));
  AGORA_ASSIGN_OR_RETURN(Resources consumed, offeredForm(task.resources(), check.role, "Task"));

  if (task.has_kill_policy() && task.kill_policy().has_grace_period() &&
      task.kill_policy().grace_period().nanoseconds() < 0) {
    return Status::InvalidArgument("Task's kill policy has a negative grace period");
  }
  if (task.has_max_completion_time() && task.max_completion_time().nanoseconds() < 0) {
    return Status::InvalidArgument("Task's max_completion_time is negative");
  }
  if (task.has_health_check()) AGORA_RETURN_IF_ERROR(validateHealthCheck(task.health_check()));
  if (task.has_check()) AGORA_RETURN_IF_ERROR(validateCheck(task.check()));
  for (const auto& [name, limit] : task.limits()) {
    if (name != "cpus" && name != "mem") return Status::InvalidArgument("Task limit on '" + quoteForLog(name) + "': only cpus and mem");
    if (!std::isfinite(limit.value()) && limit.value() != INFINITY) {
      return Status::InvalidArgument("Task limit on '" + name + "' is not a number");
    }
    if (limit.value() < consumed.scalar(name).toDouble()) {
      return Status::InvalidArgument("Task limit on '" + name + "' is below its request");
    }
  }

  if (task.has_executor()) {
    const v1::ExecutorInfo& executor = task.executor();
    if (executor.type() == v1::ExecutorInfo::DEFAULT) {
      return Status::InvalidArgument("Executor of type DEFAULT is only for LAUNCH_GROUP");
    }
    AGORA_ASSIGN_OR_RETURN(Resources executorResources, validateExecutor(executor, check));
    consumed += executorResources;
  }
  if (!check.remaining.contains(consumed)) {
    return Status::InvalidArgument("Task uses more resources " + consumed.toString() + " than available " +
                                   check.remaining.toString());
  }
  return consumed;
}

Result<Conversion> validateReserve(const v1::Offer::Operation::Reserve& reserve, const FrameworkEntry& framework,
                                   const std::string& role, const Resources& remaining) {
  AGORA_ASSIGN_OR_RETURN(Resources to, offeredForm(reserve.resources(), role, "RESERVE"));
  for (const Resource& r : to) {
    if (!r.isDynamicallyReserved()) return Status::InvalidArgument("RESERVE of resources without a dynamic reservation on top");
    const Reservation& top = r.reservations.back();
    if (top.role != role) {
      return Status::InvalidArgument("RESERVE for role '" + top.role + "' but the offer is for '" + role + "'");
    }
    if (framework.roles.count(top.role) == 0) return Status::InvalidArgument("RESERVE for a role the framework is not in");
    if (top.principal != framework.info.principal()) {
      return Status::InvalidArgument("RESERVE with principal '" + quoteForLog(top.principal) +
                                     "' but the framework's is '" + quoteForLog(framework.info.principal()) + "'");
    }
  }
  Resources from;
  if (reserve.source_size() > 0) {
    AGORA_ASSIGN_OR_RETURN(from, offeredForm(reserve.source(), role, "RESERVE source"));
  } else {
    auto popped = to.popReservation();
    if (!popped.ok()) return popped.error().withContext("Invalid RESERVE");
    from = *popped;
  }
  if (!remaining.contains(from)) return Status::InvalidArgument("RESERVE of more than the offers hold: " + from.toString());
  if (from.scalarQuantities() != to.scalarQuantities()) {
    return Status::InvalidArgument("RESERVE source and resources differ in amount");
  }
  return Conversion{from, to};
}

Result<Conversion> validateUnreserve(const v1::Offer::Operation::Unreserve& unreserve,
                                     const FrameworkEntry& framework, const std::string& role,
                                     const Resources& remaining) {
  if (unreserve.resources().empty()) return Status::InvalidArgument("UNRESERVE of no resources");
  auto parsed = Resources::fromProto(unreserve.resources());
  if (!parsed.ok()) return parsed.error().withContext("Invalid UNRESERVE resources");
  Resources from = withAllocationRole(*parsed, role);
  for (const Resource& r : from) {
    if (!r.isDynamicallyReserved()) return Status::InvalidArgument("UNRESERVE of resources that are not dynamically reserved");
    const std::string& principal = r.reservations.back().principal;
    if (!principal.empty() && !framework.info.principal().empty() && principal != framework.info.principal()) {
      return Status::InvalidArgument("UNRESERVE of a reservation made by principal '" + quoteForLog(principal) + "'");
    }
  }
  if (!remaining.contains(from)) return Status::InvalidArgument("UNRESERVE of resources the offers do not hold");
  auto to = from.popReservation();
  if (!to.ok()) return to.error().withContext("Invalid UNRESERVE");
  return Conversion{from, *to};
}


Result<GroupConsumption> validateTaskGroup(const v1::ExecutorInfo& executor, const v1::TaskGroupInfo& group,
                                           const TaskCheck& check) {
  if (group.tasks_size() == 0) return Status::InvalidArgument("The task group is empty");
  if (executor.type() != v1::ExecutorInfo::DEFAULT) {
    return Status::InvalidArgument("LAUNCH_GROUP needs an executor of type DEFAULT");
  }
  GroupConsumption consumed;
  AGORA_ASSIGN_OR_RETURN(consumed.executor, validateExecutor(executor, check));
  consumed.total = consumed.executor;
  std::set<std::string> ids;
  for (const v1::TaskInfo& task : group.tasks()) {
    const std::string& taskId = task.task_id().value();
    if (!ids.insert(taskId).second) return Status::InvalidArgument("Task '" + quoteForLog(taskId) + "' appears twice in the group");
    if (task.has_executor()) {
      return Status::InvalidArgument("Task '" + quoteForLog(taskId) + "' of a group must not set an executor");
    }
    if (!task.has_command()) return Status::InvalidArgument("Task '" + quoteForLog(taskId) + "' of a group has no command");
    // Each task against what the group has not taken yet.
    Resources left = check.remaining - consumed.total;
    AGORA_ASSIGN_OR_RETURN(Resources taskResources,
                           validateTask(task, TaskCheck{check.framework, check.agent, check.role, left}));
    consumed.tasks.push_back(taskResources);
    consumed.total += taskResources;
  }
  if (!check.remaining.contains(consumed.total)) {
    return Status::InvalidArgument("The task group uses more resources " + consumed.total.toString() +
                                   " than available " + check.remaining.toString());
  }
  return consumed;
}

}  // namespace agora::master
