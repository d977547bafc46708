#pragma once

// The registrar: the master's durable state in SQLite (--work_dir/
// registry.db; DESIGN.md "Persistence"). Every mutation is one transaction
// that is durable when the call returns OK; the master tells nobody about a
// change before that.
//
// Contents (agora.internal.Registry): the last leading MasterInfo; admitted,
// unreachable and gone agents; frameworks with their failover deadlines.
// Weights and quota join with the operator API.
//
// Recovery treats the file as untrusted input: a file that is not a
// database, is damaged, was written by a newer schema, cannot be read or
// cannot be written is an error naming the path; the master then exits
// non-zero. A missing file (a new work dir) starts an empty registry.
//
// Threading: one loop. Calls block on disk (SQLite with synchronous=FULL).

#include <memory>
#include <string>

#include "agora/common/clock.hpp"
#include "agora/common/result.hpp"
#include "agora/common/sqlite.hpp"
#include "agora/internal/state.pb.h"

namespace agora::master {

class Registrar {
 public:
  // `path` is the database file, usually <work_dir>/registry.db. Nothing is
  // opened until recover().
  explicit Registrar(std::string path);

  const std::string& path() const { return path_; }

  // Opens (creating if missing), checks and migrates the database, reads
  // every record and validates it, then writes `masterInfo` as the last
  // leader (proving the file writable). Errors name the path.
  Result<internal::Registry> recover(const v1::MasterInfo& masterInfo);

  // Each of these is one durable transaction. Precondition: recover() OK.
  Status admitAgent(const v1::AgentInfo& info);  // Insert or replace; leaves unreachable.
  Status markUnreachable(const v1::AgentID& id, WallTime when);
  Status markGone(const v1::AgentID& id, WallTime when);
  Status removeAgent(const v1::AgentID& id);  // From admitted and unreachable.
  Status putFramework(const internal::RegistryFramework& framework);  // Insert or replace.
  Status removeFramework(const std::string& frameworkId);

 private:
  Status putRecord(std::string_view table, const std::string& id, const google::protobuf::Message& record);
  Status deleteRecord(std::string_view table, const std::string& id);
  Status failed(const Status& status) const;

  std::string path_;
  std::unique_ptr<Database> db_;
};

// Wall time <-> TimeInfo.
v1::TimeInfo toTimeInfo(WallTime t);
WallTime fromTimeInfo(const v1::TimeInfo& t);

}  // namespace agora::master
