#pragma once

// The task status update manager (Mesos's TaskStatusUpdateManager,
// reference/mesos.md §6.6). One stream per task:
//
//   - update(): an update is written durably (CheckpointStore) before
//     anything else happens to it; a second update with a uuid the stream
//     has already seen is a duplicate and is dropped (AlreadyExists).
//   - Only the head of a stream (its oldest unacknowledged update) is
//     forwarded, with latest_state set to the newest state of the stream,
//     and it is resent every 10 s, doubling up to 10 min, until the master
//     forwards the scheduler's acknowledgement.
//   - acknowledge(): an acknowledgement for the head is written durably,
//     then the next update (if any) is forwarded. Acknowledgements for
//     anything but the head are ignored. A stream closes when its terminal
//     update is acknowledged; `onClosed` is told.
//   - While the agent has no master (pause()), nothing is forwarded;
//     resume() forwards every head at once.

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "agora/common/task_state.hpp"
#include "agora/common/clock.hpp"
#include "agora/common/result.hpp"
#include "checkpoint.hpp"

namespace agora::agent {

inline constexpr Duration kStatusUpdateRetryInterval = std::chrono::seconds(10);
inline constexpr Duration kStatusUpdateRetryIntervalMax = std::chrono::minutes(10);

using ::agora::isTerminalState;

class StatusUpdateManager {
 public:
  using Forward = std::function<void(const internal::StatusUpdate&)>;
  using Closed = std::function<void(const TaskKey&)>;

  StatusUpdateManager(Clock& clock, CheckpointStore& store, Forward forward, Closed onClosed);
  ~StatusUpdateManager();

  // Records `update` (which must carry a 16-byte uuid and its framework and
  // task). Errors: AlreadyExists for a duplicate uuid (nothing changes),
  // FailedPrecondition for an update after the stream's terminal one, and
  // the store's error if the write failed (nothing changes either).
  Status update(const internal::StatusUpdate& update);

  // Returns true if `uuid` acknowledged the head of the task's stream.
  // Errors only when the store failed.
  Result<bool> acknowledge(const TaskKey& key, const std::string& uuid);

  // Rebuilds streams read from the checkpoint (acknowledged prefix and
  // all). Streams whose terminal update was acknowledged close at once.
  void recover(const std::map<TaskKey, StreamRow>& streams);

  void pause();
  void resume();
  bool paused() const { return paused_; }

  // Drops every stream of the framework (durably): it was removed.
  Status cleanup(const std::string& frameworkId);

  bool hasStream(const TaskKey& key) const { return streams_.count(key) > 0; }
  bool hasStreams(const std::string& frameworkId) const {
    auto it = streams_.lower_bound(TaskKey{frameworkId, ""});
    return it != streams_.end() && it->first.first == frameworkId;
  }
  // Unacknowledged updates of the task, oldest first (empty if none).
  std::vector<internal::StatusUpdate> pending(const TaskKey& key) const;
  size_t streamCount() const { return streams_.size(); }
  // Updates recorded and not yet acknowledged by the scheduler, all streams.
  size_t pendingCount() const {
    size_t count = 0;
    for (const auto& [key, stream] : streams_) count += stream.pending.size();
    return count;
  }

 private:
  struct Stream {
    std::deque<internal::StatusUpdate> pending;  // Head first.
    std::set<std::string> seen;                  // Every uuid received, acknowledged or not.
    bool terminalReceived = false;
    std::optional<TimerId> timer;
    Duration backoff = kStatusUpdateRetryInterval;
  };

  void forwardHead(const TaskKey& key, Stream& stream);
  void cancelTimer(Stream& stream);
  void close(const TaskKey& key);

  Clock& clock_;
  CheckpointStore& store_;
  Forward forward_;
  Closed onClosed_;
  std::map<TaskKey, Stream> streams_;
  bool paused_ = true;  // Until the agent (re)registers.
};

}  // namespace agora::agent
