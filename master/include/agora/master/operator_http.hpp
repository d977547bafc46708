#pragma once

// The master's operator HTTP surface (DESIGN.md "Operator surface";
// reference/mesos.md §3.1 and §3.4): the edge that parses requests and maps
// the Master library's answers to HTTP. All logic is in Master; this file
// only decodes bodies (under size and depth limits) and picks status codes.
//
//   GET    /state-summary             counts and resources, no task lists
//   GET    /roles                     per role: weight, quota, allocated, offered, reserved, share
//   GET    /weights                   [{"role": "eng", "weight": 2}]
//   PUT    /weights                   same shape                     200 | 400
//   GET    /quota                     {"configs": [QuotaConfig...]}
//   POST   /quota                     UpdateQuota {"force", "quota_configs"} or one QuotaConfig   200 | 400
//   DELETE /quota?role=R              removes R's quota              200 | 400
//   POST   /reserve, /unreserve       form slaveId=&resources=<JSON array>, or the JSON of
//                                     ReserveResources / UnreserveResources     202 | 400 | 404 | 409
//   POST   /teardown                  form frameworkId=, or {"framework_id": {"value": ...}}   200 | 404
//   GET    /allocator/explain?framework_id=F                         200 | 400 | 404
//   POST   /api/v1                    v1 operator Call JSON (GET_*, UPDATE_*, RESERVE_RESOURCES,
//                                     UNRESERVE_RESOURCES, TEARDOWN, MARK_AGENT_GONE, KILL_TASK)
//
// Every path is also served under /master/ (Mesos's legacy prefix).
// /api/v1 takes Content-Type application/json (415 otherwise) and answers
// JSON (406 when Accept rules it out); synchronous calls answer 200 with a
// Response, RESERVE/UNRESERVE_RESOURCES and KILL_TASK 202. Bad JSON, too
// deep, unknown fields or a missing body are 400 with a one-line reason.
//
// Threading: the daemon's loop (the Master's).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agora/common/http.hpp"
#include "agora/common/metrics.hpp"
#include "agora/master/master.hpp"

namespace agora::master {

class OperatorHttp {
 public:
  // `flags` answers GET_FLAGS (Flags::toJson()), `metrics` GET_METRICS (the
  // daemon's whole snapshot). All must outlive this object.
  OperatorHttp(Master& master, std::function<nlohmann::json()> flags, std::function<MetricsSnapshot()> metrics);

  // Registers every route on `server` (which must not outlive this object).
  void install(HttpServer& server);

  // Answers one request as the installed route would (404/405 for paths
  // and methods not listed above). Tests call it directly.
  HttpResponse handle(const HttpRequest& request);

  // Requests answered with a 4xx by these routes (master/http_invalid_requests).
  uint64_t invalidRequests() const { return invalidRequests_; }

 private:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  struct Route {
    std::string method;
    std::string path;
    Handler handler;
  };

  void add(const std::string& method, const std::string& path, Handler handler);
  HttpResponse counted(HttpResponse response);

  HttpResponse apiV1(const HttpRequest& request);
  HttpResponse putWeights(const HttpRequest& request);
  HttpResponse postQuota(const HttpRequest& request);
  HttpResponse deleteQuota(const HttpRequest& request);
  HttpResponse reserve(const HttpRequest& request, bool reserve);
  HttpResponse teardown(const HttpRequest& request);
  HttpResponse explain(const HttpRequest& request);

  Master& master_;
  std::function<nlohmann::json()> flags_;
  std::function<MetricsSnapshot()> metrics_;
  std::vector<Route> routes_;
  uint64_t invalidRequests_ = 0;
};

}  // namespace agora::master
