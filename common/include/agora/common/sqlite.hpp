#pragma once

// A thin SQLite wrapper for the master's registry and the agent's checkpoint
// (DESIGN.md "Persistence"): durable commits, typed statements, transactions,
// ordered schema migrations, and every failure as a Status that names the
// database and the SQL.
//
//   AGORA_ASSIGN_OR_RETURN(Database db, Database::open(workDir + "/registry.db"));
//   AGORA_RETURN_IF_ERROR(db.migrate({
//       {1, "CREATE TABLE agents (id TEXT PRIMARY KEY, info BLOB NOT NULL)"},
//       {2, "CREATE TABLE weights (role TEXT PRIMARY KEY, weight REAL NOT NULL)"},
//   }));
//   AGORA_RETURN_IF_ERROR(db.transaction([&] {
//     return db.run("INSERT INTO agents (id, info) VALUES (?, ?)", id, Blob{info});
//   }));
//
// Durability: WAL journal with synchronous=FULL, so a transaction that
// returned OK survives a power cut; only then may anyone be told.
//
// Damage is never papered over: a file that is not a database, is empty or
// truncated, fails the integrity check, or was written by a newer schema
// yields an error (Corruption, FailedPrecondition...) naming the path. The
// caller stops; nothing starts over silently.
//
// Threading: a Database and its Statements belong to one thread at a time.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agora/common/result.hpp"
#include "agora/common/status.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace agora {

// Binary data for a BLOB column (a distinct type, so that binding it is not
// confused with TEXT). Serialized protobufs go here.
struct Blob {
  std::string bytes;
  bool operator==(const Blob&) const = default;
};

enum class IntegrityCheck {
  kNone,   // Trust the file.
  kQuick,  // PRAGMA quick_check: structure, O(size), no index cross-checks.
  kFull,   // PRAGMA integrity_check: also indexes; slower on big files.
};

struct DatabaseOptions {
  // How long a statement waits for another connection's lock before it
  // fails with Unavailable.
  std::chrono::milliseconds busyTimeout{5000};
  // Create the file if it does not exist; if false, a missing file is
  // NotFound (a daemon that expects its state must not start afresh).
  bool create = true;
  IntegrityCheck check = IntegrityCheck::kQuick;
};

// One step of the schema: after it is applied, PRAGMA user_version equals
// `version`. Versions start at 1 and increase.
struct Migration {
  int version;
  std::string sql;  // One or more statements.
};

// A prepared statement. Bind parameters (1-based, as SQLite), step() through
// the rows, read columns (0-based) of the current row. Must not outlive its
// Database. Move-only.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  Status bind(int index, std::nullptr_t);
  Status bind(int index, double value);
  Status bind(int index, std::string_view text);
  Status bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Status bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Status bind(int index, const Blob& blob);
  template <std::integral T>
  Status bind(int index, T value) {
    return bindInt64(index, static_cast<int64_t>(value));
  }
  Status bindInt64(int index, int64_t value);

  // Binds `args` to parameters 1..n.
  template <typename... Args>
  Status bindAll(const Args&... args) {
    int index = 0;
    Status status;
    ((status.ok() ? (status = bind(++index, args), 0) : 0), ...);
    return status;
  }

  // Runs to the next row: true if a row is ready to read, false once done.
  Result<bool> step();

  // Runs to completion, ignoring any rows.
  Status run();

  // Makes the statement ready to run again, with its bindings cleared.
  void reset();

  // Reads a column of the current row (precondition: step() returned true;
  // 0 <= column < columnCount(), checked). SQLite converts between types; a
  // NULL reads as 0, 0.0, "" or an empty Blob.
  int columnCount() const;
  bool isNull(int column) const;
  int64_t columnInt64(int column) const;
  double columnDouble(int column) const;
  std::string columnText(int column) const;
  Blob columnBlob(int column) const;

  const std::string& sql() const { return sql_; }

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::string sql, std::string path);
  Status error(int rc, std::string_view what) const;
  void checkColumn(int column) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;  // Owned.
  std::string sql_;
  std::string path_;  // For error messages.
};

class Database {
 public:
  // Opens (and by default creates) the database at `path`, sets WAL,
  // synchronous=FULL, foreign keys and the busy timeout, and checks its
  // integrity. Errors name the path: IoError (cannot open: missing
  // directory, not a directory, unreadable), PermissionDenied (read-only),
  // NotFound (missing and !options.create), Corruption (not a database,
  // empty, truncated or damaged).
  static Result<Database> open(const std::string& path, const DatabaseOptions& options = {});

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  ~Database();

  const std::string& path() const { return path_; }

  // Runs one or more statements that return no rows (DDL, PRAGMAs).
  Status execute(std::string_view sql);

  // Compiles one statement.
  Result<Statement> prepare(std::string_view sql);

  // prepare(sql), bind `args` to 1..n, run to completion.
  template <typename... Args>
  Status run(std::string_view sql, const Args&... args) {
    AGORA_ASSIGN_OR_RETURN(Statement statement, prepare(sql));
    AGORA_RETURN_IF_ERROR(statement.bindAll(args...));
    return statement.run();
  }

  // Runs `fn` in a write transaction (BEGIN IMMEDIATE). Commits if it
  // returns OK, rolls back if it returns an error (which is returned) or
  // throws (rethrown). Once this returns OK the change is durable.
  // Transactions do not nest: calling it inside `fn` is FailedPrecondition.
  Status transaction(const std::function<Status()>& fn);

  // PRAGMA user_version: the last migration applied, 0 for a new database.
  Result<int> schemaVersion();

  // Applies, in order, each migration whose version is above the current
  // schema version, each in its own transaction with the version bump. A
  // database whose version is above the last one known is refused with
  // FailedPrecondition ("written by a newer Agora"). Precondition:
  // versions are >= 1 and strictly increasing (checked: a bug otherwise).
  Status migrate(const std::vector<Migration>& migrations);

  // The rowid of the last INSERT, and rows changed by the last statement.
  int64_t lastInsertRowId() const;
  int changes() const;

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status configure(const DatabaseOptions& options);
  Status checkIntegrity(IntegrityCheck check);

  sqlite3* db_ = nullptr;  // Owned.
  std::string path_;
};

}  // namespace agora
