// Shared helpers of the commands (client.hpp).

#include "client.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <iostream>

#include <fmt/format.h>

#include "agora/common/http_client.hpp"
#include "agora/common/json.hpp"
#include "agora/common/task_state.hpp"

namespace agora::cli {

Result<HttpResponse> call(const HostPort& to, std::string_view method, std::string_view target, std::string_view body,
                          std::string_view contentType) {
  auto response = httpRequest(method, to.host, to.port, target, body, contentType);
  if (!response.ok()) {
    return Status::Unavailable(fmt::format("Cannot reach {}: {}", to.toString(), response.error().message()));
  }
  if (response->status >= 200 && response->status < 300) return response;
  std::string message = response->body;
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (message.empty()) message = "HTTP " + std::to_string(response->status);
  if (response->status == 404) return Status::NotFound(message);
  return Status::FailedPrecondition(fmt::format("{} (HTTP {})", message, response->status));
}

Result<nlohmann::json> getJson(const HostPort& to, std::string_view target) {
  AGORA_ASSIGN_OR_RETURN(HttpResponse response, call(to, "GET", target));
  auto parsed = parseJson(response.body);
  if (!parsed.ok()) return Status::Internal(fmt::format("{} answered {} with invalid JSON", to.toString(), target));
  return parsed;
}

Result<HttpResponse> operatorCall(const HostPort& master, const nlohmann::json& body) {
  return call(master, "POST", "/api/v1", body.dump());
}

int exitCodeOf(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk: return kExitOk;
    case Status::Code::kUnavailable: return kExitUnreachable;
    case Status::Code::kNotFound: return kExitNotFound;
    case Status::Code::kInvalidArgument: return kExitUsage;
    default: return kExitFailed;
  }
}

int report(const Status& status) {
  std::cerr << "agora: " << status.message() << std::endl;
  return exitCodeOf(status);
}

Result<std::string> matchId(std::string_view given, const std::vector<std::string>& candidates, std::string_view what) {
  std::vector<std::string> matches;
  for (const auto& candidate : candidates) {
    if (candidate == given) return candidate;
    if (candidate.starts_with(given) && std::find(matches.begin(), matches.end(), candidate) == matches.end()) {
      matches.push_back(candidate);
    }
  }
  if (matches.size() == 1) return matches.front();
  if (matches.empty()) return Status::NotFound(fmt::format("No {} matches '{}'", what, given));
  std::string list;
  for (const auto& match : matches) list += "\n  " + match;
  return Status::NotFound(fmt::format("'{}' matches {} {}s; give more of the id:{}", given, matches.size(), what, list));
}

std::string renderTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  };
  measure(header);
  for (const auto& row : rows) measure(row);
  std::string out;
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < widths.size(); ++i) {
      std::string cell = i < row.size() ? row[i] : "";
      line += cell;
      if (i + 1 < widths.size()) line += std::string(widths[i] - cell.size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  print(header);
  for (const auto& row : rows) print(row);
  return out;
}

std::string formatNumber(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_number()) return "";
  double v = value.get<double>();
  if (std::floor(v) == v && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  std::string text = fmt::format("{:.3f}", v);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

std::vector<TaskRef> tasksOf(const nlohmann::json& state, bool completed) {
  std::vector<TaskRef> out;
  auto add = [&](const nlohmann::json& framework, const char* list) {
    if (!framework.contains(list) || !framework[list].is_array()) return;
    for (const auto& task : framework[list]) {
      out.push_back(TaskRef{task.value("id", ""), framework.value("id", ""), task.value("agent_id", ""),
                            task.value("state", ""), &task});
    }
  };
  for (const char* frameworks : {"frameworks", "completed_frameworks"}) {
    if (!state.contains(frameworks) || !state[frameworks].is_array()) continue;
    bool done = std::string_view(frameworks) == "completed_frameworks";
    if (done && !completed) continue;
    for (const auto& framework : state[frameworks]) {
      add(framework, "tasks");
      add(framework, "unreachable_tasks");
      if (completed) add(framework, "completed_tasks");
    }
  }
  return out;
}

bool isTerminalStateName(const std::string& state) {
  v1::TaskState parsed;
  return v1::TaskState_Parse(state, &parsed) && isTerminalState(parsed);
}

Result<TaskRef> findTask(const nlohmann::json& state, std::string_view given, std::string_view frameworkId) {
  std::vector<TaskRef> tasks = tasksOf(state, true);
  if (!frameworkId.empty()) {
    std::vector<std::string> frameworks;
    for (const auto& task : tasks) frameworks.push_back(task.frameworkId);
    AGORA_ASSIGN_OR_RETURN(std::string framework, matchId(frameworkId, frameworks, "framework"));
    std::erase_if(tasks, [&](const TaskRef& task) { return task.frameworkId != framework; });
  }
  // Prefer a task that is still active over a completed one of the same id.
  std::vector<std::string> ids;
  for (const auto& task : tasks) ids.push_back(task.taskId);
  AGORA_ASSIGN_OR_RETURN(std::string id, matchId(given, ids, "task"));
  std::vector<TaskRef> same;
  for (const auto& task : tasks) {
    if (task.taskId == id) same.push_back(task);
  }
  std::set<std::string> frameworks;
  for (const auto& task : same) frameworks.insert(task.frameworkId);
  if (frameworks.size() > 1) {
    // A framework run again reuses its task ids: the one task still live wins.
    std::vector<TaskRef> live;
    for (const auto& task : same) {
      if (!isTerminalStateName(task.state)) live.push_back(task);
    }
    if (live.size() == 1) return live.front();
  }
  if (frameworks.size() > 1) {
    std::string list;
    for (const auto& f : frameworks) list += "\n  " + f;
    return Status::NotFound(fmt::format("Task '{}' exists in {} frameworks; pick one with --framework:{}", id,
                                        frameworks.size(), list));
  }
  return same.front();
}

Result<HostPort> agentAddress(const nlohmann::json& state, const std::string& agentId) {
  if (state.contains("agents") && state["agents"].is_array()) {
    for (const auto& agent : state["agents"]) {
      if (agent.value("id", "") != agentId) continue;
      // The address the agent's HTTP server listens on, as it reported it
      // (its --hostname may not resolve, or name another interface).
      const std::string reported = agent.contains("http_address") && agent["http_address"].is_string()
                                       ? agent["http_address"].get<std::string>()
                                       : "";
      if (!reported.empty()) {
        auto parsed = parseHostPort(reported, "the agent's http_address");
        if (parsed.ok()) return *parsed;
      }
      HostPort address{agent.value("hostname", ""), static_cast<uint16_t>(agent.value("port", 5051))};
      if (address.host.empty()) break;
      return address;
    }
  }
  return Status::NotFound("Agent " + agentId + " is not registered with the master");
}

}  // namespace agora::cli
