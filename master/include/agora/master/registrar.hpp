#pragma once

// The registrar: the master's durable state in SQLite (--work_dir/
// registry.db; DESIGN.md "Persistence"). Every mutation is one transaction
// that is durable when the call returns OK; the master tells nobody about a
// change before that.
//
// Contents (agora.internal.Registry): the last leading MasterInfo; admitted,
// unreachable and gone agents; frameworks with their failover deadlines;
// the operator's weights and quotas (non-default ones only).
//
// Recovery treats the file as untrusted input: a file that is not a
// database, is damaged, was written by a newer schema, cannot be read or
// cannot be written is an error naming the path; the master then exits
// non-zero. A missing file (a new work dir) starts an empty registry.
//
// Threading: one loop. Calls block on disk (SQLite with synchronous=FULL).

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agora/common/clock.hpp"
#include "agora/common/log_limiter.hpp"
#include "agora/common/result.hpp"
#include "agora/common/sqlite.hpp"
#include "agora/internal/state.pb.h"

namespace agora::master {

// Timings for the registrar/* metrics (milliseconds; zero without a time
// source).
struct RegistrarStats {
  double fetchMs = 0;       // recover(): open, migrate and read everything.
  uint64_t writes = 0;      // Transactions, failed ones included.
  double lastWriteMs = 0;
  double maxWriteMs = 0;
  double totalWriteMs = 0;
};

class Registrar {
 public:
  // `path` is the database file, usually <work_dir>/registry.db. Nothing is
  // opened until recover().
  explicit Registrar(std::string path);

  const std::string& path() const { return path_; }

  // Where the registrar reads the time to measure its transactions (the
  // master plugs its Clock in); unset, nothing is timed.
  void setTimeSource(SteadyTimeSource now) { timeSource_ = std::move(now); }
  const RegistrarStats& stats() const { return stats_; }

  // Opens (creating if missing), checks and migrates the database, reads
  // every record and validates it, then writes `masterInfo` as the last
  // leader (proving the file writable). Errors name the path.
  Result<internal::Registry> recover(const v1::MasterInfo& masterInfo);

  // Each of these is one durable transaction. Precondition: recover() OK.
  // Insert or replace; leaves unreachable. `deactivated`: the operator's
  // DEACTIVATE_AGENT, kept across reregistration and master restarts.
  Status admitAgent(const v1::AgentInfo& info, bool deactivated = false);
  Status markUnreachable(const v1::AgentID& id, WallTime when, bool deactivated = false);
  Status markGone(const v1::AgentID& id, WallTime when);
  Status removeAgent(const v1::AgentID& id);  // From admitted and unreachable.
  Status putFramework(const internal::RegistryFramework& framework);  // Insert or replace.
  Status removeFramework(const std::string& frameworkId);
  // Weights by role (insert or replace), all in one transaction.
  Status putWeights(const std::vector<v1::WeightInfo>& weights);
  // Quotas by role, all in one transaction; a config with neither
  // guarantees nor limits removes the role's quota.
  Status putQuotas(const std::vector<v1::QuotaConfig>& configs);

 private:
  Status putRecord(std::string_view table, const std::string& id, const google::protobuf::Message& record);
  Status deleteRecord(std::string_view table, const std::string& id);
  Status failed(const Status& status) const;
  // Runs `body` as one timed transaction; errors name the path.
  Status write(const std::function<Status()>& body);
  std::chrono::steady_clock::time_point now() const;
  double elapsedMs(std::chrono::steady_clock::time_point since) const;

  std::string path_;
  std::unique_ptr<Database> db_;
  SteadyTimeSource timeSource_;
  RegistrarStats stats_;
};

// Wall time <-> TimeInfo.
v1::TimeInfo toTimeInfo(WallTime t);
WallTime fromTimeInfo(const v1::TimeInfo& t);

}  // namespace agora::master
