#include "agora/agent/posix_containerizer.hpp"

#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <cstdlib>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "agora/common/logging.hpp"
#include "agora/containerizer/launcher.hpp"
#include "unknown_container.hpp"

namespace agora::agent {
namespace {

namespace cz = agora::containerizer;

class PosixContainerizer final : public Containerizer {
 public:
  PosixContainerizer(Clock& clock, PosixContainerizerOptions options)
      : clock_(clock), options_(std::move(options)), launcher_(cz::makePosixLauncher()), log_(logger("containerizer")) {}

  ~PosixContainerizer() override {
    *alive_ = false;
    if (pollTimer_) clock_.cancel(*pollTimer_);
    for (auto& [id, container] : containers_) {
      if (container.killTimer) clock_.cancel(*container.killTimer);
    }
  }

  void launch(const ContainerConfig& config, LaunchCallback done) override {
    cz::LaunchSpec spec;
    spec.argv = config.argv;
    for (const auto& [name, value] : config.env) spec.env.push_back(name + "=" + value);
    spec.sandbox = config.sandbox;
    if (config.user && geteuid() == 0) spec.user = config.user;
    auto result = std::make_shared<Result<pid_t>>(Status::Unavailable("not launched"));
    std::string containerId = config.containerId;
    auto work = [launcher = launcher_, containerId, spec, result] {
      if (spec.user) {
        // The task's user owns its sandbox (Mesos does the same).
        struct passwd* entry = getpwnam(spec.user->c_str());
        if (entry == nullptr) {
          *result = Status::NotFound("Unknown user '" + *spec.user + "'");
          return;
        }
        if (::chown(spec.sandbox.c_str(), entry->pw_uid, entry->pw_gid) != 0) {
          *result = Status::IoError(fmt::format("Failed to chown sandbox '{}' to '{}': {}", spec.sandbox,
                                                *spec.user, std::strerror(errno)));
          return;
        }
      }
      *result = launcher->launch(containerId, spec);
    };
    auto finish = [this, alive = alive_, containerId, result, done] {
      if (!*alive) return;
      if (result->ok()) {
        Container& container = containers_[containerId];
        container.pid = **result;
        container.child = true;
        // Our child until we reap it, so its pid names it here.
        watch(container);
        schedulePoll();
      }
      done(*result);
    };
    runBlocking(work, finish);
  }

  void wait(const std::string& containerId, TerminationCallback done) override {
    waitForContainer(clock_, containers_, containerId, std::move(done));
  }

  void destroy(const std::string& containerId, Duration gracePeriod) override {
    auto it = containers_.find(containerId);
    if (it == containers_.end() || it->second.destroying) return;
    Container& container = it->second;
    container.destroying = true;
    if (gracePeriod <= Duration::zero()) {
      signal(container.pid, SIGKILL);
    } else {
      signal(container.pid, SIGTERM);
      container.killTimer = clock_.schedule(gracePeriod, [this, containerId] {
        auto found = containers_.find(containerId);
        if (found == containers_.end()) return;
        found->second.killTimer.reset();
        signal(found->second.pid, SIGKILL);
      });
    }
    schedulePoll();
  }

  Result<std::set<std::string>> recover(const std::vector<RecoveredContainer>& containers) override {
    std::set<std::string> alive;
    for (const RecoveredContainer& recovered : containers) {
      if (!recovered.pid || *recovered.pid <= 0) continue;
      if (::kill(*recovered.pid, 0) != 0 && errno == ESRCH) continue;
      Container& container = containers_[recovered.containerId];
      container.pid = *recovered.pid;
      container.child = false;
      watch(container);
      alive.insert(recovered.containerId);
    }
    if (!alive.empty()) schedulePoll();
    return alive;
  }

  void usage(const std::vector<std::string>& containerIds, UsageCallback done) override {
    // The executor process alone: posix has no container-wide accounting.
    auto pids = std::make_shared<std::map<std::string, pid_t>>();
    for (const std::string& id : containerIds) {
      auto it = containers_.find(id);
      if (it != containers_.end()) (*pids)[id] = it->second.pid;
    }
    auto result = std::make_shared<std::map<std::string, ContainerUsage>>();
    double now = std::chrono::duration<double>(clock_.wallNow().time_since_epoch()).count();
    auto work = [pids, result, now] {
      for (const auto& [id, pid] : *pids) {
        std::optional<ContainerUsage> sample = processUsage(pid);
        if (!sample) continue;
        sample->statistics.set_timestamp(now);
        (*result)[id] = std::move(*sample);
      }
    };
    runBlocking(work, [result, done] { done(std::move(*result)); });
  }

  void checkLimitation(const std::string&, LimitationCallback done) override {
    // Nothing is limited without isolation.
    clock_.schedule(Duration::zero(), [done] { done(std::nullopt); });
  }

  std::string isolation() const override { return "posix"; }

 private:
  struct Container {
    pid_t pid = 0;
    bool child = false;  // Forked by this agent process (so we reap it).
    bool destroying = false;
    // The executor ended: reported once nothing of its process group runs.
    std::optional<ContainerTermination> ended;
    std::optional<TimerId> killTimer;
    std::vector<TerminationCallback> waiters;
    std::unique_ptr<cz::Pidfd> pidfd;
    // After the pidfd it watches, so that it goes first.
    std::unique_ptr<ReadableWatch> exitWatch;
  };

  // Has the loop tell when the executor ends (one shot: an ended executor
  // is not watched again).
  void watch(Container& container) {
    if (!options_.watchReadable || !options_.usePidfds || container.pid <= 0) return;
    auto pidfd = cz::Pidfd::open(container.pid);
    if (!pidfd.ok()) return;
    container.pidfd = std::make_unique<cz::Pidfd>(std::move(*pidfd));
    container.exitWatch = options_.watchReadable(container.pidfd->fd(), [this] { pollNow(); });
  }

  // Whether anything needs a look without a watch telling: a container
  // without one, or an ended executor whose process group still runs.
  bool needsPolling() const {
    for (const auto& [id, container] : containers_) {
      if (!container.exitWatch || container.ended) return true;
    }
    return false;
  }

  void pollNow() {
    if (pollTimer_) clock_.cancel(*pollTimer_);
    startPollTimer(Duration::zero());
  }

  void runBlocking(std::function<void()> work, std::function<void()> done) {
    if (options_.runBlocking) {
      options_.runBlocking(std::move(work), std::move(done));
    } else {
      work();
      clock_.schedule(Duration::zero(), std::move(done));
    }
  }

  // cpu times and rss of one process from /proc/<pid>/stat.
  static std::optional<ContainerUsage> processUsage(pid_t pid) {
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string line;
    if (!std::getline(stat, line)) return std::nullopt;
    size_t close = line.rfind(')');
    std::istringstream fields(close == std::string::npos ? "" : line.substr(close + 2));
    std::vector<std::string> values;
    for (std::string field; fields >> field;) values.push_back(field);
    // Fields after the command: state is index 0, utime 11, stime 12, rss 21.
    if (values.size() <= 21) return std::nullopt;
    ContainerUsage usage;
    double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    usage.statistics.set_cpus_user_time_secs(std::strtod(values[11].c_str(), nullptr) / ticks);
    usage.statistics.set_cpus_system_time_secs(std::strtod(values[12].c_str(), nullptr) / ticks);
    usage.statistics.set_mem_rss_bytes(std::strtoull(values[21].c_str(), nullptr, 10) *
                                       static_cast<uint64_t>(sysconf(_SC_PAGESIZE)));
    usage.statistics.set_processes(1);
    return usage;
  }

  void signal(pid_t pid, int sig) {
    auto signalled = cz::killTree(pid, sig);
    if (!signalled.ok() && signalled.error().code() != Status::Code::kNotFound) {
      log_->warn("Failed to signal process {}: {}", pid, signalled.error().message());
    }
  }

  void schedulePoll() {
    if (pollTimer_ || !needsPolling()) return;
    startPollTimer(options_.pollInterval);
  }

  void startPollTimer(Duration after) {
    pollTimer_ = clock_.schedule(after, [this] {
      pollTimer_.reset();
      poll();
    });
  }

  void poll() {
    std::vector<std::string> ended;
    for (auto& [id, container] : containers_) {
      if (!container.ended) container.ended = checkExit(container);
      if (container.ended && !groupRuns(container)) ended.push_back(id);
    }
    for (const std::string& id : ended) {
      auto it = containers_.find(id);
      if (it->second.killTimer) clock_.cancel(*it->second.killTimer);
      ContainerTermination termination = std::move(*it->second.ended);
      std::vector<TerminationCallback> waiters = std::move(it->second.waiters);
      containers_.erase(it);
      for (TerminationCallback& waiter : waiters) waiter(termination);
    }
    schedulePoll();
  }

  // How the executor ended, or nullopt while it runs.
  static std::optional<ContainerTermination> checkExit(const Container& container) {
    if (!container.child) {
      // A pidfd tells an ended process from a live one even while it is a
      // zombie (kill(pid, 0) does not, until its parent reaps it).
      bool gone = container.pidfd ? container.pidfd->ended() : (::kill(container.pid, 0) != 0 && errno == ESRCH);
      if (gone) {
        return ContainerTermination{std::nullopt, "The executor process is gone", {}, {}, {}};
      }
      return std::nullopt;
    }
    auto reaped = cz::tryReap(container.pid);
    if (!reaped.ok()) {
      return ContainerTermination{std::nullopt, "Lost the executor process: " + reaped.error().message(), {}, {}, {}};
    }
    if (!reaped->has_value()) return std::nullopt;
    const cz::ExitStatus& exit = **reaped;
    int status = exit.exitCode ? (*exit.exitCode << 8) : (exit.signal.value_or(0) & 0x7f);
    return ContainerTermination{status, exit.toString(), {}, {}, {}};
  }

  // Whatever a reaped executor left behind in its process group goes too,
  // and the container ends only once none of it runs: SIGKILL is delivered
  // asynchronously, so the group is looked at again at the next poll. (An
  // adopted executor's group is left alone: once it is gone its pid, the
  // group's id, may be reused.)
  static bool groupRuns(const Container& container) {
    if (!container.child || cz::liveProcessGroupMembers(container.pid).empty()) return false;
    ::kill(-container.pid, SIGKILL);
    return true;
  }

  Clock& clock_;
  PosixContainerizerOptions options_;
  std::shared_ptr<cz::Launcher> launcher_;  // Shared with launches in flight on the worker.
  std::shared_ptr<spdlog::logger> log_;
  std::map<std::string, Container> containers_;
  std::optional<TimerId> pollTimer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // False once destroyed.
};

}  // namespace

std::unique_ptr<Containerizer> makePosixContainerizer(Clock& clock, PosixContainerizerOptions options) {
  return std::make_unique<PosixContainerizer>(clock, std::move(options));
}

}  // namespace agora::agent
