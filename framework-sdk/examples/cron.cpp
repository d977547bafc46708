// agora-example-cron: runs a command on a repeating schedule, an ISO 8601
// repeating interval (R5/2026-01-01T00:00:00Z/PT1M) or a cron expression
// (*/5 * * * *), in UTC. A run never overlaps the previous one: when a run
// is due while the previous is still running, it is skipped (and logged).
// Chronos's core. With R<n> it exits after the n-th run time has passed and
// its run ended: 0 when every run that ran finished, 1 otherwise; other
// schedules (or --max_runs) run until Ctrl-C.
//
//   agora-example-cron --schedule='R3/2026-01-01T00:00:00Z/PT10S' --command='date'

#include <string>
#include <vector>

#include "example.hpp"
#include "schedule.hpp"

namespace agora::examples {
namespace {

using sdk::SchedulerDriver;

class CronScheduler final : public ExampleScheduler {
 public:
  CronScheduler(const ExampleMain& main, Schedule schedule, std::string command, int64_t maxRuns)
      : ExampleScheduler("cron"), main_(main), schedule_(schedule), command_(std::move(command)),
        maxRuns_(maxRuns) {}

  void subscribed(SchedulerDriver& driver, const v1::FrameworkID& id, const v1::MasterInfo& info) override {
    ExampleScheduler::subscribed(driver, id, info);
    if (!started_) {
      started_ = true;
      driver.suppress();  // No offers until a run is due.
      scheduleNext(driver, clock().wallNow() - std::chrono::seconds(1));
    }
  }

  void offers(SchedulerDriver& driver, const std::vector<v1::Offer>& offers) override {
    std::vector<v1::OfferID> unused;
    for (const v1::Offer& offer : offers) {
      std::vector<Resources> fit = due_ ? sdk::matchTasks(offer, main_.request(), 1) : std::vector<Resources>();
      if (fit.empty()) {
        unused.push_back(offer.id());
        continue;
      }
      std::string id = "run-" + std::to_string(runs_++);
      sdk::TaskBuilder builder(id);
      builder.agent(offer.agent_id()).shell(command_).resources(fit[0]);
      log_->info("Starting {} on agent {}", id, offer.hostname());
      driver.launch({offer.id()}, {builder.build().value()});
      running_ = id;
      due_ = false;
      driver.suppress();
    }
    if (!unused.empty()) driver.decline(unused);
  }

  void statusUpdate(SchedulerDriver& driver, const v1::TaskStatus& status) override {
    if (status.task_id().value() != running_) return;
    log_->info("{}", describe(status));
    if (!isTerminalState(status.state())) return;
    running_.clear();
    if (status.state() != v1::TASK_FINISHED) ++failures_;
    maybeFinish(driver);
  }

 private:
  void scheduleNext(SchedulerDriver& driver, WallTime after) {
    std::optional<WallTime> next = schedule_.next(after);
    if (!next || (maxRuns_ > 0 && fired_ >= maxRuns_)) {
      exhausted_ = true;
      maybeFinish(driver);
      return;
    }
    Duration wait = *next - clock().wallNow();
    clock().schedule(wait, [this, &driver, at = *next] { fire(driver, at); });
  }

  void fire(SchedulerDriver& driver, WallTime at) {
    ++fired_;
    if (!running_.empty() || due_) {
      log_->warn("Skipping the run due at {}: {} is still running", formatIso8601(at),
                 running_.empty() ? "the previous one" : running_);
    } else {
      log_->info("Run due at {}", formatIso8601(at));
      due_ = true;
      driver.revive();
    }
    scheduleNext(driver, at);
  }

  void maybeFinish(SchedulerDriver& driver) {
    if (!exhausted_ || !running_.empty() || due_) return;
    log_->info("Schedule done: {} runs, {} failed, {} skipped", runs_, failures_, fired_ - runs_);
    finish(driver, failures_ == 0 ? 0 : 1);
  }

  const ExampleMain& main_;
  Schedule schedule_;
  std::string command_;
  int64_t maxRuns_;
  bool started_ = false;
  bool due_ = false;        // A run is due and waits for an offer.
  bool exhausted_ = false;  // No more run times.
  std::string running_;     // The run in progress, if any.
  int64_t fired_ = 0;       // Run times reached (run or skipped).
  int64_t runs_ = 0;        // Runs launched.
  int64_t failures_ = 0;
};

}  // namespace
}  // namespace agora::examples

int main(int argc, char** argv) {
  using namespace agora;
  examples::ExampleMain main("agora-example-cron",
                             "Runs --command on --schedule (ISO 8601 R[n]/START/PERIOD or a cron expression, UTC), "
                             "never overlapping a run still in progress");
  std::string schedule;
  std::string command;
  int64_t maxRuns = 0;
  main.flags().add(&schedule, "schedule", "R[n]/START/PERIOD (R5/2026-01-01T00:00:00Z/PT1M) or '*/5 * * * *'",
                   "R/2026-01-01T00:00:00Z/PT1M");
  main.flags().add(&command, "command", "Shell command of each run", "date");
  main.flags().add(&maxRuns, "max_runs", "Stop after this many run times (0: as the schedule says)", 0,
                   inRange<int64_t>(0, 1 << 30));
  if (auto exit = main.parse(argc, argv)) return *exit;
  Result<examples::Schedule> parsed = examples::Schedule::parse(schedule);
  if (!parsed.ok()) return main.usageError("--schedule: " + parsed.error().message());
  examples::CronScheduler scheduler(main, *parsed, command, maxRuns);
  return main.run(scheduler);
}
