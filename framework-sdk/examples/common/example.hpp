#pragma once

// What every example framework shares (framework-sdk/examples/README.md):
// the flags --master, --role, --principal, --resources (per task), --user,
// --name and --logging_level, parsed with the same Flags as the daemons
// (so AGORA_MASTER works too); the FrameworkInfo built from them; and a
// main loop that runs a scheduler with the networked driver until it
// finishes, stopping cleanly on Ctrl-C.
//
//   int main(int argc, char** argv) {
//     ExampleMain main("agora-example-batch", "Runs N tasks ...");
//     int64_t tasks = 0;
//     main.flags().add(&tasks, "num_tasks", "How many tasks", 10);
//     if (auto exit = main.parse(argc, argv)) return *exit;
//     BatchScheduler scheduler(main, tasks);
//     return main.run(scheduler);
//   }

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agora/common/flags.hpp"
#include "agora/common/logging.hpp"
#include "agora/common/task_state.hpp"
#include "agora/scheduler.hpp"
#include "agora/task_helpers.hpp"

namespace agora::sdk {
class AgoraSchedulerDriver;
}  // namespace agora::sdk

namespace agora::examples {

struct CommonOptions {
  std::string master;     // --master HOST:PORT
  std::string role;       // --role
  std::string principal;  // --principal
  std::string resources;  // --resources, per task
  std::string user;       // --user (default: the current user)
  std::string name;       // --name of the framework
  std::string loggingLevel;
};

// Scheduler callbacks every example would write the same way: log, decline
// offers it does not want, remember an exit code.
class ExampleScheduler : public sdk::Scheduler {
 public:
  explicit ExampleScheduler(std::string logName);

  // The process's exit status once the driver stopped: set by finish(),
  // 1 after error().
  int exitCode() const { return exitCode_; }

  void subscribed(sdk::SchedulerDriver& driver, const v1::FrameworkID& frameworkId,
                  const v1::MasterInfo& masterInfo) override;
  void disconnected(sdk::SchedulerDriver& driver) override;
  // Declines every offer.
  void offers(sdk::SchedulerDriver& driver, const std::vector<v1::Offer>& offers) override;
  void offerRescinded(sdk::SchedulerDriver& driver, const v1::OfferID& offerId) override;
  void frameworkMessage(sdk::SchedulerDriver& driver, const v1::AgentID& agentId,
                        const v1::ExecutorID& executorId, const std::string& data) override;
  void agentLost(sdk::SchedulerDriver& driver, const v1::AgentID& agentId) override;
  void executorLost(sdk::SchedulerDriver& driver, const v1::ExecutorID& executorId, const v1::AgentID& agentId,
                    std::optional<int> status) override;
  void error(sdk::SchedulerDriver& driver, const std::string& message) override;

 protected:
  // Records `code` and stops the driver (the framework is torn down).
  void finish(sdk::SchedulerDriver& driver, int code);
  // "task-3 TASK_FAILED: Command exited with status 1 (REASON_...)".
  static std::string describe(const v1::TaskStatus& status);

  // The driver's clock: timers on the driver's thread (only there).
  Clock& clock();

  // The offers loop most examples share: for each offer, `place` is called
  // with the offer and what is left of its resources until it returns
  // nullopt; each task it returns (its resources carved out of `available`)
  // is launched on that offer; offers nothing was placed on are declined.
  using PlaceFn = std::function<std::optional<v1::TaskInfo>(const v1::Offer& offer, Resources& available)>;
  void placeTasks(sdk::SchedulerDriver& driver, const std::vector<v1::Offer>& offers, const PlaceFn& place);

  std::shared_ptr<spdlog::logger> log_;

 private:
  friend class ExampleMain;
  sdk::AgoraSchedulerDriver* driver_ = nullptr;  // Set by ExampleMain::run().
  int exitCode_ = 0;
};

class ExampleMain {
 public:
  // `program` is the binary's name, `summary` the first line of --help,
  // `defaultResources` the default of --resources.
  ExampleMain(std::string program, std::string summary, std::string defaultResources = "cpus:0.1;mem:32");

  // The example adds its own flags here before parse().
  Flags& flags() { return flags_; }

  // Parses the command line and the environment. nullopt: go on; otherwise
  // the exit status (0 after --help, 2 for a bad flag, with one line on
  // stderr). Also starts logging.
  std::optional<int> parse(int argc, char** argv);

  const CommonOptions& options() const { return options_; }
  // --resources as a per-task request.
  const sdk::TaskRequest& request() const { return request_; }

  // user, name, roles = {--role} (MULTI_ROLE), principal.
  v1::FrameworkInfo framework() const;

  // Runs `scheduler` against --master until it stops the driver (or
  // Ctrl-C, which tears the framework down). Returns the exit status:
  // scheduler.exitCode(), or 3 when the master cannot be reached within
  // 30 s, 1 on another driver error.
  int run(ExampleScheduler& scheduler, std::optional<v1::FrameworkInfo> framework = std::nullopt,
          sdk::SchedulerOptions options = {});

  // For errors found after parse() (an example's own flag): prints one line
  // and returns 2.
  int usageError(const std::string& message) const;

 private:
  std::string program_;
  std::string summary_;
  Flags flags_;
  CommonOptions options_;
  sdk::TaskRequest request_;
};

}  // namespace agora::examples
