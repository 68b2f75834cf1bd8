// What the two backends share, private to src/db: a connection interface, a bounded pool of
// connections and the transaction loop (begin, run the callback, commit or roll back, retry).
// Implemented in database.cc.
//
// A backend supplies a Connection (one SQLite handle or one libpq PGconn) and the BEGIN
// statement of each kind of transaction; everything about transactions that must behave the
// same on both backends lives here once:
//
//   - write() commits only when the callback returns OK *and* no statement failed. A failed
//     statement aborts a PostgreSQL transaction (its COMMIT would silently roll back), so after
//     the first failure every later statement answers that failure again, on both backends, and
//     write() rolls back even when the callback swallowed the error.
//   - kAborted from the database (serialization failure, deadlock) runs the callback again.
//   - A pooled connection found dead when its transaction begins (the server restarted while it
//     sat idle) is dropped and another one taken: nothing ran on it, so this is always safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.h"

namespace tajir::db::internal {

// Hashes SQL text for the per-connection statement caches, which look up by string_view.
struct SqlHash {
  using is_transparent = void;
  size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
};

// One connection to the database. Used by one thread at a time: the pool hands it out.
class Connection {
 public:
  virtual ~Connection() = default;
  // Runs one statement with `?` placeholders. With rows, appends the rows it returns; without,
  // sets *changed to the number of rows it changed.
  virtual Status run(std::string_view sql, std::span<const Value> params, Rows* rows,
                     int64_t* changed) = 0;
  // Runs a parameterless statement of the transaction machinery (BEGIN, COMMIT, SELECT 1).
  virtual Status run_control(std::string_view sql) = 0;
  // False once the connection is known to be unusable; the pool then drops it.
  virtual bool healthy() const = 0;
};

// A bounded pool. acquire() hands out an idle connection, opens a new one while fewer than
// `capacity` exist, or waits up to `wait_timeout` for one to come back (then kUnavailable).
// Connections are opened outside the lock; unhealthy ones are dropped when they come back.
class ConnectionPool {
 public:
  using Factory = std::function<Result<std::unique_ptr<Connection>>()>;

  ConnectionPool(size_t capacity, std::chrono::milliseconds wait_timeout, Factory factory);
  ~ConnectionPool();  // REQUIRES: no lease outstanding.
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // A borrowed connection, returned to the pool when the lease ends.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection* operator->() const { return conn_.get(); }
    Connection& operator*() const { return *conn_; }
    // True when the connection was used before (and so may have died while idle).
    bool reused() const { return reused_; }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> conn, bool reused)
        : pool_(pool), conn_(std::move(conn)), reused_(reused) {}
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
    bool reused_;
  };

  Result<Lease> acquire();
  // Adds an open connection as idle (open() checks connectivity with the first one).
  // REQUIRES: fewer than capacity connections exist.
  void add(std::unique_ptr<Connection> conn);
  size_t capacity() const { return capacity_; }

 private:
  void release(std::unique_ptr<Connection> conn);

  const size_t capacity_;
  const std::chrono::milliseconds wait_timeout_;
  const Factory factory_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;  // GUARDED_BY(mutex_); the last is the warmest
  size_t open_ = 0;  // GUARDED_BY(mutex_): idle + leased + being opened
};

struct TransactionSpec {
  std::string_view begin;  // "BEGIN IMMEDIATE", "BEGIN ISOLATION LEVEL ..."
  int max_attempts = 1;    // runs of fn when the database answers kAborted
};

// Borrows a connection from pool and runs fn in a transaction as described above. Counts each
// statement fn runs in *statements.
Status run_transaction(ConnectionPool& pool, const TransactionSpec& spec,
                       std::atomic<uint64_t>* statements,
                       const std::function<Status(Transaction&)>& fn);

// A round trip on a pooled connection (dropping dead idle ones as run_transaction does).
Status ping(ConnectionPool& pool);

// Connections a pool holds when Options::pool_size is 0: 2 x hardware threads.
size_t default_pool_size();

// Shortest text that reads back as the same double ("0.1", "1e+300").
std::string format_double(double d);

}  // namespace tajir::db::internal
