// agora-example-stream: the job coordinator of a stream job (Samza's): it
// assigns --partitions partitions to --containers containers (command tasks
// that get PARTITIONS="0,3,6" and CONTAINER=i in their environment), watches
// them, and when a container ends or its agent is lost moves its partitions:
//   --on_failure=replace    to a replacement container (the default);
//   --on_failure=rebalance  to the survivors, which are restarted with their
//                           new assignment (fewer containers from then on).
// Runs until Ctrl-C/SIGTERM, which tears the job down.
//
//   agora-example-stream --partitions=12 --containers=3 --command='./process.sh'

#include <map>
#include <set>
#include <string>
#include <vector>

#include "example.hpp"

namespace agora::examples {
namespace {

using sdk::SchedulerDriver;

class StreamCoordinator final : public ExampleScheduler {
 public:
  StreamCoordinator(const ExampleMain& main, int64_t partitions, int64_t containers, std::string command,
                    bool rebalance)
      : ExampleScheduler("stream"), main_(main), command_(std::move(command)), rebalance_(rebalance) {
    containers_.resize(static_cast<size_t>(containers));
    for (int64_t p = 0; p < partitions; ++p) containers_[static_cast<size_t>(p % containers)].partitions.insert(p);
    logAssignment();
  }

  void offers(SchedulerDriver& driver, const std::vector<v1::Offer>& offers) override {
    placeTasks(driver, offers, [this](const v1::Offer& offer, Resources& available) -> std::optional<v1::TaskInfo> {
      for (size_t i = 0; i < containers_.size(); ++i) {
        Container& container = containers_[i];
        if (!container.taskId.empty() || container.partitions.empty()) continue;
        std::optional<Resources> resources = sdk::carve(available, main_.request());
        if (!resources) return std::nullopt;
        container.taskId = "container-" + std::to_string(i) + "-" + std::to_string(launches_++);
        byTaskId_[container.taskId] = i;
        sdk::TaskBuilder builder(container.taskId);
        builder.agent(offer.agent_id()).shell(command_).resources(*resources);
        builder.env("PARTITIONS", list(container.partitions)).env("CONTAINER", std::to_string(i));
        log_->info("Launching {} with partitions {} on agent {}", container.taskId, list(container.partitions),
                   offer.hostname());
        return builder.build().value();
      }
      return std::nullopt;
    });
    if (pending() == 0) driver.suppress();
  }

  void statusUpdate(SchedulerDriver& driver, const v1::TaskStatus& status) override {
    auto it = byTaskId_.find(status.task_id().value());
    if (it == byTaskId_.end()) return;
    log_->info("{}", describe(status));
    Container& container = containers_[it->second];
    if (status.state() == v1::TASK_RUNNING && !container.running) {
      container.running = true;
      log_->info("{} of {} containers running", running(), live());
    }
    if (!isTerminalState(status.state())) return;
    size_t index = it->second;
    byTaskId_.erase(it);
    container.taskId.clear();
    container.running = false;
    if (restarting_.erase(status.task_id().value()) > 0) {
      // Killed by us for a rebalance: relaunched with its new assignment.
    } else if (rebalance_ && live() > 1) {
      moveToSurvivors(driver, index);
    } else {
      log_->warn("Container {} failed; a replacement takes partitions {}", index, list(container.partitions));
    }
    driver.revive();
  }

 private:
  struct Container {
    std::set<int64_t> partitions;
    std::string taskId;  // "" while it waits for an offer.
    bool running = false;
  };

  // Spreads the failed container's partitions over the others, which are
  // restarted to pick up their new assignment.
  void moveToSurvivors(SchedulerDriver& driver, size_t failed) {
    std::set<int64_t> orphans = std::move(containers_[failed].partitions);
    containers_[failed].partitions.clear();
    std::vector<size_t> survivors;
    for (size_t i = 0; i < containers_.size(); ++i) {
      if (!containers_[i].partitions.empty()) survivors.push_back(i);
    }
    size_t next = 0;
    for (int64_t p : orphans) containers_[survivors[next++ % survivors.size()]].partitions.insert(p);
    log_->warn("Container {} failed; its partitions {} move to the {} survivors", failed, list(orphans),
               survivors.size());
    logAssignment();
    for (size_t i : survivors) {
      if (containers_[i].taskId.empty()) continue;
      restarting_.insert(containers_[i].taskId);
      driver.kill(makeTaskId(containers_[i].taskId));
    }
  }

  static v1::TaskID makeTaskId(const std::string& id) {
    v1::TaskID taskId;
    taskId.set_value(id);
    return taskId;
  }

  static std::string list(const std::set<int64_t>& partitions) {
    std::string text;
    for (int64_t p : partitions) text += (text.empty() ? "" : ",") + std::to_string(p);
    return text;
  }

  void logAssignment() const {
    std::string text;
    for (size_t i = 0; i < containers_.size(); ++i) {
      if (containers_[i].partitions.empty()) continue;
      text += (text.empty() ? "" : " ") + std::to_string(i) + "=[" + list(containers_[i].partitions) + "]";
    }
    log_->info("Assignment: {}", text);
  }

  size_t live() const {
    size_t n = 0;
    for (const Container& c : containers_) n += !c.partitions.empty();
    return n;
  }
  size_t running() const {
    size_t n = 0;
    for (const Container& c : containers_) n += c.running;
    return n;
  }
  size_t pending() const {
    size_t n = 0;
    for (const Container& c : containers_) n += c.taskId.empty() && !c.partitions.empty();
    return n;
  }

  const ExampleMain& main_;
  std::string command_;
  bool rebalance_;
  std::vector<Container> containers_;
  std::map<std::string, size_t> byTaskId_;  // Live task -> container.
  std::set<std::string> restarting_;        // Tasks we killed to restart them.
  int64_t launches_ = 0;
};

}  // namespace
}  // namespace agora::examples

int main(int argc, char** argv) {
  using namespace agora;
  examples::ExampleMain main("agora-example-stream",
                             "Assigns --partitions partitions of a stream job to --containers containers, watches "
                             "them and moves a failed container's partitions (Samza's job coordinator)");
  int64_t partitions = 0, containers = 0;
  std::string command, onFailure;
  main.flags().add(&partitions, "partitions", "Partitions of the stream", 12, inRange<int64_t>(1, 100000));
  main.flags().add(&containers, "containers", "Containers to spread them over", 3, inRange<int64_t>(1, 10000));
  main.flags().add(&command, "command", "Shell command of a container (gets PARTITIONS and CONTAINER)",
                   "echo partitions $PARTITIONS; exec sleep 3600");
  main.flags().add(&onFailure, "on_failure", "replace or rebalance", "replace", oneOf({"replace", "rebalance"}));
  if (auto exit = main.parse(argc, argv)) return *exit;
  if (containers > partitions) return main.usageError("--containers must not exceed --partitions");
  examples::StreamCoordinator coordinator(main, partitions, containers, command, onFailure == "rebalance");
  return main.run(coordinator);
}
