#pragma once

// What every command shares: HTTP to the master and agents, errors as exit
// codes (cli.hpp), ids given as unique prefixes, and plain tables.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agora/common/http.hpp"
#include "agora/common/master_address.hpp"
#include "agora/common/result.hpp"
#include "cli.hpp"

namespace agora::cli {

// One request to HOST:PORT. A reply of 2xx is returned; any other status
// becomes an error carrying the body: 404 NotFound (exit 4), others
// FailedPrecondition (exit 1). Unreachable: Unavailable (exit 3).
Result<HttpResponse> call(const HostPort& to, std::string_view method, std::string_view target,
                          std::string_view body = {}, std::string_view contentType = "application/json");
// GET and parse JSON (an unparsable answer is an Internal error, exit 1).
Result<nlohmann::json> getJson(const HostPort& to, std::string_view target);
// POST a v1 operator call to the master's /api/v1.
Result<HttpResponse> operatorCall(const HostPort& master, const nlohmann::json& call);

// Prints "agora: <message>" on stderr and returns the exit code for it.
int report(const Status& status);
int exitCodeOf(const Status& status);

// The one id in `candidates` equal to `given`, or else the one starting with
// it. NotFound (exit 4) when none matches or several do (listing them).
Result<std::string> matchId(std::string_view given, const std::vector<std::string>& candidates,
                            std::string_view what);

// Left-aligned columns separated by two spaces, a header row first.
std::string renderTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// "0.5", "128", "" for missing; numbers print without trailing zeros.
std::string formatNumber(const nlohmann::json& value);

// A task as the master's /state lists it, with where it is listed.
struct TaskRef {
  std::string taskId;
  std::string frameworkId;
  std::string agentId;
  std::string state;
  const nlohmann::json* task = nullptr;  // Into the /state document.
};
// Every task of /state: active frameworks' tasks and unreachable tasks, and
// with `completed` also completed tasks and those of completed frameworks.
std::vector<TaskRef> tasksOf(const nlohmann::json& state, bool completed);
// TASK_FINISHED, TASK_KILLED, ... (false for unknown names).
bool isTerminalStateName(const std::string& state);
// The task `given` names (a unique prefix; `frameworkId` narrows it). When
// the id is in several frameworks and only one has it live, that one.
Result<TaskRef> findTask(const nlohmann::json& state, std::string_view given, std::string_view frameworkId = {});
// The agent (from /state's agents[]) and its HTTP address.
Result<HostPort> agentAddress(const nlohmann::json& state, const std::string& agentId);

}  // namespace agora::cli
