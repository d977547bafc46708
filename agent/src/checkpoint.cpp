#include "checkpoint.hpp"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

namespace agora::agent {
namespace {

const std::vector<Migration> kMigrations = {
    {1,
     "CREATE TABLE agent (k INTEGER PRIMARY KEY CHECK (k = 1), data BLOB NOT NULL);"
     "CREATE TABLE resources (k INTEGER PRIMARY KEY CHECK (k = 1), data BLOB NOT NULL);"
     "CREATE TABLE frameworks (framework_id TEXT PRIMARY KEY, data BLOB NOT NULL);"
     "CREATE TABLE executors (framework_id TEXT NOT NULL, executor_id TEXT NOT NULL,"
     "  container_id TEXT NOT NULL, peer TEXT NOT NULL, data BLOB NOT NULL,"
     "  PRIMARY KEY (framework_id, executor_id, container_id));"
     "CREATE TABLE tasks (framework_id TEXT NOT NULL, task_id TEXT NOT NULL, data BLOB NOT NULL,"
     "  info BLOB NOT NULL, launched INTEGER NOT NULL,"
     "  PRIMARY KEY (framework_id, task_id));"
     "CREATE TABLE updates (seq INTEGER PRIMARY KEY AUTOINCREMENT, framework_id TEXT NOT NULL,"
     "  task_id TEXT NOT NULL, uuid BLOB NOT NULL, acknowledged INTEGER NOT NULL, data BLOB NOT NULL);"
     "CREATE INDEX updates_by_task ON updates (framework_id, task_id, seq);"},
};

template <typename Message>
Status parseRecord(const Blob& blob, Message* out, const std::string& what) {
  if (!out->ParseFromString(blob.bytes)) {
    return Status::Corruption(fmt::format("Unreadable {} record ({} bytes)", what, blob.bytes.size()));
  }
  return Status::OK();
}

Blob toBlob(const google::protobuf::MessageLite& message) { return Blob{message.SerializeAsString()}; }

}  // namespace

Result<CheckpointStore> CheckpointStore::open(const std::string& workDir) {
  std::string meta = workDir + "/meta";
  std::error_code ec;
  std::filesystem::create_directories(meta, ec);
  if (ec) return Status::IoError(fmt::format("Failed to create '{}': {}", meta, ec.message()));
  auto db = Database::open(meta + "/agent.db");
  if (!db.ok()) return db.error().withContext("Failed to open the agent checkpoint");
  Status migrated = db->migrate(kMigrations);
  if (!migrated.ok()) return migrated.withContext("Failed to open the agent checkpoint '" + db->path() + "'");
  return CheckpointStore(std::move(db).value());
}

Status CheckpointStore::transaction(const std::function<Status()>& fn) {
  if (inTransaction_) return fn();
  inTransaction_ = true;
  Status status = db_.transaction(fn);
  inTransaction_ = false;
  if (!status.ok()) return status.withContext("Failed to write the agent checkpoint '" + db_.path() + "'");
  return status;
}

Status CheckpointStore::write(const std::function<Status()>& fn) { return transaction(fn); }

Status CheckpointStore::writeAgent(const internal::AgentCheckpoint& agent) {
  return write([&] { return db_.run("INSERT OR REPLACE INTO agent (k, data) VALUES (1, ?)", toBlob(agent)); });
}

Status CheckpointStore::removeAgent() {
  return write([&] { return db_.run("DELETE FROM agent"); });
}

Status CheckpointStore::writeResources(const internal::CheckpointedResources& resources) {
  return write(
      [&] { return db_.run("INSERT OR REPLACE INTO resources (k, data) VALUES (1, ?)", toBlob(resources)); });
}

Status CheckpointStore::writeFramework(const internal::FrameworkCheckpoint& framework) {
  return write([&] {
    return db_.run("INSERT OR REPLACE INTO frameworks (framework_id, data) VALUES (?, ?)",
                   framework.framework_info().id().value(), toBlob(framework));
  });
}

Status CheckpointStore::writeExecutor(const internal::ExecutorCheckpoint& executor, const std::string& peer) {
  return write([&] {
    return db_.run(
        "INSERT OR REPLACE INTO executors (framework_id, executor_id, container_id, peer, data) "
        "VALUES (?, ?, ?, ?, ?)",
        executor.framework_id().value(), executor.executor_info().executor_id().value(),
        executor.container_id().value(), peer, toBlob(executor));
  });
}

Status CheckpointStore::removeExecutor(const std::string& frameworkId, const std::string& executorId,
                                       const std::string& containerId) {
  return write([&] {
    return db_.run("DELETE FROM executors WHERE framework_id = ? AND executor_id = ? AND container_id = ?",
                   frameworkId, executorId, containerId);
  });
}

Status CheckpointStore::writeTask(const TaskRow& task) {
  return write([&] {
    return db_.run(
        "INSERT OR REPLACE INTO tasks (framework_id, task_id, data, info, launched) VALUES (?, ?, ?, ?, ?)",
        task.checkpoint.framework_id().value(), task.checkpoint.task().task_id().value(), toBlob(task.checkpoint),
        toBlob(task.info), task.launched ? 1 : 0);
  });
}

Status CheckpointStore::removeTask(const std::string& frameworkId, const std::string& taskId) {
  return write([&] {
    AGORA_RETURN_IF_ERROR(db_.run("DELETE FROM tasks WHERE framework_id = ? AND task_id = ?", frameworkId, taskId));
    return db_.run("DELETE FROM updates WHERE framework_id = ? AND task_id = ?", frameworkId, taskId);
  });
}

Status CheckpointStore::appendUpdate(const internal::StatusUpdate& update) {
  return write([&] {
    return db_.run(
        "INSERT INTO updates (framework_id, task_id, uuid, acknowledged, data) VALUES (?, ?, ?, 0, ?)",
        update.framework_id().value(), update.status().task_id().value(), Blob{update.uuid()}, toBlob(update));
  });
}

Status CheckpointStore::acknowledgeUpdate(const std::string& frameworkId, const std::string& taskId,
                                          const std::string& uuid) {
  return write([&] {
    return db_.run("UPDATE updates SET acknowledged = 1 WHERE framework_id = ? AND task_id = ? AND uuid = ?",
                   frameworkId, taskId, Blob{uuid});
  });
}

Status CheckpointStore::removeStream(const std::string& frameworkId, const std::string& taskId) {
  return write(
      [&] { return db_.run("DELETE FROM updates WHERE framework_id = ? AND task_id = ?", frameworkId, taskId); });
}

Status CheckpointStore::removeFramework(const std::string& frameworkId) {
  return write([&] {
    for (const char* table : {"frameworks", "executors", "tasks", "updates"}) {
      AGORA_RETURN_IF_ERROR(db_.run(fmt::format("DELETE FROM {} WHERE framework_id = ?", table), frameworkId));
    }
    return Status::OK();
  });
}

Status CheckpointStore::clearRuns() {
  return write([&] {
    for (const char* table : {"frameworks", "executors", "tasks", "updates"}) {
      AGORA_RETURN_IF_ERROR(db_.run(fmt::format("DELETE FROM {}", table)));
    }
    return Status::OK();
  });
}

Result<CheckpointSnapshot> CheckpointStore::load() {
  CheckpointSnapshot snapshot;
  auto context = [this](const Status& status) {
    return status.withContext("Failed to read the agent checkpoint '" + db_.path() + "'");
  };
  {
    AGORA_ASSIGN_OR_RETURN(Statement statement, db_.prepare("SELECT data FROM agent"));
    AGORA_ASSIGN_OR_RETURN(bool row, statement.step());
    if (row) {
      internal::AgentCheckpoint agent;
      Status parsed = parseRecord(statement.columnBlob(0), &agent, "agent");
      if (!parsed.ok()) return context(parsed);
      if (!agent.agent_info().has_id() || agent.agent_info().id().value().empty()) {
        return context(Status::Corruption("The agent record has no agent ID"));
      }
      snapshot.agent = std::move(agent);
    }
  }
  {
    AGORA_ASSIGN_OR_RETURN(Statement statement, db_.prepare("SELECT data FROM resources"));
    AGORA_ASSIGN_OR_RETURN(bool row, statement.step());
    if (row) {
      internal::CheckpointedResources resources;
      Status parsed = parseRecord(statement.columnBlob(0), &resources, "checkpointed resources");
      if (!parsed.ok()) return context(parsed);
      snapshot.resources = std::move(resources);
    }
  }
  {
    AGORA_ASSIGN_OR_RETURN(Statement statement, db_.prepare("SELECT framework_id, data FROM frameworks"));
    while (true) {
      AGORA_ASSIGN_OR_RETURN(bool row, statement.step());
      if (!row) break;
      internal::FrameworkCheckpoint framework;
      Status parsed = parseRecord(statement.columnBlob(1), &framework, "framework '" + statement.columnText(0) + "'");
      if (!parsed.ok()) return context(parsed);
      snapshot.frameworks.push_back(std::move(framework));
    }
  }
  {
    AGORA_ASSIGN_OR_RETURN(Statement statement,
                           db_.prepare("SELECT framework_id, executor_id, peer, data FROM executors"));
    while (true) {
      AGORA_ASSIGN_OR_RETURN(bool row, statement.step());
      if (!row) break;
      ExecutorRow executor;
      Status parsed = parseRecord(statement.columnBlob(3), &executor.checkpoint,
                                  "executor '" + statement.columnText(1) + "' of framework '" +
                                      statement.columnText(0) + "'");
      if (!parsed.ok()) return context(parsed);
      executor.peer = statement.columnText(2);
      snapshot.executors.push_back(std::move(executor));
    }
  }
  {
    AGORA_ASSIGN_OR_RETURN(Statement statement, db_.prepare("SELECT framework_id, task_id, data, info, launched FROM tasks"));
    while (true) {
      AGORA_ASSIGN_OR_RETURN(bool row, statement.step());
      if (!row) break;
      TaskRow task;
      std::string what = "task '" + statement.columnText(1) + "' of framework '" + statement.columnText(0) + "'";
      Status parsed = parseRecord(statement.columnBlob(2), &task.checkpoint, what);
      if (parsed.ok()) parsed = parseRecord(statement.columnBlob(3), &task.info, what + " (task info)");
      if (!parsed.ok()) return context(parsed);
      task.launched = statement.columnInt64(4) != 0;
      snapshot.tasks.push_back(std::move(task));
    }
  }
  {
    AGORA_ASSIGN_OR_RETURN(
        Statement statement,
        db_.prepare("SELECT framework_id, task_id, acknowledged, data FROM updates ORDER BY seq"));
    while (true) {
      AGORA_ASSIGN_OR_RETURN(bool row, statement.step());
      if (!row) break;
      internal::StatusUpdate update;
      TaskKey key{statement.columnText(0), statement.columnText(1)};
      Status parsed = parseRecord(statement.columnBlob(3), &update,
                                  "status update of task '" + key.second + "' of framework '" + key.first + "'");
      if (!parsed.ok()) return context(parsed);
      StreamRow& stream = snapshot.streams[key];
      stream.updates.push_back(std::move(update));
      stream.acknowledged.push_back(statement.columnInt64(2) != 0);
    }
  }
  return snapshot;
}

}  // namespace agora::agent
