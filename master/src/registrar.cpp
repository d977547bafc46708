#include "agora/master/registrar.hpp"

#include <fmt/format.h>

#include "agora/common/check.hpp"
#include "agora/common/id.hpp"
#include "agora/common/role.hpp"

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
    // The operator API: weights (WeightInfo) and quotas (QuotaConfig), keyed by role.
    {2,
     "CREATE TABLE weights (id TEXT PRIMARY KEY, record BLOB NOT NULL);"
     "CREATE TABLE quotas (id TEXT PRIMARY KEY, record BLOB NOT NULL);"},
};

constexpr uint32_t kSchemaVersion = 2;

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
    Status valid = table == "weights" || table == "quotas" ? validateRole(id) : validateId(id, "ID");
    if (!valid.ok()) return Status::Corruption(std::string(table) + ": " + valid.message());
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
  const auto started = now();
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
  if (s.ok()) {
    s = readTable<v1::WeightInfo>(*db_, "weights", registry.mutable_weights(),
                                  [](const auto& r) { return r.role(); });
  }
  if (s.ok()) {
    s = readTable<v1::QuotaConfig>(*db_, "quotas", registry.mutable_quota_configs(),
                                   [](const auto& r) { return r.role(); });
  }
  if (!s.ok()) return failed(s);
  stats_.fetchMs = elapsedMs(started);

  internal::RegistryMetadata metadata;
  metadata.set_schema_version(kSchemaVersion);
  metadata.set_agora_version(masterInfo.version());
  *metadata.mutable_master_info() = masterInfo;
  if (Status w = putRecord("metadata", "registry", metadata); !w.ok()) return w;
  *registry.mutable_metadata() = metadata;
  return registry;
}

std::chrono::steady_clock::time_point Registrar::now() const {
  return timeSource_ ? timeSource_() : std::chrono::steady_clock::time_point();
}

double Registrar::elapsedMs(std::chrono::steady_clock::time_point since) const {
  return std::chrono::duration<double, std::milli>(now() - since).count();
}

Status Registrar::write(const std::function<Status()>& body) {
  AGORA_CHECK(db_ != nullptr, "registrar used before recover()");
  const auto started = now();
  Status s = db_->transaction(body);
  const double ms = elapsedMs(started);
  stats_.writes += 1;
  stats_.lastWriteMs = ms;
  stats_.maxWriteMs = std::max(stats_.maxWriteMs, ms);
  stats_.totalWriteMs += ms;
  return s.ok() ? s : failed(s);
}

Status Registrar::putRecord(std::string_view table, const std::string& id, const google::protobuf::Message& record) {
  AGORA_CHECK(db_ != nullptr, "registrar used before recover()");
  Blob blob{record.SerializeAsString()};
  return write([&] {
    return db_->run(fmt::format("INSERT OR REPLACE INTO {} (id, record) VALUES (?, ?)", table), id, blob);
  });
}

Status Registrar::deleteRecord(std::string_view table, const std::string& id) {
  AGORA_CHECK(db_ != nullptr, "registrar used before recover()");
  return write([&] { return db_->run(fmt::format("DELETE FROM {} WHERE id = ?", table), id); });
}

Status Registrar::admitAgent(const v1::AgentInfo& info, bool deactivated) {
  internal::RegistryAgent record;
  *record.mutable_agent_info() = info;
  if (deactivated) record.set_deactivated(true);
  const std::string& id = info.id().value();
  Blob blob{record.SerializeAsString()};
  return write([&] {
    AGORA_RETURN_IF_ERROR(db_->run("DELETE FROM unreachable WHERE id = ?", id));
    return db_->run("INSERT OR REPLACE INTO agents (id, record) VALUES (?, ?)", id, blob);
  });
}

Status Registrar::markUnreachable(const v1::AgentID& id, WallTime when, bool deactivated) {
  internal::UnreachableAgent record;
  *record.mutable_id() = id;
  *record.mutable_timestamp() = toTimeInfo(when);
  if (deactivated) record.set_deactivated(true);
  Blob blob{record.SerializeAsString()};
  return write([&] {
    AGORA_RETURN_IF_ERROR(db_->run("DELETE FROM agents WHERE id = ?", id.value()));
    return db_->run("INSERT OR REPLACE INTO unreachable (id, record) VALUES (?, ?)", id.value(), blob);
  });
}

Status Registrar::markGone(const v1::AgentID& id, WallTime when) {
  internal::GoneAgent record;
  *record.mutable_id() = id;
  *record.mutable_timestamp() = toTimeInfo(when);
  Blob blob{record.SerializeAsString()};
  return write([&] {
    AGORA_RETURN_IF_ERROR(db_->run("DELETE FROM agents WHERE id = ?", id.value()));
    AGORA_RETURN_IF_ERROR(db_->run("DELETE FROM unreachable WHERE id = ?", id.value()));
    return db_->run("INSERT OR REPLACE INTO gone (id, record) VALUES (?, ?)", id.value(), blob);
  });
}

Status Registrar::removeAgent(const v1::AgentID& id) {
  return write([&] {
    AGORA_RETURN_IF_ERROR(db_->run("DELETE FROM agents WHERE id = ?", id.value()));
    return db_->run("DELETE FROM unreachable WHERE id = ?", id.value());
  });
}

Status Registrar::putFramework(const internal::RegistryFramework& framework) {
  return putRecord("frameworks", framework.framework_info().id().value(), framework);
}

Status Registrar::removeFramework(const std::string& frameworkId) { return deleteRecord("frameworks", frameworkId); }

Status Registrar::putWeights(const std::vector<v1::WeightInfo>& weights) {
  return write([&] {
    for (const v1::WeightInfo& weight : weights) {
      AGORA_RETURN_IF_ERROR(db_->run("INSERT OR REPLACE INTO weights (id, record) VALUES (?, ?)", weight.role(),
                                     Blob{weight.SerializeAsString()}));
    }
    return Status::OK();
  });
}

Status Registrar::putQuotas(const std::vector<v1::QuotaConfig>& configs) {
  return write([&] {
    for (const v1::QuotaConfig& config : configs) {
      if (config.guarantees().empty() && config.limits().empty()) {
        AGORA_RETURN_IF_ERROR(db_->run("DELETE FROM quotas WHERE id = ?", config.role()));
      } else {
        AGORA_RETURN_IF_ERROR(db_->run("INSERT OR REPLACE INTO quotas (id, record) VALUES (?, ?)", config.role(),
                                       Blob{config.SerializeAsString()}));
      }
    }
    return Status::OK();
  });
}

}  // namespace agora::master
