#pragma once

// Status: the outcome of an operation that can fail, in the style of
// LevelDB's leveldb::Status. An OK status holds no allocation, so returning
// one on the success path costs a null pointer.
//
// Error messages carry their context as they rise through the layers:
//
//   return status.withContext("Failed to open registry '" + path + "'");
//
// yields "Failed to open registry '/x/registry.db': disk I/O error". Messages
// end without a period (Mesos style).

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace agora {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,    // The caller's input is malformed or out of range.
    kNotFound,           // A named entity does not exist.
    kAlreadyExists,      // A named entity exists and must not.
    kFailedPrecondition, // The system is not in a state where this can run.
    kPermissionDenied,   // Not authorized.
    kResourceExhausted,  // A limit (size, count, memory) was hit.
    kCorruption,         // Persisted or received data is damaged.
    kIoError,            // The operating system said no.
    kUnavailable,        // Try again later.
    kInternal,           // A bug: an invariant did not hold.
  };

  // OK.
  Status() noexcept = default;

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string_view message) { return {Code::kInvalidArgument, message}; }
  static Status NotFound(std::string_view message) { return {Code::kNotFound, message}; }
  static Status AlreadyExists(std::string_view message) { return {Code::kAlreadyExists, message}; }
  static Status FailedPrecondition(std::string_view message) { return {Code::kFailedPrecondition, message}; }
  static Status PermissionDenied(std::string_view message) { return {Code::kPermissionDenied, message}; }
  static Status ResourceExhausted(std::string_view message) { return {Code::kResourceExhausted, message}; }
  static Status Corruption(std::string_view message) { return {Code::kCorruption, message}; }
  static Status IoError(std::string_view message) { return {Code::kIoError, message}; }
  static Status Unavailable(std::string_view message) { return {Code::kUnavailable, message}; }
  static Status Internal(std::string_view message) { return {Code::kInternal, message}; }

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }

  // The message alone, empty for OK.
  const std::string& message() const;

  // "<context>: <message>", same code. OK stays OK.
  Status withContext(std::string_view context) const;

  // "OK" or "<CodeName>: <message>".
  std::string toString() const;

  bool operator==(const Status& other) const { return code() == other.code() && message() == other.message(); }

 private:
  Status(Code code, std::string_view message);

  struct Rep {
    Code code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;  // nullptr means OK.
};

std::string_view codeName(Status::Code code);
std::ostream& operator<<(std::ostream& os, const Status& status);

}  // namespace agora

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define AGORA_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::agora::Status _agora_status = (expr);  \
    if (!_agora_status.ok()) return _agora_status; \
  } while (false)
