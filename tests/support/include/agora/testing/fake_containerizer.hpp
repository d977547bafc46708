#pragma once

// A Containerizer for agent tests: records every launch and destroy, starts
// nothing, and lets the test end containers (terminate) with any exit or
// limitation. Callbacks are posted on the clock (schedule(0)), as a real
// containerizer posts them to the loop; the test's settle() runs them.
// Header-only so that the support library need not link the agent.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agora/agent/containerizer.hpp"
#include "agora/common/clock.hpp"

namespace agora::testing {

class FakeContainerizer final : public agent::Containerizer {
 public:
  struct Container {
    agent::ContainerConfig config;
    pid_t pid = 0;
    bool alive = true;
    std::vector<TerminationCallback> waiters;
  };

  explicit FakeContainerizer(Clock& clock) : clock_(clock) {}

  void launch(const agent::ContainerConfig& config, LaunchCallback done) override {
    launches_.push_back(config);
    if (failLaunches_) {
      post([done] { done(Status::IoError("Fake launch failure")); });
      return;
    }
    Container& container = containers_[config.containerId];
    container.config = config;
    container.pid = nextPid_++;
    pid_t pid = container.pid;
    post([done, pid] { done(pid); });
  }

  void wait(const std::string& containerId, TerminationCallback done) override {
    auto it = containers_.find(containerId);
    if (it == containers_.end() || !it->second.alive) {
      post([done] { done(agent::ContainerTermination{std::nullopt, "Unknown container", {}, {}, {}}); });
      return;
    }
    it->second.waiters.push_back(std::move(done));
  }

  void destroy(const std::string& containerId, Duration gracePeriod) override {
    destroyed_.push_back({containerId, gracePeriod});
    agent::ContainerTermination termination;
    termination.waitStatus = 9;
    termination.message = "killed by signal 9 (Killed)";
    terminate(containerId, termination);
  }

  Result<std::set<std::string>> recover(const std::vector<agent::RecoveredContainer>& containers) override {
    recovered_ = containers;
    std::set<std::string> alive;
    for (const agent::RecoveredContainer& container : containers) {
      auto it = containers_.find(container.containerId);
      if (it != containers_.end() && it->second.alive) {
        alive.insert(container.containerId);
        it->second.waiters.clear();  // The previous agent's waiters died with it.
      }
    }
    return alive;
  }

  void usage(const std::vector<std::string>& containerIds, UsageCallback done) override {
    std::map<std::string, agent::ContainerUsage> samples;
    for (const std::string& id : containerIds) {
      auto it = containers_.find(id);
      if (it == containers_.end() || !it->second.alive) continue;
      agent::ContainerUsage& usage = samples[id];
      usage.statistics.set_timestamp(std::chrono::duration<double>(clock_.wallNow().time_since_epoch()).count());
      usage.statistics.set_cpus_user_time_secs(1.5);
      usage.statistics.set_mem_rss_bytes(1 << 20);
      usage.pidsCurrent = 2;
    }
    ++usageCalls_;
    post([done, samples] { done(samples); });
  }

  void checkLimitation(const std::string& containerId, LimitationCallback done) override {
    std::optional<agent::ContainerTermination> limitation;
    auto it = limitations_.find(containerId);
    if (it != limitations_.end()) limitation = it->second;
    post([done, limitation] { done(limitation); });
  }

  std::string isolation() const override { return "posix"; }

  // --- Test controls -----------------------------------------------------------

  // Ends a live container, as if its executor exited.
  void terminate(const std::string& containerId, const agent::ContainerTermination& termination) {
    auto it = containers_.find(containerId);
    if (it == containers_.end() || !it->second.alive) return;
    it->second.alive = false;
    for (TerminationCallback& waiter : it->second.waiters) {
      post([waiter, termination] { waiter(termination); });
    }
    it->second.waiters.clear();
  }
  void exit(const std::string& containerId, int exitCode) {
    agent::ContainerTermination termination;
    termination.waitStatus = exitCode << 8;
    termination.message = "exited with status " + std::to_string(exitCode);
    terminate(containerId, termination);
  }
  // Every container ends without a word (a reboot, for recovery tests).
  void killAll() {
    for (auto& [id, container] : containers_) {
      container.alive = false;
      container.waiters.clear();
    }
  }

  void failLaunches(bool fail) { failLaunches_ = fail; }
  // What checkLimitation reports for `containerId` from now on.
  void setLimitation(const std::string& containerId, const agent::ContainerTermination& limitation) {
    limitations_[containerId] = limitation;
  }
  int usageCalls() const { return usageCalls_; }

  const std::vector<agent::ContainerConfig>& launches() const { return launches_; }
  const std::map<std::string, Container>& containers() const { return containers_; }
  const std::vector<std::pair<std::string, Duration>>& destroyed() const { return destroyed_; }
  const std::vector<agent::RecoveredContainer>& recovered() const { return recovered_; }
  bool alive(const std::string& containerId) const {
    auto it = containers_.find(containerId);
    return it != containers_.end() && it->second.alive;
  }

 private:
  void post(std::function<void()> fn) { clock_.schedule(Duration::zero(), std::move(fn)); }

  Clock& clock_;
  std::map<std::string, Container> containers_;
  std::vector<agent::ContainerConfig> launches_;
  std::vector<std::pair<std::string, Duration>> destroyed_;
  std::vector<agent::RecoveredContainer> recovered_;
  std::map<std::string, agent::ContainerTermination> limitations_;
  int usageCalls_ = 0;
  pid_t nextPid_ = 1000;
  bool failLaunches_ = false;
};

}  // namespace agora::testing
