#pragma once

// Health checks (TaskInfo.health_check) and checks (TaskInfo.check) for the
// command executor, as Mesos's built-in executors run them (reference/
// mesos.md §2, "Health checks"):
//
//   COMMAND  `/bin/sh -c value` (or value + arguments) in the sandbox with
//            the task's environment; exit 0 is healthy.
//   HTTP     GET http://127.0.0.1:port/path; 200-399 is healthy (`statuses`
//            is ignored, as Mesos's built-in executors do). A scheme other
//            than "http" fails the check: there is no TLS client here.
//   TCP      a connect to 127.0.0.1:port that succeeds is healthy.
//
// Every probe is a child process started through the executor's
// ProcessRunner (HTTP and TCP through `agora-executor --probe=...`, the
// executor's own binary), so nothing blocks the executor's loop, a probe
// that outlives `timeout_seconds` is SIGKILLed (with its process group) and
// counted as failed, and tests drive probes with a fake runner and clock.
//
// Timing: the first probe `delay_seconds` after start(), each next one
// `interval_seconds` after the previous one ended.
//
// HealthChecker interprets: failures are ignored until the first success
// while `grace_period_seconds` (from start()) have not passed; it reports a
// change of health (the first success, a first counted failure, a recovery)
// and asks for the task's kill once `consecutive_failures` (at least 1)
// counted failures happened in a row.
//
// Checker does not interpret: it reports the probe's raw outcome
// (CheckStatusInfo: exit code, HTTP status, TCP success) whenever it
// differs from the previous one, and never kills.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agora/common/clock.hpp"
#include "agora/common/result.hpp"
#include "agora/v1/agora.pb.h"
#include "process_runner.hpp"

namespace agora::sdk {

// One probe.
struct ProbeSpec {
  enum class Type { kCommand, kHttp, kTcp };
  Type type = Type::kCommand;
  ProcessSpec command;         // kCommand.
  uint32_t port = 0;           // kHttp, kTcp.
  std::string path = "/";      // kHttp.
  std::string scheme = "http";  // kHttp.
  bool ipv6 = false;           // kHttp, kTcp: ::1 instead of 127.0.0.1.
};

struct ProbeResult {
  ProbeSpec::Type type = ProbeSpec::Type::kCommand;
  std::optional<int> exitCode;    // kCommand, when it exited (not signalled, not timed out).
  std::optional<int> httpStatus;  // kHttp, when a response arrived.
  bool tcpConnected = false;      // kTcp.
  std::string message;            // What happened, for logs and status messages.
};

// What the probe children need from the executor.
struct ProbeEnvironment {
  // The executable that implements `--probe=http|tcp` (agora-executor;
  // "/proc/self/exe" in the real executor).
  std::string probeProgram;
  // A file the HTTP and TCP probes write their outcome to, one line
  // ("http 200", "connected", "error: reason"); "" leaves only the exit
  // code (an HTTP probe then fails without a status).
  std::string resultPath;
};

// Runs one probe at a time on the executor's loop.
class Prober {
 public:
  Prober(Clock& clock, ProcessRunner& runner, ProbeEnvironment environment);
  ~Prober();

  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Starts `spec`; `done` runs later, on the loop, exactly once unless
  // cancel() comes first. Precondition: no probe running.
  void run(const ProbeSpec& spec, Duration timeout, std::function<void(ProbeResult)> done);
  // Kills a running probe; its `done` never runs.
  void cancel();
  bool running() const { return pid_.has_value(); }

 private:
  void finish(int waitStatus);

  Clock& clock_;
  ProcessRunner& runner_;
  ProbeEnvironment environment_;
  ProbeSpec spec_;
  std::optional<int> pid_;
  bool timedOut_ = false;
  Duration timeout_{};
  uint64_t generation_ = 0;  // Tells a stale exit (of a cancelled probe) from the current one.
  TimerId timeoutTimer_ = 0;
  std::function<void(ProbeResult)> done_;
  std::shared_ptr<bool> alive_;  // Expires with the prober: exits that arrive later are dropped.
};

// The probe a HealthCheck or CheckInfo describes, or an error for one that
// cannot run (no command, no port, unknown type). `task` gives the sandbox
// and environment of COMMAND probes (its spec from CommandExecutor::specFor).
Result<ProbeSpec> probeFor(const v1::HealthCheck& check, const ProcessSpec& task);
Result<ProbeSpec> probeFor(const v1::CheckInfo& check, const ProcessSpec& task);

// The periodic schedule both checkers share.
struct ProbeSchedule {
  Duration delay{};
  Duration interval{};
  Duration timeout{};
};

// The loop both checkers share: the first probe `delay` after start(), each
// next one `interval` after the previous one's result was handled, one at a
// time, until stop() (which may be called from `onResult`).
class ProbeLoop {
 public:
  using ResultCallback = std::function<void(const ProbeResult&)>;

  ProbeLoop(Clock& clock, ProcessRunner& runner, ProbeEnvironment environment, ProbeSpec probe,
            ProbeSchedule schedule, ResultCallback onResult);
  ~ProbeLoop();

  ProbeLoop(const ProbeLoop&) = delete;
  ProbeLoop& operator=(const ProbeLoop&) = delete;

  void start();
  // No probe and no callback after this.
  void stop();

 private:
  void schedule(Duration after);

  Clock& clock_;
  Prober prober_;
  ProbeSpec probe_;
  ProbeSchedule schedule_;
  ResultCallback onResult_;
  TimerId timer_ = 0;
  bool stopped_ = false;
};

class HealthChecker {
 public:
  struct Health {
    bool healthy = false;
    bool kill = false;             // consecutive_failures reached.
    int consecutiveFailures = 0;
    std::string message;           // The probe's outcome.
  };
  using Callback = std::function<void(const Health&)>;

  HealthChecker(Clock& clock, ProcessRunner& runner, ProbeEnvironment environment, const v1::HealthCheck& check,
                ProbeSpec probe, Callback onChange);

  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  void start();
  // No probe and no callback after this.
  void stop() { loop_.stop(); }

 private:
  void result(const ProbeResult& result);

  Clock& clock_;
  Duration gracePeriod_{};
  int maxFailures_ = 3;
  Callback onChange_;
  TimePoint startedAt_{};
  ProbeLoop loop_;  // Last: destroyed first, so no result arrives half-destroyed.
  bool everHealthy_ = false;
  bool reportedUnhealthy_ = false;
  int failures_ = 0;
};

class Checker {
 public:
  using Callback = std::function<void(const v1::CheckStatusInfo&)>;

  Checker(Clock& clock, ProcessRunner& runner, ProbeEnvironment environment, const v1::CheckInfo& check,
          ProbeSpec probe, Callback onChange);

  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;

  void start() { loop_.start(); }
  void stop() { loop_.stop(); }

  // The type only, as the first TASK_RUNNING update carries it.
  static v1::CheckStatusInfo initialStatus(const v1::CheckInfo& check);

 private:
  void result(const ProbeResult& result);

  v1::CheckInfo::Type type_;
  Callback onChange_;
  std::optional<std::string> last_;  // The last reported status, serialized.
  ProbeLoop loop_;  // Last: destroyed first.
};

// `agora-executor --probe=tcp|http ...`: the child side of HTTP and TCP
// probes. Arguments after argv[0]: --probe=tcp|http, --port=N, [--path=P],
// [--scheme=S], [--ipv6], [--result=FILE]. Writes its outcome to FILE
// (and stderr) as one line: "connected", "http NNN" or "error: reason";
// exits 0 when the connect succeeded (TCP) or a status line arrived
// (HTTP), 1 otherwise, 2 for bad arguments.
int runProbeCommand(int argc, char** argv);

}  // namespace agora::sdk
