#include <cstdlib>
#include <string>

#include "agora/common/id.hpp"
#include "agora/executor.hpp"

extern char** environ;

namespace agora::sdk {

namespace {

using Variables = std::map<std::string, std::string>;

Result<std::string> required(const Variables& variables, const std::string& name) {
  auto it = variables.find(name);
  if (it == variables.end() || it->second.empty()) {
    return Status::InvalidArgument("Missing environment variable " + name + " (the agent sets it)");
  }
  return it->second;
}

// parseDuration() text, or a plain number of seconds.
Result<Duration> durationVariable(const Variables& variables, const std::string& name, Duration fallback) {
  auto it = variables.find(name);
  if (it == variables.end() || it->second.empty()) return fallback;
  Result<Duration> parsed = parseDuration(it->second);
  if (parsed.ok()) return parsed;
  const std::string& text = it->second;
  char* end = nullptr;
  double seconds = std::strtod(text.c_str(), &end);
  if (end != text.c_str() && *end == '\0' && seconds >= 0 && seconds < 1e9) {
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
  }
  return Status::InvalidArgument("Invalid " + name + " '" + quoteForLog(text) + "': " + parsed.error().message());
}

Result<bool> boolVariable(const Variables& variables, const std::string& name) {
  auto it = variables.find(name);
  if (it == variables.end() || it->second.empty()) return false;
  const std::string& v = it->second;
  if (v == "1" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "false" || v == "FALSE" || v == "False") return false;
  return Status::InvalidArgument("Invalid " + name + " '" + quoteForLog(v) + "': expected true or false");
}

}  // namespace

Result<ExecutorEnvironment> ExecutorEnvironment::fromMap(const Variables& variables) {
  ExecutorEnvironment env;
  AGORA_ASSIGN_OR_RETURN(env.agentEndpoint, required(variables, "AGORA_AGENT_ENDPOINT"));
  AGORA_ASSIGN_OR_RETURN(std::string frameworkId, required(variables, "AGORA_FRAMEWORK_ID"));
  AGORA_ASSIGN_OR_RETURN(std::string executorId, required(variables, "AGORA_EXECUTOR_ID"));
  AGORA_RETURN_IF_ERROR(validateId(frameworkId, "framework ID").withContext("AGORA_FRAMEWORK_ID"));
  AGORA_RETURN_IF_ERROR(validateId(executorId, "executor ID").withContext("AGORA_EXECUTOR_ID"));
  env.frameworkId.set_value(frameworkId);
  env.executorId.set_value(executorId);
  if (auto it = variables.find("AGORA_DIRECTORY"); it != variables.end()) env.directory = it->second;
  AGORA_ASSIGN_OR_RETURN(env.checkpoint, boolVariable(variables, "AGORA_CHECKPOINT"));
  AGORA_ASSIGN_OR_RETURN(env.recoveryTimeout,
                         durationVariable(variables, "AGORA_RECOVERY_TIMEOUT", env.recoveryTimeout));
  AGORA_ASSIGN_OR_RETURN(env.subscriptionBackoffMax, durationVariable(variables, "AGORA_SUBSCRIPTION_BACKOFF_MAX",
                                                                      env.subscriptionBackoffMax));
  AGORA_ASSIGN_OR_RETURN(env.shutdownGracePeriod, durationVariable(variables, "AGORA_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
                                                                   env.shutdownGracePeriod));
  return env;
}

Result<ExecutorEnvironment> ExecutorEnvironment::fromProcess() {
  Variables variables;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string text(*entry);
    if (text.rfind("AGORA_", 0) != 0) continue;
    size_t eq = text.find('=');
    if (eq == std::string::npos) continue;
    variables[text.substr(0, eq)] = text.substr(eq + 1);
  }
  return fromMap(variables);
}

}  // namespace agora::sdk
