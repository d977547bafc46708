#include "task_checks.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "agora/common/clock.hpp"
#include "fake_runner.hpp"

namespace agora::sdk {
namespace {

using namespace std::chrono_literals;
using testing::exited;
using testing::FakeRunner;
using testing::signalled;
using ::testing::HasSubstr;

ProcessSpec taskSpec() {
  ProcessSpec spec;
  spec.environment = {"PATH=/usr/bin:/bin", "TASK_VAR=1"};
  spec.workingDirectory = "/sandbox";
  return spec;
}

v1::HealthCheck commandCheck() {
  v1::HealthCheck check;
  check.set_type(v1::HealthCheck::COMMAND);
  check.mutable_command()->set_value("probe-it");
  return check;
}

TEST(ProbeForTest, CommandProbesRunInTheSandboxWithTheTasksEnvironment) {
  v1::HealthCheck check = commandCheck();
  auto* variable = check.mutable_command()->mutable_environment()->add_variables();
  variable->set_name("TASK_VAR");
  variable->set_value("2");
  auto probe = probeFor(check, taskSpec());
  ASSERT_TRUE(probe.ok()) << probe.error().message();
  EXPECT_EQ(probe->type, ProbeSpec::Type::kCommand);
  EXPECT_EQ(probe->command.argv, (std::vector<std::string>{"sh", "-c", "probe-it"}));
  EXPECT_EQ(probe->command.workingDirectory, "/sandbox");
  EXPECT_THAT(probe->command.environment, ::testing::Contains("TASK_VAR=2"));
  EXPECT_THAT(probe->command.environment, ::testing::Not(::testing::Contains("TASK_VAR=1")));
}

TEST(ProbeForTest, TypesFromTheFieldsAndErrors) {
  v1::HealthCheck legacy;  // No type: Mesos before 1.2 set only the field.
  legacy.mutable_tcp()->set_port(8080);
  auto probe = probeFor(legacy, taskSpec());
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe->type, ProbeSpec::Type::kTcp);
  EXPECT_EQ(probe->port, 8080u);

  v1::HealthCheck http;
  http.set_type(v1::HealthCheck::HTTP);
  http.mutable_http()->set_port(80);
  http.mutable_http()->set_path("/ready");
  probe = probeFor(http, taskSpec());
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe->path, "/ready");

  v1::HealthCheck noPort;
  noPort.set_type(v1::HealthCheck::HTTP);
  noPort.mutable_http()->set_port(0);
  EXPECT_FALSE(probeFor(noPort, taskSpec()).ok());
  v1::HealthCheck bigPort;
  bigPort.set_type(v1::HealthCheck::TCP);
  bigPort.mutable_tcp()->set_port(70000);
  EXPECT_FALSE(probeFor(bigPort, taskSpec()).ok());
  EXPECT_FALSE(probeFor(v1::HealthCheck(), taskSpec()).ok());
  v1::HealthCheck emptyCommand;
  emptyCommand.set_type(v1::HealthCheck::COMMAND);
  emptyCommand.mutable_command()->set_value("");
  EXPECT_FALSE(probeFor(emptyCommand, taskSpec()).ok());
  v1::CheckInfo check;
  check.set_type(v1::CheckInfo::HTTP);
  EXPECT_FALSE(probeFor(check, taskSpec()).ok());
}

class HealthCheckerTest : public ::testing::Test {
 protected:
  void start(v1::HealthCheck check) {
    auto probe = probeFor(check, taskSpec());
    ASSERT_TRUE(probe.ok());
    checker_ = std::make_unique<HealthChecker>(clock_, runner_, ProbeEnvironment{"/bin/agora-executor", ""}, check,
                                               *probe, [this](const HealthChecker::Health& h) { changes_.push_back(h); });
    checker_->start();
  }

  FakeClock clock_;
  FakeRunner runner_;
  std::vector<HealthChecker::Health> changes_;
  std::unique_ptr<HealthChecker> checker_;
};

TEST_F(HealthCheckerTest, MesosDefaults) {
  start(commandCheck());  // delay 15 s, interval 10 s, timeout 20 s, 3 failures, grace 10 s.
  clock_.advance(15s - 1ms);
  EXPECT_TRUE(runner_.specs.empty());
  clock_.advance(1ms);
  ASSERT_EQ(runner_.specs.size(), 1u);
  runner_.exit(100, exited(1));  // At 15 s: past the 10 s grace period, counted.
  ASSERT_EQ(changes_.size(), 1u);
  EXPECT_FALSE(changes_[0].healthy);
  EXPECT_FALSE(changes_[0].kill);
  EXPECT_EQ(changes_[0].consecutiveFailures, 1);
  clock_.advance(10s);
  runner_.exit(101, exited(1));
  EXPECT_EQ(changes_.size(), 1u) << "still unhealthy: not reported again";
  clock_.advance(10s);
  runner_.exit(102, exited(1));
  ASSERT_EQ(changes_.size(), 2u);
  EXPECT_TRUE(changes_[1].kill);
  EXPECT_EQ(changes_[1].consecutiveFailures, 3);
  clock_.advance(1h);
  EXPECT_EQ(runner_.specs.size(), 3u) << "no probe after asking for the kill";
}

TEST_F(HealthCheckerTest, FailuresWithinTheGracePeriodAreIgnoredUntilTheFirstSuccess) {
  v1::HealthCheck check = commandCheck();
  check.set_delay_seconds(0);
  check.set_interval_seconds(1);
  check.set_grace_period_seconds(5);
  check.set_consecutive_failures(1);
  start(check);
  for (int i = 0; i < 5; ++i) {  // Probes at 0..4 s fail: ignored.
    clock_.advance(i == 0 ? 0s : 1s);
    runner_.exit(100 + i, exited(1));
  }
  EXPECT_TRUE(changes_.empty());
  clock_.advance(1s);  // At 5 s: the grace period is over, one failure kills.
  runner_.exit(105, exited(1));
  ASSERT_EQ(changes_.size(), 1u);
  EXPECT_TRUE(changes_[0].kill);
}

TEST_F(HealthCheckerTest, ASuccessEndsTheGracePeriod) {
  v1::HealthCheck check = commandCheck();
  check.set_delay_seconds(0);
  check.set_interval_seconds(1);
  check.set_grace_period_seconds(60);
  check.set_consecutive_failures(1);
  start(check);
  clock_.advance(0s);
  runner_.exit(100, exited(0));
  ASSERT_EQ(changes_.size(), 1u);
  EXPECT_TRUE(changes_[0].healthy);
  clock_.advance(1s);
  runner_.exit(101, exited(1));
  ASSERT_EQ(changes_.size(), 2u);
  EXPECT_TRUE(changes_[1].kill) << "failures count once the task was healthy";
}

TEST_F(HealthCheckerTest, AProbeThatTimesOutIsKilledAndFails) {
  v1::HealthCheck check = commandCheck();
  check.set_delay_seconds(0);
  check.set_timeout_seconds(2);
  check.set_grace_period_seconds(0);
  start(check);
  clock_.advance(0s);
  clock_.advance(2s);
  EXPECT_EQ(runner_.signalsTo(100), std::vector<int>{SIGKILL});
  runner_.exit(100, signalled(SIGKILL));
  ASSERT_EQ(changes_.size(), 1u);
  EXPECT_FALSE(changes_[0].healthy);
  EXPECT_THAT(changes_[0].message, HasSubstr("timed out after"));
}

TEST_F(HealthCheckerTest, StopKillsARunningProbeAndSilencesIt) {
  v1::HealthCheck check = commandCheck();
  check.set_delay_seconds(0);
  start(check);
  clock_.advance(0s);
  checker_->stop();
  EXPECT_EQ(runner_.signalsTo(100), std::vector<int>{SIGKILL});
  runner_.exit(100, exited(1));
  clock_.advance(1h);
  EXPECT_TRUE(changes_.empty());
  EXPECT_EQ(runner_.specs.size(), 1u);
}

TEST_F(HealthCheckerTest, NetworkProbesRunTheProbeProgram) {
  v1::HealthCheck check;
  check.set_type(v1::HealthCheck::HTTP);
  check.mutable_http()->set_port(8080);
  check.mutable_http()->set_path("/health");
  check.set_delay_seconds(0);
  start(check);
  clock_.advance(0s);
  ASSERT_EQ(runner_.specs.size(), 1u);
  EXPECT_EQ(runner_.specs[0].path, "/bin/agora-executor");
  EXPECT_EQ(runner_.specs[0].argv,
            (std::vector<std::string>{"agora-probe", "--probe=http", "--port=8080", "--path=/health", "--scheme=http"}));
}

// A one-shot loopback server: answers the first connection with `reply`.
class LoopbackServer {
 public:
  explicit LoopbackServer(std::string reply) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    socklen_t length = sizeof(address);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    EXPECT_EQ(::listen(fd_, 4), 0);
    thread_ = std::thread([this, reply = std::move(reply)] {
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      char buffer[4096];
      ssize_t n = ::recv(client, buffer, sizeof(buffer), 0);
      if (n > 0) request_.assign(buffer, static_cast<size_t>(n));
      if (!reply.empty()) (void)::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(client);
    });
  }
  ~LoopbackServer() {
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  // What the first client sent (waits for the server to be done with it).
  std::string request() {
    thread_.join();
    return request_;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::string request_;
};

class ProbeCommandTest : public ::testing::Test {
 protected:
  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "agora-probe");
    args.push_back("--result=" + result_.string());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    return runProbeCommand(static_cast<int>(argv.size()), argv.data());
  }
  std::string outcome() const {
    std::ifstream in(result_);
    std::string line;
    std::getline(in, line);
    return line;
  }
  void TearDown() override { std::filesystem::remove(result_); }

  std::filesystem::path result_ =
      std::filesystem::temp_directory_path() / ("agora-probe-test-" + std::to_string(::getpid()));
};

TEST_F(ProbeCommandTest, HttpReportsTheStatusCode) {
  LoopbackServer server("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(run({"--probe=http", "--port=" + std::to_string(server.port()), "--path=/ready"}), 0);
  EXPECT_EQ(outcome(), "http 503");
}

TEST_F(ProbeCommandTest, HttpSendsAGetForThePath) {
  LoopbackServer server("HTTP/1.0 200 OK\r\n\r\n");
  EXPECT_EQ(run({"--probe=http", "--port=" + std::to_string(server.port()), "--path=health"}), 0);
  EXPECT_EQ(outcome(), "http 200");
  EXPECT_THAT(server.request(), ::testing::StartsWith("GET /health HTTP/1.1\r\nHost: 127.0.0.1:"));
}

TEST_F(ProbeCommandTest, GarbageIsNotAStatus) {
  LoopbackServer server("SSH-2.0-OpenSSH\r\n");
  EXPECT_EQ(run({"--probe=http", "--port=" + std::to_string(server.port())}), 1);
  EXPECT_THAT(outcome(), HasSubstr("no HTTP status line"));
}

TEST_F(ProbeCommandTest, TcpConnectsOrSaysWhyNot) {
  int port;
  {
    LoopbackServer server("");
    port = server.port();
    EXPECT_EQ(run({"--probe=tcp", "--port=" + std::to_string(port)}), 0);
    EXPECT_EQ(outcome(), "connected");
  }
  EXPECT_EQ(run({"--probe=tcp", "--port=" + std::to_string(port)}), 1);  // Closed now.
  EXPECT_THAT(outcome(), HasSubstr("Connection refused"));
}

TEST_F(ProbeCommandTest, BadArgumentsAndHttps) {
  EXPECT_EQ(run({"--probe=udp", "--port=1"}), 2);
  EXPECT_EQ(run({"--probe=tcp", "--port=0"}), 2);
  EXPECT_EQ(run({"--probe=tcp", "--port=1", "--bogus"}), 2);
  EXPECT_EQ(run({"--probe=http", "--port=1", "--scheme=https"}), 1);
  EXPECT_THAT(outcome(), HasSubstr("'https' is not supported"));
}

// The real thing: probes through PosixProcessRunner and agora-executor's
// probe mode are covered end to end by e2e.HealthCheck.

}  // namespace
}  // namespace agora::sdk
