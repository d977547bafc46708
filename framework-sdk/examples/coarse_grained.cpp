// agora-example-coarse-grained: one long-lived custom executor per agent
// (agora-example-coarse-grained-executor) takes work items over framework
// messages and returns results, Spark's coarse-grained mode: here a
// distributed Monte Carlo estimate of pi. Exits 0 once every item has its
// result and the estimate is within --tolerance of pi.
//
//   agora-example-coarse-grained --num_executors=2 --work_items=40
//       --samples_per_item=200000 --resources='cpus:0.5;mem:64'
//
// Messages are best effort: an item without a result after --item_timeout,
// or whose executor is lost, is sent again (to any executor).

#include <unistd.h>

#include <cmath>
#include <deque>
#include <filesystem>
#include <map>
#include <numbers>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "example.hpp"

namespace agora::examples {
namespace {

using sdk::SchedulerDriver;

struct Settings {
  int64_t executors = 2;
  int64_t items = 40;
  int64_t samples = 200000;
  int64_t inFlight = 2;  // Items outstanding per executor.
  double tolerance = 0.05;
  Duration itemTimeout = std::chrono::seconds(30);
  std::string executorPath;
};

class PiScheduler final : public ExampleScheduler {
 public:
  PiScheduler(const ExampleMain& main, Settings settings)
      : ExampleScheduler("coarse-grained"), main_(main), settings_(std::move(settings)) {
    for (int64_t i = 0; i < settings_.items; ++i) queue_.push_back(i);
  }

  void offers(SchedulerDriver& driver, const std::vector<v1::Offer>& offers) override {
    std::vector<v1::OfferID> unused;
    for (const v1::Offer& offer : offers) {
      const std::string agent = offer.agent_id().value();
      bool wanted = static_cast<int64_t>(workers_.size()) < settings_.executors && !agents_.count(agent) &&
                    results_.size() < static_cast<size_t>(settings_.items);
      std::vector<Resources> fit = wanted ? sdk::matchTasks(offer, executorShape(), 1) : std::vector<Resources>();
      if (fit.empty()) {
        unused.push_back(offer.id());
        continue;
      }
      launchWorker(driver, offer, fit[0]);
    }
    if (!unused.empty()) driver.decline(unused);
  }

  void statusUpdate(SchedulerDriver& driver, const v1::TaskStatus& status) override {
    auto it = workers_.find(status.task_id().value());
    if (it == workers_.end()) return;
    log_->info("{}", describe(status));
    Worker& worker = it->second;
    if (status.state() == v1::TASK_RUNNING && !worker.ready) {
      worker.ready = true;
      feed(driver, worker);
    } else if (isTerminalState(status.state())) {
      // Its items go back to the queue; a new worker may take its place.
      for (int64_t item : worker.items) queue_.push_front(item);
      agents_.erase(worker.agentId.value());
      workers_.erase(it);
      for (auto& [id, other] : workers_) feed(driver, other);
      if (results_.size() < static_cast<size_t>(settings_.items)) driver.revive();
    }
  }

  void frameworkMessage(SchedulerDriver& driver, const v1::AgentID&, const v1::ExecutorID& executorId,
                        const std::string& data) override {
    std::istringstream in(data);
    std::string kind;
    int64_t item = -1, hits = 0, samples = 0;
    if (!(in >> kind >> item >> hits >> samples) || kind != "result" || samples <= 0 || hits < 0 || hits > samples) {
      log_->warn("Ignoring a malformed message from executor {}", executorId.value());
      return;
    }
    for (auto& [id, worker] : workers_) {
      if (worker.executorId.value() != executorId.value()) continue;
      worker.items.erase(item);
      if (results_.emplace(item, std::make_pair(hits, samples)).second) {
        log_->debug("Item {} done by {}: {} of {}", item, executorId.value(), hits, samples);
      }
      feed(driver, worker);
      break;
    }
    if (results_.size() == static_cast<size_t>(settings_.items)) done(driver);
  }

 private:
  struct Worker {
    v1::AgentID agentId;
    v1::ExecutorID executorId;
    bool ready = false;
    std::set<int64_t> items;  // Sent, no result yet.
  };

  sdk::TaskRequest executorShape() const {
    sdk::TaskRequest shape = main_.request();
    shape.cpus += 0.1;  // The executor's own resources, below.
    shape.mem += 32;
    return shape;
  }

  void launchWorker(SchedulerDriver& driver, const v1::Offer& offer, Resources resources) {
    std::string id = "worker-" + std::to_string(launched_++);
    sdk::TaskRequest own{.cpus = 0.1, .mem = 32};
    std::optional<Resources> executorResources = sdk::carve(resources, own);
    v1::ExecutorInfo executor;
    executor.set_type(v1::ExecutorInfo::CUSTOM);
    executor.mutable_executor_id()->set_value(id + "-executor");
    executor.set_name("pi executor");
    if (std::optional<v1::FrameworkID> framework = driver.frameworkId()) *executor.mutable_framework_id() = *framework;
    executor.mutable_command()->set_value(settings_.executorPath);
    executor.mutable_command()->set_shell(false);
    if (executorResources) executorResources->toProto(executor.mutable_resources());
    sdk::TaskBuilder builder(id);
    builder.agent(offer.agent_id()).executor(executor).resources(resources);
    Result<v1::TaskInfo> task = builder.build();
    if (!task.ok()) {
      log_->error("Cannot build the worker task: {}", task.error().message());
      finish(driver, 1);
      return;
    }
    workers_[id] = Worker{offer.agent_id(), executor.executor_id(), false, {}};
    agents_.insert(offer.agent_id().value());
    log_->info("Launching {} with executor {} on agent {}", id, settings_.executorPath, offer.hostname());
    driver.launch({offer.id()}, {*task});
  }

  // Tops the worker up to its share of outstanding items.
  void feed(SchedulerDriver& driver, Worker& worker) {
    while (worker.ready && static_cast<int64_t>(worker.items.size()) < settings_.inFlight && !queue_.empty()) {
      int64_t item = queue_.front();
      queue_.pop_front();
      if (results_.count(item)) continue;
      worker.items.insert(item);
      uint64_t seed = 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(item + 1);
      driver.sendFrameworkMessage(worker.executorId, worker.agentId,
                                  "item " + std::to_string(item) + " " + std::to_string(settings_.samples) + " " +
                                      std::to_string(seed));
      // Best effort: resend if no result comes back in time.
      clock().schedule(settings_.itemTimeout, [this, &driver, item] {
        if (results_.count(item) || finished_) return;
        for (auto& [id, other] : workers_) other.items.erase(item);
        log_->warn("No result for item {} yet; sending it again", item);
        queue_.push_back(item);
        for (auto& [id, other] : workers_) feed(driver, other);
      });
    }
  }

  void done(SchedulerDriver& driver) {
    if (finished_) return;
    finished_ = true;
    int64_t hits = 0, samples = 0;
    for (const auto& [item, result] : results_) {
      hits += result.first;
      samples += result.second;
    }
    double pi = 4.0 * static_cast<double>(hits) / static_cast<double>(samples);
    double error = std::abs(pi - std::numbers::pi);
    log_->info("pi is about {:.6f} ({} samples over {} items, {} executors; error {:.6f})", pi, samples,
               results_.size(), launched_, error);
    finish(driver, error <= settings_.tolerance ? 0 : 1);
  }

  const ExampleMain& main_;
  Settings settings_;
  std::deque<int64_t> queue_;                                 // Items to send.
  std::map<int64_t, std::pair<int64_t, int64_t>> results_;    // Item -> (hits, samples).
  std::map<std::string, Worker> workers_;                     // Task id -> worker.
  std::set<std::string> agents_;                              // Agents with a worker.
  int64_t launched_ = 0;
  bool finished_ = false;
};

std::string defaultExecutorPath() {
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  return (error ? std::filesystem::path(".") : self.parent_path()) / "agora-example-coarse-grained-executor";
}

}  // namespace
}  // namespace agora::examples

int main(int argc, char** argv) {
  using namespace agora;
  examples::ExampleMain main("agora-example-coarse-grained",
                             "Estimates pi with one custom executor per agent fed work items over framework "
                             "messages (Spark's coarse-grained mode)",
                             "cpus:0.5;mem:64");
  examples::Settings settings;
  main.flags().add(&settings.executors, "num_executors", "Executors to start, at most one per agent", 2,
                   inRange<int64_t>(1, 10000));
  main.flags().add(&settings.items, "work_items", "Work items to hand out", 40, inRange<int64_t>(1, 1000000));
  main.flags().add(&settings.samples, "samples_per_item", "Random points per item", 200000,
                   inRange<int64_t>(1, 100000000));
  main.flags().add(&settings.tolerance, "tolerance", "Largest accepted error of the estimate", 0.05);
  main.flags().add(&settings.itemTimeout, "item_timeout", "Send an item again when its result is this late",
                   std::chrono::seconds(30));
  main.flags().add(&settings.executorPath, "executor", "Path of agora-example-coarse-grained-executor on the agents",
                   examples::defaultExecutorPath());
  if (auto exit = main.parse(argc, argv)) return *exit;
  examples::PiScheduler scheduler(main, settings);
  return main.run(scheduler);
}
