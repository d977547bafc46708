// Builds a task with the SDK's helpers and runs a networked scheduler driver
// against a master that does not exist, which must fail cleanly.
#include <iostream>

#include "agora/scheduler_driver.hpp"
#include "agora/task_helpers.hpp"

namespace {

class Quiet : public agora::sdk::Scheduler {
 public:
  void subscribed(agora::sdk::SchedulerDriver&, const agora::v1::FrameworkID&, const agora::v1::MasterInfo&) override {}
  void disconnected(agora::sdk::SchedulerDriver&) override {}
  void offers(agora::sdk::SchedulerDriver&, const std::vector<agora::v1::Offer>&) override {}
  void offerRescinded(agora::sdk::SchedulerDriver&, const agora::v1::OfferID&) override {}
  void statusUpdate(agora::sdk::SchedulerDriver&, const agora::v1::TaskStatus&) override {}
  void frameworkMessage(agora::sdk::SchedulerDriver&, const agora::v1::AgentID&, const agora::v1::ExecutorID&,
                        const std::string&) override {}
  void agentLost(agora::sdk::SchedulerDriver&, const agora::v1::AgentID&) override {}
  void executorLost(agora::sdk::SchedulerDriver&, const agora::v1::ExecutorID&, const agora::v1::AgentID&,
                    std::optional<int>) override {}
  void error(agora::sdk::SchedulerDriver&, const std::string&) override {}
};

}  // namespace

int main() {
  agora::v1::AgentID agent;
  agent.set_value("agent-1");
  auto task = agora::sdk::TaskBuilder("hello-1").agent(agent).shell("echo hello").build();
  if (!task.ok()) return 1;
  std::cout << "task " << task->task_id().value() << " on " << task->agent_id().value() << std::endl;

  Quiet scheduler;
  agora::v1::FrameworkInfo framework;
  framework.set_user("nobody");
  framework.set_name("hello");
  agora::sdk::AgoraSchedulerDriver driver(scheduler, framework, "not an address");
  agora::Status status = driver.run();
  std::cout << "driver: " << status.message() << std::endl;
  return status.ok() ? 1 : 0;
}
