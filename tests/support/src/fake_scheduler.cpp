#include "agora/testing/fake_scheduler.hpp"

#include <algorithm>

#include "agora/common/check.hpp"
#include "agora/common/id.hpp"
#include "agora/common/resources.hpp"

namespace agora::testing {

FakeScheduler::FakeScheduler(InMemoryNetwork& network, PeerId id, PeerId master)
    : network_(network), id_(id.empty() ? "scheduler:" + newUuid() : std::move(id)), master_(std::move(master)) {
  messenger_ = network_.attach(id_, [this](const PeerId&, internal::Envelope&& envelope) {
    if (envelope.has_scheduler_event()) onEvent(std::move(*envelope.mutable_scheduler_event()));
  });
}

v1::FrameworkInfo FakeScheduler::frameworkInfo(const std::string& name, const std::vector<std::string>& roles,
                                               const std::string& principal, bool partitionAware,
                                               double failoverTimeout) {
  v1::FrameworkInfo info;
  info.set_user("tester");
  info.set_name(name);
  for (const auto& role : roles) info.add_roles(role);
  info.add_capabilities()->set_type(v1::FrameworkInfo::Capability::MULTI_ROLE);
  info.add_capabilities()->set_type(v1::FrameworkInfo::Capability::RESERVATION_REFINEMENT);
  if (partitionAware) info.add_capabilities()->set_type(v1::FrameworkInfo::Capability::PARTITION_AWARE);
  if (!principal.empty()) info.set_principal(principal);
  info.set_failover_timeout(failoverTimeout);
  return info;
}

void FakeScheduler::subscribe(v1::FrameworkInfo info, const std::vector<std::string>& suppressedRoles) {
  Call call;
  call.set_type(Call::SUBSCRIBE);
  if (info.has_id()) *call.mutable_framework_id() = info.id();
  *call.mutable_subscribe()->mutable_framework_info() = std::move(info);
  for (const auto& role : suppressedRoles) call.mutable_subscribe()->add_suppressed_roles(role);
  internal::Envelope envelope;
  *envelope.mutable_scheduler_call() = std::move(call);
  messenger_->send(master_, std::move(envelope));
}

void FakeScheduler::send(Call call) {
  if (frameworkId_ && !call.has_framework_id()) call.mutable_framework_id()->set_value(*frameworkId_);
  internal::Envelope envelope;
  *envelope.mutable_scheduler_call() = std::move(call);
  messenger_->send(master_, std::move(envelope));
}

void FakeScheduler::accept(const std::vector<v1::OfferID>& offerIds,
                           const std::vector<v1::Offer::Operation>& operations, std::optional<double> refuseSeconds) {
  Call call;
  call.set_type(Call::ACCEPT);
  for (const auto& id : offerIds) {
    *call.mutable_accept()->add_offer_ids() = id;
    used_.push_back(id.value());
  }
  for (const auto& operation : operations) *call.mutable_accept()->add_operations() = operation;
  if (refuseSeconds) call.mutable_accept()->mutable_filters()->set_refuse_seconds(*refuseSeconds);
  send(std::move(call));
}

void FakeScheduler::decline(const std::vector<v1::OfferID>& offerIds, std::optional<double> refuseSeconds) {
  Call call;
  call.set_type(Call::DECLINE);
  for (const auto& id : offerIds) {
    *call.mutable_decline()->add_offer_ids() = id;
    used_.push_back(id.value());
  }
  if (refuseSeconds) call.mutable_decline()->mutable_filters()->set_refuse_seconds(*refuseSeconds);
  send(std::move(call));
}

void FakeScheduler::acknowledge(const v1::TaskStatus& status) {
  Call call;
  call.set_type(Call::ACKNOWLEDGE);
  *call.mutable_acknowledge()->mutable_agent_id() = status.agent_id();
  *call.mutable_acknowledge()->mutable_task_id() = status.task_id();
  call.mutable_acknowledge()->set_uuid(status.uuid());
  send(std::move(call));
}

void FakeScheduler::kill(const std::string& taskId, const std::string& agentId) {
  Call call;
  call.set_type(Call::KILL);
  call.mutable_kill()->mutable_task_id()->set_value(taskId);
  if (!agentId.empty()) call.mutable_kill()->mutable_agent_id()->set_value(agentId);
  send(std::move(call));
}

void FakeScheduler::reconcile(const std::vector<std::pair<std::string, std::string>>& tasks) {
  Call call;
  call.set_type(Call::RECONCILE);
  call.mutable_reconcile();
  for (const auto& [taskId, agentId] : tasks) {
    auto* task = call.mutable_reconcile()->add_tasks();
    task->mutable_task_id()->set_value(taskId);
    if (!agentId.empty()) task->mutable_agent_id()->set_value(agentId);
  }
  send(std::move(call));
}

void FakeScheduler::revive(const std::vector<std::string>& roles) {
  Call call;
  call.set_type(Call::REVIVE);
  for (const auto& role : roles) call.mutable_revive()->add_roles(role);
  send(std::move(call));
}

void FakeScheduler::suppress(const std::vector<std::string>& roles) {
  Call call;
  call.set_type(Call::SUPPRESS);
  for (const auto& role : roles) call.mutable_suppress()->add_roles(role);
  send(std::move(call));
}

void FakeScheduler::teardown() {
  Call call;
  call.set_type(Call::TEARDOWN);
  send(std::move(call));
}

void FakeScheduler::message(const std::string& agentId, const std::string& executorId, const std::string& data) {
  Call call;
  call.set_type(Call::MESSAGE);
  call.mutable_message()->mutable_agent_id()->set_value(agentId);
  call.mutable_message()->mutable_executor_id()->set_value(executorId);
  call.mutable_message()->set_data(data);
  send(std::move(call));
}

v1::Offer::Operation FakeScheduler::launch(const std::vector<v1::TaskInfo>& tasks) {
  v1::Offer::Operation operation;
  operation.set_type(v1::Offer::Operation::LAUNCH);
  for (const auto& task : tasks) *operation.mutable_launch()->add_task_infos() = task;
  return operation;
}

v1::Offer::Operation FakeScheduler::launchGroup(const v1::ExecutorInfo& executor, const std::vector<v1::TaskInfo>& tasks) {
  v1::Offer::Operation operation;
  operation.set_type(v1::Offer::Operation::LAUNCH_GROUP);
  *operation.mutable_launch_group()->mutable_executor() = executor;
  for (const auto& task : tasks) *operation.mutable_launch_group()->mutable_task_group()->add_tasks() = task;
  return operation;
}

v1::Offer::Operation FakeScheduler::reserve(const google::protobuf::RepeatedPtrField<v1::Resource>& resources) {
  v1::Offer::Operation operation;
  operation.set_type(v1::Offer::Operation::RESERVE);
  *operation.mutable_reserve()->mutable_resources() = resources;
  return operation;
}

v1::Offer::Operation FakeScheduler::unreserve(const google::protobuf::RepeatedPtrField<v1::Resource>& resources) {
  v1::Offer::Operation operation;
  operation.set_type(v1::Offer::Operation::UNRESERVE);
  *operation.mutable_unreserve()->mutable_resources() = resources;
  return operation;
}

v1::TaskInfo FakeScheduler::commandTask(const std::string& taskId, const std::string& agentId,
                                        const std::string& resources, const std::string& role,
                                        const std::string& command) {
  v1::TaskInfo task;
  task.set_name(taskId);
  task.mutable_task_id()->set_value(taskId);
  task.mutable_agent_id()->set_value(agentId);
  task.mutable_command()->set_value(command);
  auto parsed = Resources::parse(resources);
  AGORA_CHECK(parsed.ok(), "bad test resources");
  parsed->allocate(role).toProto(task.mutable_resources());
  return task;
}

void FakeScheduler::onEvent(Event&& event) {
  if (event.type() == Event::SUBSCRIBED) frameworkId_ = event.subscribed().framework_id().value();
  if (autoAcknowledge && event.type() == Event::UPDATE && event.update().status().has_uuid()) {
    acknowledge(event.update().status());
  }
  events_.push_back(std::move(event));
}

size_t FakeScheduler::count(Event::Type type) const {
  return std::count_if(events_.begin(), events_.end(), [type](const Event& e) { return e.type() == type; });
}

std::vector<v1::Offer> FakeScheduler::offers() const {
  std::vector<v1::Offer> result;
  for (const auto& event : events_) {
    if (event.type() != Event::OFFERS) continue;
    for (const auto& offer : event.offers().offers()) result.push_back(offer);
  }
  return result;
}

std::vector<v1::Offer> FakeScheduler::outstandingOffers() const {
  std::vector<std::string> gone = used_;
  for (const auto& event : events_) {
    if (event.type() == Event::RESCIND) gone.push_back(event.rescind().offer_id().value());
  }
  std::vector<v1::Offer> result;
  for (const auto& offer : offers()) {
    if (std::find(gone.begin(), gone.end(), offer.id().value()) == gone.end()) result.push_back(offer);
  }
  return result;
}

std::vector<v1::TaskStatus> FakeScheduler::updates() const {
  std::vector<v1::TaskStatus> result;
  for (const auto& event : events_) {
    if (event.type() == Event::UPDATE) result.push_back(event.update().status());
  }
  return result;
}

std::vector<std::string> FakeScheduler::errors() const {
  std::vector<std::string> result;
  for (const auto& event : events_) {
    if (event.type() == Event::ERROR) result.push_back(event.error().message());
  }
  return result;
}

}  // namespace agora::testing
