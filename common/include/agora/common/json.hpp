#pragma once

// Protobuf <-> JSON in the Mesos style, for every JSON surface of Agora (the
// scheduler and operator HTTP APIs, /state, the CLI's --json, JSON flags).
//
// Mapping (Mesos v1 / stout, mesos.md §1.1):
//   - field names are the proto names, snake_case ("framework_id");
//   - enums are their value names ("TASK_RUNNING");
//   - bytes are standard base64 with padding;
//   - every integer, 64-bit ones included, is a JSON number (protobuf's own
//     JsonPrinter writes 64-bit integers as strings; this one does not);
//   - doubles are numbers; infinities and NaN print as the strings
//     "Infinity", "-Infinity", "NaN", and numeric strings are accepted;
//   - map<K, V> is a JSON object keyed by the map key;
//   - repeated fields are arrays; `null` means "not set".
//
// Printing emits the fields that are set (no defaults) unless
// JsonPrintOptions::emit_explicit_defaults asks for stout's behaviour of
// adding unset fields that declare a [default] (e.g. Resource.role "*").
// Object keys come out sorted, as stout's do.
//
// Parsing is strict and safe on hostile input: the size and the nesting
// depth are checked before any recursive work; a syntax error, invalid UTF-8,
// a wrong type, an unknown field, an out-of-range number, bad base64, an
// unknown name for a required enum or a missing required field is an
// InvalidArgument Status saying what is wrong and where (a byte offset or a
// field path such as "accept.operations[0].launch.task_infos[0].name").
// No exception escapes these functions.
//
// As in Mesos, an unknown enum name in an optional or repeated field is
// dropped (forward compatibility: a newer client may send values this
// build does not know), while one in a required field is an error.

#include <cstddef>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>
#include <nlohmann/json.hpp>

#include "agora/common/result.hpp"
#include "agora/common/status.hpp"

namespace agora {

struct JsonParseOptions {
  // Longest accepted input, in bytes.
  size_t maxBytes = 16 * 1024 * 1024;
  // Deepest accepted nesting of arrays and objects.
  int maxDepth = 64;
  // Unknown object keys are errors unless this is set, in which case they
  // are skipped.
  bool ignoreUnknownFields = false;
};

struct JsonPrintOptions {
  // Also print unset singular fields that declare an explicit [default].
  bool emitExplicitDefaults = false;
};

// `message` as compact JSON text. Fails only when a string field holds
// invalid UTF-8 (JSON cannot carry it).
Result<std::string> toJson(const google::protobuf::Message& message, const JsonPrintOptions& options = {});

// `message` as a JSON value, for embedding in larger documents.
Result<nlohmann::json> toJsonValue(const google::protobuf::Message& message,
                                   const JsonPrintOptions& options = {});

// Parses `json` into `message` (cleared first). On error `message` holds
// whatever was parsed so far and must not be used.
Status fromJson(std::string_view json, google::protobuf::Message* message, const JsonParseOptions& options = {});

// As fromJson, for an already parsed value (its depth is still limited).
Status fromJsonValue(const nlohmann::json& json, google::protobuf::Message* message,
                     const JsonParseOptions& options = {});

// Parses JSON text with the size and depth limits of `options`, for callers
// that want a JSON value rather than a protobuf (e.g. `--resources` JSON).
Result<nlohmann::json> parseJson(std::string_view json, const JsonParseOptions& options = {});

// Standard base64 with padding; decoding also accepts missing padding and
// rejects anything else that is not base64.
std::string base64Encode(std::string_view bytes);
Result<std::string> base64Decode(std::string_view text);

}  // namespace agora
