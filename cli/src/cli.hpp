#pragma once

// The `agora` command-line tool (DESIGN.md, "Processes and addresses"):
//
//   agora [--master=HOST:PORT] COMMAND [OPTIONS] [ARGS]
//
// Each command lives in its own file and registers itself in main.cpp's
// table with an `add...Command(CLI::App&, Context&)` function. The master
// comes from --master, else $AGORA_MASTER, else 127.0.0.1:5050.
//
// Exit codes scripts can rely on (commands that run a task exit with the
// task's status instead, see run.cpp):
//   0 success, 1 the request failed (the master said no, or the answer is
//   unusable), 2 bad usage, 3 the master could not be reached, 4 not found
//   (an unknown or ambiguous id).

#include <CLI/CLI.hpp>
#include <string>

#include "agora/common/master_address.hpp"

namespace agora::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,
  kExitUsage = 2,
  kExitUnreachable = 3,
  kExitNotFound = 4,
};

// What every command sees. Filled in before the command's callback runs.
struct Context {
  std::string master;  // As given: HOST:PORT.
  HostPort address;    // Parsed.
  int exitCode = kExitOk;  // Set by the command's callback.
};

// The table of commands (main.cpp). Add one declaration per command here
// and one call in main.cpp, in the order `agora --help` lists them.
void addAgentsCommand(CLI::App& app, Context& context);      // listings.cpp
void addFrameworksCommand(CLI::App& app, Context& context);  // listings.cpp
void addTasksCommand(CLI::App& app, Context& context);       // listings.cpp
void addLogsCommand(CLI::App& app, Context& context);        // logs.cpp
void addKillCommand(CLI::App& app, Context& context);        // operator_commands.cpp
void addReserveCommands(CLI::App& app, Context& context);    // reserve, unreserve
void addActivationCommands(CLI::App& app, Context& context);  // deactivate, reactivate
void addWeightsCommand(CLI::App& app, Context& context);
void addQuotaCommand(CLI::App& app, Context& context);
void addExplainCommand(CLI::App& app, Context& context);
void addRunCommand(CLI::App& app, Context& context);  // run.cpp (links agora_sdk)

}  // namespace agora::cli
