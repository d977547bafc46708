// The operator HTTP edge (operator_http.hpp): decode, call the Master,
// encode. Every body is untrusted: parsed with common's JSON limits.

#include "agora/master/operator_http.hpp"

#include <fmt/format.h>

#include "agora/common/id.hpp"
#include "agora/common/json.hpp"

namespace agora::master {

namespace {

using nlohmann::json;
using Call = v1::master::Call;
using Response = v1::master::Response;

// Operator requests are small: 1 MiB and 64 levels are plenty.
JsonParseOptions requestLimits() {
  JsonParseOptions options;
  options.maxBytes = 1024 * 1024;
  options.maxDepth = 64;
  return options;
}

HttpResponse protoResponse(int status, const google::protobuf::Message& message) {
  Result<json> body = toJsonValue(message);
  return body.ok() ? HttpResponse::json(status, *body) : HttpResponse::fromStatus(body.error());
}

// 200/202 with an empty body, or the error's status.
HttpResponse outcome(const Status& status, int success = 200) {
  return status.ok() ? HttpResponse::text(success, "") : HttpResponse::fromStatus(status);
}

bool isJson(const HttpRequest& request) {
  auto type = request.header("content-type");
  return type && type->substr(0, type->find(';')).find("json") != std::string_view::npos;
}

// Content negotiation for /api/v1: JSON only.
std::optional<HttpResponse> negotiate(const HttpRequest& request) {
  auto type = request.header("content-type");
  if (!type) return HttpResponse::error(415, "Expecting 'Content-Type' of application/json");
  std::string_view media = type->substr(0, type->find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (media != "application/json") {
    return HttpResponse::error(415, "Unsupported 'Content-Type' " + quoteForLog(std::string(media)) +
                                        "; only application/json");
  }
  if (auto accept = request.header("accept")) {
    if (accept->find("json") == std::string_view::npos && accept->find("*/*") == std::string_view::npos) {
      return HttpResponse::error(406, "Only application/json responses are available");
    }
  }
  return std::nullopt;
}

// Mesos's form fields (`resources=<JSON array of Resource>`).
Result<google::protobuf::RepeatedPtrField<v1::Resource>> resourcesFromJsonText(std::string_view text) {
  AGORA_ASSIGN_OR_RETURN(json array, parseJson(text, requestLimits()));
  if (!array.is_array()) return Status::InvalidArgument("'resources' must be a JSON array of Resource");
  google::protobuf::RepeatedPtrField<v1::Resource> out;
  for (size_t i = 0; i < array.size(); ++i) {
    Status s = fromJsonValue(array[i], out.Add(), requestLimits());
    if (!s.ok()) return s.withContext(fmt::format("Invalid resources[{}]", i));
  }
  return out;
}

Result<std::map<std::string, std::string, std::less<>>> formOf(const HttpRequest& request) {
  auto form = parseQuery(request.body);
  if (!form.ok()) return form.error().withContext("Invalid form body");
  return form;
}

std::string requireField(const std::map<std::string, std::string, std::less<>>& form,
                         std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (auto it = form.find(name); it != form.end()) return it->second;
  }
  return "";
}

}  // namespace

OperatorHttp::OperatorHttp(Master& master, std::function<json()> flags, std::function<MetricsSnapshot()> metrics)
    : master_(master), flags_(std::move(flags)), metrics_(std::move(metrics)) {
  auto json200 = [](json body) { return HttpResponse::json(200, body); };
  add("GET", "/state-summary", [this, json200](const HttpRequest&) { return json200(master_.stateSummaryJson()); });
  add("GET", "/roles", [this, json200](const HttpRequest&) { return json200(master_.rolesJson()); });
  add("GET", "/weights", [this](const HttpRequest&) {
    json out = json::array();
    for (const auto& weight : master_.weights()) out.push_back({{"role", weight.role()}, {"weight", weight.weight()}});
    return HttpResponse::json(200, out);
  });
  add("PUT", "/weights", [this](const HttpRequest& r) { return putWeights(r); });
  add("GET", "/quota", [this](const HttpRequest&) { return protoResponse(200, master_.quota()); });
  add("POST", "/quota", [this](const HttpRequest& r) { return postQuota(r); });
  add("DELETE", "/quota", [this](const HttpRequest& r) { return deleteQuota(r); });
  add("POST", "/reserve", [this](const HttpRequest& r) { return reserve(r, true); });
  add("POST", "/unreserve", [this](const HttpRequest& r) { return reserve(r, false); });
  add("POST", "/teardown", [this](const HttpRequest& r) { return teardown(r); });
  add("GET", "/allocator/explain", [this](const HttpRequest& r) { return explain(r); });
  add("POST", "/api/v1", [this](const HttpRequest& r) { return apiV1(r); });
}

void OperatorHttp::add(const std::string& method, const std::string& path, Handler handler) {
  Handler wrapped = [this, handler = std::move(handler)](const HttpRequest& request) {
    return counted(handler(request));
  };
  routes_.push_back(Route{method, path, wrapped});
  routes_.push_back(Route{method, "/master" + path, wrapped});
}

HttpResponse OperatorHttp::counted(HttpResponse response) {
  if (response.status >= 400 && response.status < 500) ++invalidRequests_;
  return response;
}

void OperatorHttp::install(HttpServer& server) {
  for (const Route& route : routes_) server.route(route.method, route.path, route.handler);
}

HttpResponse OperatorHttp::handle(const HttpRequest& request) {
  bool pathKnown = false;
  for (const Route& route : routes_) {
    if (route.path != request.path) continue;
    pathKnown = true;
    if (route.method == request.method) return route.handler(request);
  }
  return counted(HttpResponse::error(pathKnown ? 405 : 404, pathKnown ? "Method not allowed" : "No such endpoint"));
}

// --- Legacy endpoints -------------------------------------------------------------------

HttpResponse OperatorHttp::putWeights(const HttpRequest& request) {
  auto body = parseJson(request.body, requestLimits());
  if (!body.ok()) return HttpResponse::fromStatus(body.error().withContext("Invalid weights"));
  if (!body->is_array()) return HttpResponse::error(400, R"(Expecting a JSON array [{"role": "r", "weight": 2}])");
  google::protobuf::RepeatedPtrField<v1::WeightInfo> weights;
  for (size_t i = 0; i < body->size(); ++i) {
    Status s = fromJsonValue((*body)[i], weights.Add(), requestLimits());
    if (!s.ok()) return HttpResponse::fromStatus(s.withContext(fmt::format("Invalid weights[{}]", i)));
  }
  return outcome(master_.updateWeights(weights));
}

HttpResponse OperatorHttp::postQuota(const HttpRequest& request) {
  auto body = parseJson(request.body, requestLimits());
  if (!body.ok()) return HttpResponse::fromStatus(body.error().withContext("Invalid quota"));
  Call::UpdateQuota update;
  Status s;
  if (body->is_object() && body->contains("role")) {
    s = fromJsonValue(*body, update.add_quota_configs(), requestLimits());  // One QuotaConfig.
  } else {
    s = fromJsonValue(*body, &update, requestLimits());
  }
  if (!s.ok()) return HttpResponse::fromStatus(s.withContext("Invalid quota"));
  return outcome(master_.updateQuota(update));
}

HttpResponse OperatorHttp::deleteQuota(const HttpRequest& request) {
  auto role = request.queryParam("role");
  if (!role || role->empty()) return HttpResponse::error(400, "Missing query parameter 'role'");
  Call::UpdateQuota update;
  update.add_quota_configs()->set_role(std::string(*role));
  update.set_force(true);
  return outcome(master_.updateQuota(update));
}

HttpResponse OperatorHttp::reserve(const HttpRequest& request, bool isReserve) {
  const char* what = isReserve ? "reserve" : "unreserve";
  Call call;
  if (isJson(request)) {
    Status s = isReserve ? fromJson(request.body, call.mutable_reserve_resources(), requestLimits())
                         : fromJson(request.body, call.mutable_unreserve_resources(), requestLimits());
    if (!s.ok()) return HttpResponse::fromStatus(s.withContext(fmt::format("Invalid {} request", what)));
  } else {
    auto form = formOf(request);
    if (!form.ok()) return HttpResponse::fromStatus(form.error());
    std::string agentId = requireField(*form, {"slaveId", "agentId", "agent_id"});
    if (agentId.empty()) return HttpResponse::error(400, "Missing 'slaveId'");
    std::string text = requireField(*form, {"resources"});
    if (text.empty()) return HttpResponse::error(400, "Missing 'resources'");
    auto resources = resourcesFromJsonText(text);
    if (!resources.ok()) return HttpResponse::fromStatus(resources.error().withContext("Invalid 'resources'"));
    if (isReserve) {
      call.mutable_reserve_resources()->mutable_agent_id()->set_value(agentId);
      *call.mutable_reserve_resources()->mutable_resources() = *resources;
    } else {
      call.mutable_unreserve_resources()->mutable_agent_id()->set_value(agentId);
      *call.mutable_unreserve_resources()->mutable_resources() = *resources;
    }
  }
  return outcome(isReserve ? master_.reserveResources(call.reserve_resources())
                           : master_.unreserveResources(call.unreserve_resources()),
                 202);
}

HttpResponse OperatorHttp::teardown(const HttpRequest& request) {
  std::string frameworkId;
  if (isJson(request)) {
    Call::Teardown teardown;
    if (Status s = fromJson(request.body, &teardown, requestLimits()); !s.ok()) {
      return HttpResponse::fromStatus(s.withContext("Invalid teardown request"));
    }
    frameworkId = teardown.framework_id().value();
  } else {
    auto form = formOf(request);
    if (!form.ok()) return HttpResponse::fromStatus(form.error());
    frameworkId = requireField(*form, {"frameworkId", "framework_id"});
  }
  if (frameworkId.empty()) return HttpResponse::error(400, "Missing 'frameworkId'");
  return outcome(master_.teardown(frameworkId));
}

HttpResponse OperatorHttp::explain(const HttpRequest& request) {
  auto id = request.queryParam("framework_id");
  if (!id || id->empty()) return HttpResponse::error(400, "Missing query parameter 'framework_id'");
  auto explanation = master_.explain(std::string(*id));
  return explanation.ok() ? HttpResponse::json(200, *explanation) : HttpResponse::fromStatus(explanation.error());
}

// --- /api/v1 --------------------------------------------------------------------------

HttpResponse OperatorHttp::apiV1(const HttpRequest& request) {
  if (auto refused = negotiate(request)) return *refused;
  Call call;
  if (Status s = fromJson(request.body, &call, requestLimits()); !s.ok()) {
    return HttpResponse::fromStatus(s.withContext("Failed to parse the operator call"));
  }
  auto missing = [&](const char* field) {
    return HttpResponse::error(400, fmt::format("Expecting '{}' to be present for {}", field, Call::Type_Name(call.type())));
  };
  Response response;
  switch (call.type()) {
    case Call::GET_HEALTH:
      response.set_type(Response::GET_HEALTH);
      response.mutable_get_health()->set_healthy(true);
      break;
    case Call::GET_VERSION: {
      response.set_type(Response::GET_VERSION);
      response.mutable_get_version()->mutable_version_info()->set_version(master_.masterInfo().version());
      break;
    }
    case Call::GET_FLAGS: {
      response.set_type(Response::GET_FLAGS);
      json flags = flags_ ? flags_() : json::object();
      if (flags.contains("flags")) {
        for (const auto& [name, value] : flags["flags"].items()) {
          v1::Flag* flag = response.mutable_get_flags()->add_flags();
          flag->set_name(name);
          flag->set_value(value.is_string() ? value.get<std::string>() : value.dump());
        }
      }
      break;
    }
    case Call::GET_METRICS: {
      response.set_type(Response::GET_METRICS);
      for (const auto& [name, value] : metrics_ ? metrics_() : MetricsSnapshot()) {
        v1::Metric* metric = response.mutable_get_metrics()->add_metrics();
        metric->set_name(name);
        metric->set_value(value);
      }
      break;
    }
    case Call::GET_MASTER: {
      response.set_type(Response::GET_MASTER);
      *response.mutable_get_master()->mutable_master_info() = master_.masterInfo();
      break;
    }
    case Call::GET_STATE: {
      response.set_type(Response::GET_STATE);
      auto* state = response.mutable_get_state();
      *state->mutable_get_tasks() = master_.getTasks();
      *state->mutable_get_executors() = master_.getExecutors();
      *state->mutable_get_frameworks() = master_.getFrameworks();
      *state->mutable_get_agents() = master_.getAgents();
      break;
    }
    case Call::GET_AGENTS:
      response.set_type(Response::GET_AGENTS);
      *response.mutable_get_agents() = master_.getAgents();
      break;
    case Call::GET_FRAMEWORKS:
      response.set_type(Response::GET_FRAMEWORKS);
      *response.mutable_get_frameworks() = master_.getFrameworks();
      break;
    case Call::GET_EXECUTORS:
      response.set_type(Response::GET_EXECUTORS);
      *response.mutable_get_executors() = master_.getExecutors();
      break;
    case Call::GET_OPERATIONS:
      // Operations are not tracked beyond their offers (no operation
      // feedback yet): always the empty list, in Mesos's shape.
      response.set_type(Response::GET_OPERATIONS);
      response.mutable_get_operations();
      break;
    case Call::GET_TASKS:
      response.set_type(Response::GET_TASKS);
      *response.mutable_get_tasks() = master_.getTasks();
      break;
    case Call::GET_ROLES:
      response.set_type(Response::GET_ROLES);
      *response.mutable_get_roles() = master_.getRoles();
      break;
    case Call::GET_WEIGHTS:
      response.set_type(Response::GET_WEIGHTS);
      for (const auto& weight : master_.weights()) *response.mutable_get_weights()->add_weight_infos() = weight;
      break;
    case Call::GET_QUOTA:
      response.set_type(Response::GET_QUOTA);
      *response.mutable_get_quota()->mutable_status() = master_.quota();
      break;
    case Call::UPDATE_WEIGHTS:
      if (!call.has_update_weights()) return missing("update_weights");
      return outcome(master_.updateWeights(call.update_weights().weight_infos()));
    case Call::UPDATE_QUOTA:
      if (!call.has_update_quota()) return missing("update_quota");
      return outcome(master_.updateQuota(call.update_quota()));
    case Call::RESERVE_RESOURCES:
      if (!call.has_reserve_resources()) return missing("reserve_resources");
      return outcome(master_.reserveResources(call.reserve_resources()), 202);
    case Call::UNRESERVE_RESOURCES:
      if (!call.has_unreserve_resources()) return missing("unreserve_resources");
      return outcome(master_.unreserveResources(call.unreserve_resources()), 202);
    case Call::TEARDOWN:
      if (!call.has_teardown()) return missing("teardown");
      return outcome(master_.teardown(call.teardown().framework_id().value()));
    case Call::MARK_AGENT_GONE:
      if (!call.has_mark_agent_gone()) return missing("mark_agent_gone");
      return outcome(master_.markAgentGone(call.mark_agent_gone().agent_id().value()));
    case Call::DEACTIVATE_AGENT:
      if (!call.has_deactivate_agent()) return missing("deactivate_agent");
      return outcome(master_.deactivateAgent(call.deactivate_agent().agent_id().value()));
    case Call::REACTIVATE_AGENT:
      if (!call.has_reactivate_agent()) return missing("reactivate_agent");
      return outcome(master_.reactivateAgent(call.reactivate_agent().agent_id().value()));
    case Call::KILL_TASK:
      if (!call.has_kill_task()) return missing("kill_task");
      return outcome(master_.killTask(call.kill_task().framework_id().value(), call.kill_task().task_id().value()),
                     202);
    case Call::UNKNOWN:
      return HttpResponse::error(400, "Expecting 'type' to be present");
    default:
      return HttpResponse::error(400, "Call " + Call::Type_Name(call.type()) + " is not supported yet");
  }
  return protoResponse(200, response);
}

}  // namespace agora::master
