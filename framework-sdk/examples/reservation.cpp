// agora-example-reservation: reserves resources dynamically for its role,
// launches its tasks on them, and unreserves them when they are done, then
// exits 0. Mesos's dynamic-reservation framework.
//
//   agora-example-reservation --role=dev --principal=alice --num_tasks=2
//       --resources='cpus:0.5;mem:64' --command='echo on reserved resources'
//
// Steps, one offer at a time (an offer is one agent x one role):
//   1. RESERVE --resources for each task from unreserved offered resources;
//   2. when offers come back with our reservations, LAUNCH a task on each;
//   3. when all tasks finished, UNRESERVE everything we reserved;
//   4. once offers show no reservation of ours left, exit.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "example.hpp"

namespace agora::examples {
namespace {

using sdk::SchedulerDriver;

class ReservationScheduler final : public ExampleScheduler {
 public:
  ReservationScheduler(const ExampleMain& main, int64_t tasks, std::string command)
      : ExampleScheduler("reservation"), main_(main), command_(std::move(command)), tasks_(tasks) {}

  void offers(SchedulerDriver& driver, const std::vector<v1::Offer>& offers) override {
    for (const v1::Offer& offer : offers) {
      Result<Resources> offered = Resources::fromProto(offer.resources());
      if (!offered.ok()) {
        driver.decline({offer.id()});
        continue;
      }
      Resources ours = offered->filter([&](const Resource& r) { return isOurs(r); });
      std::vector<v1::Offer::Operation> operations;
      if (launched_ < tasks_) {
        operations = reserveOrLaunch(offer, *offered, ours);
      } else if (finished_ == tasks_ && !ours.empty()) {
        operations.push_back(unreserve(ours));
        log_->info("Unreserving {} on agent {}", ours.toString(), offer.hostname());
        reservedAgents_.erase(offer.agent_id().value());
      }
      if (operations.empty()) {
        v1::Filters filters;
        filters.set_refuse_seconds(1);
        driver.decline({offer.id()}, filters);
      } else {
        driver.accept({offer.id()}, operations);
      }
    }
    if (finished_ == tasks_ && reservedAgents_.empty()) {
      log_->info("All {} tasks finished and their reservations are undone", tasks_);
      finish(driver, 0);
    }
  }

  void statusUpdate(SchedulerDriver& driver, const v1::TaskStatus& status) override {
    log_->info("{}", describe(status));
    if (!isTerminalState(status.state())) return;
    if (status.state() != v1::TASK_FINISHED) {
      log_->error("Task {} did not finish; giving up", status.task_id().value());
      finish(driver, 1);
      return;
    }
    ++finished_;
    if (finished_ == tasks_) driver.revive();  // Get the reserved resources back to unreserve them.
  }

 private:
  const std::string& role() const { return main_.options().role; }

  // A dynamic reservation for our role by our principal.
  bool isOurs(const Resource& r) const {
    return r.isDynamicallyReserved() && r.reservations.back().role == role() &&
           r.reservations.back().principal == main_.options().principal;
  }

  std::vector<v1::Offer::Operation> reserveOrLaunch(const v1::Offer& offer, const Resources& offered,
                                                    Resources ours) {
    std::vector<v1::Offer::Operation> operations;
    // Launch on what we reserved earlier.
    v1::Offer::Operation launch;
    launch.set_type(v1::Offer::Operation::LAUNCH);
    while (launched_ < tasks_) {
      std::optional<Resources> resources = sdk::carve(ours, main_.request());
      if (!resources) break;
      std::string id = "task-" + std::to_string(launched_++);
      sdk::TaskBuilder builder(id);
      builder.agent(offer.agent_id()).shell(command_).resources(*resources);
      *launch.mutable_launch()->add_task_infos() = builder.build().value();
      if (reservedPending_ > 0) --reservedPending_;
      log_->info("Launching {} on reserved {} on agent {}", id, resources->toString(), offer.hostname());
    }
    if (launch.launch().task_infos_size() > 0) operations.push_back(launch);

    // Reserve for the tasks that have no reservation yet.
    Resources unreserved = offered.unreserved();
    int64_t toReserve = tasks_ - launched_ - reservedPending_;
    for (; toReserve > 0; --toReserve) {
      std::optional<Resources> resources = sdk::carve(unreserved, main_.request());
      if (!resources) break;
      Result<Resources> reserved = resources->pushReservation(
          Reservation{Reservation::Type::kDynamic, role(), main_.options().principal, {}});
      if (!reserved.ok()) {
        log_->error("Cannot reserve {}: {}", resources->toString(), reserved.error().message());
        break;
      }
      v1::Offer::Operation reserve;
      reserve.set_type(v1::Offer::Operation::RESERVE);
      reserved->toProto(reserve.mutable_reserve()->mutable_resources());
      operations.push_back(reserve);
      ++reservedPending_;
      reservedAgents_.insert(offer.agent_id().value());
      log_->info("Reserving {} on agent {}", reserved->toString(), offer.hostname());
    }
    return operations;
  }

  static v1::Offer::Operation unreserve(const Resources& resources) {
    v1::Offer::Operation operation;
    operation.set_type(v1::Offer::Operation::UNRESERVE);
    resources.toProto(operation.mutable_unreserve()->mutable_resources());
    return operation;
  }

  const ExampleMain& main_;
  std::string command_;
  int64_t tasks_;
  int64_t launched_ = 0;
  int64_t reservedPending_ = 0;  // RESERVEs sent for tasks not launched yet.
  int64_t finished_ = 0;
  std::set<std::string> reservedAgents_;  // Agents holding reservations of ours.
};

}  // namespace
}  // namespace agora::examples

int main(int argc, char** argv) {
  using namespace agora;
  examples::ExampleMain main("agora-example-reservation",
                             "Reserves --resources per task for --role (dynamic reservation by --principal), "
                             "launches --num_tasks tasks on them, unreserves them and exits 0",
                             "cpus:0.5;mem:64");
  int64_t tasks = 0;
  std::string command;
  main.flags().add(&tasks, "num_tasks", "How many tasks (one reservation each)", 1, inRange<int64_t>(1, 1000));
  main.flags().add(&command, "command", "Shell command of each task", "echo running on reserved resources");
  if (auto exit = main.parse(argc, argv)) return *exit;
  if (main.options().role == "*") return main.usageError("--role must name a role: \"*\" cannot be reserved for");
  if (main.options().principal.empty()) return main.usageError("--principal is required to reserve");
  examples::ReservationScheduler scheduler(main, tasks, command);
  return main.run(scheduler);
}
