// The agent's HTTP address: what (Re)RegisterAgent.http_address says, else
// hostname:port; shown in /state and used by the web UI's agent proxy.

#include "master_test_util.hpp"

namespace agora::master {
namespace {

TEST_F(MasterTest, AgentHttpAddressIsWhatTheAgentReports) {
  startMaster();
  FakeAgent agent(network_, clock_, "a1", "cpus:2;mem:1024");
  agent.httpAddress = "10.0.0.7:5151";
  agent.start();
  settle();
  ASSERT_EQ(agent.agentId(), "m1-S0");
  EXPECT_EQ(master_->agentHttpAddress("m1-S0"), "10.0.0.7:5151");
  EXPECT_EQ(master_->stateJson()["agents"][0]["http_address"], "10.0.0.7:5151");
  EXPECT_EQ(master_->agentHttpAddress("m1-S9"), std::nullopt);

  // A restarted agent may listen elsewhere: reregistration updates it.
  agent.httpAddress = "10.0.0.7:5252";
  agent.restart();
  settle();
  EXPECT_EQ(master_->agentHttpAddress("m1-S0"), "10.0.0.7:5252");
}

TEST_F(MasterTest, AgentHttpAddressFallsBackToHostnameAndPort) {
  startMaster();
  FakeAgent silent(network_, clock_, "a1", "cpus:2;mem:1024");  // An older agent: no http_address.
  silent.start();
  FakeAgent garbled(network_, clock_, "a2", "cpus:2;mem:1024");
  garbled.httpAddress = "no port here";
  garbled.start();
  settle();
  EXPECT_EQ(master_->agentHttpAddress(*silent.agentId()), "a1:5051");
  EXPECT_EQ(master_->agentHttpAddress(*garbled.agentId()), "a2:5051");
}

}  // namespace
}  // namespace agora::master
