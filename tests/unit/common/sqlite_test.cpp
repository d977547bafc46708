#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "agora/common/sqlite.hpp"

namespace agora {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::vector<Migration> kMigrations = {
    {1, "CREATE TABLE agents (id TEXT PRIMARY KEY, info BLOB NOT NULL)"},
    {2, "CREATE TABLE weights (role TEXT PRIMARY KEY, weight REAL NOT NULL);"
        "INSERT INTO weights VALUES ('*', 1.0)"},
};

class SqliteTest : public ::testing::Test {
 protected:
  SqliteTest() {
    dir_ = fs::temp_directory_path() / ("agora_sqlite_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "registry.db").string();
  }
  ~SqliteTest() override { fs::remove_all(dir_); }

  // A closed database at path_ with the migrations applied and `rows` agents.
  void createDatabase(int rows = 0) {
    Result<Database> db = Database::open(path_);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE(db->migrate(kMigrations).ok());
    ASSERT_TRUE(db->transaction([&] {
                    for (int i = 0; i < rows; ++i) {
                      AGORA_RETURN_IF_ERROR(db->run("INSERT INTO agents VALUES (?, ?)", "agent-" + std::to_string(i),
                                                    Blob{std::string(200, static_cast<char>('a' + i % 26))}));
                    }
                    return Status::OK();
                  }).ok());
  }

  static void expectError(const Result<Database>& db, Status::Code code, const std::string& part) {
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.error().code(), code) << db.error();
    EXPECT_THAT(db.error().message(), HasSubstr(part));
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(SqliteTest, CreateMigrateWriteReopenRead) {
  {
    Result<Database> db = Database::open(path_);
    ASSERT_TRUE(db.ok()) << db.status();
    EXPECT_EQ(db->schemaVersion().value(), 0);
    ASSERT_TRUE(db->migrate(kMigrations).ok());
    EXPECT_EQ(db->schemaVersion().value(), 2);
    ASSERT_TRUE(db->run("INSERT INTO agents VALUES (?, ?)", "a1", Blob{"info"}).ok());
    EXPECT_EQ(db->changes(), 1);
  }
  Result<Database> db = Database::open(path_, {.create = false});
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE(db->migrate(kMigrations).ok());  // Nothing to do; the '*' row is not inserted twice.
  Result<Statement> count = db->prepare("SELECT COUNT(*) FROM weights");
  ASSERT_TRUE(count.ok());
  ASSERT_TRUE(count->step().value());
  EXPECT_EQ(count->columnInt64(0), 1);

  Result<Statement> select = db->prepare("SELECT id, info FROM agents");
  ASSERT_TRUE(select.ok());
  ASSERT_TRUE(select->step().value());
  EXPECT_EQ(select->columnText(0), "a1");
  EXPECT_EQ(select->columnBlob(1), Blob{"info"});
  EXPECT_FALSE(select->step().value());

  Result<Statement> pragma = db->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(pragma->step().value());
  EXPECT_EQ(pragma->columnText(0), "wal");
  Result<Statement> sync = db->prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync->step().value());
  EXPECT_EQ(sync->columnInt64(0), 2);  // FULL.
}

TEST_F(SqliteTest, TypedBindsAndColumnsRoundTrip) {
  Result<Database> db = Database::open(path_);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db->execute("CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB, n)").ok());
  std::string binary("\0\x01\xff\xfe zero\0", 10);
  ASSERT_TRUE(db->run("INSERT INTO t VALUES (?, ?, ?, ?, ?)", int64_t{1} << 62, 0.25, "h\xc3\xa9llo",
                      Blob{binary}, nullptr)
                  .ok());
  ASSERT_TRUE(db->run("INSERT INTO t VALUES (?, ?, ?, ?, ?)", -7, 1e300, std::string(), Blob{}, 3).ok());
  EXPECT_EQ(db->lastInsertRowId(), 2);

  Result<Statement> select = db->prepare("SELECT i, d, s, b, n FROM t ORDER BY rowid");
  ASSERT_TRUE(select.ok());
  ASSERT_EQ(select->columnCount(), 5);
  ASSERT_TRUE(select->step().value());
  EXPECT_EQ(select->columnInt64(0), int64_t{1} << 62);
  EXPECT_EQ(select->columnDouble(1), 0.25);
  EXPECT_EQ(select->columnText(2), "h\xc3\xa9llo");
  EXPECT_EQ(select->columnBlob(3).bytes, binary);
  EXPECT_TRUE(select->isNull(4));
  EXPECT_FALSE(select->isNull(3));
  ASSERT_TRUE(select->step().value());
  EXPECT_EQ(select->columnInt64(0), -7);
  EXPECT_EQ(select->columnDouble(1), 1e300);
  EXPECT_EQ(select->columnText(2), "");
  EXPECT_EQ(select->columnBlob(3), Blob{});
  EXPECT_FALSE(select->isNull(3));  // An empty blob is not NULL.
  EXPECT_EQ(select->columnInt64(4), 3);

  // The statement can run again with new bindings.
  Result<Statement> byId = db->prepare("SELECT s FROM t WHERE i = ?");
  ASSERT_TRUE(byId->bindAll(-7).ok());
  ASSERT_TRUE(byId->step().value());
  byId->reset();
  ASSERT_TRUE(byId->bind(1, 12345).ok());
  EXPECT_FALSE(byId->step().value());
}

TEST_F(SqliteTest, TransactionCommitsOrRollsBack) {
  Result<Database> db = Database::open(path_);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db->migrate(kMigrations).ok());
  ASSERT_TRUE(db->transaction([&] { return db->run("INSERT INTO agents VALUES ('a1', x'00')"); }).ok());

  Status failed = db->transaction([&] {
    AGORA_RETURN_IF_ERROR(db->run("INSERT INTO agents VALUES ('a2', x'00')"));
    return db->run("INSERT INTO agents VALUES ('a1', x'00')");  // Duplicate key.
  });
  EXPECT_EQ(failed.code(), Status::Code::kAlreadyExists) << failed;
  EXPECT_THAT(failed.message(), HasSubstr("INSERT INTO agents VALUES ('a1', x'00')"));
  EXPECT_THAT(failed.message(), HasSubstr(path_));
  EXPECT_THAT(failed.message(), HasSubstr("UNIQUE constraint failed"));

  Status refused = db->transaction([&] {
    AGORA_RETURN_IF_ERROR(db->run("INSERT INTO agents VALUES ('a3', x'00')"));
    return Status::FailedPrecondition("changed my mind");
  });
  EXPECT_EQ(refused, Status::FailedPrecondition("changed my mind"));

  EXPECT_THROW(db->transaction([&]() -> Status {
    EXPECT_TRUE(db->run("INSERT INTO agents VALUES ('a4', x'00')").ok());
    throw std::runtime_error("boom");
  }),
               std::runtime_error);

  Status nested = db->transaction([&] { return db->transaction([] { return Status::OK(); }); });
  EXPECT_EQ(nested.code(), Status::Code::kFailedPrecondition);

  Result<Statement> ids = db->prepare("SELECT group_concat(id) FROM agents");
  ASSERT_TRUE(ids->step().value());
  EXPECT_EQ(ids->columnText(0), "a1");
}

TEST_F(SqliteTest, SqlErrorsCarryTheSql) {
  Result<Database> db = Database::open(path_);
  ASSERT_TRUE(db.ok());
  Result<Statement> bad = db->prepare("SELEKT 1");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message(), HasSubstr("Failed to prepare 'SELEKT 1' on database '" + path_ + "'"));
  Status missing = db->execute("DELETE FROM nowhere");
  EXPECT_THAT(missing.message(), HasSubstr("no such table: nowhere"));
}

TEST_F(SqliteTest, NewerSchemaIsRefused) {
  createDatabase();
  {
    Result<Database> db = Database::open(path_);
    ASSERT_TRUE(db->execute("PRAGMA user_version = 7").ok());
  }
  Result<Database> db = Database::open(path_);
  ASSERT_TRUE(db.ok());
  Status status = db->migrate(kMigrations);
  EXPECT_EQ(status.code(), Status::Code::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("schema version 7"));
  EXPECT_THAT(status.message(), HasSubstr("written by a newer Agora"));
}

TEST_F(SqliteTest, FailedMigrationLeavesTheVersionAlone) {
  createDatabase();
  Result<Database> db = Database::open(path_);
  std::vector<Migration> more = kMigrations;
  more.push_back({3, "CREATE TABLE quotas (role TEXT); CREATE TABLE agents (x)"});  // Second part fails.
  Status status = db->migrate(more);
  EXPECT_THAT(status.message(), HasSubstr("Failed to migrate to schema version 3"));
  EXPECT_EQ(db->schemaVersion().value(), 2);
  EXPECT_FALSE(db->execute("SELECT * FROM quotas").ok());  // Rolled back with it.
}

TEST_F(SqliteTest, GarbageFileIsCorruption) {
  std::ofstream(path_) << std::string(8192, 'x');
  expectError(Database::open(path_), Status::Code::kCorruption, path_);
}

TEST_F(SqliteTest, DamagedPagesAreCorruption) {
  createDatabase(200);
  {
    std::fstream file(path_, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(8192);
    file << std::string(8192, '\x5a');
  }
  expectError(Database::open(path_), Status::Code::kCorruption, path_);
}

TEST_F(SqliteTest, TruncatedFileIsCorruption) {
  createDatabase(200);
  fs::resize_file(path_, fs::file_size(path_) / 2);
  expectError(Database::open(path_), Status::Code::kCorruption, path_);

  fs::resize_file(path_, 50);  // Not even a whole header.
  expectError(Database::open(path_), Status::Code::kCorruption, path_);

  fs::resize_file(path_, 0);  // Never a silent fresh start.
  expectError(Database::open(path_), Status::Code::kCorruption, "is empty");
}

TEST_F(SqliteTest, MissingFileWithoutCreateIsNotFound) {
  expectError(Database::open(path_, {.create = false}), Status::Code::kNotFound, path_);
  EXPECT_FALSE(fs::exists(path_));
}

TEST_F(SqliteTest, PathThroughAFileIsAnError) {
  std::ofstream((dir_ / "file").string()) << "not a directory";
  std::string path = (dir_ / "file" / "registry.db").string();
  expectError(Database::open(path), Status::Code::kIoError,
              "Failed to open database '" + path + "': unable to open database file (Not a directory)");
  expectError(Database::open((dir_ / "missing" / "registry.db").string()), Status::Code::kIoError,
              "unable to open");
}

// Runs `body` as an unprivileged user when the tests run as root (root
// ignores file modes), returning its exit status.
template <typename Body>
int runUnprivileged(const fs::path& dir, Body body) {
  if (::geteuid() != 0) return body();
  fs::permissions(dir, fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(100);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 101;
}

TEST_F(SqliteTest, ReadOnlyFileIsPermissionDenied) {
  createDatabase();
  fs::permissions(path_, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  int exit = runUnprivileged(dir_, [&] {
    Result<Database> db = Database::open(path_);
    if (db.ok()) return 1;
    if (db.error().code() != Status::Code::kPermissionDenied) return 2;
    if (db.error().message().find(path_) == std::string::npos) return 3;
    return 0;
  });
  EXPECT_EQ(exit, 0);
}

TEST_F(SqliteTest, UnreadableFileIsPermissionDenied) {
  createDatabase();
  fs::permissions(path_, fs::perms::none);
  int exit = runUnprivileged(dir_, [&] {
    Result<Database> db = Database::open(path_);
    if (db.ok()) return 1;
    if (db.error().code() != Status::Code::kPermissionDenied) return 2;
    if (db.error().message().find("Permission denied") == std::string::npos) return 3;
    return 0;
  });
  EXPECT_EQ(exit, 0);
}

}  // namespace
}  // namespace agora
