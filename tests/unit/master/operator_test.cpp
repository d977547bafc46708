// The operator API on the in-process harness: every request goes through
// OperatorHttp::handle (the same handlers agora-master serves), so these
// tests cover the HTTP parsing at the edge and the Master's logic.

#include "agora/common/json.hpp"
#include "agora/master/operator_http.hpp"
#include "master_test_util.hpp"

namespace agora::master {
namespace {

using nlohmann::json;

class OperatorTest : public MasterTest {
 protected:
  void start() {
    startMaster();
    http_ = std::make_unique<OperatorHttp>(*master_, [] { return json{{"flags", {{"port", "5050"}}}}; },
                                           [this] { return master_->metrics(); });
  }
  void restart() {
    http_.reset();
    start();
  }

  HttpResponse request(const std::string& method, const std::string& path, const std::string& body = "",
                       const std::string& contentType = "application/json",
                       std::map<std::string, std::string, std::less<>> query = {}) {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.body = body;
    request.query = std::move(query);
    if (!contentType.empty()) request.headers.emplace_back("content-type", contentType);
    HttpResponse response = http_->handle(request);
    settle();
    return response;
  }
  HttpResponse api(const json& call) { return request("POST", "/api/v1", call.dump()); }
  json body(const HttpResponse& response) { return json::parse(response.body); }

  // cpus:1;mem:512 reserved to `role` by "ops", as the operator API takes it.
  static json reservedJson(const std::string& text, const std::string& role) {
    Reservation reservation{Reservation::Type::kDynamic, role, "ops", {}};
    json out = json::array();
    for (const auto& r : Resources::parse(text).value().pushReservation(reservation).value().toProto()) {
      out.push_back(toJsonValue(r).value());
    }
    return out;
  }

  std::unique_ptr<OperatorHttp> http_;
};

TEST_F(OperatorTest, ReserveThroughTheFormIsOfferedOnlyToTheRole) {
  start();
  FakeScheduler dev(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(dev, agent, FakeScheduler::frameworkInfo("dev", {"dev"}));
  const std::string agentId = *agent.agentId();

  // Mesos's form: slaveId=&resources=<JSON>; the outstanding offer is rescinded.
  std::string form = "slaveId=" + agentId + "&resources=" + reservedJson("cpus:1;mem:512", "eng").dump();
  HttpResponse reply = request("POST", "/reserve", form, "application/x-www-form-urlencoded");
  ASSERT_EQ(reply.status, 202) << reply.body;
  EXPECT_EQ(dev.count(Event::RESCIND), 1u);
  ASSERT_EQ(agent.checkpointed().size(), 2);
  advance(options_.allocationInterval);
  ASSERT_FALSE(dev.outstandingOffers().empty());
  Resources offered = resourcesOf(dev.outstandingOffers().back());
  EXPECT_TRUE(offered.reserved().empty()) << offered.toString();
  EXPECT_EQ(offered.scalar("cpus").toDouble(), 1);

  FakeScheduler eng(network_);
  eng.subscribe(FakeScheduler::frameworkInfo("eng", {"eng"}));
  settle();
  advance(options_.allocationInterval);
  ASSERT_FALSE(eng.outstandingOffers().empty());
  EXPECT_EQ(resourcesOf(eng.outstandingOffers().back()).reservedTo("eng").scalar("mem").toDouble(), 512);

  json roles = body(request("GET", "/roles"));
  bool found = false;
  for (const auto& role : roles["roles"]) {
    if (role["name"] == "eng") {
      found = true;
      EXPECT_EQ(role["reserved"]["cpus"], 1.0);
    }
  }
  EXPECT_TRUE(found) << roles.dump();
  json state = master_->stateJson();
  EXPECT_EQ(state["agents"][0]["reserved_resources"]["eng"]["mem"], 512.0);
}

TEST_F(OperatorTest, ReserveAndUnreserveErrors) {
  start();
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  agent.start();
  settle();
  const std::string agentId = *agent.agentId();
  auto reserve = [&](const json& resources, const std::string& agent) {
    return api({{"type", "RESERVE_RESOURCES"},
                {"reserve_resources", {{"agent_id", {{"value", agent}}}, {"resources", resources}}}});
  };
  EXPECT_EQ(reserve(reservedJson("cpus:3", "eng"), agentId).status, 409);  // More than the agent has.
  EXPECT_EQ(reserve(reservedJson("cpus:1", "eng"), "no-such-agent").status, 404);
  json unreserved = json::array({toJsonValue(Resources::parse("cpus:1").value().toProto()[0]).value()});
  EXPECT_EQ(reserve(unreserved, agentId).status, 400);  // No reservation to push.
  EXPECT_EQ(reserve(json::array(), agentId).status, 400);

  ASSERT_EQ(reserve(reservedJson("cpus:1;mem:256", "eng"), agentId).status, 202);
  auto unreserve = [&](const json& resources) {
    return api({{"type", "UNRESERVE_RESOURCES"},
                {"unreserve_resources", {{"agent_id", {{"value", agentId}}}, {"resources", resources}}}});
  };
  EXPECT_EQ(unreserve(unreserved).status, 400);                         // Not reserved.
  EXPECT_EQ(unreserve(reservedJson("cpus:2", "eng")).status, 409);      // More than is reserved.
  EXPECT_EQ(unreserve(reservedJson("cpus:1;mem:256", "eng")).status, 202);
  EXPECT_EQ(agent.checkpointed().size(), 0);
  EXPECT_EQ(request("POST", "/unreserve", "slaveId=" + agentId, "application/x-www-form-urlencoded").status, 400);
  EXPECT_EQ(request("POST", "/reserve", "slaveId=x&resources=%zz", "application/x-www-form-urlencoded").status, 400);
}

TEST_F(OperatorTest, ReservationsWeightsAndQuotaSurviveAMasterRestart) {
  start();
  FakeAgent agent(network_, clock_, "a1", "cpus:4;mem:4096");
  agent.start();
  settle();
  ASSERT_EQ(request("PUT", "/weights", R"([{"role": "eng", "weight": 2.5}])").status, 200);
  EXPECT_EQ(request("PUT", "/weights", R"([{"role": "eng", "weight": -1}])").status, 400);
  EXPECT_EQ(request("PUT", "/weights", R"([{"role": "eng/", "weight": 1}])").status, 400);
  json quota = {{"type", "UPDATE_QUOTA"},
                {"update_quota",
                 {{"quota_configs", {{{"role", "eng"}, {"limits", {{"cpus", {{"value", 3}}}}},
                                      {"guarantees", {{"cpus", {{"value", 1}}}}}}}}}}};
  ASSERT_EQ(api(quota).status, 200) << api(quota).body;
  ASSERT_EQ(api({{"type", "RESERVE_RESOURCES"},
                 {"reserve_resources",
                  {{"agent_id", {{"value", *agent.agentId()}}}, {"resources", reservedJson("cpus:1", "eng")}}}})
                .status,
            202);

  restart();
  agent.restart();
  settle();
  json weights = body(request("GET", "/weights"));
  ASSERT_EQ(weights.size(), 1u);
  EXPECT_EQ(weights[0]["role"], "eng");
  EXPECT_EQ(weights[0]["weight"], 2.5);
  json quotas = body(request("GET", "/quota"));
  ASSERT_EQ(quotas["configs"].size(), 1u) << quotas.dump();
  EXPECT_EQ(quotas["configs"][0]["limits"]["cpus"]["value"], 3.0);
  EXPECT_EQ(master_->stateJson()["agents"][0]["reserved_resources"]["eng"]["cpus"], 1.0);
  json roles = body(api({{"type", "GET_ROLES"}}));
  EXPECT_EQ(roles["type"], "GET_ROLES");

  // Removing the quota (DELETE /quota?role=) is durable too.
  ASSERT_EQ(request("DELETE", "/quota", "", "", {{"role", "eng"}}).status, 200);
  restart();
  EXPECT_TRUE(body(request("GET", "/quota"))["configs"].empty());
}

TEST_F(OperatorTest, QuotaValidation) {
  start();
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  agent.start();
  settle();
  auto update = [&](const json& config, bool force = false) {
    return api({{"type", "UPDATE_QUOTA"}, {"update_quota", {{"force", force}, {"quota_configs", {config}}}}});
  };
  EXPECT_EQ(update({{"role", "eng"}, {"guarantees", {{"cpus", {{"value", 10}}}}}}).status, 400);  // > capacity.
  EXPECT_EQ(update({{"role", "eng"}, {"guarantees", {{"cpus", {{"value", 10}}}}}}, true).status, 200);
  EXPECT_EQ(update({{"role", "eng"}, {"guarantees", {{"cpus", {{"value", 2}}}}}, {"limits", {{"cpus", {{"value", 1}}}}}})
                .status,
            400);  // Guarantee above limit.
  EXPECT_EQ(update({{"role", "*"}, {"limits", {{"cpus", {{"value", 1}}}}}}).status, 400);
  EXPECT_EQ(update({{"role", "eng"}, {"limits", {{"cpus", {{"value", -1}}}}}}).status, 400);

  // A limit below what the role holds needs force.
  FakeScheduler dev(network_);
  subscribeAndOffer(dev, agent, FakeScheduler::frameworkInfo("dev", {"dev"}));
  EXPECT_EQ(update({{"role", "dev"}, {"limits", {{"cpus", {{"value", 1}}}}}}).status, 400);
  EXPECT_EQ(update({{"role", "dev"}, {"limits", {{"cpus", {{"value", 1}}}}}}, true).status, 200);
  EXPECT_EQ(dev.count(Event::RESCIND), 1u);  // Offers over the new limit are taken back.
}

TEST_F(OperatorTest, ApiV1GetCallsAndBadRequests) {
  start();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));
  for (const char* type : {"GET_HEALTH", "GET_VERSION", "GET_FLAGS", "GET_METRICS", "GET_MASTER", "GET_STATE",
                           "GET_AGENTS", "GET_FRAMEWORKS", "GET_TASKS", "GET_ROLES", "GET_WEIGHTS", "GET_QUOTA"}) {
    HttpResponse reply = api({{"type", type}});
    ASSERT_EQ(reply.status, 200) << type << ": " << reply.body;
    EXPECT_EQ(body(reply)["type"], type);
  }
  json agents = body(api({{"type", "GET_AGENTS"}}));
  EXPECT_EQ(agents["get_agents"]["agents"][0]["agent_info"]["hostname"], "a1");
  json frameworks = body(api({{"type", "GET_FRAMEWORKS"}}));
  EXPECT_EQ(frameworks["get_frameworks"]["frameworks"][0]["framework_info"]["name"], "f");
  EXPECT_EQ(body(api({{"type", "GET_FLAGS"}}))["get_flags"]["flags"][0]["name"], "port");

  // Hostile and malformed requests: each a 4xx, and the master still answers.
  EXPECT_EQ(request("POST", "/api/v1", R"({"type": "GET_HEAL)").status, 400);  // Truncated.
  EXPECT_EQ(request("POST", "/api/v1", std::string(100000, '[') + std::string(100000, ']')).status, 400);
  // Over the JSON limit (the server's body limit, also 1 MiB, answers 413 first).
  EXPECT_EQ(request("POST", "/api/v1", std::string(2 * 1024 * 1024, ' ')).status, 400);
  EXPECT_EQ(request("POST", "/api/v1", R"({"type": "GET_HEALTH", "bogus": 1})").status, 400);
  EXPECT_EQ(request("POST", "/api/v1", "{}").status, 400);
  EXPECT_EQ(request("POST", "/api/v1", R"({"type": "RESERVE_RESOURCES"})").status, 400);
  EXPECT_EQ(request("POST", "/api/v1", R"({"type": "GET_HEALTH"})", "text/plain").status, 415);
  EXPECT_EQ(request("POST", "/api/v1", R"({"type": "GET_HEALTH"})", "").status, 415);
  EXPECT_EQ(request("GET", "/api/v1").status, 405);
  EXPECT_EQ(request("PUT", "/weights", "[[[[").status, 400);
  EXPECT_EQ(request("POST", "/quota", R"({"role": "eng", "limits": {"cpus": "x"}})").status, 400);
  EXPECT_GE(http_->invalidRequests(), 10u);
  EXPECT_EQ(api({{"type", "GET_HEALTH"}}).status, 200);
}

TEST_F(OperatorTest, TeardownMarkGoneAndKill) {
  start();
  FakeScheduler scheduler(network_);
  scheduler.autoAcknowledge = true;
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}, "", true));
  const std::string agentId = *agent.agentId();
  const std::string frameworkId = *scheduler.frameworkId();
  scheduler.accept({scheduler.outstandingOffers()[0].id()},
                   {FakeScheduler::launch({FakeScheduler::commandTask("t1", agentId, "cpus:1;mem:128", "dev")})});
  settle();
  agent.sendStatus("t1", v1::TASK_RUNNING);
  settle();

  auto kill = [&](const std::string& task) {
    return api({{"type", "KILL_TASK"},
                {"kill_task", {{"framework_id", {{"value", frameworkId}}}, {"task_id", {{"value", task}}}}}});
  };
  EXPECT_EQ(kill("nope").status, 404);
  ASSERT_EQ(kill("t1").status, 202);
  EXPECT_EQ(agent.count("kill_task"), 1u);

  // MARK_AGENT_GONE: tasks are gone by operator, the agent is told to shut down.
  auto gone = [&](const std::string& id) {
    return api({{"type", "MARK_AGENT_GONE"}, {"mark_agent_gone", {{"agent_id", {{"value", id}}}}}});
  };
  EXPECT_EQ(gone("no-such-agent").status, 404);
  ASSERT_EQ(gone(agentId).status, 200);
  EXPECT_TRUE(agent.shutDown());
  ASSERT_FALSE(scheduler.updates().empty());
  EXPECT_EQ(scheduler.updates().back().state(), v1::TASK_GONE_BY_OPERATOR);
  EXPECT_EQ(gone(agentId).status, 200);  // Idempotent.

  EXPECT_EQ(request("POST", "/teardown", "frameworkId=nope", "application/x-www-form-urlencoded").status, 404);
  EXPECT_EQ(request("POST", "/teardown", "", "application/x-www-form-urlencoded").status, 400);
  ASSERT_EQ(request("POST", "/teardown", "frameworkId=" + frameworkId, "application/x-www-form-urlencoded").status, 200);
  EXPECT_EQ(scheduler.count(Event::ERROR), 1u);
  EXPECT_TRUE(master_->stateJson()["frameworks"].empty());
}

TEST_F(OperatorTest, ExplainSaysWhyNoOffers) {
  start();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));
  const std::string frameworkId = *scheduler.frameworkId();
  scheduler.decline({scheduler.outstandingOffers()[0].id()}, 3600);
  settle();

  HttpResponse reply = request("GET", "/allocator/explain", "", "", {{"framework_id", frameworkId}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  json explanation = body(reply);
  ASSERT_EQ(explanation["roles"].size(), 1u);
  const json& role = explanation["roles"][0];
  EXPECT_EQ(role["role"], "dev");
  ASSERT_EQ(role["filters"].size(), 1u);
  EXPECT_EQ(role["filters"][0]["agent_id"], *agent.agentId());
  EXPECT_GT(role["filters"][0]["expires_in_seconds"].get<double>(), 3000);
  EXPECT_EQ(explanation["last_offers"][0]["agent_id"], *agent.agentId());
  EXPECT_NE(explanation["reasons"].dump().find("refuse filters"), std::string::npos) << explanation.dump();

  scheduler.suppress();
  settle();
  explanation = body(request("GET", "/allocator/explain", "", "", {{"framework_id", frameworkId}}));
  EXPECT_TRUE(explanation["roles"][0]["suppressed"].get<bool>());
  EXPECT_NE(explanation["reasons"].dump().find("suppressed"), std::string::npos);

  EXPECT_EQ(request("GET", "/allocator/explain", "", "", {{"framework_id", "nope"}}).status, 404);
  EXPECT_EQ(request("GET", "/allocator/explain").status, 400);
}

TEST_F(OperatorTest, StateSummaryRolesAndMetrics) {
  start();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));
  json summary = body(request("GET", "/master/state-summary"));
  EXPECT_EQ(summary["agents_active"], 1);
  EXPECT_EQ(summary["frameworks_active"], 1);
  EXPECT_EQ(summary["outstanding_offers"], 1);
  EXPECT_EQ(summary["resources"]["cpus"], 2.0);
  EXPECT_FALSE(summary["frameworks"][0].contains("tasks"));

  json roles = body(request("GET", "/roles"));
  ASSERT_EQ(roles["roles"].size(), 1u);
  EXPECT_EQ(roles["roles"][0]["name"], "dev");
  EXPECT_EQ(roles["roles"][0]["offered"]["cpus"], 2.0);
  EXPECT_DOUBLE_EQ(roles["roles"][0]["dominant_share"].get<double>(), 1.0);

  auto metrics = master_->metrics();
  EXPECT_GE(metrics.at("allocator/mesos/allocation_runs"), 1);
  EXPECT_TRUE(metrics.count("allocator/mesos/allocation_run_ms"));
  EXPECT_EQ(metrics.at("allocator/mesos/resources/cpus/total"), 2);
  EXPECT_EQ(metrics.at("allocator/mesos/resources/cpus/offered_or_allocated"), 2);
  EXPECT_EQ(metrics.at("allocator/mesos/roles/dev/shares/dominant"), 1);
  EXPECT_GE(metrics.at("registrar/state_store_ms/count"), 2);  // The agent and the framework.
  EXPECT_EQ(metrics.at("master/offers_sent"), 1);
}

// Mesos's per-framework metrics: master/frameworks/<name>/<id>/...
TEST_F(OperatorTest, PerFrameworkMetrics) {
  start();
  FakeScheduler scheduler(network_);
  scheduler.autoAcknowledge = true;
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("my job/1", {"dev"}));
  const std::string agentId = *agent.agentId();
  const std::string prefix = "master/frameworks/my%20job%2F1/" + *scheduler.frameworkId() + "/";
  EXPECT_EQ(metric(prefix + "subscribed"), 1);
  EXPECT_EQ(metric(prefix + "offers/sent"), 1);
  EXPECT_EQ(metric(prefix + "calls/subscribe"), 1);
  EXPECT_EQ(metric(prefix + "events/subscribed"), 1);
  EXPECT_EQ(metric(prefix + "events/offers"), 1);
  EXPECT_EQ(metric(prefix + "roles/dev/suppressed"), 0);

  // Accept one offer with two tasks, decline the next.
  scheduler.accept({scheduler.outstandingOffers()[0].id()},
                   {FakeScheduler::launch({FakeScheduler::commandTask("t1", agentId, "cpus:0.5;mem:128", "dev"),
                                           FakeScheduler::commandTask("t2", agentId, "cpus:0.5;mem:128", "dev")})});
  settle();
  agent.sendStatus("t1", v1::TASK_RUNNING);
  agent.sendStatus("t2", v1::TASK_RUNNING);
  settle();
  EXPECT_EQ(metric(prefix + "offers/accepted"), 1);
  EXPECT_EQ(metric(prefix + "calls/accept"), 1);
  EXPECT_EQ(metric(prefix + "tasks/active/task_running"), 2);
  EXPECT_EQ(metric(prefix + "tasks/active/task_staging"), 0);
  agent.sendStatus("t2", v1::TASK_FINISHED);
  settle();
  EXPECT_EQ(metric(prefix + "tasks/active/task_running"), 1);
  EXPECT_EQ(metric(prefix + "tasks/terminal/task_finished"), 1);
  EXPECT_EQ(metric(prefix + "tasks/terminal/task_failed"), 0);
  EXPECT_GE(metric(prefix + "calls/acknowledge"), 3);
  EXPECT_GE(metric(prefix + "events/update"), 3);

  advance(std::chrono::seconds(2));  // The next batch allocation offers what is free.
  ASSERT_FALSE(scheduler.outstandingOffers().empty());
  scheduler.decline({scheduler.outstandingOffers()[0].id()}, 3600);
  settle();
  EXPECT_EQ(metric(prefix + "offers/declined"), 1);
  scheduler.suppress();
  settle();
  EXPECT_EQ(metric(prefix + "roles/dev/suppressed"), 1);
  EXPECT_EQ(metric(prefix + "calls/suppress"), 1);
  EXPECT_EQ(metric(prefix + "calls"), metric(prefix + "calls/subscribe") + metric(prefix + "calls/accept") +
                                          metric(prefix + "calls/acknowledge") + metric(prefix + "calls/decline") +
                                          metric(prefix + "calls/suppress"));
  // An operator reservation rescinds the outstanding offer.
  scheduler.revive();
  settle();
  ASSERT_FALSE(scheduler.outstandingOffers().empty());
  ASSERT_EQ(api({{"type", "RESERVE_RESOURCES"},
                 {"reserve_resources", {{"agent_id", {{"value", agentId}}}, {"resources", reservedJson("cpus:1", "eng")}}}})
                .status,
            202);
  EXPECT_EQ(metric(prefix + "offers/rescinded"), 1);
  EXPECT_EQ(metric(prefix + "events/rescind"), 1);

  // Gone with the framework (as Mesos).
  scheduler.teardown();
  settle();
  EXPECT_EQ(master_->metrics().count(prefix + "subscribed"), 0u);
}

TEST_F(OperatorTest, DeactivateAndReactivateAgent) {
  start();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));
  const std::string agentId = *agent.agentId();
  auto call = [&](const std::string& type, const std::string& id) {
    std::string field = type == "DEACTIVATE_AGENT" ? "deactivate_agent" : "reactivate_agent";
    return api({{"type", type}, {field, {{"agent_id", {{"value", id}}}}}});
  };
  auto deactivated = [&] {
    json agents = body(api({{"type", "GET_AGENTS"}}));
    return agents["get_agents"]["agents"][0].value("deactivated", false);
  };

  // Deactivating rescinds the outstanding offer, and no new offer comes.
  ASSERT_EQ(call("DEACTIVATE_AGENT", agentId).status, 200);
  EXPECT_TRUE(scheduler.outstandingOffers().empty());
  EXPECT_EQ(scheduler.count(Event::RESCIND), 1u);
  EXPECT_TRUE(deactivated());
  EXPECT_FALSE(master_->stateJson()["agents"][0]["active"].get<bool>());
  EXPECT_TRUE(master_->stateJson()["agents"][0]["deactivated"].get<bool>());
  EXPECT_EQ(call("DEACTIVATE_AGENT", agentId).status, 200);  // Idempotent.
  EXPECT_EQ(metric("master/operator_agent_deactivations"), 1);
  advance(std::chrono::seconds(3));
  EXPECT_TRUE(scheduler.outstandingOffers().empty());

  // Kept across the agent's reregistration and a master restart.
  agent.restart();
  settle();
  advance(std::chrono::seconds(2));
  EXPECT_TRUE(scheduler.outstandingOffers().empty());
  restart();
  agent.restart();
  settle();
  EXPECT_TRUE(deactivated());
  FakeScheduler second(network_);
  second.subscribe(FakeScheduler::frameworkInfo("f2", {"dev"}));
  advance(std::chrono::seconds(2));
  ASSERT_TRUE(second.frameworkId().has_value());
  EXPECT_TRUE(second.outstandingOffers().empty());

  // Reactivating offers it again.
  ASSERT_EQ(call("REACTIVATE_AGENT", agentId).status, 200);
  EXPECT_FALSE(deactivated());
  EXPECT_EQ(metric("master/operator_agent_reactivations"), 1);
  advance(std::chrono::seconds(2));
  EXPECT_FALSE(second.outstandingOffers().empty());
  EXPECT_EQ(call("REACTIVATE_AGENT", agentId).status, 200);  // Idempotent.
  restart();
  agent.restart();
  settle();
  EXPECT_FALSE(deactivated());

  // Bad input.
  EXPECT_EQ(call("DEACTIVATE_AGENT", "no-such-agent").status, 404);
  EXPECT_EQ(call("REACTIVATE_AGENT", "no-such-agent").status, 404);
  EXPECT_EQ(api({{"type", "DEACTIVATE_AGENT"}}).status, 400);
  EXPECT_EQ(api({{"type", "REACTIVATE_AGENT"}}).status, 400);
  EXPECT_EQ(request("POST", "/api/v1", R"({"type": "DEACTIVATE_AGENT", "deactivate_agent": {}})").status, 400);
  EXPECT_EQ(request("POST", "/api/v1", R"({"type": "DEACTIVATE_AGENT", "deactivate_agent": {"agent_id": 7}})").status,
            400);
  EXPECT_EQ(request("POST", "/api/v1", R"({"type": "REACTIVATE_AGENT", "reactivate_agent": )").status, 400);
}

TEST_F(OperatorTest, GetExecutorsAndOperations) {
  start();
  FakeScheduler scheduler(network_);
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));
  const std::string agentId = *agent.agentId();
  json executors = body(api({{"type", "GET_EXECUTORS"}}));
  EXPECT_EQ(executors["type"], "GET_EXECUTORS");
  EXPECT_TRUE(executors["get_executors"].value("executors", json::array()).empty()) << executors.dump();

  v1::TaskInfo task = FakeScheduler::commandTask("t1", agentId, "cpus:0.5;mem:64", "dev");
  task.clear_command();
  v1::ExecutorInfo* executor = task.mutable_executor();
  executor->mutable_executor_id()->set_value("e1");
  *executor->mutable_framework_id()->mutable_value() = *scheduler.frameworkId();
  executor->mutable_command()->set_value("my-executor");
  *executor->mutable_resources() = allocated("cpus:0.1;mem:32", "dev");
  scheduler.accept({scheduler.outstandingOffers()[0].id()}, {FakeScheduler::launch({task})});
  settle();
  ASSERT_EQ(agent.tasks().count("t1"), 1u) << scheduler.errors().size();
  executors = body(api({{"type", "GET_EXECUTORS"}}));
  ASSERT_EQ(executors["get_executors"]["executors"].size(), 1u) << executors.dump();
  EXPECT_EQ(executors["get_executors"]["executors"][0]["executor_info"]["executor_id"]["value"], "e1");
  EXPECT_EQ(executors["get_executors"]["executors"][0]["agent_id"]["value"], agentId);
  json state = body(api({{"type", "GET_STATE"}}));
  EXPECT_EQ(state["get_state"]["get_executors"]["executors"].size(), 1u) << state.dump();

  json operations = body(api({{"type", "GET_OPERATIONS"}}));
  EXPECT_EQ(operations["type"], "GET_OPERATIONS");
  EXPECT_TRUE(operations.contains("get_operations")) << operations.dump();
  EXPECT_EQ(request("POST", "/api/v1", R"({"type": "GET_EXECUTORS", "get_executors": 1})").status, 400);
  EXPECT_EQ(request("POST", "/api/v1", R"({"type": "GET_OPERATIONS)").status, 400);
}

TEST_F(OperatorTest, KillingACompletedTaskIsAConflict) {
  start();
  FakeScheduler scheduler(network_);
  scheduler.autoAcknowledge = true;
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  subscribeAndOffer(scheduler, agent, FakeScheduler::frameworkInfo("f", {"dev"}));
  const std::string agentId = *agent.agentId();
  scheduler.accept({scheduler.outstandingOffers()[0].id()},
                   {FakeScheduler::launch({FakeScheduler::commandTask("t1", agentId, "cpus:1;mem:128", "dev")})});
  settle();
  agent.sendStatus("t1", v1::TASK_FINISHED);
  settle();
  ASSERT_TRUE(master_->stateJson()["frameworks"][0]["tasks"].empty());
  HttpResponse reply = api({{"type", "KILL_TASK"},
                            {"kill_task", {{"framework_id", {{"value", *scheduler.frameworkId()}}},
                                           {"task_id", {{"value", "t1"}}}}}});
  EXPECT_EQ(reply.status, 409) << reply.body;
  EXPECT_NE(reply.body.find("TASK_FINISHED"), std::string::npos) << reply.body;
}

}  // namespace
}  // namespace agora::master
