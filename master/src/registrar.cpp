#include "agora/master/registrar.hpp"

#include <fmt/format.h>

#include "agora/common/check.hpp"
#include "agora/common/id.hpp"

namespace agora::master {

namespace {

// Each table keeps one serialized record per ID; the record type is fixed
// per table (see Registry in state.proto).
const std::vector<Migration> kMigrations = {
    {1,
     "CREATE TABLE metadata (id TEXT PRIMARY KEY, record BLOB NOT NULL);"
     "CREATE TABLE agents (id TEXT PRIMARY KEY, record BLOB NOT NULL);"
     "CREATE TABLE unreachable (id TEXT PRIMARY KEY, record BLOB NOT NULL);"
     "CREATE TABLE gone (id TEXT PRIMARY KEY, record BLOB NOT NULL);"
     "CREATE TABLE frameworks (id TEXT PRIMARY KEY, record BLOB NOT NULL);"},
};

constexpr uint32_t kSchemaVersion = 1;

template <typename Record>
Status readTable(Database& db, std::string_view table, google::protobuf::RepeatedPtrField<Record>* out,
                 const std::function<std::string(const Record&)>& idOf) {
  AGORA_ASSIGN_OR_RETURN(Statement statement, db.prepare(fmt::format("SELECT id, record FROM {}", table)));
  while (true) {
    AGORA_ASSIGN_OR_RETURN(bool row, statement.step());
    if (!row) break;
    std::string id = statement.columnText(0);
    Record record;
    if (!record.ParseFromString(statement.columnBlob(1).bytes) || !record.IsInitialized()) {
      return Status::Corruption(fmt::format("unreadable {} record '{}'", table, quoteForLog(id)));
    }
    if (idOf(record) != id) {
      return Status::Corruption(fmt::format("{} record '{}' holds another ID", table, quoteForLog(id)));
    }
    if (Status s = validateId(id, "ID"); !s.ok()) return Status::Corruption(std::string(table) + ": " + s.message());
    *out->Add() = std::move(record);
  }
  return Status::OK();
}

}  // namespace

v1::TimeInfo toTimeInfo(WallTime t) {
  v1::TimeInfo info;
  info.set_nanoseconds(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
  return info;
}

WallTime fromTimeInfo(const v1::TimeInfo& t) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(t.nanoseconds())));
}

Registrar::Registrar(std::string path) : path_(std::move(path)) {}

Status Registrar::failed(const Status& status) const {
  return status.withContext("Registry '" + path_ + "'");
}

Result<internal::Registry> Registrar::recover(const v1::MasterInfo& masterInfo) {
  auto opened = Database::open(path_);
  if (!opened.ok()) return failed(opened.error());
  db_ = std::make_unique<Database>(std::move(opened).value());
  if (Status s = db_->migrate(kMigrations); !s.ok()) return failed(s);

  internal::Registry registry;
  Status s = readTable<internal::RegistryAgent>(*db_, "agents", registry.mutable_agents(),
                                                [](const auto& r) { return r.agent_info().id().value(); });
  if (s.ok()) {
    s = readTable<internal::UnreachableAgent>(*db_, "unreachable", registry.mutable_unreachable(),
                                              [](const auto& r) { return r.id().value(); });
  }
  if (s.ok()) {
    s = readTable<internal::GoneAgent>(*db_, "gone", registry.mutable_gone(),
                                       [](const auto& r) { return r.id().value(); });
  }
  if (s.ok()) {
    s = readTable<internal::RegistryFramework>(*db_, "frameworks", registry.mutable_frameworks(),
                                               [](const auto& r) { return r.framework_info().id().value(); });
  }
  if (!s.ok()) return failed(s);

  internal::RegistryMetadata metadata;
  metadata.set_schema_version(kSchemaVersion);
  metadata.set_agora_version(masterInfo.version());
  *metadata.mutable_master_info() = masterInfo;
  if (Status w = putRecord("metadata", "registry", metadata); !w.ok()) return w;
  *registry.mutable_metadata() = metadata;
  return registry;
}

Status Registrar::putRecord(std::string_view table, const std::string& id, const google::protobuf::Message& record) {
  AGORA_CHECK(db_ != nullptr, "registrar used before recover()");
  Blob blob{record.SerializeAsString()};
  Status s = db_->transaction([&] {
    return db_->run(fmt::format("INSERT OR REPLACE INTO {} (id, record) VALUES (?, ?)", table), id, blob);
  });
  return s.ok() ? s : failed(s);
}

Status Registrar::deleteRecord(std::string_view table, const std::string& id) {
  AGORA_CHECK(db_ != nullptr, "registrar used before recover()");
  Status s = db_->transaction([&] { return db_->run(fmt::format("DELETE FROM {} WHERE id = ?", table), id); });
  return s.ok() ? s : failed(s);
}

Status Registrar::admitAgent(const v1::AgentInfo& info) {
  internal::RegistryAgent record;
  *record.mutable_agent_info() = info;
  const std::string& id = info.id().value();
  Blob blob{record.SerializeAsString()};
  Status s = db_->transaction([&] {
    AGORA_RETURN_IF_ERROR(db_->run("DELETE FROM unreachable WHERE id = ?", id));
    return db_->run("INSERT OR REPLACE INTO agents (id, record) VALUES (?, ?)", id, blob);
  });
  return s.ok() ? s : failed(s);
}

Status Registrar::markUnreachable(const v1::AgentID& id, WallTime when) {
  internal::UnreachableAgent record;
  *record.mutable_id() = id;
  *record.mutable_timestamp() = toTimeInfo(when);
  Blob blob{record.SerializeAsString()};
  Status s = db_->transaction([&] {
    AGORA_RETURN_IF_ERROR(db_->run("DELETE FROM agents WHERE id = ?", id.value()));
    return db_->run("INSERT OR REPLACE INTO unreachable (id, record) VALUES (?, ?)", id.value(), blob);
  });
  return s.ok() ? s : failed(s);
}

Status Registrar::markGone(const v1::AgentID& id, WallTime when) {
  internal::GoneAgent record;
  *record.mutable_id() = id;
  *record.mutable_timestamp() = toTimeInfo(when);
  Blob blob{record.SerializeAsString()};
  Status s = db_->transaction([&] {
    AGORA_RETURN_IF_ERROR(db_->run("DELETE FROM agents WHERE id = ?", id.value()));
    AGORA_RETURN_IF_ERROR(db_->run("DELETE FROM unreachable WHERE id = ?", id.value()));
    return db_->run("INSERT OR REPLACE INTO gone (id, record) VALUES (?, ?)", id.value(), blob);
  });
  return s.ok() ? s : failed(s);
}

Status Registrar::removeAgent(const v1::AgentID& id) {
  Status s = db_->transaction([&] {
    AGORA_RETURN_IF_ERROR(db_->run("DELETE FROM agents WHERE id = ?", id.value()));
    return db_->run("DELETE FROM unreachable WHERE id = ?", id.value());
  });
  return s.ok() ? s : failed(s);
}

Status Registrar::putFramework(const internal::RegistryFramework& framework) {
  return putRecord("frameworks", framework.framework_info().id().value(), framework);
}

Status Registrar::removeFramework(const std::string& frameworkId) { return deleteRecord("frameworks", frameworkId); }

}  // namespace agora::master
