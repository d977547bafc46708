#pragma once

// Sandbox files over HTTP (Mesos's /files/read and /files/browse, used by
// `agora logs` and the web UI's log viewer). Nothing outside the executor
// sandboxes (<work_dir>/slaves/<agent>/frameworks/<f>/executors/<e>/runs/<c>)
// can be read: `..` components are refused, and the file's real path (after
// symlinks) must stay inside the sandbox the request names.
//
//   GET /files/read?path=P&offset=N&length=M
//     P is either the absolute sandbox path ("/…/runs/<c>/stdout", as the
//     agent's /state shows in executors[].directory), or a path relative to
//     the sandbox of a task: &framework_id=F&task_id=T&path=stdout.
//     Mesos-style virtual paths "/frameworks/F/executors/E/runs/<c|latest>/…"
//     work too. The answer is {"data": "...", "offset": N}; offset -1 (or
//     none) answers {"data": "", "offset": <file size>} (tail -f starts
//     there). length is capped at kMaxFileReadLength.
//   GET /files/browse?path=DIR (same path forms): [{path, size, mode, mtime,
//     nlink, uid, gid}] for each entry.
//
// Errors: 400 bad parameters (negative offset or length, a directory to
// read), 403 a path outside the sandboxes, 404 no such file or task.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agora/common/http.hpp"
#include "agora/common/result.hpp"

namespace agora::agent {

inline constexpr int64_t kMaxFileReadLength = 1024 * 1024;

struct SandboxFiles {
  std::string workDir;  // The agent's --work_dir.
  // The agent's ID, empty before registration (then virtual paths do not resolve).
  std::function<std::string()> agentId;
  // The sandbox of the executor run that holds a task (Agent::sandboxPath).
  std::function<std::optional<std::string>(const std::string& frameworkId, const std::string& taskId)> taskSandbox;
};

// The real path of `request`'s file, inside one sandbox. PermissionDenied
// for anything that leaves the sandboxes, NotFound when it does not exist,
// InvalidArgument for malformed parameters.
Result<std::string> resolveSandboxPath(const SandboxFiles& files, const HttpRequest& request);

// The /files/read answer: {"data", "offset"}.
Result<nlohmann::json> readSandboxFile(const SandboxFiles& files, const HttpRequest& request);

// The /files/browse answer: an array of entries.
Result<nlohmann::json> browseSandbox(const SandboxFiles& files, const HttpRequest& request);

// Registers GET /files/read and /files/browse (also under /slave(1)/) on
// `server`; `invalid` counts 4xx answers (slave/files_invalid_requests).
void addFilesRoutes(HttpServer& server, SandboxFiles files, uint64_t* invalid);

}  // namespace agora::agent
