// Database: the one interface the POS layer talks to, with a SQLite and a PostgreSQL backend
// chosen by open() from a URL ("sqlite:PATH", "postgresql://..." or "postgres://...").
//
// SQL is written once, with `?` placeholders, in the common subset of the two dialects
// (INSERT ... RETURNING, integers for booleans and timestamps in unix milliseconds); the
// PostgreSQL backend numbers the placeholders. Schema DDL is the only per-dialect SQL, in
// migrations.cc.
//
// Work happens inside a transaction handed to a callback:
//
//   int64_t id = 0;
//   Status st = db.write([&](Transaction& tx) -> Status {
//     auto rows = tx.query("INSERT INTO shops(name, created_at) VALUES (?, ?) RETURNING id",
//                          {name, now_ms});
//     if (!rows.ok()) return rows.status();
//     id = (*rows)[0].integer(0);
//     return OkStatus();
//   });
//
// write() commits when the callback returns OK and rolls back otherwise, so a request that
// fails changes nothing. Errors are values: a unique-constraint violation is kAlreadyExists,
// a lost connection, a busy timeout or an I/O error kUnavailable, anything else kInternal (with
// the backend's message, which the HTTP layer never shows to clients). A kUnavailable says what
// failed in its reason (http/errors.h tells the client so): "storage_full" (the disk is full),
// "database_read_only" (the file, or a PostgreSQL standby, takes no writes) and
// "database_unavailable" (no connection, or a SQLite file that cannot be opened). Reads go on
// while the disk is full or the file read-only, and writes work again as soon as the fault
// is gone: a SQLite connection refused as read-only is replaced (its file opened again), a lost
// PostgreSQL connection too.
//
// A statement that fails spoils its transaction (PostgreSQL aborts it): every later statement
// answers the same error, and write() rolls back even if the callback ignores the error and
// returns OK. To tolerate a conflict, say so in SQL: INSERT ... ON CONFLICT DO NOTHING, which
// both dialects accept.
//
// PostgreSQL infers each `?`'s type from its context; where there is none (`? IS NULL`, a bare
// `SELECT ?`) write CAST(? AS BIGINT) or CAST(? AS TEXT), which both dialects accept.
//
// Thread safety: a Database is shared by all threads; each read()/write() borrows a connection
// from the backend's pool for the callback's duration. A Transaction belongs to one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/status.h"

namespace tajir::db {

// A parameter or a column: NULL, an integer, a real or text (blobs travel as text).
using Value = std::variant<std::monostate, int64_t, double, std::string>;

class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  bool is_null(size_t i) const { return std::holds_alternative<std::monostate>(values_.at(i)); }
  // 0 for NULL; text is parsed; reals are truncated.
  int64_t integer(size_t i) const;
  double real(size_t i) const;
  // "" for NULL; numbers are formatted.
  std::string text(size_t i) const;
  std::optional<int64_t> optional_integer(size_t i) const;
  std::optional<std::string> optional_text(size_t i) const;
  const Value& value(size_t i) const { return values_.at(i); }

 private:
  std::vector<Value> values_;
};

using Rows = std::vector<Row>;

class Transaction {
 public:
  virtual ~Transaction() = default;
  // Runs a statement that returns rows (SELECT, or anything with RETURNING).
  virtual Result<Rows> query(std::string_view sql, std::span<const Value> params) = 0;
  // Runs a statement; returns how many rows it changed.
  virtual Result<int64_t> execute(std::string_view sql, std::span<const Value> params) = 0;

  Result<Rows> query(std::string_view sql, std::initializer_list<Value> params = {}) {
    return query(sql, std::span<const Value>(params.begin(), params.size()));
  }
  Result<int64_t> execute(std::string_view sql, std::initializer_list<Value> params = {}) {
    return execute(sql, std::span<const Value>(params.begin(), params.size()));
  }
};

enum class Dialect { kSqlite, kPostgres };

class Database {
 public:
  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;

  // Runs fn in a read-only transaction that sees one consistent snapshot. Returns fn's status,
  // or the backend's error.
  virtual Status read(const std::function<Status(Transaction&)>& fn) = 0;

  // Runs fn in a read-write transaction: commits when fn returns OK, rolls back otherwise.
  // When the backend reports a serialization failure or deadlock, rolls back and runs fn again
  // (a few times), so fn must not have effects outside the transaction.
  // REQUIRES: fn does not call write() on this database (SQLite has a single writer: it would
  // wait for itself until busy_timeout, then answer kUnavailable).
  virtual Status write(const std::function<Status(Transaction&)>& fn) = 0;

  // A cheap round trip: kUnavailable when the database cannot be reached.
  virtual Status ping() = 0;

  // Statements run since the database was opened, for measurements (queries per request):
  // those of the callbacks, not BEGIN, COMMIT or ping().
  virtual uint64_t statements() const = 0;

  // Human-readable description without secrets: "sqlite:/path/tajir.db",
  // "postgresql://host:5432/db".
  virtual std::string describe() const = 0;
};

// Statements this thread has run on any Database, for attributing database work to one request
// (a request is handled on one thread): take it before and after.
uint64_t thread_statements();

struct Options {
  size_t pool_size = 0;  // connections; 0: 2 x hardware threads (SQLite: readers; one writer more)
  std::chrono::milliseconds busy_timeout{5000};
  // SQLite synchronous=FULL: survives power loss, not only a crash of the process (kill -9
  // is survived either way in WAL mode). PostgreSQL keeps its own settings.
  bool sqlite_synchronous_full = true;
};

// Opens a database by URL. kInvalidArgument for a URL it does not understand, kUnavailable when
// it cannot connect or open the file.
Result<std::unique_ptr<Database>> open(std::string_view url, const Options& options = {});

// Brings the schema to the newest version (migrations.cc), each migration in its own
// transaction, recorded in schema_migrations. Safe to run at every start and concurrently.
Status migrate(Database& db);

// The schema version migrate() brings a database to.
int schema_version();

}  // namespace tajir::db
