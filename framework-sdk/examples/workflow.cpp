// agora-example-workflow: runs a DAG of command steps from a JSON file
// (common/workflow.hpp: dependencies, retries, fan-out), launching each step
// once its dependencies finished; a step that fails after its retries stops
// its dependents. Exits 0 when every step finished, 1 otherwise, once
// nothing runs any more. The job of Airflow's and Argo's executors.
//
//   agora-example-workflow --workflow=etl.json --resources='cpus:0.1;mem:32'

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "example.hpp"
#include "workflow.hpp"

namespace agora::examples {
namespace {

using sdk::SchedulerDriver;

class WorkflowScheduler final : public ExampleScheduler {
 public:
  WorkflowScheduler(const ExampleMain& main, Workflow workflow)
      : ExampleScheduler("workflow"), main_(main), workflow_(std::move(workflow)) {
    for (const WorkflowStep& step : workflow_.steps) {
      steps_[step.name].copies.assign(static_cast<size_t>(step.fanout), Copy{});
    }
  }

  void subscribed(SchedulerDriver& driver, const v1::FrameworkID& id, const v1::MasterInfo& info) override {
    ExampleScheduler::subscribed(driver, id, info);
    driver.reconcile();
  }

  void offers(SchedulerDriver& driver, const std::vector<v1::Offer>& offers) override {
    std::vector<std::pair<const WorkflowStep*, size_t>> ready = readyCopies();
    placeTasks(driver, offers, [&](const v1::Offer& offer, Resources& available) -> std::optional<v1::TaskInfo> {
      for (auto it = ready.begin(); it != ready.end(); ++it) {
        const WorkflowStep& step = *it->first;
        std::optional<Resources> resources = sdk::carve(available, step.resources.value_or(main_.request()));
        if (!resources) continue;
        v1::TaskInfo task = launch(step, it->second, offer, *resources);
        ready.erase(it);
        return task;
      }
      return std::nullopt;
    });
    if (readyCopies().empty()) driver.suppress();
  }

  void statusUpdate(SchedulerDriver& driver, const v1::TaskStatus& status) override {
    auto it = byTaskId_.find(status.task_id().value());
    if (it == byTaskId_.end()) return;
    log_->info("{}", describe(status));
    if (!isTerminalState(status.state())) return;
    auto [name, index] = it->second;
    byTaskId_.erase(it);
    const WorkflowStep& step = stepInfo(name);
    Copy& copy = steps_[name].copies[index];
    copy.running = false;
    if (status.state() == v1::TASK_FINISHED) {
      copy.finished = true;
      if (stepFinished(name)) log_->info("Step {} finished", name);
    } else if (copy.attempts <= step.retries) {
      log_->info("Retrying {} copy {} (attempt {} of {})", name, index, copy.attempts + 1, step.retries + 1);
    } else {
      copy.failed = true;
      log_->error("Step {} failed: copy {} failed {} times", name, index, copy.attempts);
    }
    if (!readyCopies().empty()) driver.revive();
    maybeFinish(driver);
  }

 private:
  struct Copy {
    int64_t attempts = 0;
    bool running = false;
    bool finished = false;
    bool failed = false;
  };
  struct StepState {
    std::vector<Copy> copies;
  };

  const WorkflowStep& stepInfo(const std::string& name) const {
    for (const WorkflowStep& step : workflow_.steps) {
      if (step.name == name) return step;
    }
    return workflow_.steps.front();  // Unreachable: names come from the workflow.
  }

  bool stepFinished(const std::string& name) const {
    for (const Copy& copy : steps_.at(name).copies) {
      if (!copy.finished) return false;
    }
    return true;
  }

  bool stepFailed(const std::string& name) const {
    for (const Copy& copy : steps_.at(name).copies) {
      if (copy.failed) return true;
    }
    return false;
  }

  // Copies whose dependencies all finished and that wait for an offer.
  std::vector<std::pair<const WorkflowStep*, size_t>> readyCopies() const {
    std::vector<std::pair<const WorkflowStep*, size_t>> ready;
    for (const WorkflowStep& step : workflow_.steps) {
      bool depsDone = true;
      for (const std::string& dep : step.deps) depsDone = depsDone && stepFinished(dep);
      if (!depsDone) continue;
      const std::vector<Copy>& copies = steps_.at(step.name).copies;
      for (size_t i = 0; i < copies.size(); ++i) {
        if (!copies[i].running && !copies[i].finished && !copies[i].failed) ready.emplace_back(&step, i);
      }
    }
    return ready;
  }

  v1::TaskInfo launch(const WorkflowStep& step, size_t index, const v1::Offer& offer, const Resources& resources) {
    Copy& copy = steps_[step.name].copies[index];
    std::string id = step.name + "-" + std::to_string(index) + "-" + std::to_string(copy.attempts++);
    copy.running = true;
    byTaskId_[id] = {step.name, index};
    sdk::TaskBuilder builder(id);
    builder.agent(offer.agent_id()).shell(step.command).resources(resources);
    builder.env("SHARD", std::to_string(index)).env("SHARDS", std::to_string(step.fanout));
    log_->info("Launching {} on agent {}", id, offer.hostname());
    return builder.build().value();
  }

  void maybeFinish(SchedulerDriver& driver) {
    if (!byTaskId_.empty() || !readyCopies().empty()) return;
    size_t finished = 0;
    std::vector<std::string> notRun;
    for (const WorkflowStep& step : workflow_.steps) {
      if (stepFinished(step.name)) {
        ++finished;
      } else if (!stepFailed(step.name)) {
        notRun.push_back(step.name);
      }
    }
    if (finished == workflow_.steps.size()) {
      log_->info("Workflow finished: {} steps", finished);
      finish(driver, 0);
    } else {
      std::string skipped;
      for (const std::string& name : notRun) skipped += (skipped.empty() ? "" : ", ") + name;
      log_->error("Workflow failed: {} of {} steps finished; not run: {}", finished, workflow_.steps.size(),
                  skipped.empty() ? "none" : skipped);
      finish(driver, 1);
    }
  }

  const ExampleMain& main_;
  Workflow workflow_;
  std::map<std::string, StepState> steps_;
  std::map<std::string, std::pair<std::string, size_t>> byTaskId_;  // Running task -> (step, copy).
};

}  // namespace
}  // namespace agora::examples

int main(int argc, char** argv) {
  using namespace agora;
  examples::ExampleMain main("agora-example-workflow",
                             "Runs the DAG of steps in --workflow (JSON: name, command, deps, fanout, retries, "
                             "resources); exits 0 when every step finished");
  std::string path;
  main.flags().add(&path, "workflow", "The workflow file (see framework-sdk/examples/README.md)", "");
  if (auto exit = main.parse(argc, argv)) return *exit;
  if (path.empty()) return main.usageError("--workflow is required");
  Result<examples::Workflow> workflow = examples::Workflow::load(path);
  if (!workflow.ok()) return main.usageError(workflow.error().message());
  examples::WorkflowScheduler scheduler(main, std::move(*workflow));
  return main.run(scheduler);
}
