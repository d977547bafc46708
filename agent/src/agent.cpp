// The facade, the dispatch table and the helpers every handler shares.

#include <fmt/format.h>

#include "agent_impl.hpp"
#include "agora/common/id.hpp"
#include "agora/common/logging.hpp"

namespace agora::agent {
namespace {

using Handler = void (AgentImpl::*)(const PeerId&, internal::Envelope&);
using Case = internal::Envelope::MessageCase;

// Who may send a message: the master, or an executor (any other peer).
enum class Sender { kMaster, kExecutor };

struct Route {
  Sender sender;
  Handler handler;
};

// The agent's protocol, one line per message it accepts. Everything else
// (messages for the master or for schedulers) is dropped and counted.
const std::map<Case, Route>& dispatchTable() {
  static const std::map<Case, Route> table = {
      // Registration and health (registration.cpp).
      {Case::kAgentRegistered, {Sender::kMaster, &AgentImpl::onAgentRegistered}},
      {Case::kAgentReregistered, {Sender::kMaster, &AgentImpl::onAgentReregistered}},
      {Case::kPing, {Sender::kMaster, &AgentImpl::onPing}},
      {Case::kShutdownAgent, {Sender::kMaster, &AgentImpl::onShutdownAgent}},
      {Case::kReconcileTasks, {Sender::kMaster, &AgentImpl::onReconcileTasks}},
      // Tasks and executors (executors.cpp).
      {Case::kRunTask, {Sender::kMaster, &AgentImpl::onRunTask}},
      {Case::kRunTaskGroup, {Sender::kMaster, &AgentImpl::onRunTaskGroup}},
      {Case::kKillTask, {Sender::kMaster, &AgentImpl::onKillTask}},
      {Case::kShutdownFramework, {Sender::kMaster, &AgentImpl::onShutdownFramework}},
      {Case::kShutdownExecutor, {Sender::kMaster, &AgentImpl::onShutdownExecutor}},
      {Case::kUpdateFramework, {Sender::kMaster, &AgentImpl::onUpdateFramework}},
      {Case::kFrameworkToExecutor, {Sender::kMaster, &AgentImpl::onFrameworkToExecutor}},
      {Case::kStatusUpdateAcknowledgement, {Sender::kMaster, &AgentImpl::onStatusUpdateAcknowledgement}},
      {Case::kExecutorCall, {Sender::kExecutor, &AgentImpl::onExecutorCall}},
      // Resources (operations.cpp).
      {Case::kApplyOperation, {Sender::kMaster, &AgentImpl::onApplyOperation}},
      {Case::kCheckpointResources, {Sender::kMaster, &AgentImpl::onCheckpointResources}},
      {Case::kOperationStatusUpdateAcknowledgement,
       {Sender::kMaster, &AgentImpl::onOperationStatusUpdateAcknowledgement}},
  };
  return table;
}

}  // namespace

AgentImpl::AgentImpl(AgentOptions options, Clock& clock, Messenger& messenger, Containerizer& containerizer)
    : options_(std::move(options)),
      clock_(clock),
      messenger_(messenger),
      containerizer_(containerizer),
      log_(logger("agent")),
      random_(options_.randomSeed),
      startTime_(clock.now()) {}

AgentImpl::~AgentImpl() {
  *alive_ = false;
  for (std::optional<TimerId>* timer : {&registrationTimer_, &pingTimer_}) {
    if (*timer) clock_.cancel(**timer);
  }
  for (auto& [id, framework] : frameworks_) {
    for (auto& [eid, executor] : framework.executors) {
      if (executor.timer) clock_.cancel(*executor.timer);
    }
  }
  for (auto& [uuid, operation] : operations_) {
    if (operation.timer) clock_.cancel(*operation.timer);
  }
}

void AgentImpl::receive(const PeerId& from, internal::Envelope&& envelope) {
  if (registration_ == Registration::kRecovering) {
    drop(from, envelope, "the agent has not recovered yet");
    return;
  }
  auto it = dispatchTable().find(envelope.message_case());
  if (it == dispatchTable().end()) {
    drop(from, envelope, "not a message for an agent");
    return;
  }
  bool fromMaster = from == kMasterPeer;
  if (fromMaster != (it->second.sender == Sender::kMaster)) {
    drop(from, envelope, fromMaster ? "expected from an executor" : "expected from the master");
    return;
  }
  (this->*(it->second.handler))(from, envelope);
}

void AgentImpl::sendToMaster(internal::Envelope envelope) { messenger_.send(kMasterPeer, std::move(envelope)); }

void AgentImpl::sendToExecutor(const ExecutorRecord& executor, v1::executor::Event event) {
  if (executor.peer.empty()) return;
  internal::Envelope envelope;
  *envelope.mutable_executor_event() = std::move(event);
  messenger_.send(executor.peer, std::move(envelope));
}

void AgentImpl::drop(const PeerId& from, const internal::Envelope& envelope, const std::string& why) {
  ++counters_.droppedMessages;
  log_->warn("Dropping {} from {}: {}", envelopeType(envelope), quoteForLog(from), why);
}

FrameworkRecord* AgentImpl::framework(const std::string& frameworkId) {
  auto it = frameworks_.find(frameworkId);
  return it == frameworks_.end() ? nullptr : &it->second;
}

ExecutorRecord* AgentImpl::executor(const std::string& frameworkId, const std::string& executorId) {
  FrameworkRecord* f = framework(frameworkId);
  if (f == nullptr) return nullptr;
  auto it = f->executors.find(executorId);
  return it == f->executors.end() ? nullptr : &it->second;
}

ExecutorRecord* AgentImpl::executorOfTask(const std::string& frameworkId, const std::string& taskId) {
  FrameworkRecord* f = framework(frameworkId);
  if (f == nullptr) return nullptr;
  for (auto& [id, executor] : f->executors) {
    if (executor.tasks.count(taskId)) return &executor;
  }
  return nullptr;
}

// --- Facade ---------------------------------------------------------------------

Agent::Agent(AgentOptions options, Clock& clock, Messenger& messenger, Containerizer& containerizer)
    : impl_(std::make_unique<AgentImpl>(std::move(options), clock, messenger, containerizer)) {}

Agent::~Agent() = default;

Status Agent::recover() { return impl_->recover(); }

void Agent::receive(const PeerId& from, internal::Envelope&& envelope) { impl_->receive(from, std::move(envelope)); }

nlohmann::json Agent::stateJson() const { return impl_->stateJson(); }

nlohmann::json Agent::monitorStatisticsJson() { return impl_->monitorStatisticsJson(); }

std::map<std::string, double> Agent::metrics() const { return impl_->metrics(); }

std::optional<std::string> Agent::sandboxPath(const std::string& frameworkId, const std::string& taskId) const {
  return impl_->sandboxPath(frameworkId, taskId);
}

std::string Agent::agentId() const { return impl_->info_.has_id() ? impl_->info_.id().value() : std::string(); }

bool Agent::registered() const { return impl_->registration_ == AgentImpl::Registration::kRegistered; }

}  // namespace agora::agent
