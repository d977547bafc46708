// agora-example-service: keeps --instances copies of a long-running command
// running, relaunching an instance whose task ends or whose agent is lost;
// optionally at most --max_per_agent per agent and at most one per value of
// --unique_attribute (e.g. "rack", or "hostname"). Runs until Ctrl-C or
// SIGTERM, which tears the framework down (its tasks are killed). The core
// of Marathon.
//
//   agora-example-service --instances=3 --command='python3 -m http.server $PORT0'
//       --resources='cpus:0.1;mem:64;ports:1' --max_per_agent=1
//
// Each task gets PORT0, PORT1... for the ports of its --resources.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "example.hpp"

namespace agora::examples {
namespace {

using sdk::SchedulerDriver;

class ServiceScheduler final : public ExampleScheduler {
 public:
  struct Settings {
    int64_t instances = 1;
    std::string command;
    int64_t maxPerAgent = 0;      // 0: no limit.
    std::string uniqueAttribute;  // "": no constraint.
  };

  ServiceScheduler(const ExampleMain& main, Settings settings)
      : ExampleScheduler("service"), main_(main), settings_(std::move(settings)),
        instances_(static_cast<size_t>(settings_.instances)) {}

  void subscribed(SchedulerDriver& driver, const v1::FrameworkID& id, const v1::MasterInfo& info) override {
    ExampleScheduler::subscribed(driver, id, info);
    driver.reconcile();
  }

  void offers(SchedulerDriver& driver, const std::vector<v1::Offer>& offers) override {
    placeTasks(driver, offers, [this](const v1::Offer& offer, Resources& available) -> std::optional<v1::TaskInfo> {
      std::optional<std::string> value;
      if (!settings_.uniqueAttribute.empty()) value = sdk::attributeValue(offer, settings_.uniqueAttribute);
      for (size_t i = 0; i < instances_.size(); ++i) {
        if (!instances_[i].taskId.empty()) continue;
        if (!fits(offer, value)) return std::nullopt;
        std::optional<Resources> resources = sdk::carve(available, main_.request());
        if (!resources) return std::nullopt;
        return launch(i, offer, *resources, value);
      }
      return std::nullopt;
    });
    if (pending() == 0) driver.suppress();
  }

  void statusUpdate(SchedulerDriver& driver, const v1::TaskStatus& status) override {
    auto it = byTaskId_.find(status.task_id().value());
    if (it == byTaskId_.end()) return;
    Instance& instance = instances_[it->second];
    log_->info("{}", describe(status));
    if (status.state() == v1::TASK_RUNNING && !instance.running) {
      instance.running = true;
      log_->info("{} of {} instances running", running(), instances_.size());
    }
    if (!isTerminalState(status.state())) return;
    log_->warn("Relaunching instance {}: its task {} ended", it->second, status.task_id().value());
    ++relaunches_;
    byTaskId_.erase(it);
    instance = Instance();
    driver.revive();
  }

 private:
  struct Instance {
    std::string taskId;  // "" when the instance needs a task.
    std::string agentId;
    std::optional<std::string> attribute;
    bool running = false;
  };

  bool fits(const v1::Offer& offer, const std::optional<std::string>& value) const {
    if (settings_.maxPerAgent > 0) {
      int64_t onAgent = 0;
      for (const Instance& instance : instances_) onAgent += instance.agentId == offer.agent_id().value();
      if (onAgent >= settings_.maxPerAgent) return false;
    }
    if (!settings_.uniqueAttribute.empty()) {
      if (!value) return false;  // The agent lacks the attribute.
      for (const Instance& instance : instances_) {
        if (instance.attribute == value) return false;
      }
    }
    return true;
  }

  v1::TaskInfo launch(size_t index, const v1::Offer& offer, const Resources& resources,
                      const std::optional<std::string>& value) {
    std::string id = "instance-" + std::to_string(index) + "-" + std::to_string(launches_++);
    sdk::TaskBuilder builder(id);
    builder.agent(offer.agent_id()).shell(settings_.command).resources(resources);
    if (!main_.options().user.empty()) builder.user(main_.options().user);
    int port = 0;
    RangeSet ports = resources.ranges("ports");
    for (const Range& range : ports.ranges()) {
      for (uint64_t p = range.begin; p <= range.end; ++p) builder.env("PORT" + std::to_string(port++), std::to_string(p));
    }
    instances_[index] = Instance{id, offer.agent_id().value(), value, false};
    byTaskId_[id] = index;
    log_->info("Launching instance {} as {} on agent {}", index, id, offer.hostname());
    return builder.build().value();
  }

  size_t pending() const {
    size_t n = 0;
    for (const Instance& instance : instances_) n += instance.taskId.empty();
    return n;
  }

  size_t running() const {
    size_t n = 0;
    for (const Instance& instance : instances_) n += instance.running;
    return n;
  }

  const ExampleMain& main_;
  Settings settings_;
  std::vector<Instance> instances_;
  std::map<std::string, size_t> byTaskId_;  // Live task id -> instance.
  int64_t launches_ = 0;
  int64_t relaunches_ = 0;
};

}  // namespace
}  // namespace agora::examples

int main(int argc, char** argv) {
  using namespace agora;
  examples::ExampleMain main("agora-example-service",
                             "Keeps --instances copies of --command running; relaunches them when they end "
                             "or their agent is lost; runs until Ctrl-C/SIGTERM",
                             "cpus:0.1;mem:32");
  examples::ServiceScheduler::Settings settings;
  main.flags().add(&settings.instances, "instances", "How many copies to keep running", 1,
                   inRange<int64_t>(0, 100000));
  main.flags().add(&settings.command, "command", "Shell command of each instance (long-running)", "sleep 3600");
  main.flags().add(&settings.maxPerAgent, "max_per_agent", "At most this many instances per agent (0: no limit)", 0,
                   inRange<int64_t>(0, 100000));
  main.flags().add(&settings.uniqueAttribute, "unique_attribute",
                   "At most one instance per value of this agent attribute (or \"hostname\")", "");
  if (auto exit = main.parse(argc, argv)) return *exit;
  examples::ServiceScheduler scheduler(main, settings);
  return main.run(scheduler);
}
