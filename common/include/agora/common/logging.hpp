#pragma once

// Logging for daemons and tools, on spdlog: one logger per component
// ("master", "allocator", "registrar"...), all writing to the same sinks
// (stderr by default, for journald), as text or as JSON lines.
//
//   LoggingFlags loggingFlags;
//   loggingFlags.declare(flags);                      // --logging_level, --log_format
//   ... flags.parse(argc, argv) ...
//   initLogging(loggingFlags.options());
//   auto log = logger("master");
//   log->info("Registered agent {} at {}", agentId, quoteForLog(hostname));
//   logFields(*log, LogLevel::kInfo, "Launching task", {{"task_id", id}, {"cpus", 0.5}});
//
// Text:  2024-01-01T00:00:00.123Z INFO master: Launching task task_id=t1 cpus=0.5
// JSON:  {"ts":"2024-01-01T00:00:00.123Z","level":"info","component":"master",
//         "msg":"Launching task","task_id":"t1","cpus":0.5}
//
// Messages end without a period (Mesos style); a single trailing '.' is
// dropped. Untrusted strings must be passed through quoteForLog() (id.hpp)
// by the caller; invalid UTF-8 is replaced in JSON lines, never fatal.
//
// Loggers are synchronous: a line is formatted and written by the thread
// that logs it.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "agora/common/result.hpp"
#include "agora/common/status.hpp"

namespace agora {

class Flags;

enum class LogLevel { kTrace, kDebug, kInfo, kWarning, kError };
enum class LogFormat { kText, kJson };

// "trace", "debug", "info", "warning" (or "warn"), "error", in any case.
Result<LogLevel> parseLogLevel(std::string_view text);
// "text" or "json".
Result<LogFormat> parseLogFormat(std::string_view text);

spdlog::level::level_enum toSpdlog(LogLevel level);

struct LoggingOptions {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kText;
  // Where lines go; empty means stderr. Tests pass a capturing sink (e.g.
  // spdlog::sinks::ostream_sink_mt).
  std::vector<spdlog::sink_ptr> sinks;
};

// The logging flags every daemon shares.
struct LoggingFlags {
  std::string loggingLevel;  // --logging_level, default "info".
  std::string logFormat;     // --log_format, default "text".

  // Declares both flags on `flags`, with validators, storing into this
  // object (which must outlive `flags`).
  void declare(Flags& flags);

  // Precondition: the flags parsed successfully (so both values are valid).
  LoggingOptions options() const;
};

// Sets the level, format and sinks of every component logger, present and
// future. Call once at start, before other threads log; calling it again
// (tests) replaces the previous settings.
void initLogging(LoggingOptions options);

// Changes the level of every component logger at run time (e.g. from an
// HTTP endpoint or a signal handler posted to the loop). Thread-safe.
void setLogLevel(LogLevel level);

// The logger for `component`, created on first use with the current
// settings. Thread-safe; cache the result in hot paths.
std::shared_ptr<spdlog::logger> logger(std::string_view component);

// Logs `message` with structured fields (a JSON object): JSON lines carry
// them as top-level keys, text lines as " key=value" after the message.
// Keys that clash with ts/level/component/msg get a trailing '_'.
void logFields(spdlog::logger& logger, LogLevel level, std::string_view message,
               const nlohmann::json& fields);

}  // namespace agora
