// agora: the command-line tool. See cli.hpp for the conventions and the exit
// codes; each command is in its own file.

#include <cstdlib>
#include <iostream>

#include "cli.hpp"

int main(int argc, char** argv) {
  using namespace agora::cli;

  Context context;
  CLI::App app{"agora: run and inspect tasks on an Agora cluster"};
  app.set_version_flag("--version", "agora " AGORA_VERSION);
  app.require_subcommand(1);
  const char* fromEnv = std::getenv("AGORA_MASTER");
  context.master = fromEnv != nullptr && *fromEnv != '\0' ? fromEnv : "127.0.0.1:5050";
  app.add_option("--master", context.master, "The master's HTTP HOST:PORT (env AGORA_MASTER)");

  // The table of commands (one add...Command call each; see cli.hpp).
  addAgentsCommand(app, context);
  addFrameworksCommand(app, context);
  addTasksCommand(app, context);
  addLogsCommand(app, context);
  addKillCommand(app, context);
  addReserveCommands(app, context);
  addActivationCommands(app, context);
  addWeightsCommand(app, context);
  addQuotaCommand(app, context);
  addExplainCommand(app, context);
  addRunCommand(app, context);

  app.parse_complete_callback([&] {
    agora::Result<agora::HostPort> address = agora::parseHostPort(context.master);
    if (!address.ok()) throw CLI::ValidationError("--master", address.error().message());
    context.address = *address;
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return context.exitCode;
}
