#pragma once

// Parsing untrusted JSON (HTTP request bodies) under limits on size and
// nesting, without recursion: CVE-2018-11793 crashed Mesos masters with
// deeply nested JSON (operations-and-reliability.md §D.5).

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agora/common/result.hpp"

namespace agora {

inline constexpr size_t kDefaultMaxJsonDepth = 64;
inline constexpr size_t kDefaultMaxJsonBytes = 1024 * 1024;

// Parses `text` as one JSON value. A linear pre-scan (aware of strings and
// escapes) rejects nesting deeper than `maxDepth` arrays/objects before the
// parser runs, so a 100,000-deep "[[[..." costs O(n) and no stack.
// Errors name the byte offset:
//   ResourceExhausted  over `maxBytes`
//   InvalidArgument    too deep, or not valid JSON (truncated, garbage,
//                      invalid UTF-8, trailing bytes)
// One linear pass over JSON text (respecting strings and escapes): the byte
// offset where nesting first exceeds `maxDepth`, or npos. Run before any
// recursive parser sees untrusted input.
size_t findExcessNesting(std::string_view text, size_t maxDepth);

Result<nlohmann::json> parseJsonBody(std::string_view text, size_t maxDepth = kDefaultMaxJsonDepth,
                                     size_t maxBytes = kDefaultMaxJsonBytes);

}  // namespace agora
