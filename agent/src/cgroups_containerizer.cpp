#include "agora/agent/cgroups_containerizer.hpp"

#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "agora/common/logging.hpp"
#include "agora/containerizer/launcher.hpp"
#include "unknown_container.hpp"

namespace agora::agent {
namespace {

namespace cz = agora::containerizer;

// Mesos's floor for a container's memory limit.
constexpr uint64_t kMinMemoryBytes = 32ull << 20;
constexpr double kMegabyte = 1024.0 * 1024.0;
// After an OOM notification whose kill is not counted yet, the polls that
// read the counter again (one poll interval apart) before giving up: the
// kernel may also resolve an OOM without a kill.
constexpr int kOomRechecks = 50;

std::string megabytes(uint64_t bytes) { return fmt::format("{:.1f} MB", static_cast<double>(bytes) / kMegabyte); }

// What one launch writes, decided on the loop from the config.
struct LaunchPlan {
  std::string containerId;
  cz::LaunchSpec spec;
  std::optional<double> cpus;            // cgroups/cpu: the request
  std::optional<double> cpuLimit;        // CFS quota (infinity: unlimited)
  std::optional<cz::MemoryLimits> memory;  // cgroups/mem
  std::optional<uint64_t> pidsMax;       // cgroups/pids
};

// What a poll found about one container.
struct PollItem {
  std::string containerId;
  pid_t pid = 0;
  bool child = false;
  bool gone = false;  // Known dead already (recovered without its executor).
  bool checkOom = false;  // Read the OOM counter even without a notification.
  // Polls left to read the OOM counter again: the notification comes when
  // the cgroup enters OOM, the kill (and its count) a moment later. In and
  // out: the work sets it when notified before the kill was counted.
  int oomRechecksLeft = 0;
  std::shared_ptr<const cz::Pidfd> pidfd;  // Unset: the kernel has none.
  std::shared_ptr<cz::OomWatch> oom;
  std::optional<ContainerTermination> ended;  // Set by the work.
};

// The executor's pidfd, or nullptr when pidfds are off or unsupported (the
// container is then polled with waitpid / kill(pid, 0)).
std::shared_ptr<const cz::Pidfd> openPidfd(pid_t pid, bool enabled) {
  if (!enabled || pid <= 0) return nullptr;
  auto opened = cz::Pidfd::open(pid);
  if (!opened.ok()) return nullptr;
  return std::make_shared<const cz::Pidfd>(std::move(*opened));
}

class CgroupsContainerizer final : public Containerizer {
 public:
  CgroupsContainerizer(Clock& clock, std::unique_ptr<cz::Cgroups> cgroups, CgroupsContainerizerOptions options)
      : clock_(clock),
        cgroups_(std::move(cgroups)),
        options_(std::move(options)),
        launcher_(cz::makeLinuxLauncher(cgroups_.get())),
        log_(logger("containerizer")) {}

  ~CgroupsContainerizer() override {
    if (pollTimer_) clock_.cancel(*pollTimer_);
    for (auto& [id, container] : containers_) {
      if (container.killTimer) clock_.cancel(*container.killTimer);
    }
    *alive_ = false;
  }

  void launch(const ContainerConfig& config, LaunchCallback done) override {
    auto plan = std::make_shared<LaunchPlan>(planFor(config));
    auto result = std::make_shared<Result<pid_t>>(Status::Unavailable("not launched"));
    auto oom = std::make_shared<std::shared_ptr<cz::OomWatch>>();
    auto pidfd = std::make_shared<std::shared_ptr<const cz::Pidfd>>();
    std::shared_ptr<cz::Cgroups> cgroups = cgroups_;
    std::shared_ptr<cz::Launcher> launcher = launcher_;
    bool usePidfds = options_.usePidfds;
    auto work = [plan, result, oom, pidfd, cgroups, launcher, usePidfds] {
      Result<std::shared_ptr<cz::OomWatch>> watch = std::shared_ptr<cz::OomWatch>();
      Status prepared = prepare(*cgroups, *plan, &watch);
      if (prepared.ok()) {
        *oom = *watch;
        *result = launcher->launch(plan->containerId, plan->spec);
        // Our child until we reap it, so its pid names it here.
        if (result->ok()) *pidfd = openPidfd(**result, usePidfds);
      } else {
        *result = prepared;
      }
      if (!result->ok()) {
        // Nothing of a failed launch stays behind.
        Status killed = cgroups->killAll(plan->containerId);
        Status removed = cgroups->destroy(plan->containerId);
        (void)killed;
        (void)removed;
      }
    };
    std::string containerId = config.containerId;
    auto finish = [this, alive = alive_, containerId, result, oom, pidfd, done] {
      if (!*alive) return;
      if (result->ok()) {
        Container& container = containers_[containerId];
        container.pid = **result;
        container.child = true;
        container.oom = *oom;
        container.pidfd = *pidfd;
        watch(containerId, container);
        if (!container.watched) schedulePoll(options_.pollInterval);
        done(**result);
      } else {
        done(result->error().withContext("Failed to launch container " + containerId));
      }
    };
    runBlocking(std::move(work), std::move(finish));
  }

  void wait(const std::string& containerId, TerminationCallback done) override {
    waitForContainer(clock_, containers_, containerId, std::move(done));
  }

  void destroy(const std::string& containerId, Duration gracePeriod) override {
    auto it = containers_.find(containerId);
    if (it == containers_.end() || it->second.destroying) return;
    it->second.destroying = true;
    if (gracePeriod <= Duration::zero()) {
      killAll(containerId);
      return;
    }
    std::shared_ptr<cz::Cgroups> cgroups = cgroups_;
    auto log = log_;
    runBlocking(
        [cgroups, containerId, log] {
          if (Status s = cgroups->signalAll(containerId, SIGTERM); !s.ok()) {
            log->warn("Failed to send SIGTERM to container {}: {}", containerId, s.message());
          }
        },
        [] {});
    it->second.killTimer = clock_.schedule(gracePeriod, [this, containerId] {
      auto found = containers_.find(containerId);
      if (found == containers_.end()) return;
      found->second.killTimer.reset();
      killAll(containerId);
    });
  }

  Result<std::set<std::string>> recover(const std::vector<RecoveredContainer>& containers) override {
    // Runs once at start, before the loop serves anything: listing the
    // containers and their processes here keeps recovery one step; the
    // slow part (killing orphans) is handed to the worker.
    AGORA_ASSIGN_OR_RETURN(std::vector<std::string> found, cgroups_->containers());
    std::set<std::string> present(found.begin(), found.end());
    std::set<std::string> adopted;
    std::vector<std::string> oomless;  // Adopted running, OOM watch to open.
    for (const RecoveredContainer& recovered : containers) {
      if (!present.count(recovered.containerId)) continue;  // Its cgroup is gone: so is it.
      Container& container = containers_[recovered.containerId];
      container.child = false;
      container.pid = recovered.pid.value_or(0);
      // The pidfd first, then the cgroup check: if the pid is in the
      // container's cgroup now, the pidfd names the executor, whatever
      // happens to the pid later.
      container.pidfd = openPidfd(container.pid, options_.usePidfds);
      auto holds = container.pid > 0 ? cgroups_->holds(recovered.containerId, container.pid) : Result<bool>(false);
      bool running = holds.ok() && *holds && !(container.pidfd && container.pidfd->ended());
      if (running) {
        this->watch(recovered.containerId, container);
        if (options_.memory && cgroups_->supports(cz::Controller::kMemory)) oomless.push_back(recovered.containerId);
      } else {
        // Adopted only to be reported (with its OOM kill, if any) and
        // cleaned up at the first poll.
        container.gone = true;
      }
      adopted.insert(recovered.containerId);
    }
    std::vector<std::string> orphans;
    for (const std::string& id : found) {
      if (!adopted.count(id)) orphans.push_back(id);
    }
    if (!orphans.empty()) {
      std::shared_ptr<cz::Cgroups> cgroups = cgroups_;
      auto log = log_;
      for (const std::string& id : orphans) log_->warn("Destroying unknown container {} under the cgroups root", id);
      runBlocking(
          [cgroups, orphans, log] {
            for (const std::string& id : orphans) {
              Status s = cgroups->killAll(id);
              if (s.ok()) s = cgroups->destroy(id);
              if (!s.ok()) log->error("Failed to destroy orphan container {}: {}", id, s.message());
            }
          },
          [] {});
    }
    if (!oomless.empty()) {
      clock_.schedule(options_.oomWatchDelay, [this, alive = alive_, ids = std::move(oomless)]() mutable {
        if (*alive) watchOomAfterRecovery(std::move(ids));
      });
    }
    if (!containers_.empty()) schedulePoll(Duration::zero());
    return adopted;
  }

  void usage(const std::vector<std::string>& containerIds, UsageCallback done) override {
    std::vector<std::string> ids;
    for (const std::string& id : containerIds) {
      if (containers_.count(id)) ids.push_back(id);
    }
    auto samples = std::make_shared<std::map<std::string, ContainerUsage>>();
    double now = std::chrono::duration<double>(clock_.wallNow().time_since_epoch()).count();
    std::shared_ptr<cz::Cgroups> cgroups = cgroups_;
    runBlocking(
        [cgroups, ids, samples, now] {
          for (const std::string& id : ids) {
            auto statistics = cgroups->statistics(id);
            if (!statistics.ok()) continue;
            (*samples)[id] = toUsage(*statistics, now);
          }
        },
        [samples, done] { done(std::move(*samples)); });
  }

  void checkLimitation(const std::string& containerId, LimitationCallback done) override {
    if (!containers_.count(containerId) || !options_.memory || !cgroups_->supports(cz::Controller::kMemory)) {
      clock_.schedule(Duration::zero(), [done] { done(std::nullopt); });
      return;
    }
    auto limitation = std::make_shared<std::optional<ContainerTermination>>();
    std::shared_ptr<cz::Cgroups> cgroups = cgroups_;
    runBlocking([cgroups, containerId, limitation] { *limitation = oomLimitation(*cgroups, containerId); },
                [limitation, done] { done(*limitation); });
  }

  std::string isolation() const override {
    std::vector<std::string> names;
    if (options_.cpu) names.push_back("cgroups/cpu");
    if (options_.memory) names.push_back("cgroups/mem");
    if (options_.pids) names.push_back("cgroups/pids");
    if (options_.pidNamespace) names.push_back("namespaces/pid");
    return names.empty() ? "cgroups" : fmt::format("{}", fmt::join(names, ","));
  }

 private:
  struct Container {
    pid_t pid = 0;
    bool child = false;       // Forked by this agent process (so we reap it).
    bool gone = false;        // Recovered without its executor.
    bool destroying = false;  // destroy() called.
    // The loop watches its pidfd (and OOM notifier): polls look at it only
    // once `notified`. Otherwise every poll looks at it.
    bool watched = false;
    bool notified = false;
    bool checkOom = false;  // The next poll reads its OOM counter.
    int oomRechecksLeft = 0;  // See PollItem.
    std::optional<TimerId> killTimer;
    // Shared with poll jobs; only those read or drain them (one at a time).
    std::shared_ptr<const cz::Pidfd> pidfd;
    std::shared_ptr<cz::OomWatch> oom;
    // After the descriptors they watch, so that they go first.
    std::unique_ptr<ReadableWatch> exitWatch;
    std::unique_ptr<ReadableWatch> oomWatch;
    std::vector<TerminationCallback> waiters;
  };

  // Opening a v1 OOM watch costs a write to cgroup.event_control (about
  // 0.15 ms each): on the worker, a moment after recovery (oomWatchDelay),
  // so that 200 of them neither delay nor compete with what a restarted
  // agent must do first (serve, adopt, reregister). Nothing is missed: an
  // executor that ends meanwhile shows on its pidfd and its end reads the
  // kernel's OOM counter; the poll that follows the registration reads the
  // counter of every adopted container once, which also catches the OOM
  // kills of the time the agent was down (a notifier cannot: it only tells
  // of later ones).
  void watchOomAfterRecovery(std::vector<std::string> ids) {
    auto watches = std::make_shared<std::vector<std::shared_ptr<cz::OomWatch>>>(ids.size());
    std::shared_ptr<cz::Cgroups> cgroups = cgroups_;
    auto log = log_;
    runBlocking(
        [cgroups, ids, watches, log] {
          for (size_t i = 0; i < ids.size(); ++i) {
            auto watch = cgroups->watchOom(ids[i]);
            if (watch.ok()) {
              (*watches)[i] = std::shared_ptr<cz::OomWatch>(std::move(*watch));
            } else {
              log->warn("Failed to watch container {} for OOM kills: {}", ids[i], watch.error().message());
            }
          }
        },
        [this, alive = alive_, ids, watches] {
          if (!*alive) return;
          for (size_t i = 0; i < ids.size(); ++i) {
            auto it = containers_.find(ids[i]);
            if (it == containers_.end() || !(*watches)[i] || it->second.oom) continue;
            it->second.oom = (*watches)[i];
            it->second.checkOom = true;
            watchOom(ids[i], it->second);
          }
          schedulePoll(Duration::zero());
        });
  }

  // Has the loop tell when the executor ends or the OOM notifier fires;
  // without a pidfd or a WatchReadable the container is polled instead.
  void watch(const std::string& containerId, Container& container) {
    if (!options_.watchReadable || !container.pidfd) return;
    container.exitWatch =
        options_.watchReadable(container.pidfd->fd(), [this, containerId] { onReadable(containerId); });
    container.watched = container.exitWatch != nullptr;
    watchOom(containerId, container);
  }

  // One shot: armed again after each poll that looked at the container (and
  // drained the notifier), so that a pending notification cannot spin.
  void watchOom(const std::string& containerId, Container& container) {
    if (!container.watched || !container.oom) return;
    container.oomWatch.reset();  // Deregistered before registering again.
    container.oomWatch =
        options_.watchReadable(container.oom->fd(), [this, containerId] { onReadable(containerId); });
    if (!container.oomWatch) container.watched = false;  // Polled from now on.
  }

  void onReadable(const std::string& containerId) {
    auto it = containers_.find(containerId);
    if (it == containers_.end()) return;
    it->second.notified = true;
    schedulePoll(Duration::zero());
  }

  bool anyPolled() const {
    for (const auto& [id, container] : containers_) {
      if (!container.watched || container.oomRechecksLeft > 0) return true;
    }
    return false;
  }

  LaunchPlan planFor(const ContainerConfig& config) const {
    LaunchPlan plan;
    plan.containerId = config.containerId;
    plan.spec.argv = config.argv;
    for (const auto& [name, value] : config.env) plan.spec.env.push_back(name + "=" + value);
    plan.spec.sandbox = config.sandbox;
    if (config.user && geteuid() == 0) plan.spec.user = config.user;
    plan.spec.pidNamespace = options_.pidNamespace;
    auto limit = [&](const char* name) -> std::optional<double> {
      auto it = config.limits.find(name);
      return it == config.limits.end() ? std::nullopt : std::optional<double>(it->second);
    };
    if (options_.cpu && cgroups_->supports(cz::Controller::kCpu)) {
      double cpus = config.resources.scalar("cpus").toDouble();
      plan.cpus = cpus > 0 ? cpus : 0.01;
      plan.cpuLimit = limit("cpus");
      if (!plan.cpuLimit && options_.enableCfs) plan.cpuLimit = plan.cpus;
    }
    if (options_.memory && cgroups_->supports(cz::Controller::kMemory)) {
      uint64_t request = static_cast<uint64_t>(config.resources.scalar("mem").toDouble() * kMegabyte);
      cz::MemoryLimits memory;
      memory.softBytes = std::max(request, kMinMemoryBytes);
      memory.hardBytes = memory.softBytes;
      if (std::optional<double> mem = limit("mem")) {
        if (std::isinf(*mem)) {
          memory.hardBytes.reset();
        } else {
          memory.hardBytes = std::max(memory.softBytes, static_cast<uint64_t>(*mem * kMegabyte));
        }
      }
      plan.memory = memory;
    }
    if (options_.pids && cgroups_->supports(cz::Controller::kPids)) plan.pidsMax = options_.pidsMax;
    return plan;
  }

  // On the worker: the cgroups, their limits, the OOM watch, the sandbox's
  // owner. Everything before the fork.
  static Status prepare(cz::Cgroups& cgroups, const LaunchPlan& plan,
                        Result<std::shared_ptr<cz::OomWatch>>* oom) {
    const std::string& id = plan.containerId;
    AGORA_RETURN_IF_ERROR(cgroups.create(id));
    if (plan.cpus) {
      std::optional<double> limit = plan.cpuLimit;
      AGORA_RETURN_IF_ERROR(cgroups.setCpu(id, *plan.cpus, limit));
    }
    if (plan.memory) {
      AGORA_RETURN_IF_ERROR(cgroups.setMemory(id, *plan.memory));
      AGORA_ASSIGN_OR_RETURN(std::unique_ptr<cz::OomWatch> watch, cgroups.watchOom(id));
      *oom = std::shared_ptr<cz::OomWatch>(std::move(watch));
    }
    if (plan.pidsMax) AGORA_RETURN_IF_ERROR(cgroups.setPidsLimit(id, plan.pidsMax));
    if (plan.spec.user) {
      // The task's user owns its sandbox (Mesos does the same).
      struct passwd* entry = getpwnam(plan.spec.user->c_str());
      if (entry == nullptr) return Status::NotFound("Unknown user '" + *plan.spec.user + "'");
      if (::chown(plan.spec.sandbox.c_str(), entry->pw_uid, entry->pw_gid) != 0) {
        return Status::IoError(fmt::format("Failed to chown sandbox '{}' to '{}': {}", plan.spec.sandbox,
                                           *plan.spec.user, std::strerror(errno)));
      }
    }
    return Status::OK();
  }

  // On the worker: the memory limitation of a container the kernel
  // OOM-killed in, or nullopt.
  static std::optional<ContainerTermination> oomLimitation(cz::Cgroups& cgroups, const std::string& id) {
    auto killed = cgroups.oomKilled(id);
    if (!killed.ok() || !*killed) return std::nullopt;
    auto statistics = cgroups.statistics(id);
    return memoryLimitation(statistics.ok() ? *statistics : cz::CgroupStatistics{});
  }

  static ContainerUsage toUsage(const cz::CgroupStatistics& s, double now) {
    ContainerUsage usage;
    v1::ResourceStatistics& out = usage.statistics;
    out.set_timestamp(now);
    out.set_processes(static_cast<uint32_t>(s.processes));
    if (s.cpuUserSeconds) out.set_cpus_user_time_secs(*s.cpuUserSeconds);
    if (s.cpuSystemSeconds) out.set_cpus_system_time_secs(*s.cpuSystemSeconds);
    if (s.cpuNrPeriods) out.set_cpus_nr_periods(static_cast<uint32_t>(*s.cpuNrPeriods));
    if (s.cpuNrThrottled) out.set_cpus_nr_throttled(static_cast<uint32_t>(*s.cpuNrThrottled));
    if (s.cpuThrottledSeconds) out.set_cpus_throttled_time_secs(*s.cpuThrottledSeconds);
    if (s.memoryUsageBytes) out.set_mem_total_bytes(*s.memoryUsageBytes);
    if (s.memoryLimitBytes) out.set_mem_limit_bytes(*s.memoryLimitBytes);
    if (s.memoryAnonBytes) out.set_mem_anon_bytes(*s.memoryAnonBytes);
    if (s.memoryAnonBytes) out.set_mem_rss_bytes(*s.memoryAnonBytes);
    if (s.memoryFileBytes) out.set_mem_file_bytes(*s.memoryFileBytes);
    if (s.memoryFileBytes) out.set_mem_cache_bytes(*s.memoryFileBytes);
    if (s.memorySwapBytes) out.set_mem_swap_bytes(*s.memorySwapBytes);
    usage.pidsCurrent = s.pidsCurrent;
    usage.pidsLimit = s.pidsMax;
    return usage;
  }

  void runBlocking(std::function<void()> work, std::function<void()> done) {
    if (options_.runBlocking) {
      options_.runBlocking(std::move(work), std::move(done));
    } else {
      work();
      clock_.schedule(Duration::zero(), std::move(done));
    }
  }

  // SIGKILL to every process in the container, without waiting for them to
  // go: destroying many containers at once must not wait for each in turn
  // on the one worker. The executor dies with it; the poll that sees it gone
  // then kills whatever is left with Cgroups::killAll (freezing first, so
  // that nothing forked meanwhile escapes) and removes the cgroups.
  void killAll(const std::string& containerId) {
    std::shared_ptr<cz::Cgroups> cgroups = cgroups_;
    auto log = log_;
    runBlocking(
        [cgroups, containerId, log] {
          if (Status s = cgroups->signalAll(containerId, SIGKILL); !s.ok()) {
            log->error("Failed to kill container {}: {}", containerId, s.message());
          }
        },
        [this, alive = alive_] {
          if (*alive) schedulePoll(Duration::zero());
        });
  }

  // Polls after `after`, or sooner if a poll is already due sooner; one
  // poll job in flight at a time.
  void schedulePoll(Duration after) {
    if (pollInFlight_) {
      pollAgain_ = pollAgain_ || after == Duration::zero();
      return;
    }
    if (pollTimer_) {
      if (after > Duration::zero()) return;
      clock_.cancel(*pollTimer_);
    }
    pollTimer_ = clock_.schedule(after, [this] {
      pollTimer_.reset();
      poll();
    });
  }

  void poll() {
    auto items = std::make_shared<std::vector<PollItem>>();
    for (auto& [id, container] : containers_) {
      if (container.watched && !container.notified && !container.gone && !container.checkOom &&
          container.oomRechecksLeft == 0) {
        continue;
      }
      container.notified = false;
      items->push_back({id, container.pid, container.child, container.gone, container.checkOom,
                        container.oomRechecksLeft, container.pidfd, container.oom, std::nullopt});
      container.checkOom = false;
    }
    if (items->empty()) {
      if (anyPolled()) schedulePoll(options_.pollInterval);
      return;
    }
    pollInFlight_ = true;
    std::shared_ptr<cz::Cgroups> cgroups = cgroups_;
    bool memory = options_.memory && cgroups_->supports(cz::Controller::kMemory);
    auto log = log_;
    runBlocking([items, cgroups, memory, log] { pollWork(*cgroups, memory, *items, *log); },
                [this, alive = alive_, items] {
                  if (!*alive) return;
                  pollInFlight_ = false;
                  for (PollItem& item : *items) {
                    if (item.ended) {
                      finish(item.containerId, std::move(*item.ended));
                    } else if (auto it = containers_.find(item.containerId); it != containers_.end()) {
                      it->second.oomRechecksLeft = item.oomRechecksLeft;
                      watchOom(item.containerId, it->second);
                    }
                  }
                  bool again = pollAgain_;
                  pollAgain_ = false;
                  if (again) {
                    schedulePoll(Duration::zero());
                  } else if (anyPolled()) {
                    schedulePoll(options_.pollInterval);
                  }
                });
  }

  // On the worker: which executors ended, which containers the OOM killer
  // hit; ended containers are emptied and removed here.
  static void pollWork(cz::Cgroups& cgroups, bool memory, std::vector<PollItem>& items, spdlog::logger& log) {
    // One poll(2) over every pidfd and OOM notifier tells which containers
    // to look at: no waitpid for executors that still run (each of which
    // walks all of the agent's children).
    std::vector<pollfd> fds;
    std::vector<std::pair<PollItem*, bool>> owners;  // (item, is its pidfd)
    for (PollItem& item : items) {
      if (item.gone) continue;
      if (item.pidfd) {
        fds.push_back({item.pidfd->fd(), POLLIN, 0});
        owners.push_back({&item, true});
      }
      if (item.oom) {
        fds.push_back({item.oom->fd(), POLLIN, 0});
        owners.push_back({&item, false});
      }
    }
    std::set<PollItem*> notified;
    std::set<PollItem*> exited;
    int ready;
    do {
      ready = fds.empty() ? 0 : ::poll(fds.data(), fds.size(), 0);
    } while (ready < 0 && errno == EINTR);
    for (size_t i = 0; ready > 0 && i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      (owners[i].second ? exited : notified).insert(owners[i].first);
    }
    for (PollItem& item : items) {
      std::optional<ContainerTermination> ended;
      bool executorAlive = false;
      if (item.gone) {
        ended = ContainerTermination{std::nullopt, "Executor terminated while the agent was down", {}, {}, {}};
      } else if (item.pidfd && !exited.count(&item)) {
        executorAlive = true;
      } else if (item.pidfd && !item.child) {
        ended = ContainerTermination{std::nullopt, "The executor process is gone", {}, {}, {}};
      } else if (item.child) {
        auto reaped = cz::tryReap(item.pid);
        if (!reaped.ok()) {
          ended = ContainerTermination{std::nullopt, "Lost the executor process: " + reaped.error().message(), {},
                                       {}, {}};
        } else if (reaped->has_value()) {
          const cz::ExitStatus& exit = **reaped;
          int status = exit.exitCode ? (*exit.exitCode << 8) : (exit.signal.value_or(0) & 0x7f);
          ended = ContainerTermination{status, exit.toString(), {}, {}, {}};
        } else {
          executorAlive = true;
        }
      } else if (item.pid <= 0 || (::kill(item.pid, 0) != 0 && errno == ESRCH)) {
        ended = ContainerTermination{std::nullopt, "The executor process is gone", {}, {}, {}};
      } else {
        executorAlive = true;
      }
      std::optional<ContainerTermination> limitation;
      const bool notifiedOfOom = notified.count(&item) > 0;
      if (item.oom && (notifiedOfOom || item.checkOom || item.oomRechecksLeft > 0)) {
        auto killed = item.oom->oomKilled();
        if (killed.ok() && *killed) {
          limitation = oomLimitation(cgroups, item.containerId);
        } else if (notifiedOfOom) {
          item.oomRechecksLeft = kOomRechecks;
        } else if (item.oomRechecksLeft > 0) {
          --item.oomRechecksLeft;
        }
      } else if (ended && memory) {
        limitation = oomLimitation(cgroups, item.containerId);
      }
      if (!ended && !limitation) continue;
      // The container ends: nothing of it may stay behind.
      if (Status s = cgroups.killAll(item.containerId); !s.ok()) {
        log.error("Failed to kill container {}: {}", item.containerId, s.message());
      }
      if (executorAlive && item.child) {
        auto reaped = cz::reap(item.pid);
        if (reaped.ok()) {
          int status = reaped->exitCode ? (*reaped->exitCode << 8) : (reaped->signal.value_or(0) & 0x7f);
          ended = ContainerTermination{status, reaped->toString(), {}, {}, {}};
        }
      }
      if (Status s = cgroups.destroy(item.containerId); !s.ok()) {
        log.error("Failed to remove the cgroups of container {}: {}", item.containerId, s.message());
      }
      if (limitation) {
        if (ended) limitation->waitStatus = ended->waitStatus;
        item.ended = std::move(limitation);
      } else {
        item.ended = std::move(ended);
      }
    }
  }

  void finish(const std::string& containerId, ContainerTermination termination) {
    auto it = containers_.find(containerId);
    if (it == containers_.end()) return;
    if (it->second.killTimer) clock_.cancel(*it->second.killTimer);
    std::vector<TerminationCallback> waiters = std::move(it->second.waiters);
    containers_.erase(it);
    log_->info("Container {} ended: {}", containerId, termination.message);
    for (TerminationCallback& waiter : waiters) waiter(termination);
  }

  Clock& clock_;
  // Shared with work in flight on the worker, which may outlive the
  // containerizer when the agent stops.
  std::shared_ptr<cz::Cgroups> cgroups_;
  CgroupsContainerizerOptions options_;
  std::shared_ptr<cz::Launcher> launcher_;
  std::shared_ptr<spdlog::logger> log_;
  std::map<std::string, Container> containers_;
  std::optional<TimerId> pollTimer_;
  bool pollInFlight_ = false;
  bool pollAgain_ = false;
  // Work finishing after the containerizer is gone does nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

ContainerTermination memoryLimitation(const cz::CgroupStatistics& statistics) {
  ContainerTermination termination;
  termination.state = v1::TASK_FAILED;
  termination.reason = v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY;
  std::string usage = statistics.memoryUsageBytes ? megabytes(*statistics.memoryUsageBytes) : "unknown";
  std::string peak = statistics.memoryMaxUsageBytes ? megabytes(*statistics.memoryMaxUsageBytes) : "unknown";
  std::string limit = statistics.memoryLimitBytes ? megabytes(*statistics.memoryLimitBytes) : "unlimited";
  termination.message = fmt::format("Memory limit exceeded: usage {} (peak {}) of limit {}{}", usage, peak, limit,
                                    statistics.oomKills ? fmt::format(", {} OOM kill(s)", *statistics.oomKills) : "");
  if (statistics.memoryLimitBytes) {
    double mb = static_cast<double>(*statistics.memoryLimitBytes) / kMegabyte;
    if (auto limited = Resources::parse(fmt::format("mem:{:.3f}", mb)); limited.ok()) termination.limitation = *limited;
  }
  return termination;
}

void applyIsolation(const std::string& isolation, CgroupsContainerizerOptions* options) {
  options->cpu = options->memory = options->pids = options->pidNamespace = false;
  std::istringstream in(isolation);
  for (std::string name; std::getline(in, name, ',');) {
    if (name == "cgroups/cpu") options->cpu = true;
    if (name == "cgroups/mem") options->memory = true;
    if (name == "cgroups/pids") options->pids = true;
    if (name == "namespaces/pid") options->pidNamespace = true;
    if (name == "cgroups/all") options->cpu = options->memory = options->pids = true;
  }
}

std::unique_ptr<Containerizer> makeCgroupsContainerizer(Clock& clock, std::unique_ptr<cz::Cgroups> cgroups,
                                                        CgroupsContainerizerOptions options) {
  return std::make_unique<CgroupsContainerizer>(clock, std::move(cgroups), std::move(options));
}

}  // namespace agora::agent
