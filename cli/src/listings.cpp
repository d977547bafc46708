// agents, frameworks, tasks: one GET /state, printed as a table or JSON.

#include "listings.hpp"

#include <iostream>
#include <map>

#include "client.hpp"

namespace agora::cli {

namespace {

using nlohmann::json;

const json& arrayOf(const json& doc, const char* key) {
  static const json empty = json::array();
  auto it = doc.find(key);
  return it != doc.end() && it->is_array() ? *it : empty;
}

std::string resource(const json& resources, const char* name) {
  if (!resources.is_object() || !resources.contains(name)) return "0";
  return formatNumber(resources[name]);
}

std::string usedOfTotal(const json& agent, const char* name) {
  return resource(agent.value("used_resources", json::object()), name) + "/" +
         resource(agent.value("resources", json::object()), name);
}

std::string joined(const json& list) {
  std::string out;
  if (!list.is_array()) return out;
  for (const auto& item : list) out += (out.empty() ? "" : ",") + (item.is_string() ? item.get<std::string>() : item.dump());
  return out;
}

std::map<std::string, std::string> hostnames(const json& state) {
  std::map<std::string, std::string> out;
  for (const auto& agent : arrayOf(state, "agents")) out[agent.value("id", "")] = agent.value("hostname", "");
  return out;
}

}  // namespace

json agentsJson(const json& state) { return arrayOf(state, "agents"); }

std::string agentsTable(const json& state) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& agent : arrayOf(state, "agents")) {
    std::string reserved;
    if (agent.contains("reserved_resources") && agent["reserved_resources"].is_object()) {
      for (const auto& [role, resources] : agent["reserved_resources"].items()) {
        reserved += (reserved.empty() ? "" : " ") + role + "(cpus:" + resource(resources, "cpus") +
                    ",mem:" + resource(resources, "mem") + ")";
      }
    }
    rows.push_back({agent.value("id", ""), agent.value("hostname", "") + ":" + std::to_string(agent.value("port", 0)),
                    agent.value("active", false) ? "yes" : "no", usedOfTotal(agent, "cpus"), usedOfTotal(agent, "mem"),
                    usedOfTotal(agent, "disk"), reserved});
  }
  return renderTable({"ID", "ADDRESS", "ACTIVE", "CPUS", "MEM", "DISK", "RESERVED"}, rows);
}

json frameworksJson(const json& state, bool all) {
  json out = arrayOf(state, "frameworks");
  if (all) {
    for (const auto& framework : arrayOf(state, "completed_frameworks")) out.push_back(framework);
  }
  return out;
}

std::string frameworksTable(const json& state, bool all) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& framework : frameworksJson(state, all)) {
    bool completed = framework.contains("unregistered_time") && !framework.value("active", false) &&
                     !framework.value("connected", false) && arrayOf(framework, "tasks").empty();
    std::string status = framework.value("active", false)      ? "active"
                         : framework.value("connected", false) ? "inactive"
                         : completed                           ? "completed"
                                                               : "disconnected";
    json used = framework.value("used_resources", json::object());
    rows.push_back({framework.value("id", ""), framework.value("name", ""), joined(framework.value("roles", json::array())),
                    framework.value("principal", ""), status, std::to_string(arrayOf(framework, "tasks").size()),
                    resource(used, "cpus"), resource(used, "mem")});
  }
  return renderTable({"ID", "NAME", "ROLES", "PRINCIPAL", "STATUS", "TASKS", "CPUS", "MEM"}, rows);
}

json tasksJson(const json& state, bool all) {
  json out = json::array();
  for (const auto& task : tasksOf(state, all)) out.push_back(*task.task);
  return out;
}

std::string tasksTable(const json& state, bool all) {
  std::map<std::string, std::string> hosts = hostnames(state);
  std::vector<std::vector<std::string>> rows;
  for (const auto& ref : tasksOf(state, all)) {
    const json& task = *ref.task;
    json resources = task.value("resources", json::object());
    auto host = hosts.find(ref.agentId);
    rows.push_back({ref.taskId, task.value("name", ""), ref.state, ref.frameworkId,
                    host != hosts.end() ? host->second : ref.agentId, resource(resources, "cpus"),
                    resource(resources, "mem")});
  }
  return renderTable({"ID", "NAME", "STATE", "FRAMEWORK", "AGENT", "CPUS", "MEM"}, rows);
}

namespace {

void addListing(CLI::App& app, Context& context, const char* name, const char* help, bool hasAll,
                std::function<std::string(const json&, bool)> table, std::function<json(const json&, bool)> asJson) {
  CLI::App* command = app.add_subcommand(name, help);
  auto json = std::make_shared<bool>(false);
  auto all = std::make_shared<bool>(false);
  command->add_flag("--json", *json, "Print the JSON of /state's entries instead of a table");
  if (hasAll) command->add_flag("--all,-a", *all, "Include completed ones");
  command->callback([&context, json, all, table, asJson] {
    auto state = getJson(context.address, "/state");
    if (!state.ok()) {
      context.exitCode = report(state.error());
      return;
    }
    if (*json) {
      std::cout << asJson(*state, *all).dump(2) << std::endl;
    } else {
      std::cout << table(*state, *all);
    }
  });
}

}  // namespace

void addAgentsCommand(CLI::App& app, Context& context) {
  addListing(app, context, "agents", "List the agents: resources used/total and reservations", false,
             [](const json& state, bool) { return agentsTable(state); },
             [](const json& state, bool) { return agentsJson(state); });
}

void addFrameworksCommand(CLI::App& app, Context& context) {
  addListing(app, context, "frameworks", "List the frameworks", true, frameworksTable, frameworksJson);
}

void addTasksCommand(CLI::App& app, Context& context) {
  addListing(app, context, "tasks", "List the tasks (with --all, completed ones too)", true, tasksTable, tasksJson);
}

}  // namespace agora::cli
