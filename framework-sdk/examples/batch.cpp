// agora-example-batch: runs N command tasks of the same shape, retries each
// failed one up to K times, and exits 0 once every task finished (1 when a
// task failed K+1 times). Mesos's no-executor framework; Spark's
// fine-grained mode.
//
//   agora-example-batch --master=127.0.0.1:5050 --num_tasks=20
//       --command='echo hi' --resources='cpus:0.1;mem:32' --max_retries=2

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "example.hpp"

namespace agora::examples {
namespace {

using sdk::SchedulerDriver;

class BatchScheduler final : public ExampleScheduler {
 public:
  BatchScheduler(const ExampleMain& main, int64_t tasks, std::string command, int64_t maxRetries)
      : ExampleScheduler("batch"), main_(main), command_(std::move(command)), maxRetries_(maxRetries),
        attempts_(static_cast<size_t>(tasks), 0) {
    for (int64_t i = 0; i < tasks; ++i) pending_.push_back(static_cast<int>(i));
  }

  void subscribed(SchedulerDriver& driver, const v1::FrameworkID& id, const v1::MasterInfo& info) override {
    ExampleScheduler::subscribed(driver, id, info);
    if (attempts_.empty()) return finish(driver, 0);
    // After a failover, ask for the state of every task we launched.
    driver.reconcile();
  }

  void offers(SchedulerDriver& driver, const std::vector<v1::Offer>& offers) override {
    sdk::SlotPacker packer(offers);
    std::map<size_t, std::vector<v1::TaskInfo>> byOffer;
    while (!pending_.empty()) {
      std::optional<sdk::SlotPacker::Placement> placement = packer.place(main_.request());
      if (!placement) break;
      int index = pending_.front();
      pending_.pop_front();
      const v1::Offer& offer = packer.offer(placement->offer);
      std::string id = "task-" + std::to_string(index) + "-" + std::to_string(attempts_[index]);
      sdk::TaskBuilder builder(id);
      builder.agent(offer.agent_id()).shell(command_).resources(placement->resources);
      if (!main_.options().user.empty()) builder.user(main_.options().user);
      byOffer[placement->offer].push_back(builder.build().value());
      byTaskId_[id] = index;
      ++attempts_[index];
      log_->info("Launching {} on agent {}", id, offer.hostname());
    }
    for (auto& [offer, tasks] : byOffer) driver.launch({packer.offer(offer).id()}, tasks);
    std::vector<v1::OfferID> unused = packer.unusedOffers();
    if (!unused.empty()) driver.decline(unused);
    if (pending_.empty()) driver.suppress();  // Nothing left to place until a retry.
  }

  void statusUpdate(SchedulerDriver& driver, const v1::TaskStatus& status) override {
    auto it = byTaskId_.find(status.task_id().value());
    if (it == byTaskId_.end()) return;
    log_->info("{}", describe(status));
    if (!isTerminalState(status.state())) return;
    int index = it->second;
    byTaskId_.erase(it);
    if (status.state() == v1::TASK_FINISHED) {
      ++finished_;
    } else if (attempts_[index] <= maxRetries_) {
      log_->info("Retrying task {} (attempt {} of {})", index, attempts_[index] + 1, maxRetries_ + 1);
      pending_.push_back(index);
      driver.revive();
    } else {
      log_->error("Task {} failed {} times; giving up on it", index, attempts_[index]);
      ++failed_;
    }
    if (finished_ + failed_ == attempts_.size()) {
      log_->info("All {} tasks done: {} finished, {} failed", attempts_.size(), finished_, failed_);
      finish(driver, failed_ == 0 ? 0 : 1);
    }
  }

 private:
  const ExampleMain& main_;
  std::string command_;
  int64_t maxRetries_;
  std::vector<int64_t> attempts_;        // Per task: launches so far.
  std::deque<int> pending_;              // Tasks waiting for an offer.
  std::map<std::string, int> byTaskId_;  // Launched and not terminal: task id -> task index.
  size_t finished_ = 0;
  size_t failed_ = 0;
};

}  // namespace
}  // namespace agora::examples

int main(int argc, char** argv) {
  using namespace agora;
  examples::ExampleMain main("agora-example-batch",
                             "Runs --num_tasks command tasks, retrying failures up to --max_retries times; "
                             "exits 0 when all finished");
  int64_t tasks = 0;
  int64_t retries = 0;
  std::string command;
  main.flags().add(&tasks, "num_tasks", "How many tasks to run", 10, inRange<int64_t>(0, 100000));
  main.flags().add(&command, "command", "Shell command of each task", "echo hello");
  main.flags().add(&retries, "max_retries", "Relaunches of a failed task before giving up", 2,
                   inRange<int64_t>(0, 1000));
  if (auto exit = main.parse(argc, argv)) return *exit;
  examples::BatchScheduler scheduler(main, tasks, command, retries);
  return main.run(scheduler);
}
