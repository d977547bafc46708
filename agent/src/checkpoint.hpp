#pragma once

// The agent's durable state: one SQLite database at <work_dir>/meta/agent.db.
// Every record is a serialized protobuf from agora/internal/state.proto, read
// back at recovery as untrusted input: a record that does not parse is a
// Corruption naming the table and key, never skipped.
//
// Tables: agent (the AgentCheckpoint, at most one), resources (the
// CheckpointedResources, at most one), frameworks, executors (one row per
// run, with the executor's peer so that a recovered agent can reach it),
// tasks (a TaskCheckpoint without its updates) and updates (each task's
// status update stream, oldest first, with an acknowledged flag).

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agora/common/result.hpp"
#include "agora/common/sqlite.hpp"
#include "agora/common/status.hpp"
#include "agora/internal/state.pb.h"

namespace agora::agent {

// (framework ID, task ID).
using TaskKey = std::pair<std::string, std::string>;

struct ExecutorRow {
  internal::ExecutorCheckpoint checkpoint;
  std::string peer;  // Empty until the executor subscribed.
};

struct TaskRow {
  internal::TaskCheckpoint checkpoint;  // Without updates (they are in StreamRow).
  v1::TaskInfo info;                    // As the master sent it.
  bool launched = false;                // Delivered to the executor.
};

struct StreamRow {
  std::vector<internal::StatusUpdate> updates;  // Oldest first.
  std::vector<bool> acknowledged;               // Same length.
};

// Everything the store holds, as read at recovery.
struct CheckpointSnapshot {
  std::optional<internal::AgentCheckpoint> agent;
  std::optional<internal::CheckpointedResources> resources;
  std::vector<internal::FrameworkCheckpoint> frameworks;
  std::vector<ExecutorRow> executors;
  std::vector<TaskRow> tasks;
  std::map<TaskKey, StreamRow> streams;
};

class CheckpointStore {
 public:
  // Opens or creates <workDir>/meta/agent.db (creating meta/). Errors name
  // the path: Corruption for a damaged file, IoError/PermissionDenied.
  static Result<CheckpointStore> open(const std::string& workDir);

  const std::string& path() const { return db_.path(); }

  Result<CheckpointSnapshot> load();

  // Runs `fn` as one durable transaction (the writes below may be used
  // inside; outside of one each write is its own transaction).
  Status transaction(const std::function<Status()>& fn);

  Status writeAgent(const internal::AgentCheckpoint& agent);
  Status removeAgent();
  Status writeResources(const internal::CheckpointedResources& resources);
  Status writeFramework(const internal::FrameworkCheckpoint& framework);
  Status writeExecutor(const internal::ExecutorCheckpoint& executor, const std::string& peer);
  Status removeExecutor(const std::string& frameworkId, const std::string& executorId,
                        const std::string& containerId);
  Status writeTask(const TaskRow& task);
  Status removeTask(const std::string& frameworkId, const std::string& taskId);
  Status appendUpdate(const internal::StatusUpdate& update);
  Status acknowledgeUpdate(const std::string& frameworkId, const std::string& taskId, const std::string& uuid);
  Status removeStream(const std::string& frameworkId, const std::string& taskId);
  // Forgets a framework with all its executors, tasks and updates.
  Status removeFramework(const std::string& frameworkId);
  // Forgets every framework, executor, task and update (--recover=cleanup);
  // keeps the agent's identity and checkpointed resources.
  Status clearRuns();

 private:
  explicit CheckpointStore(Database db) : db_(std::move(db)) {}
  Status write(const std::function<Status()>& fn);

  Database db_;
  bool inTransaction_ = false;
};

}  // namespace agora::agent
