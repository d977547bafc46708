// The registry file, hostile input, flags.

#include <fstream>

#include "master_test_util.hpp"

namespace agora::master {
namespace {

TEST_F(MasterTest, CorruptRegistryIsAnErrorNamingThePath) {
  std::string path = workDir_ + "/registry.db";
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(8192, '\x5a');
  }
  messenger_ = network_.attach("master", [](const PeerId&, internal::Envelope&&) {});
  Master master(options_, clock_, *messenger_);
  Status status = master.recover();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(path), std::string::npos) << status;
}

TEST_F(MasterTest, UnwritableWorkDirIsAnError) {
  options_.workDir = workDir_ + "/missing/dir";
  messenger_ = network_.attach("master", [](const PeerId&, internal::Envelope&&) {});
  Master master(options_, clock_, *messenger_);
  Status status = master.recover();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(options_.workDir), std::string::npos) << status;
}

TEST_F(MasterTest, NewWorkDirStartsEmptyRegistryAndKeepsAgents) {
  startMaster();
  FakeAgent agent(network_, clock_, "a1", "cpus:1;mem:256");
  agent.start();
  settle();
  startMaster("m2");
  EXPECT_EQ(master_->stateJson()["recovered_agents"].size(), 1u);
  EXPECT_EQ(master_->masterInfo().id(), "m2");
}

TEST_F(MasterTest, GarbageEnvelopesAreDroppedAndCounted) {
  startMaster();
  FakeAgent agent(network_, clock_, "a1", "cpus:1;mem:256");
  agent.start();
  settle();
  auto rogue = network_.attach("rogue", [](const PeerId&, internal::Envelope&&) {});

  internal::Envelope envelope;
  envelope.mutable_agent_registered()->mutable_agent_id()->set_value("x");  // Master -> agent only.
  rogue->send("master", envelope);
  envelope.Clear();
  envelope.mutable_pong();  // Not an agent.
  rogue->send("master", envelope);
  envelope.Clear();
  auto* update = envelope.mutable_status_update();  // Claims to be the agent.
  update->mutable_framework_id()->set_value("f");
  update->mutable_agent_id()->set_value(*agent.agentId());
  update->mutable_status()->mutable_task_id()->set_value("t");
  update->mutable_status()->set_state(v1::TASK_RUNNING);
  update->set_timestamp(0);
  rogue->send("master", envelope);
  envelope.Clear();
  auto* reregister = envelope.mutable_reregister_agent();  // Hostile ID.
  reregister->mutable_agent_info()->set_hostname("h");
  reregister->mutable_agent_info()->mutable_id()->set_value("../../etc/passwd");
  reregister->set_version("1");
  rogue->send("master", envelope);
  envelope.Clear();
  auto* call = envelope.mutable_scheduler_call();  // Unknown framework.
  call->set_type(v1::scheduler::Call::REVIVE);
  call->mutable_framework_id()->set_value(std::string(1000, 'x'));
  rogue->send("master", envelope);
  envelope.Clear();
  envelope.mutable_scheduler_call()->set_type(v1::scheduler::Call::SUBSCRIBE);  // No body.
  rogue->send("master", envelope);
  settle();

  EXPECT_EQ(metric("master/dropped_messages"), 6);
  EXPECT_EQ(metric("master/slaves_active"), 1);
  EXPECT_EQ(master_->stateJson()["agents"].size(), 1u);
  network_.detach("rogue");
}

TEST(MasterFlagsTest, DefaultsAndRequiredWorkDir) {
  MasterOptions options;
  Flags flags("agora-master");
  declareMasterFlags(flags, &options);
  ASSERT_TRUE(flags.parse({"--offer_timeout=30secs", "--weights=eng=2,ops=3"}, {}).ok());
  EXPECT_EQ(options.port, 5050);
  EXPECT_EQ(options.zmqPort, 5055);
  EXPECT_EQ(options.agentPingTimeout, std::chrono::seconds(5));
  EXPECT_EQ(options.maxAgentPingTimeouts, 3);
  EXPECT_EQ(options.offerTimeout, std::chrono::seconds(30));
  EXPECT_FALSE(checkMasterOptions(options).ok());  // No --work_dir.
  options.workDir = "/tmp";
  EXPECT_TRUE(checkMasterOptions(options).ok());
  EXPECT_EQ(parseWeights(options.weights).value().at("ops"), 3);

  MasterOptions bad;
  Flags badFlags("agora-master");
  declareMasterFlags(badFlags, &bad);
  EXPECT_FALSE(badFlags.parse({"--min_allocatable_resources=cpus:x"}, {}).ok());
}

TEST_F(MasterTest, MasterInfoCarriesZmqEndpoint) {
  startMaster();
  v1::MasterInfo info = master_->masterInfo();
  EXPECT_EQ(info.id(), "m1");
  EXPECT_EQ(info.port(), 5050u);
  EXPECT_EQ(info.hostname(), "master.test");
  EXPECT_EQ(info.zmq_endpoint(), "tcp://master.test:5055");
  EXPECT_EQ(master_->health()["healthy"], true);
}

}  // namespace
}  // namespace agora::master
