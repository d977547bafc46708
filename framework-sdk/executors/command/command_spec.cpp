#include "command_spec.hpp"

#include <unistd.h>

namespace agora::sdk {

namespace {

// Looked up before fork, where allocating is still allowed.
std::string resolveProgram(const std::string& program, const std::vector<std::string>& environment) {
  if (program.empty() || program.find('/') != std::string::npos) return program;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& variable : environment) {
    if (variable.rfind("PATH=", 0) == 0) path = variable.substr(5);
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return program;  // exec fails, and the caller reports it.
}

}  // namespace

ProcessSpec commandSpec(const v1::CommandInfo& command, std::vector<std::string> base, const std::string& directory) {
  ProcessSpec spec;
  spec.environment = std::move(base);
  if (command.has_environment()) {
    for (const v1::Environment::Variable& variable : command.environment().variables()) {
      if (variable.type() != v1::Environment::Variable::VALUE) continue;
      std::string prefix = variable.name() + "=";
      std::erase_if(spec.environment, [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
      spec.environment.push_back(prefix + variable.value());
    }
  }
  if (command.shell()) {
    spec.path = "/bin/sh";
    spec.argv = {"sh", "-c", command.value()};
  } else {
    spec.path = resolveProgram(command.value(), spec.environment);
    spec.argv.assign(command.arguments().begin(), command.arguments().end());
    if (spec.argv.empty()) spec.argv.push_back(command.value());
  }
  spec.workingDirectory = directory;
  return spec;
}

}  // namespace agora::sdk
