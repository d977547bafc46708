#include "workflow.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "agora/common/id.hpp"

namespace agora::examples {

namespace {

Status invalid(const std::string& step, const std::string& why) {
  return Status::InvalidArgument(step.empty() ? why : "Step '" + step + "': " + why);
}

Result<WorkflowStep> parseStep(const nlohmann::json& json) {
  WorkflowStep step;
  if (!json.is_object()) return invalid("", "every step must be an object");
  if (!json.contains("name") || !json["name"].is_string()) return invalid("", "a step has no \"name\"");
  step.name = json["name"].get<std::string>();
  if (Status valid = validateId(step.name, "step name"); !valid.ok()) return invalid(step.name, valid.message());
  if (!json.contains("command") || !json["command"].is_string() || json["command"].get<std::string>().empty()) {
    return invalid(step.name, "no \"command\"");
  }
  step.command = json["command"].get<std::string>();
  if (json.contains("deps")) {
    if (!json["deps"].is_array()) return invalid(step.name, "\"deps\" must be a list of step names");
    for (const auto& dep : json["deps"]) {
      if (!dep.is_string()) return invalid(step.name, "\"deps\" must be a list of step names");
      step.deps.push_back(dep.get<std::string>());
    }
  }
  for (auto [key, target, lo, hi] : {std::tuple{"fanout", &step.fanout, 1, 1000}, {"retries", &step.retries, 0, 100}}) {
    if (!json.contains(key)) continue;
    if (!json[key].is_number_integer() || json[key].get<int64_t>() < lo || json[key].get<int64_t>() > hi) {
      return invalid(step.name, std::string("\"") + key + "\" must be an integer from " + std::to_string(lo) +
                                    " to " + std::to_string(hi));
    }
    *target = json[key].get<int64_t>();
  }
  if (json.contains("resources")) {
    if (!json["resources"].is_string()) return invalid(step.name, "\"resources\" must be text like 'cpus:1;mem:64'");
    Result<sdk::TaskRequest> request = sdk::TaskRequest::parse(json["resources"].get<std::string>());
    if (!request.ok()) return invalid(step.name, request.error().message());
    step.resources = *request;
  }
  return step;
}

}  // namespace

Result<Workflow> Workflow::parse(std::string_view text) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded()) return Status::InvalidArgument("The workflow is not valid JSON");
  if (!json.is_object() || !json.contains("steps") || !json["steps"].is_array() || json["steps"].empty()) {
    return Status::InvalidArgument("The workflow needs a non-empty \"steps\" list");
  }
  std::map<std::string, WorkflowStep> byName;
  std::vector<std::string> order;  // As written, for a stable result.
  for (const auto& entry : json["steps"]) {
    AGORA_ASSIGN_OR_RETURN(WorkflowStep step, parseStep(entry));
    if (byName.count(step.name)) return invalid(step.name, "defined twice");
    order.push_back(step.name);
    byName[step.name] = std::move(step);
  }
  for (const auto& [name, step] : byName) {
    for (const std::string& dep : step.deps) {
      if (!byName.count(dep)) return invalid(name, "depends on unknown step '" + dep + "'");
    }
  }
  // Depth-first topological order; a step met again while on the path is a cycle.
  Workflow workflow;
  std::set<std::string> done, onPath;
  std::function<Status(const std::string&)> visit = [&](const std::string& name) -> Status {
    if (done.count(name)) return Status::OK();
    if (onPath.count(name)) return invalid(name, "is part of a dependency cycle");
    onPath.insert(name);
    for (const std::string& dep : byName[name].deps) AGORA_RETURN_IF_ERROR(visit(dep));
    onPath.erase(name);
    done.insert(name);
    workflow.steps.push_back(byName[name]);
    return Status::OK();
  };
  for (const std::string& name : order) AGORA_RETURN_IF_ERROR(visit(name));
  return workflow;
}

Result<Workflow> Workflow::load(const std::string& path) {
  std::ifstream file(path);
  if (!file) return Status::IoError("Cannot read the workflow file '" + path + "'");
  std::stringstream text;
  text << file.rdbuf();
  Result<Workflow> workflow = parse(text.str());
  if (!workflow.ok()) return workflow.error().withContext("Invalid workflow file '" + path + "'");
  return workflow;
}

}  // namespace agora::examples
