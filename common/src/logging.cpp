#include "agora/common/logging.hpp"

#include <algorithm>
#include <map>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "agora/common/clock.hpp"
#include "agora/common/flags.hpp"
#include "agora/common/id.hpp"

namespace agora {

namespace {

// The fields of the line being logged by this thread, set by logFields()
// around one synchronous logger call and read by the formatter.
thread_local const nlohmann::json* currentFields = nullptr;

std::string_view levelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warning";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

std::string_view withoutTrailingPeriod(std::string_view message) {
  // Drop one period, but keep an ellipsis (quoteForLog ends cut text with "...").
  if (message.ends_with('.') && !message.ends_with("..")) message.remove_suffix(1);
  return message;
}

std::string dumpJson(const nlohmann::ordered_json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

class AgoraFormatter final : public spdlog::formatter {
 public:
  explicit AgoraFormatter(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string_view message = withoutTrailingPeriod(std::string_view(msg.payload.data(), msg.payload.size()));
    std::string_view component(msg.logger_name.data(), msg.logger_name.size());
    std::string ts = formatIso8601(msg.time);
    std::string line;
    if (format_ == LogFormat::kJson) {
      nlohmann::ordered_json json = {{"ts", ts},
                                     {"level", levelName(msg.level)},
                                     {"component", component},
                                     {"msg", message}};
      if (currentFields != nullptr && currentFields->is_object()) {
        for (const auto& [key, value] : currentFields->items()) {
          std::string name = key;
          while (json.contains(name)) name += '_';
          json[name] = value;
        }
      }
      line = dumpJson(json);
    } else {
      std::string level(levelName(msg.level));
      std::transform(level.begin(), level.end(), level.begin(), ::toupper);
      line = fmt::format("{} {} {}: {}", ts, level, component, message);
      if (currentFields != nullptr && currentFields->is_object()) {
        for (const auto& [key, value] : currentFields->items()) {
          bool plain = value.is_string() &&
                       value.get_ref<const std::string&>().find_first_of(" \"=\\") == std::string::npos;
          line += fmt::format(" {}={}", key, plain ? value.get<std::string>() : dumpJson(value));
        }
      }
    }
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<AgoraFormatter>(format_);
  }

 private:
  LogFormat format_;
};

// Settings and loggers shared by every component.
struct Registry {
  std::mutex mutex;
  // Guarded by mutex.
  std::vector<spdlog::sink_ptr> sinks;
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
  spdlog::level::level_enum level = spdlog::level::info;

  Registry() {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_formatter(std::make_unique<AgoraFormatter>(LogFormat::kText));
    sinks.push_back(std::move(sink));
  }
};

Registry& registry() {
  static Registry* instance = new Registry();  // Never destroyed: loggers may log at exit.
  return *instance;
}

}  // namespace

Result<LogLevel> parseLogLevel(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (lower == "trace") return LogLevel::kTrace;
  if (lower == "debug") return LogLevel::kDebug;
  if (lower == "info") return LogLevel::kInfo;
  if (lower == "warning" || lower == "warn") return LogLevel::kWarning;
  if (lower == "error") return LogLevel::kError;
  return Status::InvalidArgument(fmt::format(
      "Invalid logging level '{}': expected trace, debug, info, warning or error", quoteForLog(text)));
}

Result<LogFormat> parseLogFormat(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return Status::InvalidArgument(
      fmt::format("Invalid log format '{}': expected text or json", quoteForLog(text)));
}

spdlog::level::level_enum toSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return spdlog::level::trace;
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarning: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

void LoggingFlags::declare(Flags& flags) {
  flags.add(&loggingLevel, "logging_level",
            "Log lines at this level and above: trace, debug, info, warning or error",
            std::string("info"), parsesWith(&parseLogLevel));
  flags.add(&logFormat, "log_format",
            "text for human-readable lines, json for one JSON object a line", std::string("text"),
            parsesWith(&parseLogFormat));
}

LoggingOptions LoggingFlags::options() const {
  LoggingOptions options;
  options.level = parseLogLevel(loggingLevel).value();
  options.format = parseLogFormat(logFormat).value();
  return options;
}

void initLogging(LoggingOptions options) {
  Registry& r = registry();
  if (options.sinks.empty()) options.sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  for (const spdlog::sink_ptr& sink : options.sinks) {
    sink->set_formatter(std::make_unique<AgoraFormatter>(options.format));
  }
  std::lock_guard lock(r.mutex);
  r.sinks = std::move(options.sinks);
  r.level = toSpdlog(options.level);
  for (auto& [name, logger] : r.loggers) {
    logger->sinks() = r.sinks;
    logger->set_level(r.level);
  }
}

void setLogLevel(LogLevel level) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.level = toSpdlog(level);
  for (auto& [name, logger] : r.loggers) logger->set_level(r.level);
}

std::shared_ptr<spdlog::logger> logger(std::string_view component) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.loggers.find(component);
  if (it != r.loggers.end()) return it->second;
  auto created = std::make_shared<spdlog::logger>(std::string(component), r.sinks.begin(), r.sinks.end());
  created->set_level(r.level);
  created->flush_on(spdlog::level::warn);
  r.loggers.emplace(std::string(component), created);
  return created;
}

void logFields(spdlog::logger& logger, LogLevel level, std::string_view message,
               const nlohmann::json& fields) {
  const nlohmann::json* previous = currentFields;
  currentFields = &fields;
  logger.log(toSpdlog(level), spdlog::string_view_t(message.data(), message.size()));
  currentFields = previous;
}

}  // namespace agora
