#include "example.hpp"

#include <pwd.h>
#include <unistd.h>

#include <iostream>

#include "agora/scheduler_driver.hpp"
#include "agora/signals.hpp"

namespace agora::examples {

using sdk::SchedulerDriver;

// --- ExampleScheduler ---------------------------------------------------------

ExampleScheduler::ExampleScheduler(std::string logName) : log_(agora::logger(logName)) {}

void ExampleScheduler::subscribed(SchedulerDriver&, const v1::FrameworkID& frameworkId, const v1::MasterInfo&) {
  log_->info("Subscribed with framework ID {}", frameworkId.value());
}

void ExampleScheduler::disconnected(SchedulerDriver&) { log_->warn("Disconnected from the master"); }

void ExampleScheduler::offers(SchedulerDriver& driver, const std::vector<v1::Offer>& offers) {
  std::vector<v1::OfferID> ids;
  for (const v1::Offer& offer : offers) ids.push_back(offer.id());
  driver.decline(ids);
}

void ExampleScheduler::offerRescinded(SchedulerDriver&, const v1::OfferID&) {}

void ExampleScheduler::frameworkMessage(SchedulerDriver&, const v1::AgentID&, const v1::ExecutorID&,
                                        const std::string& data) {
  log_->info("Ignoring a framework message of {} bytes", data.size());
}

void ExampleScheduler::agentLost(SchedulerDriver&, const v1::AgentID& agentId) {
  log_->warn("Agent {} lost", agentId.value());
}

void ExampleScheduler::executorLost(SchedulerDriver&, const v1::ExecutorID& executorId, const v1::AgentID& agentId,
                                    std::optional<int>) {
  log_->warn("Executor {} on agent {} lost", executorId.value(), agentId.value());
}

void ExampleScheduler::error(SchedulerDriver&, const std::string& message) {
  log_->error("Error: {}", message);
  exitCode_ = 1;
}

void ExampleScheduler::finish(SchedulerDriver& driver, int code) {
  exitCode_ = code;
  driver.stop();
}

Clock& ExampleScheduler::clock() { return driver_->clock(); }

void ExampleScheduler::placeTasks(SchedulerDriver& driver, const std::vector<v1::Offer>& offers,
                                  const PlaceFn& place) {
  std::vector<v1::OfferID> unused;
  for (const v1::Offer& offer : offers) {
    Result<Resources> offered = Resources::fromProto(offer.resources());
    Resources available = offered.ok() ? *offered : Resources();
    std::vector<v1::TaskInfo> tasks;
    while (std::optional<v1::TaskInfo> task = place(offer, available)) tasks.push_back(std::move(*task));
    if (tasks.empty()) {
      unused.push_back(offer.id());
    } else {
      driver.launch({offer.id()}, tasks);
    }
  }
  if (!unused.empty()) driver.decline(unused);
}

std::string ExampleScheduler::describe(const v1::TaskStatus& status) {
  std::string text = status.task_id().value() + " " + v1::TaskState_Name(status.state());
  if (!status.message().empty()) text += ": " + status.message();
  if (status.has_reason()) text += " (" + v1::TaskStatus::Reason_Name(status.reason()) + ")";
  return text;
}

// --- ExampleMain --------------------------------------------------------------

ExampleMain::ExampleMain(std::string program, std::string summary, std::string defaultResources)
    : program_(std::move(program)), summary_(std::move(summary)), flags_(program_) {
  flags_.add(&options_.master, "master", "The master's HTTP HOST:PORT (env AGORA_MASTER)", "127.0.0.1:5050");
  flags_.add(&options_.role, "role", "Role of the framework's offers and tasks", "*");
  flags_.add(&options_.principal, "principal", "Principal of the framework (reservations are made by it)", "");
  flags_.add(&options_.resources, "resources", "Resources of each task: cpus, mem (MB), disk (MB), gpus, ports",
             defaultResources, parsesWith<sdk::TaskRequest>(&sdk::TaskRequest::parse));
  flags_.add(&options_.user, "user", "Unix user of the tasks (default: the current user)", "");
  flags_.add(&options_.name, "name", "Name of the framework", program_);
  flags_.add(&options_.loggingLevel, "logging_level", "trace, debug, info, warning or error", "info",
             parsesWith<LogLevel>(&parseLogLevel));
}

std::optional<int> ExampleMain::parse(int argc, char** argv) {
  if (Status status = flags_.parse(argc, argv); !status.ok()) return usageError(status.message());
  if (flags_.helpRequested()) {
    std::cout << summary_ << "\n\n" << flags_.usage();
    return 0;
  }
  if (!flags_.positionals().empty()) return usageError("unexpected argument '" + flags_.positionals()[0] + "'");
  request_ = sdk::TaskRequest::parse(options_.resources).value();  // Validated by the flag.
  LoggingOptions logging;
  logging.level = parseLogLevel(options_.loggingLevel).value();
  initLogging(logging);
  return std::nullopt;
}

int ExampleMain::usageError(const std::string& message) const {
  std::cerr << program_ << ": " << message << " (see --help)" << std::endl;
  return 2;
}

v1::FrameworkInfo ExampleMain::framework() const {
  v1::FrameworkInfo framework;
  std::string user = options_.user;
  if (user.empty()) {
    struct passwd* entry = ::getpwuid(::getuid());
    user = entry != nullptr ? entry->pw_name : "nobody";
  }
  framework.set_user(user);
  framework.set_name(options_.name);
  framework.add_roles(options_.role);
  framework.add_capabilities()->set_type(v1::FrameworkInfo::Capability::MULTI_ROLE);
  if (!options_.principal.empty()) framework.set_principal(options_.principal);
  return framework;
}

int ExampleMain::run(ExampleScheduler& scheduler, std::optional<v1::FrameworkInfo> framework,
                     sdk::SchedulerOptions options) {
  if (!options.masterTimeout) options.masterTimeout = std::chrono::seconds(30);
  sdk::AgoraSchedulerDriver driver(scheduler, framework ? *framework : this->framework(), options_.master,
                                   options);
  scheduler.driver_ = &driver;
  Status status;
  {
    sdk::ShutdownSignals signals([&driver] { driver.stop(); });
    status = driver.run();
  }
  if (!status.ok()) {
    std::cerr << program_ << ": " << status.message() << std::endl;
    return status.code() == Status::Code::kUnavailable ? 3 : 1;
  }
  return scheduler.exitCode();
}

}  // namespace agora::examples
