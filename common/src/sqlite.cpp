#include "agora/common/sqlite.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "agora/common/check.hpp"
#include "agora/common/id.hpp"

namespace agora {

namespace {

Status::Code codeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return Status::Code::kCorruption;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: return Status::Code::kPermissionDenied;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Status::Code::kUnavailable;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG: return Status::Code::kResourceExhausted;
    case SQLITE_CONSTRAINT:
      return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY
                 ? Status::Code::kAlreadyExists
                 : Status::Code::kFailedPrecondition;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_PROTOCOL: return Status::Code::kIoError;
    case SQLITE_NOTFOUND: return Status::Code::kNotFound;
    case SQLITE_MISMATCH:
    case SQLITE_RANGE: return Status::Code::kInvalidArgument;
    default: return Status::Code::kInternal;  // SQLITE_ERROR (bad SQL), MISUSE...: our bug.
  }
}

Status makeStatus(Status::Code code, std::string_view message) {
  switch (code) {
    case Status::Code::kCorruption: return Status::Corruption(message);
    case Status::Code::kPermissionDenied: return Status::PermissionDenied(message);
    case Status::Code::kUnavailable: return Status::Unavailable(message);
    case Status::Code::kResourceExhausted: return Status::ResourceExhausted(message);
    case Status::Code::kAlreadyExists: return Status::AlreadyExists(message);
    case Status::Code::kFailedPrecondition: return Status::FailedPrecondition(message);
    case Status::Code::kIoError: return Status::IoError(message);
    case Status::Code::kNotFound: return Status::NotFound(message);
    case Status::Code::kInvalidArgument: return Status::InvalidArgument(message);
    default: return Status::Internal(message);
  }
}

// "<what> database '<path>': <SQLite's message>[ (<errno text>)]", where
// `what` is e.g. "Failed to open" or "Failed to execute 'SELECT 1' on".
Status sqliteError(sqlite3* db, int rc, std::string_view path, std::string_view what) {
  std::string detail = db != nullptr && sqlite3_errcode(db) == rc ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  int primary = rc & 0xff;
  int systemErrno = db != nullptr ? sqlite3_system_errno(db) : 0;
  if ((primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR) && systemErrno != 0) {
    detail += fmt::format(" ({})", std::strerror(systemErrno));
  }
  Status::Code code = codeFor(rc);
  if (code == Status::Code::kIoError && (systemErrno == EACCES || systemErrno == EPERM)) {
    code = Status::Code::kPermissionDenied;
  }
  return makeStatus(code, fmt::format("{} database '{}': {}", what, quoteForLog(path, 200), detail));
}

std::string quoteSql(std::string_view sql) { return fmt::format("'{}'", quoteForLog(sql, 120)); }

}  // namespace

// --- Statement ---------------------------------------------------------------

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, std::string sql, std::string path)
    : db_(db), stmt_(stmt), sql_(std::move(sql)), path_(std::move(path)) {}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      sql_(std::move(other.sql_)),
      path_(std::move(other.path_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    sql_ = std::move(other.sql_);
    path_ = std::move(other.path_);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Status Statement::error(int rc, std::string_view what) const {
  return sqliteError(db_, rc, path_, fmt::format("{} {} on", what, quoteSql(sql_)));
}

Status Statement::bind(int index, std::nullptr_t) {
  int rc = sqlite3_bind_null(stmt_, index);
  return rc == SQLITE_OK ? Status::OK() : error(rc, fmt::format("Failed to bind parameter {} of", index));
}

Status Statement::bindInt64(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  return rc == SQLITE_OK ? Status::OK() : error(rc, fmt::format("Failed to bind parameter {} of", index));
}

Status Statement::bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  return rc == SQLITE_OK ? Status::OK() : error(rc, fmt::format("Failed to bind parameter {} of", index));
}

Status Statement::bind(int index, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return rc == SQLITE_OK ? Status::OK() : error(rc, fmt::format("Failed to bind parameter {} of", index));
}

Status Statement::bind(int index, const Blob& blob) {
  // A zero-length blob with a null pointer would bind NULL; point at "".
  const char* data = blob.bytes.empty() ? "" : blob.bytes.data();
  int rc = sqlite3_bind_blob64(stmt_, index, data, blob.bytes.size(), SQLITE_TRANSIENT);
  return rc == SQLITE_OK ? Status::OK() : error(rc, fmt::format("Failed to bind parameter {} of", index));
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status status = error(rc, "Failed to execute");
  sqlite3_reset(stmt_);
  return status;
}

Status Statement::run() {
  while (true) {
    AGORA_ASSIGN_OR_RETURN(bool row, step());
    if (!row) return Status::OK();
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int Statement::columnCount() const { return sqlite3_column_count(stmt_); }

void Statement::checkColumn(int column) const {
  AGORA_CHECK(column >= 0 && column < columnCount(), sql_.c_str());
}

bool Statement::isNull(int column) const {
  checkColumn(column);
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::columnInt64(int column) const {
  checkColumn(column);
  return sqlite3_column_int64(stmt_, column);
}

double Statement::columnDouble(int column) const {
  checkColumn(column);
  return sqlite3_column_double(stmt_, column);
}

std::string Statement::columnText(int column) const {
  checkColumn(column);
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);  // After column_text, as SQLite asks.
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), size);
}

Blob Statement::columnBlob(int column) const {
  checkColumn(column);
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  return data == nullptr ? Blob{} : Blob{std::string(static_cast<const char*>(data), size)};
}

// --- Database ----------------------------------------------------------------

Result<Database> Database::open(const std::string& path, const DatabaseOptions& options) {
  struct stat info {};
  bool exists = ::stat(path.c_str(), &info) == 0;
  if (!exists && errno == ENOENT && !options.create) {
    return Status::NotFound(fmt::format("Database '{}' does not exist", quoteForLog(path, 200)));
  }
  // SQLite treats an empty file as a new database. For us an existing empty
  // file is a database that lost its contents (or a crash right after
  // creation): refuse it rather than start afresh.
  if (exists && S_ISREG(info.st_mode) && info.st_size == 0) {
    return Status::Corruption(fmt::format(
        "Database '{}' is empty (0 bytes): truncated, or created by a start that crashed; remove it "
        "to start afresh",
        quoteForLog(path, 200)));
  }

  sqlite3* handle = nullptr;
  int flags = SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status status = sqliteError(handle, rc, path, "Failed to open");
    sqlite3_close(handle);
    return status;
  }
  Database db(handle, path);
  sqlite3_extended_result_codes(handle, 1);
  if (sqlite3_db_readonly(handle, "main") == 1) {
    return Status::PermissionDenied(
        fmt::format("Database '{}' is read-only: Agora needs to write it", quoteForLog(path, 200)));
  }
  AGORA_RETURN_IF_ERROR(db.configure(options));
  AGORA_RETURN_IF_ERROR(db.checkIntegrity(options.check));
  return db;
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

// close_v2 defers the close until every Statement is finalized, so a
// statement destroyed after its database is not a use-after-free.
Database::~Database() { sqlite3_close_v2(db_); }

Status Database::configure(const DatabaseOptions& options) {
  sqlite3_busy_timeout(db_, static_cast<int>(options.busyTimeout.count()));
  // journal_mode is the first statement to read the file: a file that is not
  // a database fails here, with SQLITE_NOTADB.
  AGORA_ASSIGN_OR_RETURN(Statement journal, prepare("PRAGMA journal_mode=WAL"));
  AGORA_ASSIGN_OR_RETURN(bool row, journal.step());
  std::string mode = row ? journal.columnText(0) : "";
  if (mode != "wal") {
    return Status::IoError(fmt::format("Failed to enable WAL on database '{}': journal mode is '{}'",
                                       quoteForLog(path_, 200), quoteForLog(mode)));
  }
  return execute("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON");
}

Status Database::checkIntegrity(IntegrityCheck check) {
  if (check == IntegrityCheck::kNone) return Status::OK();
  std::string sql = check == IntegrityCheck::kQuick ? "PRAGMA quick_check" : "PRAGMA integrity_check";
  AGORA_ASSIGN_OR_RETURN(Statement statement, prepare(sql));
  std::vector<std::string> problems;
  while (true) {
    AGORA_ASSIGN_OR_RETURN(bool row, statement.step());
    if (!row) break;
    std::string text = statement.columnText(0);
    if (text != "ok" && problems.size() < 3) problems.push_back(quoteForLog(text, 200));
  }
  if (problems.empty()) return Status::OK();
  return Status::Corruption(fmt::format("Database '{}' failed {}: {}", quoteForLog(path_, 200), sql,
                                        fmt::join(problems, "; ")));
}

Status Database::execute(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) return Status::OK();
  return sqliteError(db_, rc, path_, fmt::format("Failed to execute {} on", quoteSql(sql)));
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return sqliteError(db_, rc, path_, fmt::format("Failed to prepare {} on", quoteSql(sql)));
  }
  if (stmt == nullptr) {
    return Status::Internal(fmt::format("Failed to prepare {} on database '{}': no statement",
                                        quoteSql(sql), quoteForLog(path_, 200)));
  }
  return Statement(db_, stmt, std::string(sql), path_);
}

Status Database::transaction(const std::function<Status()>& fn) {
  if (sqlite3_get_autocommit(db_) == 0) {
    return Status::FailedPrecondition(fmt::format(
        "Nested transaction on database '{}': transactions do not nest", quoteForLog(path_, 200)));
  }
  AGORA_RETURN_IF_ERROR(execute("BEGIN IMMEDIATE"));
  auto rollback = [this] {
    // A failed statement may already have rolled back (e.g. SQLITE_FULL).
    if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  };
  Status status;
  try {
    status = fn();
  } catch (...) {
    rollback();
    throw;
  }
  if (status.ok()) status = execute("COMMIT");
  if (!status.ok()) rollback();
  return status;
}

Result<int> Database::schemaVersion() {
  AGORA_ASSIGN_OR_RETURN(Statement statement, prepare("PRAGMA user_version"));
  AGORA_ASSIGN_OR_RETURN(bool row, statement.step());
  return row ? static_cast<int>(statement.columnInt64(0)) : 0;
}

Status Database::migrate(const std::vector<Migration>& migrations) {
  int known = 0;
  for (const Migration& migration : migrations) {
    AGORA_CHECK(migration.version > known, "migration versions must be >= 1 and increasing");
    known = migration.version;
  }
  AGORA_ASSIGN_OR_RETURN(int current, schemaVersion());
  if (current > known) {
    return Status::FailedPrecondition(fmt::format(
        "Database '{}' has schema version {} but this Agora knows versions up to {}: it was written "
        "by a newer Agora",
        quoteForLog(path_, 200), current, known));
  }
  for (const Migration& migration : migrations) {
    if (migration.version <= current) continue;
    Status status = transaction([&] {
      AGORA_RETURN_IF_ERROR(execute(migration.sql));
      return execute(fmt::format("PRAGMA user_version = {}", migration.version));
    });
    if (!status.ok()) {
      return status.withContext(fmt::format("Failed to migrate to schema version {}", migration.version));
    }
  }
  return Status::OK();
}

int64_t Database::lastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

int Database::changes() const { return sqlite3_changes(db_); }

}  // namespace agora
