#pragma once

// Small fakes for the SDK's unit tests: a master and an agent endpoint on the
// in-memory network that record what the drivers send and send events back,
// and gmock versions of the Scheduler and Executor callback interfaces.

#include <gmock/gmock.h>

#include <string>
#include <utility>
#include <vector>

#include "agora/common/resources.hpp"
#include "agora/executor.hpp"
#include "agora/scheduler.hpp"
#include "agora/testing/network.hpp"

namespace agora::sdk::testing {

using agora::testing::InMemoryNetwork;

class FakeMaster {
 public:
  explicit FakeMaster(InMemoryNetwork& network, PeerId id = "master") : id_(std::move(id)) {
    messenger_ = network.attach(id_, [this](const PeerId& from, internal::Envelope&& envelope) {
      if (envelope.has_scheduler_call()) calls.emplace_back(from, envelope.scheduler_call());
    });
  }

  // Every call received, with its sender, in order.
  std::vector<std::pair<PeerId, v1::scheduler::Call>> calls;

  std::vector<v1::scheduler::Call> callsOfType(v1::scheduler::Call::Type type) const {
    std::vector<v1::scheduler::Call> out;
    for (const auto& [from, call] : calls) {
      if (call.type() == type) out.push_back(call);
    }
    return out;
  }

  void send(const PeerId& to, v1::scheduler::Event event) {
    internal::Envelope envelope;
    *envelope.mutable_scheduler_event() = std::move(event);
    messenger_->send(to, std::move(envelope));
  }

  void subscribed(const PeerId& to, const std::string& frameworkId, double heartbeatSeconds = 15) {
    v1::scheduler::Event event;
    event.set_type(v1::scheduler::Event::SUBSCRIBED);
    event.mutable_subscribed()->mutable_framework_id()->set_value(frameworkId);
    event.mutable_subscribed()->set_heartbeat_interval_seconds(heartbeatSeconds);
    event.mutable_subscribed()->mutable_master_info()->set_id("master-1");
    event.mutable_subscribed()->mutable_master_info()->set_ip(0);
    event.mutable_subscribed()->mutable_master_info()->set_port(5050);
    send(to, std::move(event));
  }

  void heartbeat(const PeerId& to) {
    v1::scheduler::Event event;
    event.set_type(v1::scheduler::Event::HEARTBEAT);
    send(to, std::move(event));
  }

  void offers(const PeerId& to, const std::vector<v1::Offer>& offers) {
    v1::scheduler::Event event;
    event.set_type(v1::scheduler::Event::OFFERS);
    for (const v1::Offer& offer : offers) *event.mutable_offers()->add_offers() = offer;
    send(to, std::move(event));
  }

  void update(const PeerId& to, const v1::TaskStatus& status) {
    v1::scheduler::Event event;
    event.set_type(v1::scheduler::Event::UPDATE);
    *event.mutable_update()->mutable_status() = status;
    send(to, std::move(event));
  }

 private:
  PeerId id_;
  std::unique_ptr<Messenger> messenger_;
};

class FakeAgent {
 public:
  FakeAgent(InMemoryNetwork& network, PeerId id) : id_(std::move(id)) {
    messenger_ = network.attach(id_, [this](const PeerId& from, internal::Envelope&& envelope) {
      if (!envelope.has_executor_call()) return;
      calls.emplace_back(from, envelope.executor_call());
      if (autoAcknowledge && envelope.executor_call().type() == v1::executor::Call::UPDATE) {
        const v1::TaskStatus& status = envelope.executor_call().update().status();
        acknowledge(from, status.task_id().value(), status.uuid());
      }
    });
  }

  const PeerId& id() const { return id_; }

  // Acknowledge every UPDATE as it arrives (the agent recorded it).
  bool autoAcknowledge = false;
  std::vector<std::pair<PeerId, v1::executor::Call>> calls;

  std::vector<v1::executor::Call> callsOfType(v1::executor::Call::Type type) const {
    std::vector<v1::executor::Call> out;
    for (const auto& [from, call] : calls) {
      if (call.type() == type) out.push_back(call);
    }
    return out;
  }

  // The states of every UPDATE received, in order.
  std::vector<v1::TaskState> updateStates() const {
    std::vector<v1::TaskState> out;
    for (const v1::executor::Call& call : callsOfType(v1::executor::Call::UPDATE)) {
      out.push_back(call.update().status().state());
    }
    return out;
  }

  v1::TaskStatus lastUpdate() const {
    auto updates = callsOfType(v1::executor::Call::UPDATE);
    return updates.empty() ? v1::TaskStatus() : updates.back().update().status();
  }

  void send(const PeerId& to, v1::executor::Event event) {
    internal::Envelope envelope;
    *envelope.mutable_executor_event() = std::move(event);
    messenger_->send(to, std::move(envelope));
  }

  void subscribed(const PeerId& to, const v1::FrameworkInfo& framework = defaultFramework()) {
    v1::executor::Event event;
    event.set_type(v1::executor::Event::SUBSCRIBED);
    v1::executor::Event::Subscribed* s = event.mutable_subscribed();
    s->mutable_executor_info()->mutable_executor_id()->set_value("e1");
    *s->mutable_framework_info() = framework;
    s->mutable_agent_info()->set_hostname("host1");
    send(to, std::move(event));
  }

  void launch(const PeerId& to, const v1::TaskInfo& task) {
    v1::executor::Event event;
    event.set_type(v1::executor::Event::LAUNCH);
    *event.mutable_launch()->mutable_task() = task;
    send(to, std::move(event));
  }

  void launchGroup(const PeerId& to, const std::vector<v1::TaskInfo>& tasks) {
    v1::executor::Event event;
    event.set_type(v1::executor::Event::LAUNCH_GROUP);
    for (const v1::TaskInfo& task : tasks) *event.mutable_launch_group()->mutable_task_group()->add_tasks() = task;
    send(to, std::move(event));
  }

  void kill(const PeerId& to, const std::string& taskId, std::optional<Duration> grace = std::nullopt) {
    v1::executor::Event event;
    event.set_type(v1::executor::Event::KILL);
    event.mutable_kill()->mutable_task_id()->set_value(taskId);
    if (grace) event.mutable_kill()->mutable_kill_policy()->mutable_grace_period()->set_nanoseconds(grace->count());
    send(to, std::move(event));
  }

  void acknowledge(const PeerId& to, const std::string& taskId, const std::string& uuid) {
    v1::executor::Event event;
    event.set_type(v1::executor::Event::ACKNOWLEDGED);
    event.mutable_acknowledged()->mutable_task_id()->set_value(taskId);
    event.mutable_acknowledged()->set_uuid(uuid);
    send(to, std::move(event));
  }

  void shutdown(const PeerId& to) {
    v1::executor::Event event;
    event.set_type(v1::executor::Event::SHUTDOWN);
    send(to, std::move(event));
  }

  void reconnect(const PeerId& to) {
    internal::Envelope envelope;
    envelope.mutable_reconnect_executor()->mutable_agent_id()->set_value("agent-1");
    messenger_->send(to, std::move(envelope));
  }

  static v1::FrameworkInfo defaultFramework() {
    v1::FrameworkInfo framework;
    framework.set_user("alice");
    framework.set_name("test");
    framework.mutable_id()->set_value("fw-1");
    return framework;
  }

 private:
  PeerId id_;
  std::unique_ptr<Messenger> messenger_;
};

class MockScheduler : public Scheduler {
 public:
  MOCK_METHOD(void, subscribed, (SchedulerDriver&, const v1::FrameworkID&, const v1::MasterInfo&), (override));
  MOCK_METHOD(void, disconnected, (SchedulerDriver&), (override));
  MOCK_METHOD(void, offers, (SchedulerDriver&, const std::vector<v1::Offer>&), (override));
  MOCK_METHOD(void, offerRescinded, (SchedulerDriver&, const v1::OfferID&), (override));
  MOCK_METHOD(void, statusUpdate, (SchedulerDriver&, const v1::TaskStatus&), (override));
  MOCK_METHOD(void, frameworkMessage,
              (SchedulerDriver&, const v1::AgentID&, const v1::ExecutorID&, const std::string&), (override));
  MOCK_METHOD(void, agentLost, (SchedulerDriver&, const v1::AgentID&), (override));
  MOCK_METHOD(void, executorLost, (SchedulerDriver&, const v1::ExecutorID&, const v1::AgentID&, std::optional<int>),
              (override));
  MOCK_METHOD(void, error, (SchedulerDriver&, const std::string&), (override));
  MOCK_METHOD(void, heartbeat, (SchedulerDriver&), (override));
  MOCK_METHOD(void, operationStatus, (SchedulerDriver&, const v1::OperationStatus&), (override));
};

class MockExecutor : public Executor {
 public:
  MOCK_METHOD(void, subscribed,
              (ExecutorDriver&, const v1::ExecutorInfo&, const v1::FrameworkInfo&, const v1::AgentInfo&), (override));
  MOCK_METHOD(void, disconnected, (ExecutorDriver&), (override));
  MOCK_METHOD(void, launch, (ExecutorDriver&, const v1::TaskInfo&), (override));
  MOCK_METHOD(void, launchGroup, (ExecutorDriver&, const v1::TaskGroupInfo&), (override));
  MOCK_METHOD(void, kill, (ExecutorDriver&, const v1::TaskID&, const std::optional<v1::KillPolicy>&), (override));
  MOCK_METHOD(void, acknowledged, (ExecutorDriver&, const v1::TaskID&, const std::string&), (override));
  MOCK_METHOD(void, frameworkMessage, (ExecutorDriver&, const std::string&), (override));
  MOCK_METHOD(void, shutdown, (ExecutorDriver&), (override));
  MOCK_METHOD(void, error, (ExecutorDriver&, const std::string&), (override));
};

// An offer for framework "fw-1" and role "dev" of `resources` (agent
// --resources syntax) with TEXT attributes.
inline v1::Offer makeOffer(const std::string& id, const std::string& agent, const std::string& resources,
                           const std::vector<std::pair<std::string, std::string>>& attributes = {}) {
  v1::Offer o;
  o.mutable_id()->set_value(id);
  o.mutable_framework_id()->set_value("fw-1");
  o.mutable_agent_id()->set_value(agent);
  o.set_hostname(agent + ".example");
  o.mutable_allocation_info()->set_role("dev");
  Resources::parse(resources).value().allocate("dev").toProto(o.mutable_resources());
  for (const auto& [name, value] : attributes) {
    v1::Attribute* a = o.add_attributes();
    a->set_name(name);
    a->set_type(v1::Value::TEXT);
    a->mutable_text()->set_value(value);
  }
  return o;
}

// gmock matchers on protobuf ids.
MATCHER_P(IdIs, value, "") { return arg.value() == value; }

}  // namespace agora::sdk::testing
