// agora-test-scheduler: a tiny framework for the end-to-end tests. It
// launches --num_tasks tasks of --resources running --command, prints every
// event as one JSON line on stdout, and takes commands on stdin:
//
//   kill TASK_ID      kills a task
//   launch N          launches N more tasks
//   suppress          stops offers to the framework (SUPPRESS)
//   revive            asks for offers again (REVIVE)
//   teardown          tears the framework down and exits
//
// On SIGTERM/SIGINT or end of stdin it tears the framework down (its tasks
// are killed) and exits. The framework checkpoints (its executors survive
// agent restarts). A test tool, not an example: no retries beyond the
// driver's own.
//
//   {"event":"subscribed","framework_id":"..."}
//   {"event":"offer","agent_id":"...","cpus":4,"mem":1024}
//   {"event":"launched","task_id":"task-0","agent_id":"..."}
//   {"event":"update","task_id":"task-0","state":"TASK_RUNNING","reason":"","source":"SOURCE_EXECUTOR","message":""}

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "agora/common/clock.hpp"
#include "agora/common/flags.hpp"
#include "agora/common/id.hpp"
#include "agora/common/json.hpp"
#include "agora/common/logging.hpp"
#include "agora/scheduler_driver.hpp"
#include "agora/signals.hpp"
#include "agora/task_helpers.hpp"

namespace {

using namespace agora;

void print(nlohmann::json line) { std::cout << line.dump() << std::endl; }

class TestScheduler final : public sdk::Scheduler {
 public:
  TestScheduler(sdk::TaskRequest request, std::string command, int64_t tasks,
                std::optional<v1::HealthCheck> healthCheck = std::nullopt, bool group = false)
      : request_(request),
        command_(std::move(command)),
        wanted_(tasks),
        healthCheck_(std::move(healthCheck)),
        group_(group) {}

  void more(int64_t n) { wanted_ += n; }

  void subscribed(sdk::SchedulerDriver& driver, const v1::FrameworkID& id, const v1::MasterInfo&) override {
    print({{"event", "subscribed"}, {"framework_id", id.value()}});
    driver.reconcile();
  }
  void disconnected(sdk::SchedulerDriver&) override { print({{"event", "disconnected"}}); }

  void offers(sdk::SchedulerDriver& driver, const std::vector<v1::Offer>& offers) override {
    for (const v1::Offer& offer : offers) {
      auto resources = Resources::fromProto(offer.resources());
      print({{"event", "offer"},
             {"agent_id", offer.agent_id().value()},
             {"cpus", resources.ok() ? resources->scalar("cpus").toDouble() : 0},
             {"mem", resources.ok() ? resources->scalar("mem").toDouble() : 0}});
      std::vector<v1::TaskInfo> tasks;
      for (const Resources& slot : sdk::matchTasks(offer, request_, static_cast<size_t>(wanted_ - launched_))) {
        std::string id = "task-" + std::to_string(launched_++);
        sdk::TaskBuilder builder(id);
        builder.agent(offer.agent_id()).shell(command_).resources(slot);
        if (healthCheck_) builder.healthCheck(*healthCheck_);
        auto task = builder.build();
        if (!task.ok()) {
          print({{"event", "error"}, {"message", task.error().message()}});
          continue;
        }
        tasks.push_back(*task);
        print({{"event", "launched"}, {"task_id", id}, {"agent_id", offer.agent_id().value()}});
      }
      v1::Filters filters;
      filters.set_refuse_seconds(0.5);
      if (tasks.empty()) {
        driver.decline({offer.id()}, filters);
      } else if (group_) {
        // The offer's tasks as one group on a DEFAULT executor.
        v1::Offer::Operation operation;
        operation.set_type(v1::Offer::Operation::LAUNCH_GROUP);
        v1::ExecutorInfo* executor = operation.mutable_launch_group()->mutable_executor();
        executor->set_type(v1::ExecutorInfo::DEFAULT);
        executor->mutable_executor_id()->set_value("group-" + std::to_string(groups_++));
        for (const v1::TaskInfo& task : tasks) *operation.mutable_launch_group()->mutable_task_group()->add_tasks() = task;
        driver.accept({offer.id()}, {operation}, filters);
      } else {
        driver.launch({offer.id()}, tasks, filters);
      }
    }
  }

  void offerRescinded(sdk::SchedulerDriver&, const v1::OfferID&) override {}

  void statusUpdate(sdk::SchedulerDriver&, const v1::TaskStatus& status) override {
    print({{"event", "update"},
           {"task_id", status.task_id().value()},
           {"state", v1::TaskState_Name(status.state())},
           {"reason", status.has_reason() ? v1::TaskStatus::Reason_Name(status.reason()) : ""},
           {"source", v1::TaskStatus::Source_Name(status.source())},
           {"message", status.message()},
           {"healthy", status.has_healthy() ? nlohmann::json(status.healthy()) : nlohmann::json()},
           {"reconciliation", status.reason() == v1::TaskStatus::REASON_RECONCILIATION}});
  }

  void frameworkMessage(sdk::SchedulerDriver&, const v1::AgentID&, const v1::ExecutorID&,
                        const std::string&) override {}
  void agentLost(sdk::SchedulerDriver&, const v1::AgentID& id) override {
    print({{"event", "agent_lost"}, {"agent_id", id.value()}});
  }
  void executorLost(sdk::SchedulerDriver&, const v1::ExecutorID&, const v1::AgentID&, std::optional<int>) override {}
  void error(sdk::SchedulerDriver&, const std::string& message) override {
    print({{"event", "error"}, {"message", message}});
  }

 private:
  sdk::TaskRequest request_;
  std::string command_;
  int64_t wanted_;
  int64_t launched_ = 0;
  std::optional<v1::HealthCheck> healthCheck_;
  bool group_ = false;  // Launch each offer's tasks as one task group.
  int groups_ = 0;
};

int fail(const std::string& message) {
  std::cerr << "agora-test-scheduler: " << message << std::endl;
  return EXIT_FAILURE;
}

}  // namespace

int main(int argc, char** argv) {
  std::string master;
  std::string resources;
  std::string command;
  std::string name;
  std::string role;
  int64_t numTasks = 0;
  Flags flags("agora-test-scheduler");
  flags.add(&master, "master", "The master's HTTP HOST:PORT", "");
  flags.add(&numTasks, "num_tasks", "How many tasks to launch", 1, inRange<int64_t>(0, 100000));
  flags.add(&resources, "resources", "Each task's resources", "cpus:0.1;mem:32");
  flags.add(&command, "command", "Each task's shell command", "sleep 1000");
  flags.add(&name, "name", "The framework's name", "agora-test-scheduler");
  flags.add(&role, "role", "The framework's role", "*");
  std::string healthCheckJson;
  flags.add(&healthCheckJson, "health_check", "Each task's HealthCheck, as v1 JSON", "");
  bool group = false;
  flags.add(&group, "group", "Launch the tasks of each offer as one task group (DEFAULT executor)", false);
  if (Status s = flags.parse(argc, argv); !s.ok()) return fail(s.message());
  if (flags.helpRequested()) {
    std::cout << flags.usage();
    return EXIT_SUCCESS;
  }
  auto request = sdk::TaskRequest::parse(resources);
  if (!request.ok()) return fail(request.error().message());
  LoggingOptions logging;
  initLogging(logging);

  std::optional<v1::HealthCheck> healthCheck;
  if (!healthCheckJson.empty()) {
    healthCheck.emplace();
    if (Status s = fromJson(healthCheckJson, &*healthCheck); !s.ok()) return fail("--health_check: " + s.message());
  }
  TestScheduler scheduler(*request, command, numTasks, healthCheck, group);
  v1::FrameworkInfo framework;
  framework.set_name(name);
  framework.set_user("root");
  framework.add_roles(role);
  framework.set_checkpoint(true);
  framework.set_failover_timeout(600);  // Survives a master restart with time to spare.
  framework.add_capabilities()->set_type(v1::FrameworkInfo::Capability::MULTI_ROLE);

  // The networked driver: it resolves the master, and when the master dies
  // it notices at once, resolves it again and resubscribes with the
  // framework's ID.
  sdk::SchedulerOptions options;
  options.masterTimeout = std::chrono::seconds(60);
  sdk::AgoraSchedulerDriver driver(scheduler, framework, master, options);
  // SIGTERM/SIGINT, "teardown" or the end of stdin: tear down and exit once
  // the TEARDOWN has left (join()).
  sdk::ShutdownSignals signals([&driver] { driver.stop(); });
  driver.start();
  std::thread reader([&driver, &scheduler] {
    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream words(line);
      std::string verb, argument;
      words >> verb >> argument;
      if (verb == "kill") {
        v1::TaskID id;
        id.set_value(argument);
        driver.kill(id);
      } else if (verb == "launch") {
        int64_t n = std::strtoll(argument.c_str(), nullptr, 10);
        driver.post([&driver, &scheduler, n] {
          scheduler.more(n);
          driver.revive();
        });
      } else if (verb == "suppress" || verb == "revive") {
        driver.post([&driver, verb] {  // On the driver's thread, as its callbacks print.
          if (verb == "suppress") {
            driver.suppress();
          } else {
            driver.revive();
          }
          print({{"event", verb == "suppress" ? "suppressed" : "revived"}});
        });
      } else if (verb == "teardown") {
        break;
      }
    }
    driver.stop();
  });
  Status status = driver.join();
  // The reader may still wait for input that never comes: leave without
  // unwinding (the driver has stopped and flushed).
  std::cout.flush();
  std::_Exit(status.ok() ? EXIT_SUCCESS : EXIT_FAILURE);
}
