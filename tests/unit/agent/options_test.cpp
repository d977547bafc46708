#include <gtest/gtest.h>

#include "agora/agent/agent.hpp"
#include "agora/common/flags.hpp"

namespace agora::agent {
namespace {

TEST(AgentOptionsTest, FlagsHaveMesosDefaults) {
  AgentOptions options;
  Flags flags("agora-agent");
  declareAgentFlags(flags, &options, "/usr/libexec/agora");
  ASSERT_TRUE(flags.parse({"--work_dir=/tmp/x", "--resources=cpus:2;mem:512", "--recover=cleanup"}, {}).ok());
  EXPECT_EQ(options.port, 5051);
  EXPECT_EQ(options.executorRegistrationTimeout, std::chrono::minutes(1));
  EXPECT_EQ(options.executorReregistrationTimeout, std::chrono::seconds(2));
  EXPECT_EQ(options.executorShutdownGracePeriod, std::chrono::seconds(5));
  EXPECT_EQ(options.launcherDir, "/usr/libexec/agora");
  EXPECT_EQ(options.recover, "cleanup");
  EXPECT_TRUE(validateAgentOptions(options).ok());
}

TEST(AgentOptionsTest, InvalidValuesAreOneClearLine) {
  AgentOptions options;
  Flags flags("agora-agent");
  declareAgentFlags(flags, &options);
  Status status = flags.parse({"--resources=cpus:-1"}, {});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("resources"), std::string::npos) << status;
  EXPECT_FALSE(flags.parse({"--recover=maybe"}, {}).ok());

  AgentOptions missing;
  EXPECT_NE(validateAgentOptions(missing).message().find("--work_dir"), std::string::npos);
  missing.workDir = "/tmp/x";
  missing.isolation = "cgroups/cpu,bogus/thing";
  EXPECT_NE(validateAgentOptions(missing).message().find("bogus/thing"), std::string::npos);
  missing.isolation = "cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid";
  EXPECT_TRUE(validateAgentOptions(missing).ok());
}

TEST(AgentOptionsTest, ParsesAttributes) {
  auto attributes = parseAttributes("rack:abc;zone:west;level:10;keys:[1000-1500,2000-2001];disks:{a,b}");
  ASSERT_TRUE(attributes.ok()) << attributes.error();
  ASSERT_EQ(attributes->size(), 5u);
  EXPECT_EQ((*attributes)[0].type(), v1::Value::TEXT);
  EXPECT_EQ((*attributes)[0].text().value(), "abc");
  EXPECT_EQ((*attributes)[2].type(), v1::Value::SCALAR);
  EXPECT_EQ((*attributes)[2].scalar().value(), 10);
  EXPECT_EQ((*attributes)[3].type(), v1::Value::RANGES);
  EXPECT_EQ((*attributes)[3].ranges().range_size(), 2);
  EXPECT_EQ((*attributes)[4].set().item_size(), 2);
  EXPECT_FALSE(parseAttributes("rack").ok());
  EXPECT_FALSE(parseAttributes("keys:[5-1]").ok());
  EXPECT_FALSE(parseAttributes("bad name:x").ok());
}

}  // namespace
}  // namespace agora::agent
