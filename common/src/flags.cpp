#include "agora/common/flags.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "agora/common/check.hpp"
#include "agora/common/id.hpp"

extern char** environ;

namespace agora {

namespace {

std::string_view trim(std::string_view text) {
  const char* space = " \t\r\n";
  size_t begin = text.find_first_not_of(space);
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(space) - begin + 1);
}

bool validName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

Result<std::string> readFile(const std::string& path) {
  auto error = [&](int code) {
    return Status::IoError(fmt::format("Failed to read config file '{}': {}", quoteForLog(path),
                                       std::strerror(code)));
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return error(errno);
  std::string content;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int code = errno;
      ::close(fd);
      return error(code);
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return content;
}

// One name=value assignment found in a source, before it is applied.
struct Assignment {
  std::string name;
  std::string value;
  std::string where;  // "the command line", "config file 'x' line 3"...
};

}  // namespace

Flags::Flags(std::string program, std::string envPrefix)
    : program_(std::move(program)), envPrefix_(std::move(envPrefix)) {
  add(&config_, "config",
      "A file of flags: a JSON object {\"name\": value} or lines of name=value ('#' starts a "
      "comment line). The command line and the environment override it",
      std::string());
}

void Flags::declare(Flag flag) {
  AGORA_CHECK(validName(flag.name), flag.name.c_str());
  AGORA_CHECK(flags_.count(flag.name) == 0, flag.name.c_str());
  std::string name = flag.name;
  flags_.emplace(std::move(name), std::move(flag));
}

Flags::Flag& Flags::find(std::string_view name) {
  auto it = flags_.find(name);
  AGORA_CHECK(it != flags_.end(), std::string(name).c_str());
  return it->second;
}

const Flags::Flag& Flags::find(std::string_view name) const {
  return const_cast<Flags*>(this)->find(name);
}

Status Flags::assign(Flag& flag, std::string_view text, FlagSource source, std::string_view where) {
  Status status = flag.set(text);
  if (!status.ok()) {
    return Status::InvalidArgument(fmt::format("Invalid value '{}' for flag --{} from {}: {}",
                                               quoteForLog(text), flag.name, where,
                                               status.message()));
  }
  flag.source = source;
  return Status::OK();
}

Status Flags::unknownFlag(std::string_view name, std::string_view where) const {
  std::string message = fmt::format("Unknown flag --{} from {}", quoteForLog(name), where);
  const Flag* closest = nullptr;
  size_t best = 3;  // Suggest only near misses.
  for (const auto& [candidate, flag] : flags_) {
    size_t distance = editDistance(name, candidate);
    if (distance < best) {
      best = distance;
      closest = &flag;
    }
  }
  if (closest != nullptr) message += fmt::format(" (did you mean --{}?)", closest->name);
  return Status::InvalidArgument(message);
}

Status Flags::parse(int argc, const char* const* argv) {
  std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    size_t eq = text.find('=');
    if (eq == std::string_view::npos || !text.starts_with(envPrefix_)) continue;
    env.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  return parse(args, env);
}

Status Flags::parse(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  static constexpr std::string_view kCommandLine = "the command line";

  // 1. Read the command line into assignments, applied last.
  std::vector<Assignment> commandLine;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--") {
      positionals_.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      return Status::OK();
    }
    if (!arg.starts_with("--")) {
      return Status::InvalidArgument(fmt::format(
          "Unexpected argument '{}' on the command line (flags look like --name=value)", quoteForLog(arg)));
    }
    arg.remove_prefix(2);
    size_t eq = arg.find('=');
    std::string name(arg.substr(0, eq));
    std::optional<std::string> value;
    if (eq != std::string_view::npos) value = std::string(arg.substr(eq + 1));

    auto it = flags_.find(name);
    if (it == flags_.end() && name.starts_with("no-")) {
      auto negated = flags_.find(std::string_view(name).substr(3));
      if (negated != flags_.end() && negated->second.isBool) {
        if (value) {
          return Status::InvalidArgument(
              fmt::format("Flag --{} takes no value on the command line", quoteForLog(name)));
        }
        name = negated->first;
        value = "false";
        it = negated;
      }
    }
    if (it == flags_.end()) return unknownFlag(name, kCommandLine);
    if (!value && it->second.isBool) value = "true";
    if (!value) {
      // "--name value": the next argument, unless it is missing or a flag.
      if (i + 1 >= args.size() || std::string_view(args[i + 1]).starts_with("--")) {
        return Status::InvalidArgument(
            fmt::format("Flag --{} needs a value on the command line", name));
      }
      value = args[++i];
    }
    for (const Assignment& earlier : commandLine) {
      if (earlier.name == name) {
        return Status::InvalidArgument(
            fmt::format("Flag --{} is given more than once on the command line", name));
      }
    }
    commandLine.push_back({name, *value, std::string(kCommandLine)});
  }

  // 2. The config file, named on the command line or in the environment.
  std::string configPath;
  std::string configEnv = envPrefix_ + "CONFIG";
  for (const Assignment& assignment : commandLine) {
    if (assignment.name == "config") configPath = assignment.value;
  }
  if (configPath.empty() && env.count(configEnv) > 0) configPath = env.at(configEnv);
  if (!configPath.empty()) AGORA_RETURN_IF_ERROR(loadConfigFile(configPath));

  // 3. The environment.
  for (auto& [name, flag] : flags_) {
    std::string variable = envPrefix_ + name;
    std::transform(variable.begin(), variable.end(), variable.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    auto it = env.find(variable);
    if (it == env.end()) continue;
    AGORA_RETURN_IF_ERROR(
        assign(flag, it->second, FlagSource::kEnvironment, "environment variable " + variable));
  }

  // 4. The command line.
  for (const Assignment& assignment : commandLine) {
    AGORA_RETURN_IF_ERROR(
        assign(find(assignment.name), assignment.value, FlagSource::kCommandLine, assignment.where));
  }
  return Status::OK();
}

Status Flags::loadConfigFile(const std::string& path) {
  AGORA_ASSIGN_OR_RETURN(std::string content, readFile(path));
  std::string file = fmt::format("config file '{}'", quoteForLog(path));
  std::vector<Assignment> assignments;

  if (trim(content).starts_with("{")) {
    nlohmann::json object;
    try {
      object = nlohmann::json::parse(content);
    } catch (const nlohmann::json::exception& e) {
      return Status::InvalidArgument(fmt::format("Failed to parse {} as JSON: {}", file, e.what()));
    }
    if (!object.is_object()) {
      return Status::InvalidArgument(fmt::format("Failed to parse {}: expected one JSON object", file));
    }
    for (const auto& [name, value] : object.items()) {
      std::string text;
      if (value.is_string()) {
        text = value.get<std::string>();
      } else if (value.is_boolean() || value.is_number()) {
        text = value.dump();
      } else if ((value.is_array() || value.is_object()) && flags_.count(name) > 0 &&
                 find(name).typeName == "STRING") {
        text = value.dump();  // E.g. --resources as a JSON array, kept as its text.
      } else {
        return Status::InvalidArgument(fmt::format(
            "Invalid value for flag --{} from {}: expected a string, number or boolean",
            quoteForLog(name), file));
      }
      assignments.push_back({name, std::move(text), file});
    }
  } else {
    std::string_view rest = content;
    for (int line = 1; !rest.empty(); ++line) {
      size_t newline = rest.find('\n');
      std::string_view text = trim(rest.substr(0, newline));
      rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
      if (text.empty() || text.starts_with('#')) continue;
      std::string where = fmt::format("{} line {}", file, line);
      size_t eq = text.find('=');
      if (eq == std::string_view::npos) {
        return Status::InvalidArgument(
            fmt::format("Expected name=value, found '{}', in {}", quoteForLog(text), where));
      }
      std::string_view name = trim(text.substr(0, eq));
      if (name.starts_with("--")) name.remove_prefix(2);
      assignments.push_back({std::string(name), std::string(trim(text.substr(eq + 1))), where});
    }
  }

  for (const Assignment& assignment : assignments) {
    if (assignment.name == "config") {
      return Status::InvalidArgument(
          fmt::format("Flag --config cannot be set from {}", assignment.where));
    }
    if (flags_.count(assignment.name) == 0) return unknownFlag(assignment.name, assignment.where);
    AGORA_RETURN_IF_ERROR(
        assign(find(assignment.name), assignment.value, FlagSource::kConfigFile, assignment.where));
  }
  return Status::OK();
}

std::string Flags::usage() const {
  std::string out = fmt::format(
      "Usage: {} [--name=value ...]\n\n"
      "Each flag can also be set as the environment variable {}<NAME> (upper case) or in the\n"
      "file named by --config. The command line wins over the environment, which wins over the\n"
      "config file, which wins over the default.\n\n",
      program_, envPrefix_);
  for (const auto& [name, flag] : flags_) {
    std::string syntax = flag.isBool ? fmt::format("--[no-]{}", name)
                                     : fmt::format("--{}={}", name, flag.typeName);
    std::string defaultText = flag.defaultText.empty() ? "none" : flag.defaultText;
    out += fmt::format("  {}\n      {} (default: {})\n", syntax, flag.help, defaultText);
  }
  out += "  --help\n      Print this help and exit\n";
  return out;
}

nlohmann::json Flags::toJson() const {
  nlohmann::json values = nlohmann::json::object();
  nlohmann::json sources = nlohmann::json::object();
  for (const auto& [name, flag] : flags_) {
    values[name] = flag.format();
    sources[name] = std::string(flagSourceName(flag.source));
  }
  return {{"flags", std::move(values)}, {"sources", std::move(sources)}};
}

std::string Flags::value(std::string_view name) const { return find(name).format(); }

FlagSource Flags::source(std::string_view name) const { return find(name).source; }

}  // namespace agora
