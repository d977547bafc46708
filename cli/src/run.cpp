// agora run: run one command on the cluster, like mesos-execute.
//
//   agora run --name=N --resources='cpus:0.5;mem:64' [--role=R] [--env K=V]...
//             [--user=U] [--principal=P] -- CMD ARGS...
//
// A framework of its own subscribes, launches the command (exec'd, no
// shell; `-- sh -c '...'` for one) on the first offer that fits, prints each
// state change and, at the end, the agent and sandbox it ran in, then tears
// itself down. Exit status: the task's exit status (0 for TASK_FINISHED,
// the command's status for TASK_FAILED); 1 when the task ended another way
// (killed, lost, a signal); 2 bad usage; 3 the master could not be reached.
// SIGINT/SIGTERM kill the task (the framework is torn down).
//
// This command links the framework SDK (agora_sdk), unlike the rest of the
// CLI, which only needs common and proto.

#include <pwd.h>
#include <unistd.h>

#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agora/common/http_client.hpp"
#include "agora/common/id.hpp"
#include "agora/common/logging.hpp"
#include "agora/common/task_state.hpp"
#include "agora/scheduler_driver.hpp"
#include "agora/signals.hpp"
#include "agora/task_helpers.hpp"
#include "cli.hpp"

namespace agora::cli {

namespace {

using namespace std::chrono_literals;
using sdk::SchedulerDriver;

struct RunOptions {
  std::string name = "agora-run";
  std::string resources = "cpus:0.1;mem:32";
  std::string role = "*";
  std::string user;
  std::string principal;
  std::vector<std::string> env;
  std::vector<std::string> command;
  std::string connectTimeout = "15secs";
};

// Runs one task; everything here happens on the driver's thread.
class RunScheduler final : public sdk::Scheduler {
 public:
  RunScheduler(const RunOptions& options, sdk::TaskRequest request) : options_(options), request_(request) {}

  // After the driver stopped.
  std::optional<v1::TaskStatus> terminal() const { return terminal_; }
  std::optional<v1::AgentID> agent() const { return agent_; }
  std::string agentHostname() const { return hostname_; }

  void subscribed(SchedulerDriver&, const v1::FrameworkID& id, const v1::MasterInfo&) override {
    std::cout << "Subscribed with framework ID " << id.value() << std::endl;
    if (!launched_) std::cout << "Waiting for an offer of " << options_.resources << " for role " << options_.role
                              << std::endl;
  }

  void disconnected(SchedulerDriver&) override {
    std::cout << "Disconnected from the master; reconnecting" << std::endl;
  }

  void offers(SchedulerDriver& driver, const std::vector<v1::Offer>& offers) override {
    std::vector<v1::OfferID> unused;
    for (const v1::Offer& offer : offers) {
      if (launched_) {
        unused.push_back(offer.id());
        continue;
      }
      std::vector<Resources> fit = sdk::matchTasks(offer, request_, 1);
      if (fit.empty()) {
        unused.push_back(offer.id());
        continue;
      }
      sdk::TaskBuilder builder(options_.name);
      builder.agent(offer.agent_id()).resources(fit[0]).exec(options_.command[0], options_.command);
      if (!options_.user.empty()) builder.user(options_.user);
      for (const std::string& variable : options_.env) {
        size_t eq = variable.find('=');
        builder.env(variable.substr(0, eq), variable.substr(eq + 1));
      }
      Result<v1::TaskInfo> task = builder.build();
      if (!task.ok()) {
        std::cerr << "agora run: " << task.error().message() << std::endl;
        failed_ = true;
        driver.stop();
        return;
      }
      launched_ = true;
      agent_ = offer.agent_id();
      hostname_ = offer.hostname();
      std::cout << "Launching task '" << options_.name << "' on agent " << offer.agent_id().value() << " ("
                << offer.hostname() << ")" << std::endl;
      driver.launch({offer.id()}, {*task});
    }
    if (!unused.empty()) driver.decline(unused);
  }

  void offerRescinded(SchedulerDriver&, const v1::OfferID&) override {}

  void statusUpdate(SchedulerDriver& driver, const v1::TaskStatus& status) override {
    if (status.task_id().value() != options_.name) return;
    std::cout << v1::TaskState_Name(status.state());
    if (status.has_message() && !status.message().empty()) std::cout << ": " << status.message();
    if (status.has_reason()) std::cout << " (" << v1::TaskStatus::Reason_Name(status.reason()) << ")";
    std::cout << std::endl;
    if (status.has_agent_id()) agent_ = status.agent_id();
    if (isTerminalState(status.state()) && !terminal_) {
      terminal_ = status;
      driver.stop();  // Tears the framework down; join() returns once it left.
    }
  }

  void frameworkMessage(SchedulerDriver&, const v1::AgentID&, const v1::ExecutorID&, const std::string&) override {}
  void agentLost(SchedulerDriver&, const v1::AgentID& agentId) override {
    std::cout << "Agent " << agentId.value() << " lost" << std::endl;
  }
  void executorLost(SchedulerDriver&, const v1::ExecutorID&, const v1::AgentID&, std::optional<int>) override {}
  void error(SchedulerDriver&, const std::string& message) override {
    std::cerr << "agora run: " << message << std::endl;
  }

  bool failed() const { return failed_; }

 private:
  const RunOptions& options_;
  sdk::TaskRequest request_;
  bool launched_ = false;
  bool failed_ = false;
  std::optional<v1::TaskStatus> terminal_;
  std::optional<v1::AgentID> agent_;
  std::string hostname_;
};

std::string currentUser() {
  struct passwd* entry = ::getpwuid(::getuid());
  return entry != nullptr ? entry->pw_name : "nobody";
}

// The sandbox of task `taskId` on the agent: asks the master where the
// agent's HTTP endpoint is, then the agent's /state. An error says why not.
Result<std::string> findSandbox(const HostPort& master, const std::string& agentId, const std::string& taskId) {
  AGORA_ASSIGN_OR_RETURN(HttpResponse state, httpGet(master.host, master.port, "/state", 5s));
  nlohmann::json masterState = nlohmann::json::parse(state.body, nullptr, false);
  if (masterState.is_discarded()) return Status::Unavailable("The master's /state is not JSON");
  std::string host;
  int port = 0;
  for (const auto& agent : masterState.value("agents", nlohmann::json::array())) {
    if (agent.value("id", "") == agentId) {
      host = agent.value("hostname", "");
      port = agent.value("port", 0);
    }
  }
  if (host.empty() || port <= 0 || port > 65535) return Status::NotFound("The master does not know agent " + agentId);
  AGORA_ASSIGN_OR_RETURN(HttpResponse agentState, httpGet(host, static_cast<uint16_t>(port), "/state", 5s));
  nlohmann::json json = nlohmann::json::parse(agentState.body, nullptr, false);
  if (json.is_discarded()) return Status::Unavailable("The agent's /state is not JSON");
  auto hasTask = [&](const nlohmann::json& tasks) {
    for (const auto& task : tasks) {
      if (task.contains("task_id") && task["task_id"].value("value", "") == taskId) return true;
    }
    return false;
  };
  for (const char* frameworks : {"frameworks", "completed_frameworks"}) {
    for (const auto& framework : json.value(frameworks, nlohmann::json::array())) {
      for (const char* executors : {"executors", "completed_executors"}) {
        for (const auto& executor : framework.value(executors, nlohmann::json::array())) {
          for (const char* tasks : {"tasks", "completed_tasks", "queued_tasks"}) {
            if (hasTask(executor.value(tasks, nlohmann::json::array()))) {
              return host + ":" + executor.value("directory", std::string("?"));
            }
          }
        }
      }
    }
  }
  return Status::NotFound("Agent " + host + " does not list the task");
}

int runTask(const Context& context, const RunOptions& options) {
  if (options.command.empty()) {
    std::cerr << "agora run: no command; usage: agora run [OPTIONS] -- CMD ARGS..." << std::endl;
    return kExitUsage;
  }
  Result<sdk::TaskRequest> request = sdk::TaskRequest::parse(options.resources);
  if (!request.ok()) {
    std::cerr << "agora run: --resources: " << request.error().message() << std::endl;
    return kExitUsage;
  }
  if (Status valid = validateId(options.name, "task name"); !valid.ok()) {
    std::cerr << "agora run: --name: " << valid.message() << std::endl;
    return kExitUsage;
  }
  Result<Duration> connectTimeout = parseDuration(options.connectTimeout);
  if (!connectTimeout.ok()) {
    std::cerr << "agora run: --connect_timeout: " << connectTimeout.error().message() << std::endl;
    return kExitUsage;
  }
  for (const std::string& variable : options.env) {
    if (variable.find('=') == std::string::npos || variable.front() == '=') {
      std::cerr << "agora run: --env wants NAME=VALUE, got '" << variable << "'" << std::endl;
      return kExitUsage;
    }
  }

  // Quiet: only errors from the SDK's own logging; the state changes are
  // this command's output.
  LoggingOptions logging;
  logging.level = LogLevel::kError;
  initLogging(logging);

  v1::FrameworkInfo framework;
  framework.set_user(options.user.empty() ? currentUser() : options.user);
  framework.set_name("agora-run " + options.name);
  framework.add_roles(options.role);
  framework.add_capabilities()->set_type(v1::FrameworkInfo::Capability::MULTI_ROLE);
  if (!options.principal.empty()) framework.set_principal(options.principal);

  sdk::SchedulerOptions driverOptions;
  driverOptions.masterTimeout = *connectTimeout;
  RunScheduler scheduler(options, *request);
  sdk::AgoraSchedulerDriver driver(scheduler, framework, context.master, driverOptions);

  // SIGINT/SIGTERM stop the driver: the teardown kills the task.
  Status status;
  {
    sdk::ShutdownSignals signals([&driver] {
      std::cout << "Interrupted; killing the task" << std::endl;
      driver.stop();
    });
    status = driver.run();
  }

  if (!status.ok()) {
    std::cerr << "agora run: " << status.message() << std::endl;
    return status.code() == Status::Code::kUnavailable ? kExitUnreachable : kExitFailed;
  }
  if (scheduler.failed()) return kExitFailed;
  std::optional<v1::TaskStatus> terminal = scheduler.terminal();
  if (scheduler.agent()) {
    Result<std::string> sandbox = findSandbox(context.address, scheduler.agent()->value(), options.name);
    if (sandbox.ok()) {
      std::cout << "Sandbox: " << *sandbox << std::endl;
    } else {
      std::cout << "Sandbox: on agent " << scheduler.agent()->value() << " (" << scheduler.agentHostname()
                << "), not found: " << sandbox.error().message() << std::endl;
    }
  }
  if (!terminal) return kExitFailed;  // Interrupted before the task ended.
  if (terminal->state() == v1::TASK_FINISHED) return kExitOk;
  if (terminal->state() == v1::TASK_FAILED) {
    std::optional<int> exit = sdk::exitStatus(*terminal);
    if (exit && *exit != 0) return *exit;
  }
  return kExitFailed;
}

}  // namespace

void addRunCommand(CLI::App& app, Context& context) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* run = app.add_subcommand(
      "run", "Run one command on the cluster and exit with its status (like mesos-execute)");
  run->add_option("--name", options->name, "Task name (and ID)")->capture_default_str();
  run->add_option("--resources", options->resources, "Resources of the task, e.g. 'cpus:0.5;mem:64;ports:1'")
      ->capture_default_str();
  run->add_option("--role", options->role, "Role to run the task as")->capture_default_str();
  run->add_option("--user", options->user, "Unix user to run the task as (default: yours)");
  run->add_option("--principal", options->principal, "Principal of the framework");
  run->add_option("--env,-e", options->env, "Environment variable NAME=VALUE for the command (repeatable)")
      ->allow_extra_args(false);
  run->add_option("--connect_timeout", options->connectTimeout,
                  "Give up (exit 3) when the master cannot be reached for this long")
      ->capture_default_str();
  run->add_option("command", options->command, "The command and its arguments, after --");
  run->footer(
      "Example: agora run --resources='cpus:0.5;mem:64' -- sh -c 'echo hi; exit 3'   # exits 3\n"
      "Exit status: the task's; 1 when it was killed, lost or signalled; 2 bad usage; 3 no master");
  run->callback([&context, options] { context.exitCode = runTask(context, *options); });
}

}  // namespace agora::cli
