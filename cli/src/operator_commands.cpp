// The operator's commands: kill, reserve, unreserve, deactivate,
// reactivate, weights, quota and explain, each one request to the master's
// operator API (docs/api.md).

#include <iostream>

#include <fmt/format.h>

#include "agora/common/json.hpp"
#include "agora/common/resources.hpp"
#include "client.hpp"

namespace agora::cli {

namespace {

using nlohmann::json;

Result<std::string> findAgent(Context& context, const std::string& given) {
  AGORA_ASSIGN_OR_RETURN(json state, getJson(context.address, "/state"));
  std::vector<std::string> ids;
  if (state.contains("agents") && state["agents"].is_array()) {
    for (const auto& agent : state["agents"]) ids.push_back(agent.value("id", ""));
  }
  return matchId(given, ids, "agent");
}

// An active framework's id first (a prefix shared with completed ones is
// not ambiguous), else any framework's.
Result<std::string> findFramework(Context& context, const std::string& given) {
  AGORA_ASSIGN_OR_RETURN(json state, getJson(context.address, "/state"));
  std::vector<std::string> ids;
  for (const char* list : {"frameworks", "completed_frameworks"}) {
    if (!state.contains(list) || !state[list].is_array()) continue;
    for (const auto& framework : state[list]) ids.push_back(framework.value("id", ""));
    if (auto active = matchId(given, ids, "framework"); active.ok()) return active;
  }
  return matchId(given, ids, "framework");
}

// `text` ("cpus:1;mem:512") with a dynamic reservation for `role` on top, as
// the JSON array of Resource the operator API takes.
Result<json> reservedResources(const std::string& text, const std::string& role, const std::string& principal) {
  auto parsed = Resources::parse(text);
  if (!parsed.ok()) return Status::InvalidArgument(parsed.error().message());
  if (parsed->empty()) return Status::InvalidArgument("No resources given");
  if (!parsed->reserved().empty()) {
    return Status::InvalidArgument("Give unreserved resources ('cpus:1;mem:512') and the role with --role");
  }
  Reservation reservation{Reservation::Type::kDynamic, role, principal, {}};
  auto reserved = parsed->pushReservation(reservation);
  if (!reserved.ok()) return Status::InvalidArgument(reserved.error().message());
  json out = json::array();
  for (const v1::Resource& resource : reserved->toProto()) {
    AGORA_ASSIGN_OR_RETURN(json value, toJsonValue(resource));
    out.push_back(std::move(value));
  }
  return out;
}

int runReserve(Context& context, bool reserve, const std::string& agentGiven, const std::string& text,
               const std::string& role, const std::string& principal) {
  auto resources = reservedResources(text, role, principal);
  if (!resources.ok()) return report(resources.error());
  auto agent = findAgent(context, agentGiven);
  if (!agent.ok()) return report(agent.error());
  const char* key = reserve ? "reserve_resources" : "unreserve_resources";
  json body = {{"type", reserve ? "RESERVE_RESOURCES" : "UNRESERVE_RESOURCES"},
               {key, {{"agent_id", {{"value", *agent}}}, {"resources", *resources}}}};
  auto reply = operatorCall(context.address, body);
  if (!reply.ok()) return report(reply.error());
  std::cout << fmt::format("{} {} for role '{}' on agent {}", reserve ? "Reserved" : "Unreserved", text, role, *agent)
            << std::endl;
  return kExitOk;
}

// DEACTIVATE_AGENT / REACTIVATE_AGENT: an agent out of (or back into) the
// offers, its tasks left running.
int runActivation(Context& context, bool deactivate, const std::string& agentGiven) {
  auto agent = findAgent(context, agentGiven);
  if (!agent.ok()) return report(agent.error());
  const char* type = deactivate ? "DEACTIVATE_AGENT" : "REACTIVATE_AGENT";
  const char* key = deactivate ? "deactivate_agent" : "reactivate_agent";
  json body = {{"type", type}, {key, {{"agent_id", {{"value", *agent}}}}}};
  auto reply = operatorCall(context.address, body);
  if (!reply.ok()) return report(reply.error());
  std::cout << (deactivate ? "Deactivated agent " : "Reactivated agent ") << *agent
            << (deactivate ? ": no offers of its resources until it is reactivated; its tasks keep running"
                           : ": its resources are offered again")
            << std::endl;
  return kExitOk;
}

int runKill(Context& context, const std::string& given, const std::string& frameworkId) {
  auto state = getJson(context.address, "/state");
  if (!state.ok()) return report(state.error());
  auto task = findTask(*state, given, frameworkId);
  if (!task.ok()) return report(task.error());
  json body = {{"type", "KILL_TASK"},
               {"kill_task", {{"framework_id", {{"value", task->frameworkId}}}, {"task_id", {{"value", task->taskId}}}}}};
  auto reply = operatorCall(context.address, body);
  if (!reply.ok()) return report(reply.error());
  std::cout << "Killing task " << task->taskId << " of framework " << task->frameworkId << std::endl;
  return kExitOk;
}

int runWeights(Context& context, const std::vector<std::string>& assignments, bool asJson) {
  if (assignments.empty()) {
    auto weights = getJson(context.address, "/weights");
    if (!weights.ok()) return report(weights.error());
    if (asJson) {
      std::cout << weights->dump(2) << std::endl;
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& weight : *weights) rows.push_back({weight.value("role", ""), formatNumber(weight["weight"])});
    std::cout << renderTable({"ROLE", "WEIGHT"}, rows);
    return kExitOk;
  }
  json body = json::array();
  for (const auto& assignment : assignments) {
    size_t eq = assignment.find('=');
    double weight = 0;
    try {
      if (eq == std::string::npos) throw std::invalid_argument("no '='");
      size_t used = 0;
      weight = std::stod(assignment.substr(eq + 1), &used);
      if (used != assignment.size() - eq - 1) throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
      return report(Status::InvalidArgument("Expecting ROLE=WEIGHT, got '" + assignment + "'"));
    }
    body.push_back({{"role", assignment.substr(0, eq)}, {"weight", weight}});
  }
  auto reply = call(context.address, "PUT", "/weights", body.dump());
  if (!reply.ok()) return report(reply.error());
  std::cout << "Updated the weights of " << body.size() << " role(s)" << std::endl;
  return kExitOk;
}

Result<json> quantities(const std::string& text) {
  auto parsed = ResourceQuantities::parse(text);
  if (!parsed.ok()) return Status::InvalidArgument(parsed.error().message());
  json out = json::object();
  for (const auto& [name, value] : *parsed) out[name] = {{"value", value.toDouble()}};
  return out;
}

int runQuota(Context& context, const std::string& role, const std::string& limit, const std::string& guarantee,
             bool remove, bool force, bool asJson) {
  if (limit.empty() && guarantee.empty() && !remove) {
    auto roles = getJson(context.address, "/roles");
    if (!roles.ok()) return report(roles.error());
    json shown = json::array();
    std::vector<std::vector<std::string>> rows;
    auto text = [](const json& map) {
      std::string out;
      if (!map.is_object()) return out;
      for (const auto& [name, value] : map.items()) out += (out.empty() ? "" : ";") + name + ":" + formatNumber(value);
      return out;
    };
    for (const auto& entry : roles->value("roles", json::array())) {
      const json quota = entry.value("quota", json::object());
      bool hasQuota = !quota.value("limit", json::object()).empty() || !quota.value("guarantee", json::object()).empty();
      if (!role.empty() ? entry.value("name", "") != role : !hasQuota) continue;
      shown.push_back(quota);
      rows.push_back({entry.value("name", ""), text(quota.value("guarantee", json::object())),
                      text(quota.value("limit", json::object())), text(quota.value("consumed", json::object()))});
    }
    if (!role.empty() && rows.empty()) return report(Status::NotFound("No role '" + role + "'"));
    if (asJson) {
      std::cout << shown.dump(2) << std::endl;
    } else {
      std::cout << renderTable({"ROLE", "GUARANTEE", "LIMIT", "CONSUMED"}, rows);
    }
    return kExitOk;
  }
  if (role.empty()) return report(Status::InvalidArgument("Name the ROLE whose quota to change"));
  json config = {{"role", role}};
  if (!remove) {
    auto limits = quantities(limit);
    if (!limits.ok()) return report(limits.error());
    auto guarantees = quantities(guarantee);
    if (!guarantees.ok()) return report(guarantees.error());
    if (!limits->empty()) config["limits"] = *limits;
    if (!guarantees->empty()) config["guarantees"] = *guarantees;
  }
  json body = {{"type", "UPDATE_QUOTA"}, {"update_quota", {{"force", force || remove}, {"quota_configs", {config}}}}};
  auto reply = operatorCall(context.address, body);
  if (!reply.ok()) return report(reply.error());
  std::cout << (remove ? "Removed the quota of role '" : "Updated the quota of role '") << role << "'" << std::endl;
  return kExitOk;
}

int runExplain(Context& context, const std::string& given, bool asJson) {
  auto framework = findFramework(context, given);
  if (!framework.ok()) return report(framework.error());
  auto explanation = getJson(context.address, "/allocator/explain?framework_id=" + *framework);
  if (!explanation.ok()) return report(explanation.error());
  const json& e = *explanation;
  if (asJson) {
    std::cout << e.dump(2) << std::endl;
    return kExitOk;
  }
  std::cout << fmt::format("Framework {} ({}): {}, {}, {} outstanding offer(s)\n", e.value("framework_id", ""),
                           e.value("name", ""), e.value("connected", false) ? "connected" : "disconnected",
                           e.value("active", false) ? "active" : "inactive", e.value("outstanding_offers", 0));
  std::cout << "Why:\n";
  for (const auto& reason : e.value("reasons", json::array())) std::cout << "  - " << reason.get<std::string>() << "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& role : e.value("roles", json::array())) {
    std::string limits;
    for (const auto& name : role.value("limits_reached", json::array())) limits += (limits.empty() ? "" : ",") + name.get<std::string>();
    rows.push_back({role.value("role", ""), formatNumber(role["dominant_share"]),
                    role["rank"].is_null() ? "-" : formatNumber(role["rank"]), formatNumber(role["weight"]),
                    role.value("suppressed", false) ? "yes" : "no",
                    std::to_string(role.value("filters", json::array()).size()), limits.empty() ? "-" : limits,
                    formatNumber(role["agents_with_allocatable_resources"])});
  }
  std::cout << "\n"
            << renderTable({"ROLE", "SHARE", "RANK", "WEIGHT", "SUPPRESSED", "FILTERS", "LIMITS REACHED",
                            "AGENTS WITH ENOUGH FREE"},
                           rows);
  for (const auto& role : e.value("roles", json::array())) {
    for (const auto& filter : role.value("filters", json::array())) {
      std::cout << fmt::format("  refuse filter ({}) on agent {}: expires in {}s\n", role.value("role", ""),
                               filter.value("agent_id", ""), formatNumber(filter["expires_in_seconds"]));
    }
  }
  for (const auto& offer : e.value("last_offers", json::array())) {
    std::cout << fmt::format("  last offered on agent {} in role '{}'\n", offer.value("agent_id", ""),
                             offer.value("role", ""));
  }
  return kExitOk;
}

}  // namespace

void addKillCommand(CLI::App& app, Context& context) {
  CLI::App* command = app.add_subcommand("kill", "Kill a task (through the master; its framework sees TASK_KILLED)");
  auto task = std::make_shared<std::string>();
  auto framework = std::make_shared<std::string>();
  command->add_option("TASK", *task, "Task id (or a unique prefix)")->required();
  command->add_option("--framework", *framework, "The task's framework (id or prefix), when ids repeat");
  command->callback([&context, task, framework] { context.exitCode = runKill(context, *task, *framework); });
}

void addReserveCommands(CLI::App& app, Context& context) {
  for (bool reserve : {true, false}) {
    CLI::App* command = app.add_subcommand(reserve ? "reserve" : "unreserve",
                                           reserve ? "Reserve an agent's unreserved resources for a role"
                                                   : "Undo a dynamic reservation of a role on an agent");
    auto agent = std::make_shared<std::string>();
    auto resources = std::make_shared<std::string>();
    auto role = std::make_shared<std::string>();
    auto principal = std::make_shared<std::string>();
    command->add_option("AGENT", *agent, "Agent id (or a unique prefix)")->required();
    command->add_option("RESOURCES", *resources, "e.g. 'cpus:1;mem:512'")->required();
    command->add_option("--role", *role, "The reservation's role")->required();
    command->add_option("--principal", *principal, "The reservation's principal (must match to unreserve)");
    command->callback([&context, reserve, agent, resources, role, principal] {
      context.exitCode = runReserve(context, reserve, *agent, *resources, *role, *principal);
    });
  }
}

void addActivationCommands(CLI::App& app, Context& context) {
  for (bool deactivate : {true, false}) {
    CLI::App* command = app.add_subcommand(
        deactivate ? "deactivate" : "reactivate",
        deactivate ? "Stop offering an agent's resources (its tasks keep running; kept across restarts)"
                   : "Offer a deactivated agent's resources again");
    auto agent = std::make_shared<std::string>();
    command->add_option("AGENT", *agent, "Agent id (or a unique prefix)")->required();
    command->callback([&context, deactivate, agent] { context.exitCode = runActivation(context, deactivate, *agent); });
  }
}

void addWeightsCommand(CLI::App& app, Context& context) {
  CLI::App* command = app.add_subcommand("weights", "Show the roles' weights, or set them: agora weights eng=2 ml=3");
  auto assignments = std::make_shared<std::vector<std::string>>();
  auto asJson = std::make_shared<bool>(false);
  command->add_option("ROLE=WEIGHT", *assignments, "Weights to set (positive numbers)");
  command->add_flag("--json", *asJson, "Print JSON");
  command->callback([&context, assignments, asJson] { context.exitCode = runWeights(context, *assignments, *asJson); });
}

void addQuotaCommand(CLI::App& app, Context& context) {
  CLI::App* command = app.add_subcommand("quota", "Show quotas, or set a role's: agora quota eng --limit 'cpus:10'");
  auto role = std::make_shared<std::string>();
  auto limit = std::make_shared<std::string>();
  auto guarantee = std::make_shared<std::string>();
  auto remove = std::make_shared<bool>(false);
  auto force = std::make_shared<bool>(false);
  auto asJson = std::make_shared<bool>(false);
  command->add_option("ROLE", *role, "The role (all roles with quota when omitted)");
  command->add_option("--limit", *limit, "Upper bound, e.g. 'cpus:10;mem:2048'");
  command->add_option("--guarantee", *guarantee, "Guaranteed amount, e.g. 'cpus:2'");
  command->add_flag("--remove", *remove, "Remove the role's quota");
  command->add_flag("--force", *force, "Skip the capacity and consumption checks");
  command->add_flag("--json", *asJson, "Print JSON");
  command->callback([&context, role, limit, guarantee, remove, force, asJson] {
    context.exitCode = runQuota(context, *role, *limit, *guarantee, *remove, *force, *asJson);
  });
}

void addExplainCommand(CLI::App& app, Context& context) {
  CLI::App* command = app.add_subcommand("explain", "Why a framework is (or is not) getting offers");
  auto framework = std::make_shared<std::string>();
  auto asJson = std::make_shared<bool>(false);
  command->add_option("FRAMEWORK", *framework, "Framework id (or a unique prefix)")->required();
  command->add_flag("--json", *asJson, "Print the JSON of /allocator/explain");
  command->callback([&context, framework, asJson] { context.exitCode = runExplain(context, *framework, *asJson); });
}

}  // namespace agora::cli
