#include "agora/common/messenger.hpp"

#include "agora/common/id.hpp"

namespace agora {

std::string encodeEnvelope(internal::Envelope message) {
  message.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
  // Partial: libprotobuf aborts on a missing required field otherwise. The
  // receiver's decodeEnvelope reports such a message by field name.
  return message.SerializePartialAsString();
}

Result<internal::Envelope> decodeEnvelope(std::string_view bytes, size_t maxBytes) {
  if (bytes.size() > maxBytes) {
    return Status::InvalidArgument("message of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                                   std::to_string(maxBytes) + " bytes");
  }
  internal::Envelope envelope;
  // ParsePartial, then check: a missing required field is reported by name
  // instead of a bare "failed to parse".
  if (!envelope.ParsePartialFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::InvalidArgument("not a valid envelope (" + std::to_string(bytes.size()) + " bytes)");
  }
  if (!envelope.IsInitialized()) {
    return Status::InvalidArgument("envelope is missing required fields: " +
                                   quoteForLog(envelope.InitializationErrorString(), 200));
  }
  if (envelope.protocol_version() != internal::PROTOCOL_VERSION_CURRENT) {
    return Status::InvalidArgument("unsupported protocol version " + std::to_string(envelope.protocol_version()) +
                                   " (this build speaks " + std::to_string(internal::PROTOCOL_VERSION_CURRENT) + ")");
  }
  if (envelope.message_case() == internal::Envelope::MESSAGE_NOT_SET) {
    return Status::InvalidArgument("envelope carries no message (or one this build does not know)");
  }
  return envelope;
}

std::string envelopeType(const internal::Envelope& message) {
  const auto* field = internal::Envelope::descriptor()->FindFieldByNumber(message.message_case());
  if (field == nullptr) return "none";
  std::string name = field->name();
  if (message.has_scheduler_call()) {
    name += '.';
    name += v1::scheduler::Call::Type_Name(message.scheduler_call().type());
  } else if (message.has_scheduler_event()) {
    name += '.';
    name += v1::scheduler::Event::Type_Name(message.scheduler_event().type());
  } else if (message.has_executor_call()) {
    name += '.';
    name += v1::executor::Call::Type_Name(message.executor_call().type());
  } else if (message.has_executor_event()) {
    name += '.';
    name += v1::executor::Event::Type_Name(message.executor_event().type());
  }
  return name;
}

}  // namespace agora
