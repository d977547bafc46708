#pragma once

// Identifiers: validation of IDs chosen by users and frameworks, generation of
// the IDs the master and agent assign, and safe quoting of untrusted strings
// for log lines and error messages.

#include <cstdint>
#include <string>
#include <string_view>

#include "agora/common/status.hpp"

namespace agora {

// Longest ID we accept, in bytes (NAME_MAX, as Mesos).
inline constexpr size_t kMaxIdLength = 255;

// Validates a framework-chosen or wire-supplied ID (task, executor, framework,
// agent, offer, volume...). Mesos rules: non-empty, at most 255 bytes, not "."
// or "..", no '/', '\\' or control characters. `kind` names the ID in the
// error, e.g. "task ID" -> "Invalid task ID 'a/b': contains '/'".
Status validateId(std::string_view id, std::string_view kind = "ID");

// A random (version 4) UUID in canonical text form, 36 characters.
std::string newUuid();

// 16 random bytes, suitable for status update uuids.
std::string newUuidBytes();

// Renders `text` for a log line or error message: non-printable bytes escaped
// as \xNN, cut to `maxLength` characters with "..." appended. Hostile input
// (a 1 MB ID, binary garbage) stays one short readable line.
std::string quoteForLog(std::string_view text, size_t maxLength = 80);

// Hands out IDs of the form "<prefix><counter>", e.g. "<masterId>-S0",
// "<masterId>-S1". `width` zero-pads the counter ("<masterId>-0000").
class IdGenerator {
 public:
  explicit IdGenerator(std::string prefix, int width = 0, uint64_t next = 0)
      : prefix_(std::move(prefix)), width_(width), next_(next) {}

  std::string next();
  uint64_t peek() const { return next_; }

 private:
  std::string prefix_;
  int width_;
  uint64_t next_;
};

}  // namespace agora
