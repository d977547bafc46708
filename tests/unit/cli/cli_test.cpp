// The CLI's tables, --json forms and id matching, from a /state document
// shaped as agora-master's (recorded from a cluster with one framework).

#include <gtest/gtest.h>

#include "client.hpp"
#include "listings.hpp"

namespace agora::cli {
namespace {

using nlohmann::json;

json fixture() {
  return json::parse(R"json({
    "id": "m1", "hostname": "master.test",
    "agents": [
      {"id": "m1-S0", "hostname": "10.0.0.1", "port": 5051, "active": true,
       "resources": {"cpus": 4, "mem": 4096, "disk": 1000, "gpus": 0},
       "used_resources": {"cpus": 0.5, "mem": 128, "disk": 0, "gpus": 0},
       "reserved_resources": {"eng": {"cpus": 1, "mem": 512, "disk": 0, "gpus": 0}}},
      {"id": "m1-S1", "hostname": "10.0.0.2", "port": 5051, "active": false,
       "resources": {"cpus": 2, "mem": 1024, "disk": 0, "gpus": 0},
       "used_resources": {"cpus": 0, "mem": 0, "disk": 0, "gpus": 0}, "reserved_resources": {}}],
    "frameworks": [
      {"id": "m1-0000", "name": "batch", "roles": ["dev"], "principal": "ops", "active": true, "connected": true,
       "used_resources": {"cpus": 0.5, "mem": 128},
       "tasks": [{"id": "task-1", "name": "hello", "framework_id": "m1-0000", "agent_id": "m1-S0",
                  "state": "TASK_RUNNING", "resources": {"cpus": 0.5, "mem": 128}}],
       "unreachable_tasks": [],
       "completed_tasks": [{"id": "task-0", "name": "done", "framework_id": "m1-0000", "agent_id": "m1-S0",
                            "state": "TASK_FINISHED", "resources": {"cpus": 0.5, "mem": 128}}]},
      {"id": "m1-0001", "name": "service", "roles": ["web"], "principal": "", "active": true, "connected": true,
       "used_resources": {"cpus": 0, "mem": 0}, "tasks": [], "unreachable_tasks": [],
       "completed_tasks": [{"id": "task-1", "name": "other", "framework_id": "m1-0001", "agent_id": "m1-S1",
                            "state": "TASK_KILLED", "resources": {"cpus": 1, "mem": 64}}]}],
    "completed_frameworks": []
  })json");
}

TEST(CliTest, AgentsTable) {
  std::string table = agentsTable(fixture());
  EXPECT_NE(table.find("ID     ADDRESS        ACTIVE  CPUS   MEM       DISK    RESERVED"), std::string::npos) << table;
  EXPECT_NE(table.find("m1-S0  10.0.0.1:5051  yes     0.5/4  128/4096  0/1000  eng(cpus:1,mem:512)"), std::string::npos)
      << table;
  EXPECT_NE(table.find("m1-S1  10.0.0.2:5051  no"), std::string::npos) << table;
  EXPECT_EQ(agentsJson(fixture()).size(), 2u);
}

TEST(CliTest, FrameworksAndTasksTables) {
  std::string frameworks = frameworksTable(fixture(), false);
  EXPECT_NE(frameworks.find("m1-0000  batch    dev    ops        active  1      0.5   128"), std::string::npos)
      << frameworks;
  std::string tasks = tasksTable(fixture(), false);
  EXPECT_NE(tasks.find("task-1  hello  TASK_RUNNING  m1-0000    10.0.0.1  0.5   128"), std::string::npos) << tasks;
  EXPECT_EQ(tasks.find("TASK_FINISHED"), std::string::npos);
  EXPECT_NE(tasksTable(fixture(), true).find("TASK_FINISHED"), std::string::npos);
  EXPECT_EQ(tasksJson(fixture(), false).size(), 1u);
  EXPECT_EQ(tasksJson(fixture(), true).size(), 3u);
}

TEST(CliTest, IdPrefixes) {
  std::vector<std::string> ids = {"m1-S0", "m1-S1", "m1-S10"};
  EXPECT_EQ(matchId("m1-S0", ids, "agent").value(), "m1-S0");
  EXPECT_EQ(matchId("m1-S1", ids, "agent").value(), "m1-S1");  // Exact wins over prefix.
  auto ambiguous = matchId("m1-S", ids, "agent");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(exitCodeOf(ambiguous.error()), kExitNotFound);
  EXPECT_NE(ambiguous.error().message().find("m1-S10"), std::string::npos);
  EXPECT_EQ(exitCodeOf(matchId("x", ids, "agent").error()), kExitNotFound);
}

TEST(CliTest, FindTask) {
  // task-1 is in two frameworks, live in one of them: that one.
  auto task = findTask(fixture(), "task-1");
  ASSERT_TRUE(task.ok()) << task.error();
  EXPECT_EQ(task->frameworkId, "m1-0000");
  // Terminal in both: ambiguous unless narrowed.
  json done = fixture();
  done["frameworks"][0]["tasks"][0]["state"] = "TASK_FINISHED";
  task = findTask(done, "task-1");
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(exitCodeOf(task.error()), kExitNotFound);
  EXPECT_EQ(findTask(done, "task-1", "m1-0001").value().state, "TASK_KILLED");
  task = findTask(fixture(), "task-1", "m1-0000");
  ASSERT_TRUE(task.ok()) << task.error();
  EXPECT_EQ(task->agentId, "m1-S0");
  EXPECT_EQ(findTask(fixture(), "task-0").value().state, "TASK_FINISHED");
  auto agent = agentAddress(fixture(), "m1-S0");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->toString(), "10.0.0.1:5051");
  EXPECT_FALSE(agentAddress(fixture(), "m1-S9").ok());
}

// Regression: `agora logs` went to the agent's hostname, which need not
// resolve (or may name another interface) while http_address is what the
// agent's HTTP server listens on.
TEST(CliTest, AgentAddressPrefersHttpAddress) {
  json state = fixture();
  state["agents"][0]["hostname"] = "agent-0.invalid";
  state["agents"][0]["http_address"] = "127.0.0.1:15051";
  auto agent = agentAddress(state, "m1-S0");
  ASSERT_TRUE(agent.ok()) << agent.error();
  EXPECT_EQ(agent->toString(), "127.0.0.1:15051");
  // An unparsable http_address falls back to hostname:port.
  state["agents"][0]["http_address"] = "not an address";
  EXPECT_EQ(agentAddress(state, "m1-S0").value().toString(), "agent-0.invalid:5051");
  state["agents"][0]["http_address"] = 42;
  EXPECT_EQ(agentAddress(state, "m1-S0").value().toString(), "agent-0.invalid:5051");
}

TEST(CliTest, Numbers) {
  EXPECT_EQ(formatNumber(json(2.0)), "2");
  EXPECT_EQ(formatNumber(json(0.25)), "0.25");
  EXPECT_EQ(formatNumber(json(1.0 / 3)), "0.333");
  EXPECT_EQ(formatNumber(json("[31000-32000]")), "[31000-32000]");
}

}  // namespace
}  // namespace agora::cli
