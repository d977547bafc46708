// The agent's flags, their validation, and --attributes.

#include <cctype>
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

#include "agent_impl.hpp"
#include "agora/common/flags.hpp"
#include "agora/common/id.hpp"
#include "agora/common/role.hpp"
#include "agora/common/strings.hpp"

namespace agora::agent {
namespace {

bool validText(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '/' && c != '.' && c != '-') return false;
  }
  return true;
}

Result<uint64_t> parseUnsigned(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Status::InvalidArgument(fmt::format("'{}' is not a number", quoteForLog(text)));
  }
  return value;
}

// The set of isolation values this agent accepts. cgroups and namespaces
// values are accepted so that configurations stay valid when the
// containerizer provides them; what is really in use shows in /state.
const std::set<std::string, std::less<>>& knownIsolators() {
  static const std::set<std::string, std::less<>> known = {
      "posix", "posix/cpu", "posix/mem", "cgroups/cpu", "cgroups/mem", "cgroups/pids", "cgroups/all",
      "namespaces/pid", "filesystem/posix"};
  return known;
}

// A relative path of plain components, so that containers stay under it.
Status validateCgroupsRoot(std::string_view root) {
  if (root.empty() || root.front() == '/' || root.back() == '/') {
    return Status::InvalidArgument("Invalid --cgroups_root: a relative path such as 'agora' or 'agora/prod'");
  }
  for (std::string_view part : splitText(root, '/')) {
    if (part.empty() || part == "." || part == ".." || !validText(part)) {
      return Status::InvalidArgument(fmt::format(
          "Invalid --cgroups_root '{}': components are letters, digits, '_', '.' or '-'", quoteForLog(root)));
    }
  }
  return Status::OK();
}

Status validateCgroupsHierarchy(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return Status::InvalidArgument(fmt::format("Invalid --cgroups_hierarchy '{}': an absolute path such as "
                                               "/sys/fs/cgroup",
                                               quoteForLog(path)));
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<v1::Attribute>> parseAttributes(std::string_view text) {
  std::vector<v1::Attribute> attributes;
  if (text.empty()) return attributes;
  for (std::string_view item : splitText(text, ';')) {
    if (item.empty()) continue;
    auto invalid = [&](const std::string& why) {
      return Status::InvalidArgument(fmt::format("Invalid attribute '{}': {}", quoteForLog(item), why));
    };
    size_t colon = item.find(':');
    if (colon == std::string_view::npos) return invalid("expected NAME:VALUE");
    std::string_view name = item.substr(0, colon);
    std::string_view value = item.substr(colon + 1);
    if (!validText(name)) return invalid("the name must be letters, digits, '_', '/', '.' or '-'");
    if (value.empty()) return invalid("empty value");
    v1::Attribute attribute;
    attribute.set_name(std::string(name));
    if (value.front() == '[') {
      if (value.back() != ']') return invalid("a range list ends with ']'");
      attribute.set_type(v1::Value::RANGES);
      for (std::string_view range : splitText(value.substr(1, value.size() - 2), ',')) {
        size_t dash = range.find('-');
        if (dash == std::string_view::npos) return invalid("a range is BEGIN-END");
        auto begin = parseUnsigned(range.substr(0, dash));
        auto end = parseUnsigned(range.substr(dash + 1));
        if (!begin.ok() || !end.ok() || *begin > *end) return invalid("a range is BEGIN-END with BEGIN <= END");
        v1::Value::Range* r = attribute.mutable_ranges()->add_range();
        r->set_begin(*begin);
        r->set_end(*end);
      }
    } else if (value.front() == '{') {
      if (value.back() != '}') return invalid("a set ends with '}'");
      attribute.set_type(v1::Value::SET);
      for (std::string_view element : splitText(value.substr(1, value.size() - 2), ',')) {
        if (!validText(element)) return invalid("set items are letters, digits, '_', '/', '.' or '-'");
        attribute.mutable_set()->add_item(std::string(element));
      }
    } else {
      char* end = nullptr;
      std::string copy(value);
      double number = std::strtod(copy.c_str(), &end);
      bool numeric = end == copy.c_str() + copy.size() && (std::isdigit(static_cast<unsigned char>(copy[0])) ||
                                                            copy[0] == '-' || copy[0] == '.');
      if (numeric) {
        attribute.set_type(v1::Value::SCALAR);
        attribute.mutable_scalar()->set_value(number);
      } else {
        if (!validText(value)) return invalid("text is letters, digits, '_', '/', '.' or '-'");
        attribute.set_type(v1::Value::TEXT);
        attribute.mutable_text()->set_value(std::string(value));
      }
    }
    attributes.push_back(std::move(attribute));
  }
  return attributes;
}

void declareAgentFlags(Flags& flags, AgentOptions* o, const std::string& defaultLauncherDir) {
  flags.add(&o->master, "master", "The master's HTTP address, HOST:PORT", "");
  flags.add(&o->ip, "ip", "Address to listen on", "0.0.0.0");
  flags.add(&o->port, "port", "HTTP port to listen on", 5051, inRange<int64_t>(1, 65535));
  flags.add(&o->hostname, "hostname", "Hostname reported to the master (default: the system's)", "");
  flags.add(&o->workDir, "work_dir", "Where the agent keeps sandboxes and its checkpoint (required)", "");
  flags.add(&o->resources, "resources",
            "Resources of this agent, e.g. 'cpus:4;mem:2048;cpus(eng):2' or a JSON array or file://PATH; "
            "what is not named is detected",
            "", [](const std::string& value) {
              return value.empty() ? Status::OK() : Resources::parse(value).status();
            });
  flags.add(&o->attributes, "attributes", "Attributes passed to frameworks, e.g. 'rack:a;zone:west;level:10'",
            "", [](const std::string& value) { return parseAttributes(value).status(); });
  flags.add(&o->defaultRole, "default_role", "Role of resources given or detected without one", "*");
  flags.add(&o->isolation, "isolation",
            "Comma-separated isolators: posix, or any of cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid "
            "(the default; without root or cgroups the agent falls back to posix and says so)",
            "cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid");
  flags.add(&o->cgroupsRoot, "cgroups_root", "Cgroup (relative to each hierarchy) holding the containers",
            "agora", [](const std::string& value) { return validateCgroupsRoot(value); });
  flags.add(&o->cgroupsHierarchy, "cgroups_hierarchy",
            "Where the cgroups are mounted: a cgroup2 mount (v2), or the directory holding the v1 controller "
            "mounts",
            "/sys/fs/cgroup", [](const std::string& value) { return validateCgroupsHierarchy(value); });
  flags.add(&o->cgroupsEnableCfs, "cgroups_enable_cfs",
            "Cap every container's cpu time at its cpus request with a CFS quota (cgroups/cpu)", false);
  flags.add(&o->cgroupsPidsMax, "cgroups_pids_max", "pids.max of every container (cgroups/pids)", 4096,
            inRange<int64_t>(1, 4194304));
  flags.add(&o->recover, "recover",
            "reconnect: reattach to running executors after a restart; cleanup: kill them and start clean",
            "reconnect", oneOf({"reconnect", "cleanup"}));
  flags.add(&o->executorRegistrationTimeout, "executor_registration_timeout",
            "How long an executor may take to subscribe before its tasks fail", std::chrono::minutes(1));
  flags.add(&o->executorReregistrationTimeout, "executor_reregistration_timeout",
            "How long recovered executors may take to subscribe again after an agent restart",
            std::chrono::seconds(2));
  flags.add(&o->executorShutdownGracePeriod, "executor_shutdown_grace_period",
            "How long an executor may take to shut down before it is killed", std::chrono::seconds(5));
  flags.add(&o->registrationBackoffFactor, "registration_backoff_factor",
            "Initial upper bound of the random delay between registration attempts (doubling to 1mins); an "
            "agent restarted with its checkpointed ID makes its first reregistration attempt at once",
            std::chrono::seconds(1));
  flags.add(&o->recoveryTimeout, "recovery_timeout",
            "How long executors wait for a restarted agent before they exit", std::chrono::minutes(15));
  flags.add(&o->launcherDir, "launcher_dir", "Directory holding agora-executor", defaultLauncherDir);
}

Status validateAgentOptions(const AgentOptions& options) {
  if (options.workDir.empty()) return Status::InvalidArgument("--work_dir is required");
  if (Status s = validateRole(options.defaultRole); !s.ok()) return s.withContext("Invalid --default_role");
  if (!options.resources.empty()) {
    auto parsed = Resources::parse(options.resources, options.defaultRole);
    if (!parsed.ok()) return parsed.error().withContext("Invalid --resources");
  }
  if (auto attributes = parseAttributes(options.attributes); !attributes.ok()) {
    return attributes.error().withContext("Invalid --attributes");
  }
  for (std::string_view isolator : splitText(options.isolation, ',')) {
    if (!knownIsolators().count(isolator)) {
      return Status::InvalidArgument(fmt::format("Invalid --isolation: unknown isolator '{}'", quoteForLog(isolator)));
    }
  }
  AGORA_RETURN_IF_ERROR(validateCgroupsRoot(options.cgroupsRoot));
  AGORA_RETURN_IF_ERROR(validateCgroupsHierarchy(options.cgroupsHierarchy));
  if (options.recover != "reconnect" && options.recover != "cleanup") {
    return Status::InvalidArgument("Invalid --recover: must be reconnect or cleanup");
  }
  return Status::OK();
}

}  // namespace agora::agent
