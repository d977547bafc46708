#pragma once

// The agent under test on a FakeClock and an InMemoryNetwork, with a fake
// master ("master"), fake executors and a FakeContainerizer. restartAgent()
// replaces the Agent object over the same work dir (and the same
// containerizer, whose containers outlive the agent as executors do).

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "agora/agent/agent.hpp"
#include "agora/common/clock.hpp"
#include "agora/common/id.hpp"
#include "agora/testing/fake_containerizer.hpp"
#include "agora/testing/fake_peers.hpp"
#include "agora/testing/network.hpp"

namespace agora::agent {

class AgentTest : public ::testing::Test {
 protected:
  AgentTest() {
    char pattern[] = "/tmp/agora-agent-test-XXXXXX";
    workDir_ = mkdtemp(pattern);
    options_.workDir = workDir_;
    options_.hostname = "agent1.example";
    options_.resources = "cpus:4;mem:4096;disk:10000;ports:[31000-32000]";
    options_.machineFacts = MachineFacts{8, uint64_t{16} << 30, uint64_t{100} << 30};
    options_.bootId = "boot-1";
    options_.launcherDir = "/opt/agora/libexec";
    options_.executorEndpoint = "ipc://" + workDir_ + "/executors.sock";
    options_.randomSeed = 42;
  }

  ~AgentTest() override {
    agent_.reset();
    std::error_code ec;
    std::filesystem::remove_all(workDir_, ec);
  }

  // Creates the Agent and recovers it. Returns recover()'s status.
  Status startAgent() {
    agent_.reset();
    agentPeer_ = "agent:" + std::to_string(++agentRuns_);
    agentMessenger_ = network_.attach(agentPeer_, [this](const PeerId& from, internal::Envelope&& envelope) {
      if (agent_) agent_->receive(from, std::move(envelope));
    });
    agent_ = std::make_unique<Agent>(options_, clock_, *agentMessenger_, containerizer_);
    return agent_->recover();
  }

  // A crash: the old Agent object and its peer vanish; a new one starts
  // over the same work dir.
  Status restartAgent() {
    agent_.reset();
    network_.detach(agentPeer_);
    return startAgent();
  }

  // Delivers messages and runs due timers (posted callbacks) until quiet.
  void settle() {
    for (int i = 0; i < 1000; ++i) {
      network_.settle();
      auto next = clock_.nextDeadline();
      if (next && *next <= clock_.now()) {
        clock_.advance(Duration::zero());
        continue;
      }
      if (network_.pending() == 0) return;
    }
    FAIL() << "settle() did not converge";
  }

  void advance(Duration d) {
    settle();
    clock_.advance(d);
    settle();
  }

  void toAgent(internal::Envelope envelope) {
    master_.send(agentPeer_, std::move(envelope));
    settle();
  }

  // Runs registration to completion with agent ID `id`.
  void registerAgent(const std::string& id = "agent-1") {
    advance(std::chrono::seconds(2));
    ASSERT_GE(master_.count("register_agent"), 1u);
    master_.clear();
    internal::Envelope reply;
    reply.mutable_agent_registered()->mutable_agent_id()->set_value(id);
    reply.mutable_agent_registered()->set_total_ping_timeout_seconds(75);
    toAgent(std::move(reply));
    ASSERT_TRUE(agent_->registered());
  }

  void reregisterAgent() {
    advance(std::chrono::seconds(2));
    ASSERT_GE(master_.count("reregister_agent"), 1u);
    internal::Envelope reply;
    reply.mutable_agent_reregistered()->mutable_agent_id()->set_value(agent_->agentId());
    toAgent(std::move(reply));
    ASSERT_TRUE(agent_->registered());
  }

  static v1::FrameworkInfo frameworkInfo(const std::string& id = "fw-1") {
    v1::FrameworkInfo info;
    info.set_user("nobody");
    info.set_name("test framework");
    info.mutable_id()->set_value(id);
    info.set_checkpoint(true);
    info.add_roles("eng");
    return info;
  }

  v1::TaskInfo commandTask(const std::string& taskId, const std::string& command = "sleep 100") {
    v1::TaskInfo task;
    task.set_name("task " + taskId);
    task.mutable_task_id()->set_value(taskId);
    task.mutable_agent_id()->set_value(agent_->agentId());
    task.mutable_command()->set_value(command);
    *task.mutable_resources() = Resources::parse("cpus:1;mem:128").value().toProto();
    return task;
  }

  // An ExecutorInfo of type DEFAULT (agora-executor --default), for groups.
  static v1::ExecutorInfo defaultExecutorInfo(const std::string& id) {
    v1::ExecutorInfo executor;
    executor.set_type(v1::ExecutorInfo::DEFAULT);
    executor.mutable_executor_id()->set_value(id);
    *executor.mutable_resources() = Resources::parse("cpus:0.1;mem:32").value().toProto();
    return executor;
  }

  // The master's RunTaskGroup of `tasks` on `executor`.
  void runTaskGroup(const v1::ExecutorInfo& executor, const std::vector<v1::TaskInfo>& tasks,
                    bool launchExecutor = true) {
    internal::Envelope envelope;
    internal::RunTaskGroup* run = envelope.mutable_run_task_group();
    *run->mutable_framework_info() = frameworkInfo();
    *run->mutable_executor_info() = executor;
    for (const auto& task : tasks) *run->mutable_task_group()->add_tasks() = task;
    if (launchExecutor) run->set_launch_executor(true);
    toAgent(std::move(envelope));
  }

  void runTask(const v1::TaskInfo& task, const v1::FrameworkInfo& framework = frameworkInfo()) {
    internal::Envelope envelope;
    *envelope.mutable_run_task()->mutable_framework_info() = framework;
    *envelope.mutable_run_task()->mutable_task() = task;
    envelope.mutable_run_task()->set_launch_executor(true);
    toAgent(std::move(envelope));
  }

  void killTask(const std::string& taskId, const std::string& frameworkId = "fw-1") {
    internal::Envelope envelope;
    envelope.mutable_kill_task()->mutable_framework_id()->set_value(frameworkId);
    envelope.mutable_kill_task()->mutable_task_id()->set_value(taskId);
    toAgent(std::move(envelope));
  }

  void acknowledge(const internal::StatusUpdate& update) {
    internal::Envelope envelope;
    auto* ack = envelope.mutable_status_update_acknowledgement();
    ack->mutable_agent_id()->set_value(agent_->agentId());
    *ack->mutable_framework_id() = update.framework_id();
    *ack->mutable_task_id() = update.status().task_id();
    ack->set_uuid(update.uuid());
    toAgent(std::move(envelope));
  }

  // An executor call from `executor` about (framework, executorId).
  static internal::Envelope executorCall(v1::executor::Call::Type type, const std::string& executorId,
                                         const std::string& frameworkId = "fw-1") {
    internal::Envelope envelope;
    auto* call = envelope.mutable_executor_call();
    call->mutable_executor_id()->set_value(executorId);
    call->mutable_framework_id()->set_value(frameworkId);
    call->set_type(type);
    return envelope;
  }

  void subscribe(testing::FakePeer& executor, const std::string& executorId, const std::string& frameworkId = "fw-1") {
    executor.send(agentPeer_, executorCall(v1::executor::Call::SUBSCRIBE, executorId, frameworkId));
    settle();
  }

  // Sends an UPDATE; returns the uuid used.
  std::string sendUpdate(testing::FakePeer& executor, const std::string& executorId, const std::string& taskId,
                         v1::TaskState state, std::string uuid = newUuidBytes(),
                         const std::string& frameworkId = "fw-1") {
    internal::Envelope envelope = executorCall(v1::executor::Call::UPDATE, executorId, frameworkId);
    v1::TaskStatus* status = envelope.mutable_executor_call()->mutable_update()->mutable_status();
    status->mutable_task_id()->set_value(taskId);
    status->set_state(state);
    if (!uuid.empty()) status->set_uuid(uuid);
    executor.send(agentPeer_, std::move(envelope));
    settle();
    return uuid;
  }

  std::vector<internal::StatusUpdate> updatesAtMaster() {
    std::vector<internal::StatusUpdate> out;
    for (const internal::Envelope& envelope : master_.ofType("status_update")) {
      if (envelope.has_status_update()) out.push_back(envelope.status_update());
    }
    return out;
  }

  std::string containerOf(const std::string& executorId) const {
    for (const ContainerConfig& launch : containerizer_.launches()) {
      if (launch.executorInfo.executor_id().value() == executorId) return launch.containerId;
    }
    return "";
  }

  double metric(const std::string& name) const { return agent_->metrics().at(name); }

  std::string workDir_;
  AgentOptions options_;
  FakeClock clock_;
  testing::InMemoryNetwork network_;
  testing::FakeContainerizer containerizer_{clock_};
  testing::FakePeer master_{network_, "master"};
  PeerId agentPeer_;
  int agentRuns_ = 0;
  std::unique_ptr<Messenger> agentMessenger_;
  std::unique_ptr<Agent> agent_;
};

}  // namespace agora::agent
