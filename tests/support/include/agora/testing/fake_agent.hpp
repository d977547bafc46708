#pragma once

// An agent endpoint for master protocol tests: registers (or reregisters
// with what it holds), answers pings, records what the master tells it,
// and reports status updates the way the real agent's status update
// manager does: per task, only the oldest unacknowledged update is sent,
// and it is resent every 10 s (on the test's clock) until acknowledged.
// It does not run anything: the test decides each task's fate.

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agora/common/clock.hpp"
#include "agora/internal/messages.pb.h"
#include "agora/testing/network.hpp"

namespace agora::testing {

class FakeAgent {
 public:
  // `resources` in --resources text form, e.g. "cpus:2;mem:1024".
  FakeAgent(InMemoryNetwork& network, Clock& clock, std::string hostname, const std::string& resources,
            PeerId id = "", PeerId master = "master");
  ~FakeAgent();

  const PeerId& peer() const { return id_; }
  std::optional<std::string> agentId() const { return agentId_; }

  // RegisterAgent, or ReregisterAgent once it has an ID (with its tasks,
  // executors, frameworks and checkpointed resources).
  void start();
  // A process restart: a new peer ID, same agent ID and tasks; reregisters.
  void restart();
  // Drops off the network (kill -9) / comes back under the same peer.
  void crash();

  bool answerPings = true;
  // Sent as (Re)RegisterAgent.http_address when not empty.
  std::string httpAddress;

  // Reports `state` for a task (with a fresh uuid), reliably.
  void sendStatus(const std::string& taskId, v1::TaskState state,
                  std::optional<v1::TaskStatus::Reason> reason = std::nullopt);
  // Updates not yet acknowledged, over all tasks.
  size_t pendingUpdates() const;

  // What arrived.
  const std::vector<internal::Envelope>& received() const { return received_; }
  size_t count(const std::string& typePrefix) const;
  // Tasks launched here (RunTask), by task ID, with their latest state.
  const std::map<std::string, v1::Task>& tasks() const { return tasks_; }
  // The last checkpointed resources the master sent.
  const google::protobuf::RepeatedPtrField<v1::Resource>& checkpointed() const { return checkpointed_; }
  bool shutDown() const { return shutDown_; }

 private:
  void onMessage(const PeerId& from, internal::Envelope&& envelope);
  void sendHead(const std::string& taskId);
  void scheduleRetry(const std::string& taskId);

  InMemoryNetwork& network_;
  Clock& clock_;
  PeerId id_;
  PeerId master_;
  v1::AgentInfo info_;
  std::unique_ptr<Messenger> messenger_;
  std::optional<std::string> agentId_;
  std::vector<internal::Envelope> received_;
  std::map<std::string, v1::Task> tasks_;
  std::map<std::string, v1::FrameworkInfo> frameworks_;
  std::map<std::string, std::deque<internal::StatusUpdate>> streams_;  // Task ID -> unacked, oldest first.
  std::map<std::string, TimerId> retries_;
  google::protobuf::RepeatedPtrField<v1::Resource> checkpointed_;
  bool shutDown_ = false;
};

}  // namespace agora::testing
