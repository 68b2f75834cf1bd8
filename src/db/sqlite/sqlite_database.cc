#include "db/sqlite/sqlite_database.h"

#include <sqlite3.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <unordered_map>

#include "db/internal/backend.h"

namespace tajir::db {
namespace {

// rc is an extended result code (sqlite3_extended_result_codes is on).
Status sqlite_status(sqlite3* db, int rc, std::string_view sql) {
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (!sql.empty()) message += " [" + std::string(sql) + "]";
  auto unavailable = [&](const char* reason) {
    return Status(StatusCode::kUnavailable, message).with_reason(reason);
  };
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      // "UNIQUE constraint failed: users.username" names the columns.
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Status(StatusCode::kAlreadyExists, message);
      }
      return Status(StatusCode::kFailedPrecondition, message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status(StatusCode::kUnavailable, message);
    case SQLITE_CANTOPEN:
      return unavailable("database_unavailable");
    case SQLITE_FULL:
      return unavailable("storage_full");
    case SQLITE_READONLY:
      return unavailable("database_read_only");
    case SQLITE_IOERR:
      // Growing the WAL index on a full disk is an I/O error of ENOSPC.
      if (db != nullptr && sqlite3_system_errno(db) == ENOSPC) return unavailable("storage_full");
      return Status(StatusCode::kUnavailable, message);
    default:
      return Status(StatusCode::kInternal, message);
  }
}

bool only_blanks(const char* s) {
  for (; *s != '\0'; ++s) {
    if (*s != ' ' && *s != '\n' && *s != '\t' && *s != '\r' && *s != ';') return false;
  }
  return true;
}

class SqliteConnection final : public internal::Connection {
 public:
  // The writer creates the file and switches it to WAL; readers come after it.
  static Result<std::unique_ptr<internal::Connection>> open(const std::string& path, bool writer,
                                                            const Options& options);

  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Status run(std::string_view sql, std::span<const Value> params, Rows* rows,
             int64_t* changed) override;
  Status run_control(std::string_view sql) override { return run(sql, {}, nullptr, nullptr); }
  // A SQLite handle does not break like a socket; errors are per statement, except that a
  // connection refused a write as read-only is dropped, so that the next write opens the file
  // again and finds it writable once it is (an open falls back to read-only when it is not).
  bool healthy() const override { return !read_only_; }

 private:
  Result<sqlite3_stmt*> prepare(std::string_view sql);
  Status bind(sqlite3_stmt* stmt, std::span<const Value> params, std::string_view sql);

  sqlite3* const db_;
  bool read_only_ = false;  // a statement was refused as read-only
  std::unordered_map<std::string, sqlite3_stmt*, internal::SqlHash, std::equal_to<>> statements_;
};

Result<std::unique_ptr<internal::Connection>> SqliteConnection::open(const std::string& path,
                                                                     bool writer,
                                                                     const Options& options) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "cannot open sqlite database " + path + ": " +
                          (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close_v2(db);
    auto dir = std::filesystem::absolute(path).parent_path();
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      message += " (its directory " + dir.string() + " must exist)";
    }
    return Status(StatusCode::kUnavailable, message);
  }
  auto conn = std::make_unique<SqliteConnection>(db);
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
  std::vector<std::string> pragmas = {"PRAGMA foreign_keys=ON"};
  if (writer) {
    pragmas.push_back(options.sqlite_synchronous_full ? "PRAGMA synchronous=FULL"
                                                      : "PRAGMA synchronous=NORMAL");
    // Persistent in the file; it answers the mode it ended in, checked below.
    pragmas.push_back("PRAGMA journal_mode=WAL");
  } else {
    pragmas.push_back("PRAGMA query_only=ON");
  }
  for (const std::string& pragma : pragmas) {
    std::string result;
    char* error = nullptr;
    rc = sqlite3_exec(
        db, pragma.c_str(),
        [](void* out, int n, char** values, char**) {
          if (n > 0 && values[0] != nullptr) *static_cast<std::string*>(out) = values[0];
          return 0;
        },
        &result, &error);
    if (rc != SQLITE_OK) {
      Status st = sqlite_status(db, rc, pragma);
      sqlite3_free(error);
      return Status(st.code(), "cannot set up sqlite database " + path + ": " + st.message());
    }
    if (pragma.ends_with("WAL") && result != "wal") {
      return Status(StatusCode::kUnavailable,
                    "sqlite database " + path + " cannot use WAL (journal_mode is " + result + ")");
    }
  }
  return std::unique_ptr<internal::Connection>(std::move(conn));
}

Result<sqlite3_stmt*> SqliteConnection::prepare(std::string_view sql) {
  if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
  if (rc != SQLITE_OK) return sqlite_status(db_, rc, sql);
  if (stmt == nullptr || !only_blanks(std::string(tail, sql.data() + sql.size() - tail).c_str())) {
    sqlite3_finalize(stmt);
    return Status(StatusCode::kInvalidArgument,
                  "expected exactly one SQL statement [" + std::string(sql) + "]");
  }
  statements_.emplace(std::string(sql), stmt);
  return stmt;
}

Status SqliteConnection::bind(sqlite3_stmt* stmt, std::span<const Value> params,
                              std::string_view sql) {
  int expected = sqlite3_bind_parameter_count(stmt);
  if (static_cast<size_t>(expected) != params.size()) {
    return Status(StatusCode::kInvalidArgument,
                  "statement has " + std::to_string(expected) + " placeholders, given " +
                      std::to_string(params.size()) + " values [" + std::string(sql) + "]");
  }
  for (size_t i = 0; i < params.size(); ++i) {
    int index = static_cast<int>(i) + 1;
    const Value& v = params[i];
    int rc = SQLITE_OK;
    if (auto* n = std::get_if<int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt, index, *n);
    } else if (auto* d = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(stmt, index, *d);
    } else if (auto* s = std::get_if<std::string>(&v)) {
      // The values outlive the statement's use: they are cleared before run() returns.
      rc = sqlite3_bind_text64(stmt, index, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
    } else {
      rc = sqlite3_bind_null(stmt, index);
    }
    if (rc != SQLITE_OK) return sqlite_status(db_, rc, sql);
  }
  return OkStatus();
}

Status SqliteConnection::run(std::string_view sql, std::span<const Value> params, Rows* rows,
                             int64_t* changed) {
  auto prepared = prepare(sql);
  if (!prepared.ok()) return prepared.status();
  sqlite3_stmt* stmt = *prepared;
  struct Reset {
    sqlite3_stmt* stmt;
    ~Reset() {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    }
  } reset{stmt};
  if (Status st = bind(stmt, params, sql); !st.ok()) return st;

  const sqlite3_int64 total_before = sqlite3_total_changes64(db_);
  const int columns = sqlite3_column_count(stmt);
  for (;;) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      Status st = sqlite_status(db_, sqlite3_extended_errcode(db_), sql);
      if ((rc & 0xff) == SQLITE_READONLY) read_only_ = true;
      return st;
    }
    if (rows == nullptr) continue;
    std::vector<Value> values;
    values.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_INTEGER:
          values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
          break;
        case SQLITE_FLOAT:
          values.emplace_back(sqlite3_column_double(stmt, c));
          break;
        case SQLITE_NULL:
          values.emplace_back(std::monostate{});
          break;
        default: {  // text, and blobs as text
          const void* data = sqlite3_column_blob(stmt, c);
          int size = sqlite3_column_bytes(stmt, c);
          values.emplace_back(std::string(static_cast<const char*>(data), size));
        }
      }
    }
    rows->emplace_back(std::move(values));
  }
  // sqlite3_changes64() still holds the last DML statement's count after DDL or a SELECT.
  if (changed != nullptr) {
    *changed = sqlite3_total_changes64(db_) != total_before ? sqlite3_changes64(db_) : 0;
  }
  return OkStatus();
}

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, const Options& options,
                 std::unique_ptr<internal::Connection> writer)
      : path_(std::move(path)),
        writer_(1, options.busy_timeout,
                [this, options] { return SqliteConnection::open(path_, true, options); }),
        readers_(options.pool_size > 0 ? options.pool_size : internal::default_pool_size(),
                 options.busy_timeout,
                 [this, options] { return SqliteConnection::open(path_, false, options); }) {
    writer_.add(std::move(writer));
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

  Status read(const std::function<Status(Transaction&)>& fn) override {
    return internal::run_transaction(readers_, {.begin = "BEGIN"}, &statements_, fn);
  }

  // SQLite never reports serialization failures to a writer holding the write lock: no retry.
  Status write(const std::function<Status(Transaction&)>& fn) override {
    return internal::run_transaction(writer_, {.begin = "BEGIN IMMEDIATE"}, &statements_, fn);
  }

  Status ping() override { return internal::ping(readers_); }
  uint64_t statements() const override { return statements_.load(std::memory_order_relaxed); }
  std::string describe() const override { return "sqlite:" + path_; }

 private:
  const std::string path_;
  internal::ConnectionPool writer_;
  internal::ConnectionPool readers_;
  std::atomic<uint64_t> statements_{0};
};

}  // namespace

Result<std::unique_ptr<Database>> open_sqlite(const std::string& path, const Options& options) {
  auto writer = SqliteConnection::open(path, /*writer=*/true, options);
  if (!writer.ok()) return writer.status();
  return std::unique_ptr<Database>(
      std::make_unique<SqliteDatabase>(path, options, std::move(*writer)));
}

}  // namespace tajir::db
