// agora-example-balloon: launches one task that grows its memory past its
// limit (--grow_to MB against the mem of --resources) and expects the agent
// to stop it: TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY exits 0,
// anything else exits 1. Mesos's balloon framework. It needs an agent with
// memory isolation (--isolation=cgroups/mem, the default where cgroups
// exist); under --isolation=posix nothing limits the task.
//
//   agora-example-balloon --resources='cpus:0.1;mem:64' --grow_to=256

#include <string>
#include <vector>

#include "example.hpp"

namespace agora::examples {
namespace {

using sdk::SchedulerDriver;

class BalloonScheduler final : public ExampleScheduler {
 public:
  BalloonScheduler(const ExampleMain& main, std::string command)
      : ExampleScheduler("balloon"), main_(main), command_(std::move(command)) {}

  void offers(SchedulerDriver& driver, const std::vector<v1::Offer>& offers) override {
    std::vector<v1::OfferID> unused;
    for (const v1::Offer& offer : offers) {
      std::vector<Resources> fit = launched_ ? std::vector<Resources>() : sdk::matchTasks(offer, main_.request(), 1);
      if (fit.empty()) {
        unused.push_back(offer.id());
        continue;
      }
      sdk::TaskBuilder builder("balloon");
      builder.agent(offer.agent_id()).shell(command_).resources(fit[0]);
      log_->info("Launching the balloon on agent {}: {}", offer.hostname(), command_);
      driver.launch({offer.id()}, {builder.build().value()});
      launched_ = true;
    }
    if (!unused.empty()) driver.decline(unused);
    if (launched_) driver.suppress();
  }

  void statusUpdate(SchedulerDriver& driver, const v1::TaskStatus& status) override {
    log_->info("{}", describe(status));
    if (!isTerminalState(status.state())) return;
    if (status.state() == v1::TASK_FAILED && status.reason() == v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY) {
      log_->info("The balloon burst at its memory limit, as expected");
      finish(driver, 0);
    } else {
      log_->error("Expected TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY; is memory isolation on?");
      finish(driver, 1);
    }
  }

 private:
  const ExampleMain& main_;
  std::string command_;
  bool launched_ = false;
};

}  // namespace
}  // namespace agora::examples

int main(int argc, char** argv) {
  using namespace agora;
  examples::ExampleMain main("agora-example-balloon",
                             "Runs one task that grows past its memory limit; exits 0 when the agent fails it "
                             "with REASON_CONTAINER_LIMITATION_MEMORY",
                             "cpus:0.1;mem:64");
  int64_t growTo = 0;
  std::string command;
  main.flags().add(&growTo, "grow_to", "How far the balloon grows, in MB (above the task's mem)", 256,
                   inRange<int64_t>(1, 1 << 20));
  main.flags().add(&command, "command", "The balloon (default: buffers --grow_to MB of zeros in `tail`)", "");
  if (auto exit = main.parse(argc, argv)) return *exit;
  if (command.empty()) command = "head -c " + std::to_string(growTo) + "m /dev/zero | tail";
  examples::BalloonScheduler scheduler(main, command);
  return main.run(scheduler);
}
