// agora-e2e-scheduler: a tiny framework for the end-to-end tests. It
// subscribes, launches --num_tasks shell tasks running --command, prints
// every status update as "TASK <id> <STATE>" on stdout, and stays
// subscribed (so its tasks stay visible) until SIGTERM or SIGINT, when it
// tears the framework down and exits 0.
//
//   agora-e2e-scheduler --master=127.0.0.1:5050 --num_tasks=1 --command='echo hi; sleep 3600'
//
// It drives SchedulerDriverCore on its own loop over a DealerMessenger, as
// the SDK's networked driver does.

#include <utility>  // Before any Asio header (STYLE.md).

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <zmq.hpp>

#include "agora/common/clock.hpp"
#include "agora/common/flags.hpp"
#include "agora/common/master_address.hpp"
#include "agora/common/zmq_messenger.hpp"
#include "agora/scheduler.hpp"
#include "agora/scheduler_core.hpp"
#include "agora/task_helpers.hpp"

namespace {

using namespace agora;

struct Options {
  std::string master;
  std::string name = "e2e";
  std::string role = "*";
  std::string command;
  std::string resources = "cpus:0.1;mem:32";
  std::string taskPrefix = "task";
  int64_t numTasks = 1;
};

class LaunchScheduler final : public sdk::Scheduler {
 public:
  LaunchScheduler(const Options& options, sdk::TaskRequest request) : options_(options), request_(request) {}

  void subscribed(sdk::SchedulerDriver&, const v1::FrameworkID& id, const v1::MasterInfo&) override {
    std::cout << "SUBSCRIBED " << id.value() << std::endl;
  }
  void disconnected(sdk::SchedulerDriver&) override { std::cout << "DISCONNECTED" << std::endl; }

  void offers(sdk::SchedulerDriver& driver, const std::vector<v1::Offer>& offers) override {
    for (const v1::Offer& offer : offers) {
      std::vector<v1::TaskInfo> tasks;
      const int64_t wanted = options_.numTasks - launched_;
      for (const Resources& resources : sdk::matchTasks(offer, request_, wanted > 0 ? wanted : 0)) {
        auto task = sdk::TaskBuilder(options_.taskPrefix + "-" + std::to_string(launched_))
                        .agent(offer.agent_id())
                        .shell(options_.command)
                        .resources(resources)
                        .build();
        if (!task.ok()) {
          std::cerr << "agora-e2e-scheduler: " << task.error().message() << std::endl;
          std::exit(EXIT_FAILURE);
        }
        tasks.push_back(*task);
        ++launched_;
      }
      v1::Filters filters;
      filters.set_refuse_seconds(3600);
      if (tasks.empty()) {
        driver.decline({offer.id()}, filters);
      } else {
        driver.launch({offer.id()}, tasks, filters);
        for (const auto& task : tasks) std::cout << "LAUNCHED " << task.task_id().value() << std::endl;
      }
    }
    if (launched_ >= options_.numTasks) driver.suppress();
  }

  void offerRescinded(sdk::SchedulerDriver&, const v1::OfferID&) override {}
  void statusUpdate(sdk::SchedulerDriver&, const v1::TaskStatus& status) override {
    std::cout << "TASK " << status.task_id().value() << " " << v1::TaskState_Name(status.state()) << std::endl;
  }
  void frameworkMessage(sdk::SchedulerDriver&, const v1::AgentID&, const v1::ExecutorID&,
                        const std::string&) override {}
  void agentLost(sdk::SchedulerDriver&, const v1::AgentID&) override {}
  void executorLost(sdk::SchedulerDriver&, const v1::ExecutorID&, const v1::AgentID&, std::optional<int>) override {}
  void error(sdk::SchedulerDriver&, const std::string& message) override {
    std::cerr << "agora-e2e-scheduler: error from the master: " << message << std::endl;
    std::exit(EXIT_FAILURE);
  }

 private:
  const Options& options_;
  sdk::TaskRequest request_;
  int64_t launched_ = 0;
};

int fail(const std::string& message) {
  std::cerr << "agora-e2e-scheduler: " << message << std::endl;
  return EXIT_FAILURE;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  Flags flags("agora-e2e-scheduler");
  flags.add(&options.master, "master", "The master's HTTP HOST:PORT", "");
  flags.add(&options.name, "name", "Framework name", "e2e");
  flags.add(&options.role, "role", "Role to subscribe with", "*");
  flags.add(&options.command, "command", "Shell command of every task", "");
  flags.add(&options.resources, "resources", "Resources of every task", "cpus:0.1;mem:32");
  flags.add(&options.taskPrefix, "task_prefix", "Task ids are PREFIX-0, PREFIX-1, ...", "task");
  flags.add(&options.numTasks, "num_tasks", "How many tasks to launch", 1, inRange<int64_t>(0, 100000));
  if (Status s = flags.parse(argc, argv); !s.ok()) return fail(s.message());
  if (flags.helpRequested()) {
    std::cout << flags.usage();
    return EXIT_SUCCESS;
  }
  if (options.master.empty() || options.command.empty()) return fail("--master and --command are required");
  Result<sdk::TaskRequest> request = sdk::TaskRequest::parse(options.resources);
  if (!request.ok()) return fail("Invalid --resources: " + request.error().message());
  Result<HostPort> master = parseHostPort(options.master);
  if (!master.ok()) return fail(master.error().message());
  Result<std::string> endpoint =
      resolveMasterEndpoint(*master, std::chrono::seconds(60), std::chrono::milliseconds(200));
  if (!endpoint.ok()) return fail(endpoint.error().message());

  boost::asio::io_context loop;
  AsioClock clock(loop);
  zmq::context_t zmq;
  sdk::SchedulerDriverCore* core = nullptr;  // Set below; nothing arrives before run().
  auto messenger = DealerMessenger::connect(loop, zmq, *endpoint, sdk::newSchedulerPeerId(), "master",
                                            TransportOptions{},
                                            [&core](const PeerId& from, internal::Envelope&& envelope) {
                                              core->handle(from, std::move(envelope));
                                            });
  if (!messenger.ok()) return fail("Failed to connect to the master: " + messenger.error().message());

  LaunchScheduler scheduler(options, *request);
  v1::FrameworkInfo framework;
  framework.set_name(options.name);
  const char* user = std::getenv("USER");
  framework.set_user(user != nullptr && *user != '\0' ? user : "root");
  framework.add_roles(options.role);
  framework.add_capabilities()->set_type(v1::FrameworkInfo::Capability::MULTI_ROLE);
  sdk::SchedulerDriverCore driver(scheduler, framework, clock, **messenger);
  core = &driver;
  driver.start();

  boost::asio::signal_set signals(loop, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int) {
    if (error) return;
    driver.stop();  // TEARDOWN: the master kills the tasks.
    // Give the teardown a moment to leave the socket.
    clock.schedule(std::chrono::milliseconds(300), [&loop] { loop.stop(); });
  });
  loop.run();
  return EXIT_SUCCESS;
}
