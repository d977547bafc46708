#include "task_checks.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "agora/common/logging.hpp"
#include "command_spec.hpp"

namespace agora::sdk {

namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = agora::logger("task-checks");
  return logger;
}

Duration seconds(double value) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(std::max(0.0, value)));
}

const char* typeName(ProbeSpec::Type type) {
  switch (type) {
    case ProbeSpec::Type::kCommand: return "command";
    case ProbeSpec::Type::kHttp: return "http";
    case ProbeSpec::Type::kTcp: return "tcp";
  }
  return "unknown";
}

// The first line of `path`, "" when there is none.
std::string firstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

Result<ProbeSpec> commandProbe(const v1::CommandInfo& command, const ProcessSpec& task) {
  if (command.value().empty()) return Status::InvalidArgument("The check's command is empty");
  ProbeSpec probe;
  probe.type = ProbeSpec::Type::kCommand;
  probe.command = commandSpec(command, task.environment, task.workingDirectory);
  return probe;
}

Result<ProbeSpec> networkProbe(ProbeSpec::Type type, uint32_t port) {
  if (port == 0 || port > 65535) return Status::InvalidArgument("The check's port " + std::to_string(port) + " is invalid");
  ProbeSpec probe;
  probe.type = type;
  probe.port = port;
  return probe;
}

bool healthyResult(const ProbeResult& result) {
  switch (result.type) {
    case ProbeSpec::Type::kCommand: return result.exitCode == 0;
    case ProbeSpec::Type::kHttp: return result.httpStatus && *result.httpStatus >= 200 && *result.httpStatus <= 399;
    case ProbeSpec::Type::kTcp: return result.tcpConnected;
  }
  return false;
}

}  // namespace

// --- Prober -----------------------------------------------------------------

Prober::Prober(Clock& clock, ProcessRunner& runner, ProbeEnvironment environment)
    : clock_(clock), runner_(runner), environment_(std::move(environment)), alive_(std::make_shared<bool>(true)) {}

Prober::~Prober() { cancel(); }

void Prober::run(const ProbeSpec& spec, Duration timeout, std::function<void(ProbeResult)> done) {
  spec_ = spec;
  done_ = std::move(done);
  timedOut_ = false;
  timeout_ = timeout;

  ProcessSpec process;
  if (spec.type == ProbeSpec::Type::kCommand) {
    process = spec.command;
  } else {
    process.path = environment_.probeProgram;
    process.argv = {"agora-probe", std::string("--probe=") + typeName(spec.type), "--port=" + std::to_string(spec.port)};
    if (spec.type == ProbeSpec::Type::kHttp) {
      process.argv.push_back("--path=" + spec.path);
      process.argv.push_back("--scheme=" + spec.scheme);
    }
    if (spec.ipv6) process.argv.push_back("--ipv6");
    if (!environment_.resultPath.empty()) {
      std::ofstream(environment_.resultPath, std::ios::trunc);  // No stale outcome.
      process.argv.push_back("--result=" + environment_.resultPath);
    }
  }
  // A probe's output is not kept (as in Mesos); its outcome is its status.
  process.stdoutPath = "/dev/null";
  process.stderrPath = "/dev/null";

  uint64_t generation = ++generation_;
  std::weak_ptr<bool> alive = alive_;
  Result<int> pid = runner_.start(process, [this, alive, generation](int waitStatus) {
    if (alive.expired() || generation != generation_) return;  // Cancelled.
    finish(waitStatus);
  });
  if (!pid.ok()) {
    ProbeResult result;
    result.type = spec.type;
    result.message = "Failed to start the " + std::string(typeName(spec.type)) + " probe: " + pid.error().message();
    auto callback = std::move(done_);
    callback(result);
    return;
  }
  pid_ = *pid;
  timeoutTimer_ = clock_.schedule(timeout, [this] {
    timeoutTimer_ = 0;
    if (!pid_) return;
    timedOut_ = true;
    Status killed = runner_.signalGroup(*pid_, SIGKILL);
    if (!killed.ok()) log()->warn("Failed to kill a probe that timed out: {}", killed.message());
  });
}

void Prober::cancel() {
  if (timeoutTimer_ != 0) clock_.cancel(timeoutTimer_);
  timeoutTimer_ = 0;
  ++generation_;
  done_ = nullptr;
  if (pid_) {
    (void)runner_.signalGroup(*pid_, SIGKILL);
    pid_.reset();
  }
}

void Prober::finish(int waitStatus) {
  pid_.reset();
  if (timeoutTimer_ != 0) clock_.cancel(timeoutTimer_);
  timeoutTimer_ = 0;

  ProbeResult result;
  result.type = spec_.type;
  if (timedOut_) {
    result.message = "The " + std::string(typeName(spec_.type)) + " probe timed out after " + formatDuration(timeout_);
  } else if (spec_.type == ProbeSpec::Type::kCommand) {
    if (WIFEXITED(waitStatus)) result.exitCode = WEXITSTATUS(waitStatus);
    result.message = describeWaitStatus(waitStatus);
  } else {
    std::string outcome = environment_.resultPath.empty() ? "" : firstLine(environment_.resultPath);
    if (outcome == "connected") {
      result.tcpConnected = true;
      result.message = "Connected to port " + std::to_string(spec_.port);
    } else if (outcome.rfind("http ", 0) == 0) {
      result.httpStatus = std::atoi(outcome.c_str() + 5);
      result.message = "GET " + spec_.path + " on port " + std::to_string(spec_.port) + " answered " + outcome.substr(5);
    } else if (outcome.rfind("error: ", 0) == 0) {
      result.message = outcome.substr(7);
    } else if (spec_.type == ProbeSpec::Type::kTcp && WIFEXITED(waitStatus) && WEXITSTATUS(waitStatus) == 0) {
      result.tcpConnected = true;  // No result file: the exit code tells.
      result.message = "Connected to port " + std::to_string(spec_.port);
    } else {
      result.message = "The " + std::string(typeName(spec_.type)) + " probe: " + describeWaitStatus(waitStatus);
    }
  }
  auto callback = std::move(done_);
  if (callback) callback(result);
}

// --- Probes from the protos ---------------------------------------------------

Result<ProbeSpec> probeFor(const v1::HealthCheck& check, const ProcessSpec& task) {
  v1::HealthCheck::Type type = check.type();
  if (type == v1::HealthCheck::UNKNOWN) {
    // Pre-1.2 Mesos frameworks set only the field.
    if (check.has_command()) type = v1::HealthCheck::COMMAND;
    else if (check.has_http()) type = v1::HealthCheck::HTTP;
    else if (check.has_tcp()) type = v1::HealthCheck::TCP;
  }
  switch (type) {
    case v1::HealthCheck::COMMAND:
      if (!check.has_command()) return Status::InvalidArgument("A COMMAND health check needs 'command'");
      return commandProbe(check.command(), task);
    case v1::HealthCheck::HTTP: {
      if (!check.has_http()) return Status::InvalidArgument("An HTTP health check needs 'http'");
      AGORA_ASSIGN_OR_RETURN(ProbeSpec probe, networkProbe(ProbeSpec::Type::kHttp, check.http().port()));
      if (check.http().has_path()) probe.path = check.http().path();
      if (check.http().has_scheme()) probe.scheme = check.http().scheme();
      probe.ipv6 = check.http().protocol() == v1::NetworkInfo::IPv6;
      return probe;
    }
    case v1::HealthCheck::TCP: {
      if (!check.has_tcp()) return Status::InvalidArgument("A TCP health check needs 'tcp'");
      AGORA_ASSIGN_OR_RETURN(ProbeSpec probe, networkProbe(ProbeSpec::Type::kTcp, check.tcp().port()));
      probe.ipv6 = check.tcp().protocol() == v1::NetworkInfo::IPv6;
      return probe;
    }
    default:
      return Status::InvalidArgument("The health check has no type");
  }
}

Result<ProbeSpec> probeFor(const v1::CheckInfo& check, const ProcessSpec& task) {
  switch (check.type()) {
    case v1::CheckInfo::COMMAND:
      if (!check.has_command()) return Status::InvalidArgument("A COMMAND check needs 'command'");
      return commandProbe(check.command().command(), task);
    case v1::CheckInfo::HTTP: {
      if (!check.has_http()) return Status::InvalidArgument("An HTTP check needs 'http'");
      AGORA_ASSIGN_OR_RETURN(ProbeSpec probe, networkProbe(ProbeSpec::Type::kHttp, check.http().port()));
      if (check.http().has_path()) probe.path = check.http().path();
      return probe;
    }
    case v1::CheckInfo::TCP:
      if (!check.has_tcp()) return Status::InvalidArgument("A TCP check needs 'tcp'");
      return networkProbe(ProbeSpec::Type::kTcp, check.tcp().port());
    default:
      return Status::InvalidArgument("The check has no type");
  }
}

// --- ProbeLoop ----------------------------------------------------------------

ProbeLoop::ProbeLoop(Clock& clock, ProcessRunner& runner, ProbeEnvironment environment, ProbeSpec probe,
                     ProbeSchedule schedule, ResultCallback onResult)
    : clock_(clock),
      prober_(clock, runner, std::move(environment)),
      probe_(std::move(probe)),
      schedule_(schedule),
      onResult_(std::move(onResult)) {}

ProbeLoop::~ProbeLoop() { stop(); }

void ProbeLoop::start() { schedule(schedule_.delay); }

void ProbeLoop::stop() {
  stopped_ = true;
  if (timer_ != 0) clock_.cancel(timer_);
  timer_ = 0;
  prober_.cancel();
}

void ProbeLoop::schedule(Duration after) {
  if (stopped_) return;
  timer_ = clock_.schedule(after, [this] {
    timer_ = 0;
    prober_.run(probe_, schedule_.timeout, [this](ProbeResult result) {
      if (stopped_) return;
      onResult_(result);
      schedule(schedule_.interval);
    });
  });
}

// --- HealthChecker ------------------------------------------------------------

HealthChecker::HealthChecker(Clock& clock, ProcessRunner& runner, ProbeEnvironment environment,
                             const v1::HealthCheck& check, ProbeSpec probe, Callback onChange)
    : clock_(clock),
      gracePeriod_(seconds(check.grace_period_seconds())),
      maxFailures_(std::max<int>(1, static_cast<int>(check.consecutive_failures()))),
      onChange_(std::move(onChange)),
      loop_(clock, runner, std::move(environment), std::move(probe),
            {seconds(check.delay_seconds()), seconds(check.interval_seconds()), seconds(check.timeout_seconds())},
            [this](const ProbeResult& result) { this->result(result); }) {}

void HealthChecker::start() {
  startedAt_ = clock_.now();
  loop_.start();
}

void HealthChecker::result(const ProbeResult& result) {
  if (healthyResult(result)) {
    bool changed = !everHealthy_ || reportedUnhealthy_;
    everHealthy_ = true;
    reportedUnhealthy_ = false;
    failures_ = 0;
    if (changed) onChange_(Health{true, false, 0, result.message});
  } else if (!everHealthy_ && clock_.now() - startedAt_ < gracePeriod_) {
    log()->info("Ignoring a failed health check within the grace period: {}", result.message);
  } else {
    ++failures_;
    bool kill = failures_ >= maxFailures_;
    log()->warn("Health check failed {} time(s) in a row (of {}): {}", failures_, maxFailures_, result.message);
    if (!reportedUnhealthy_ || kill) {
      reportedUnhealthy_ = true;
      if (kill) loop_.stop();  // No probe after the kill.
      onChange_(Health{false, kill, failures_, result.message});
    }
  }
}

// --- Checker ------------------------------------------------------------------

Checker::Checker(Clock& clock, ProcessRunner& runner, ProbeEnvironment environment, const v1::CheckInfo& check,
                 ProbeSpec probe, Callback onChange)
    : type_(check.type()),
      onChange_(std::move(onChange)),
      loop_(clock, runner, std::move(environment), std::move(probe),
            {seconds(check.delay_seconds()), seconds(check.interval_seconds()), seconds(check.timeout_seconds())},
            [this](const ProbeResult& result) { this->result(result); }) {}

v1::CheckStatusInfo Checker::initialStatus(const v1::CheckInfo& check) {
  v1::CheckStatusInfo status;
  status.set_type(check.type());
  switch (check.type()) {
    case v1::CheckInfo::COMMAND: status.mutable_command(); break;
    case v1::CheckInfo::HTTP: status.mutable_http(); break;
    case v1::CheckInfo::TCP: status.mutable_tcp(); break;
    default: break;
  }
  return status;
}

void Checker::result(const ProbeResult& result) {
  v1::CheckStatusInfo status;
  status.set_type(type_);
  switch (result.type) {
    case ProbeSpec::Type::kCommand:
      if (result.exitCode) status.mutable_command()->set_exit_code(*result.exitCode);
      else status.mutable_command();
      break;
    case ProbeSpec::Type::kHttp:
      if (result.httpStatus) status.mutable_http()->set_status_code(static_cast<uint32_t>(*result.httpStatus));
      else status.mutable_http();
      break;
    case ProbeSpec::Type::kTcp: status.mutable_tcp()->set_succeeded(result.tcpConnected); break;
  }
  std::string serialized = status.SerializeAsString();
  if (serialized != last_) {
    last_ = serialized;
    onChange_(status);
  }
}

// --- agora-executor --probe=... ------------------------------------------------

namespace {

struct ProbeArguments {
  std::string probe;
  int port = 0;
  std::string path = "/";
  std::string scheme = "http";
  bool ipv6 = false;
  std::string result;
};

int report(const ProbeArguments& args, int code, const std::string& line) {
  if (!args.result.empty()) std::ofstream(args.result, std::ios::trunc) << line << "\n";
  std::cerr << line << std::endl;
  return code;
}

// A connected socket to the loopback port, or -1 with `error` set.
int connectLoopback(const ProbeArguments& args, std::string& error) {
  int fd = ::socket(args.ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  int rc;
  if (args.ipv6) {
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_port = htons(static_cast<uint16_t>(args.port));
    address.sin6_addr = in6addr_loopback;
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  } else {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(args.port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  }
  if (rc != 0) {
    error = "connect to port " + std::to_string(args.port) + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int runProbeCommand(int argc, char** argv) {
  ProbeArguments args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* prefix) -> std::optional<std::string> {
      size_t n = std::strlen(prefix);
      if (arg.compare(0, n, prefix) == 0) return arg.substr(n);
      return std::nullopt;
    };
    if (auto v = value("--probe=")) args.probe = *v;
    else if (auto v = value("--port=")) args.port = std::atoi(v->c_str());
    else if (auto v = value("--path=")) args.path = *v;
    else if (auto v = value("--scheme=")) args.scheme = *v;
    else if (auto v = value("--result=")) args.result = *v;
    else if (arg == "--ipv6") args.ipv6 = true;
    else return report(args, 2, "error: unknown argument '" + arg + "'");
  }
  if ((args.probe != "tcp" && args.probe != "http") || args.port <= 0 || args.port > 65535) {
    return report(args, 2, "error: usage: --probe=tcp|http --port=N [--path=P] [--scheme=http] [--ipv6] [--result=FILE]");
  }
  if (args.probe == "http" && args.scheme != "http") {
    return report(args, 1, "error: scheme '" + args.scheme + "' is not supported (only http)");
  }

  std::string error;
  int fd = connectLoopback(args, error);
  if (fd < 0) return report(args, 1, "error: " + error);
  if (args.probe == "tcp") {
    ::close(fd);
    return report(args, 0, "connected");
  }

  std::string path = args.path.empty() || args.path[0] != '/' ? "/" + args.path : args.path;
  std::ostringstream request;
  request << "GET " << path << " HTTP/1.1\r\nHost: " << (args.ipv6 ? "[::1]" : "127.0.0.1") << ":" << args.port
          << "\r\nUser-Agent: agora-health-check\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  std::string text = request.str();
  size_t sent = 0;
  while (sent < text.size()) {
    ssize_t n = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return report(args, 1, std::string("error: send: ") + std::strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }
  // The status line: "HTTP/1.x NNN reason\r\n", within the first 8 KiB.
  std::string response;
  char buffer[1024];
  while (response.find("\r\n") == std::string::npos && response.size() < 8192) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t end = response.find("\r\n");
  std::string line = response.substr(0, end == std::string::npos ? std::min<size_t>(response.size(), 80) : end);
  if (line.rfind("HTTP/", 0) != 0 || line.size() < 12 || line[8] != ' ') {
    return report(args, 1, "error: no HTTP status line from port " + std::to_string(args.port));
  }
  int code = std::atoi(line.substr(9, 3).c_str());
  if (code < 100 || code > 599) return report(args, 1, "error: bad HTTP status in '" + line + "'");
  return report(args, 0, "http " + std::to_string(code));
}

}  // namespace agora::sdk
