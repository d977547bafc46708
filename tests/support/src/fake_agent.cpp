#include "agora/testing/fake_agent.hpp"

#include "agora/common/check.hpp"
#include "agora/common/id.hpp"
#include "agora/common/resources.hpp"

namespace agora::testing {

namespace {
constexpr auto kRetryInterval = std::chrono::seconds(10);
}  // namespace

FakeAgent::FakeAgent(InMemoryNetwork& network, Clock& clock, std::string hostname, const std::string& resources,
                     PeerId id, PeerId master)
    : network_(network), clock_(clock), id_(id.empty() ? "agent:" + newUuid() : std::move(id)), master_(std::move(master)) {
  info_.set_hostname(std::move(hostname));
  auto parsed = Resources::parse(resources);
  AGORA_CHECK(parsed.ok(), "bad test resources");
  parsed->toProto(info_.mutable_resources());
  messenger_ = network_.attach(id_, [this](const PeerId& from, internal::Envelope&& e) { onMessage(from, std::move(e)); });
}

FakeAgent::~FakeAgent() {
  for (auto& [taskId, timer] : retries_) clock_.cancel(timer);
}

void FakeAgent::start() {
  internal::Envelope envelope;
  if (!agentId_) {
    auto* message = envelope.mutable_register_agent();
    *message->mutable_agent_info() = info_;
    *message->mutable_checkpointed_resources() = checkpointed_;
    message->set_version("test");
    if (!httpAddress.empty()) message->set_http_address(httpAddress);
  } else {
    auto* message = envelope.mutable_reregister_agent();
    *message->mutable_agent_info() = info_;
    message->mutable_agent_info()->mutable_id()->set_value(*agentId_);
    *message->mutable_checkpointed_resources() = checkpointed_;
    message->set_version("test");
    if (!httpAddress.empty()) message->set_http_address(httpAddress);
    for (const auto& [taskId, task] : tasks_) *message->add_tasks() = task;
    for (const auto& [frameworkId, info] : frameworks_) *message->add_frameworks() = info;
  }
  messenger_->send(master_, std::move(envelope));
}

void FakeAgent::restart() {
  network_.detach(id_);
  id_ = "agent:" + newUuid();
  messenger_ = network_.attach(id_, [this](const PeerId& from, internal::Envelope&& e) { onMessage(from, std::move(e)); });
  start();
}

void FakeAgent::crash() { network_.detach(id_); }

void FakeAgent::sendStatus(const std::string& taskId, v1::TaskState state,
                           std::optional<v1::TaskStatus::Reason> reason) {
  auto task = tasks_.find(taskId);
  AGORA_CHECK(task != tasks_.end(), "no such task on the fake agent");
  task->second.set_state(state);
  internal::StatusUpdate update;
  *update.mutable_framework_id() = task->second.framework_id();
  update.mutable_agent_id()->set_value(agentId_.value_or(""));
  v1::TaskStatus* status = update.mutable_status();
  status->mutable_task_id()->set_value(taskId);
  status->set_state(state);
  status->set_source(v1::TaskStatus::SOURCE_EXECUTOR);
  if (reason) status->set_reason(*reason);
  status->set_uuid(newUuidBytes());
  update.set_uuid(status->uuid());
  update.set_timestamp(std::chrono::duration<double>(clock_.wallNow().time_since_epoch()).count());
  auto& stream = streams_[taskId];
  stream.push_back(std::move(update));
  if (stream.size() == 1) sendHead(taskId);
}

size_t FakeAgent::pendingUpdates() const {
  size_t n = 0;
  for (const auto& [taskId, stream] : streams_) n += stream.size();
  return n;
}

void FakeAgent::sendHead(const std::string& taskId) {
  auto& stream = streams_[taskId];
  if (stream.empty()) return;
  internal::Envelope envelope;
  *envelope.mutable_status_update() = stream.front();
  envelope.mutable_status_update()->set_latest_state(tasks_.at(taskId).state());
  messenger_->send(master_, std::move(envelope));
  scheduleRetry(taskId);
}

void FakeAgent::scheduleRetry(const std::string& taskId) {
  if (auto it = retries_.find(taskId); it != retries_.end()) clock_.cancel(it->second);
  retries_[taskId] = clock_.schedule(kRetryInterval, [this, taskId] {
    retries_.erase(taskId);
    sendHead(taskId);
  });
}

size_t FakeAgent::count(const std::string& typePrefix) const {
  size_t n = 0;
  for (const auto& envelope : received_) n += envelopeType(envelope).rfind(typePrefix, 0) == 0 ? 1 : 0;
  return n;
}

void FakeAgent::onMessage(const PeerId&, internal::Envelope&& envelope) {
  switch (envelope.message_case()) {
    case internal::Envelope::kAgentRegistered:
      agentId_ = envelope.agent_registered().agent_id().value();
      break;
    case internal::Envelope::kAgentReregistered:
      agentId_ = envelope.agent_reregistered().agent_id().value();
      break;
    case internal::Envelope::kPing:
      if (answerPings) {
        internal::Envelope pong;
        pong.mutable_pong();
        messenger_->send(master_, std::move(pong));
      }
      break;
    case internal::Envelope::kRunTask:
    case internal::Envelope::kRunTaskGroup: {
      bool group = envelope.has_run_task_group();
      const v1::FrameworkInfo& framework =
          group ? envelope.run_task_group().framework_info() : envelope.run_task().framework_info();
      std::vector<const v1::TaskInfo*> infos;
      if (group) {
        for (const auto& info : envelope.run_task_group().task_group().tasks()) infos.push_back(&info);
      } else {
        infos.push_back(&envelope.run_task().task());
      }
      for (const v1::TaskInfo* info : infos) {
        v1::Task task;
        task.set_name(info->name());
        *task.mutable_task_id() = info->task_id();
        *task.mutable_framework_id() = framework.id();
        *task.mutable_agent_id() = info->agent_id();
        task.set_state(v1::TASK_STAGING);
        *task.mutable_resources() = info->resources();
        tasks_[info->task_id().value()] = task;
      }
      frameworks_[framework.id().value()] = framework;
      break;
    }
    case internal::Envelope::kStatusUpdateAcknowledgement: {
      const auto& ack = envelope.status_update_acknowledgement();
      auto& stream = streams_[ack.task_id().value()];
      if (!stream.empty() && stream.front().uuid() == ack.uuid()) {
        stream.pop_front();
        if (auto it = retries_.find(ack.task_id().value()); it != retries_.end()) {
          clock_.cancel(it->second);
          retries_.erase(it);
        }
        sendHead(ack.task_id().value());
      }
      break;
    }
    case internal::Envelope::kCheckpointResources:
      checkpointed_ = envelope.checkpoint_resources().resources();
      break;
    case internal::Envelope::kShutdownAgent:
      shutDown_ = true;
      break;
    default:
      break;
  }
  received_.push_back(std::move(envelope));
}

}  // namespace agora::testing
