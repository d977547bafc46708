// The agent's resources at run time: RESERVE and UNRESERVE from the master
// (ApplyOperation), the master's complete view (CheckpointResources), and
// reliable operation status updates.

#include <fmt/format.h>

#include "agent_impl.hpp"
#include "agora/common/id.hpp"

namespace agora::agent {
namespace {

// Dynamic reservations and persistent volumes: what the agent checkpoints.
bool isCheckpointed(const Resource& resource) {
  if (resource.isPersistentVolume()) return true;
  for (const Reservation& reservation : resource.reservations) {
    if (reservation.type == Reservation::Type::kDynamic) return true;
  }
  return false;
}

}  // namespace

Resources AgentImpl::totalResources() const { return configured_ - basesOf(checkpointed_) + checkpointed_; }

Status AgentImpl::setCheckpointedResources(const Resources& checkpointed) {
  Resources bases = basesOf(checkpointed);
  if (!configured_.contains(bases)) {
    return Status::FailedPrecondition(fmt::format("the agent's resources {} do not contain {} (needed by {})",
                                                  configured_.toString(), bases.toString(), checkpointed.toString()));
  }
  internal::CheckpointedResources record;
  checkpointed.toProto(record.mutable_resources());
  std::string version = newUuidBytes();
  record.mutable_resource_version_uuid()->set_value(version);
  AGORA_RETURN_IF_ERROR(store_->writeResources(record));
  checkpointed_ = checkpointed;
  resourceVersion_ = version;
  log_->info("Checkpointed resources are now {}", checkpointed_.empty() ? "empty" : checkpointed_.toString());
  return Status::OK();
}

void AgentImpl::onApplyOperation(const PeerId& from, internal::Envelope& envelope) {
  if (registration_ != Registration::kRegistered) {
    drop(from, envelope, "the agent is not registered");
    return;
  }
  const internal::ApplyOperation& apply = envelope.apply_operation();
  const std::string& operationUuid = apply.operation_uuid().value();
  if (auto it = operations_.find(operationUuid); it != operations_.end()) {
    forwardOperationUpdate(operationUuid);  // A repeated request: same answer.
    return;
  }
  const v1::Offer::Operation& operation = apply.operation();
  Resources total = totalResources();
  v1::OperationState state = v1::OPERATION_FINISHED;
  std::string message;
  Resources converted;

  auto apply_ = [&]() -> Status {
    switch (operation.type()) {
      case v1::Offer::Operation::RESERVE: {
        AGORA_ASSIGN_OR_RETURN(Resources resources, Resources::fromProto(operation.reserve().resources()));
        resources = resources.unallocate();
        Resources source;
        if (operation.reserve().source_size() > 0) {
          AGORA_ASSIGN_OR_RETURN(source, Resources::fromProto(operation.reserve().source()));
          source = source.unallocate();
        } else {
          AGORA_ASSIGN_OR_RETURN(source, resources.popReservation());
        }
        if (!total.contains(source)) {
          return Status::FailedPrecondition(
              fmt::format("{} is not available on this agent (it has {})", source.toString(), total.toString()));
        }
        AGORA_RETURN_IF_ERROR(setCheckpointedResources((total - source + resources).filter(isCheckpointed)));
        converted = resources;
        return Status::OK();
      }
      case v1::Offer::Operation::UNRESERVE: {
        AGORA_ASSIGN_OR_RETURN(Resources resources, Resources::fromProto(operation.unreserve().resources()));
        resources = resources.unallocate();
        if (!total.contains(resources)) {
          return Status::FailedPrecondition(
              fmt::format("{} is not reserved on this agent (it has {})", resources.toString(), total.toString()));
        }
        AGORA_ASSIGN_OR_RETURN(Resources popped, resources.popReservation());
        AGORA_RETURN_IF_ERROR(setCheckpointedResources((total - resources + popped).filter(isCheckpointed)));
        converted = popped;
        return Status::OK();
      }
      default:
        return Status::InvalidArgument("operation type " + v1::Offer::Operation::Type_Name(operation.type()) +
                                       " is not supported by this agent");
    }
  };
  Status result = apply_();
  if (!result.ok()) {
    state = result.code() == Status::Code::kInvalidArgument ? v1::OPERATION_ERROR : v1::OPERATION_FAILED;
    message = result.message();
    log_->warn("Operation {} failed: {}", v1::Offer::Operation::Type_Name(operation.type()), message);
  }

  PendingOperation& pending = operations_[operationUuid];
  internal::OperationStatusUpdate& update = pending.update;
  if (apply.has_framework_id()) *update.mutable_framework_id() = apply.framework_id();
  *update.mutable_agent_id() = info_.id();
  *update.mutable_operation_uuid() = apply.operation_uuid();
  v1::OperationStatus* status = update.mutable_status();
  if (operation.has_id()) *status->mutable_operation_id() = operation.id();
  status->set_state(state);
  if (!message.empty()) status->set_message(message);
  if (state == v1::OPERATION_FINISHED) converted.toProto(status->mutable_converted_resources());
  status->mutable_uuid()->set_value(newUuidBytes());
  *status->mutable_agent_id() = info_.id();
  *update.mutable_latest_status() = *status;
  forwardOperationUpdate(operationUuid);
}

void AgentImpl::forwardOperationUpdate(const std::string& operationUuid) {
  auto it = operations_.find(operationUuid);
  if (it == operations_.end()) return;
  PendingOperation& pending = it->second;
  if (pending.timer) clock_.cancel(*pending.timer);
  pending.timer.reset();
  if (registration_ != Registration::kRegistered) return;  // Resent on (re)registration.
  internal::Envelope envelope;
  *envelope.mutable_operation_status_update() = pending.update;
  sendToMaster(std::move(envelope));
  Duration after = pending.backoff;
  pending.backoff = std::min(pending.backoff * 2, Duration(kStatusUpdateRetryIntervalMax));
  pending.timer = clock_.schedule(after, [this, operationUuid] {
    auto found = operations_.find(operationUuid);
    if (found == operations_.end()) return;
    found->second.timer.reset();
    forwardOperationUpdate(operationUuid);
  });
}

void AgentImpl::onOperationStatusUpdateAcknowledgement(const PeerId& from, internal::Envelope& envelope) {
  const internal::OperationStatusUpdateAcknowledgement& ack = envelope.operation_status_update_acknowledgement();
  auto it = operations_.find(ack.operation_uuid().value());
  if (it == operations_.end() || it->second.update.status().uuid().value() != ack.status_uuid().value()) {
    drop(from, envelope, "no such pending operation update");
    return;
  }
  if (it->second.timer) clock_.cancel(*it->second.timer);
  operations_.erase(it);
}

void AgentImpl::onCheckpointResources(const PeerId& from, internal::Envelope& envelope) {
  auto resources = Resources::fromProto(envelope.checkpoint_resources().resources());
  if (!resources.ok()) {
    drop(from, envelope, resources.error().message());
    return;
  }
  Resources checkpointed = resources->unallocate();
  if (checkpointed == checkpointed_) return;
  if (Status s = setCheckpointedResources(checkpointed); !s.ok()) {
    drop(from, envelope, s.message());
  }
}

}  // namespace agora::agent
