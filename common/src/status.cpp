#include "agora/common/status.hpp"

namespace agora {

namespace {
const std::string& emptyString() {
  static const std::string* empty = new std::string();
  return *empty;
}
}  // namespace

Status::Status(Code code, std::string_view message)
    : rep_(code == Code::kOk ? nullptr : std::make_unique<Rep>(Rep{code, std::string(message)})) {}

Status::Status(const Status& other) : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
  return *this;
}

const std::string& Status::message() const { return rep_ ? rep_->message : emptyString(); }

Status Status::withContext(std::string_view context) const {
  if (ok()) return Status();
  std::string message(context);
  message += ": ";
  message += rep_->message;
  return Status(rep_->code, message);
}

std::string Status::toString() const {
  if (ok()) return "OK";
  std::string out(codeName(rep_->code));
  out += ": ";
  out += rep_->message;
  return out;
}

std::string_view codeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "OK";
    case Status::Code::kInvalidArgument: return "Invalid argument";
    case Status::Code::kNotFound: return "Not found";
    case Status::Code::kAlreadyExists: return "Already exists";
    case Status::Code::kFailedPrecondition: return "Failed precondition";
    case Status::Code::kPermissionDenied: return "Permission denied";
    case Status::Code::kResourceExhausted: return "Resource exhausted";
    case Status::Code::kCorruption: return "Corruption";
    case Status::Code::kIoError: return "I/O error";
    case Status::Code::kUnavailable: return "Unavailable";
    case Status::Code::kInternal: return "Internal error";
  }
  return "Unknown";
}

std::ostream& operator<<(std::ostream& os, const Status& status) { return os << status.toString(); }

}  // namespace agora
