#include "status_update_manager.hpp"

#include <algorithm>

namespace agora::agent {

StatusUpdateManager::StatusUpdateManager(Clock& clock, CheckpointStore& store, Forward forward, Closed onClosed)
    : clock_(clock), store_(store), forward_(std::move(forward)), onClosed_(std::move(onClosed)) {}

StatusUpdateManager::~StatusUpdateManager() {
  for (auto& [key, stream] : streams_) cancelTimer(stream);
}

Status StatusUpdateManager::update(const internal::StatusUpdate& update) {
  TaskKey key{update.framework_id().value(), update.status().task_id().value()};
  auto it = streams_.find(key);
  if (it != streams_.end()) {
    if (it->second.seen.count(update.uuid())) {
      return Status::AlreadyExists("Duplicate status update");
    }
    if (it->second.terminalReceived) {
      return Status::FailedPrecondition("Status update after the terminal one");
    }
  }
  // Durable first: only then may the executor be told or the master see it.
  AGORA_RETURN_IF_ERROR(store_.appendUpdate(update));
  Stream& stream = streams_[key];
  stream.seen.insert(update.uuid());
  stream.pending.push_back(update);
  if (isTerminalState(update.status().state())) stream.terminalReceived = true;
  if (stream.pending.size() == 1) {
    forwardHead(key, stream);
  }
  return Status::OK();
}

Result<bool> StatusUpdateManager::acknowledge(const TaskKey& key, const std::string& uuid) {
  auto it = streams_.find(key);
  if (it == streams_.end()) return false;
  Stream& stream = it->second;
  if (stream.pending.empty() || stream.pending.front().uuid() != uuid) return false;
  AGORA_RETURN_IF_ERROR(store_.acknowledgeUpdate(key.first, key.second, uuid));
  bool terminal = isTerminalState(stream.pending.front().status().state());
  stream.pending.pop_front();
  cancelTimer(stream);
  stream.backoff = kStatusUpdateRetryInterval;
  if (terminal) {
    // Nothing may follow a terminal update; the stream is done.
    close(key);
    return true;
  }
  if (!stream.pending.empty()) forwardHead(key, stream);
  return true;
}

void StatusUpdateManager::recover(const std::map<TaskKey, StreamRow>& rows) {
  std::vector<TaskKey> closed;
  for (const auto& [key, row] : rows) {
    Stream& stream = streams_[key];
    bool terminalAcknowledged = false;
    for (size_t i = 0; i < row.updates.size(); ++i) {
      const internal::StatusUpdate& update = row.updates[i];
      stream.seen.insert(update.uuid());
      bool terminal = isTerminalState(update.status().state());
      if (terminal) stream.terminalReceived = true;
      if (row.acknowledged[i]) {
        if (terminal) terminalAcknowledged = true;
      } else {
        stream.pending.push_back(update);
      }
    }
    if (terminalAcknowledged || (stream.pending.empty() && stream.terminalReceived)) closed.push_back(key);
  }
  for (const TaskKey& key : closed) close(key);
}

void StatusUpdateManager::pause() {
  paused_ = true;
  for (auto& [key, stream] : streams_) cancelTimer(stream);
}

void StatusUpdateManager::resume() {
  paused_ = false;
  for (auto& [key, stream] : streams_) {
    cancelTimer(stream);
    stream.backoff = kStatusUpdateRetryInterval;
    if (!stream.pending.empty()) forwardHead(key, stream);
  }
}

Status StatusUpdateManager::cleanup(const std::string& frameworkId) {
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (it->first.first == frameworkId) {
      AGORA_RETURN_IF_ERROR(store_.removeStream(it->first.first, it->first.second));
      cancelTimer(it->second);
      it = streams_.erase(it);
    } else {
      ++it;
    }
  }
  return Status::OK();
}

std::vector<internal::StatusUpdate> StatusUpdateManager::pending(const TaskKey& key) const {
  auto it = streams_.find(key);
  if (it == streams_.end()) return {};
  return {it->second.pending.begin(), it->second.pending.end()};
}

void StatusUpdateManager::forwardHead(const TaskKey& key, Stream& stream) {
  if (paused_ || stream.pending.empty()) return;
  internal::StatusUpdate head = stream.pending.front();
  head.set_latest_state(stream.pending.back().status().state());
  forward_(head);
  cancelTimer(stream);
  Duration after = stream.backoff;
  stream.backoff = std::min(stream.backoff * 2, kStatusUpdateRetryIntervalMax);
  stream.timer = clock_.schedule(after, [this, key] {
    auto it = streams_.find(key);
    if (it == streams_.end()) return;
    it->second.timer.reset();
    forwardHead(key, it->second);
  });
}

void StatusUpdateManager::cancelTimer(Stream& stream) {
  if (stream.timer) clock_.cancel(*stream.timer);
  stream.timer.reset();
}

void StatusUpdateManager::close(const TaskKey& key) {
  auto it = streams_.find(key);
  if (it == streams_.end()) return;
  cancelTimer(it->second);
  streams_.erase(it);
  if (onClosed_) onClosed_(key);
}

}  // namespace agora::agent
