#include "db/database.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <random>
#include <thread>

#include "db/internal/backend.h"
#include "db/postgres/postgres_database.h"
#include "db/sqlite/sqlite_database.h"
#include "util/blocking.h"

namespace tajir::db {
namespace {

template <typename T>
bool parse_whole(std::string_view s, T* out) {
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

// Truncates toward zero, saturating instead of overflowing (NaN is 0).
int64_t truncate_to_integer(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 9.223372036854775807e18) return std::numeric_limits<int64_t>::max();
  if (d <= -9.223372036854775808e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

}  // namespace

int64_t Row::integer(size_t i) const {
  const Value& v = values_.at(i);
  if (auto* n = std::get_if<int64_t>(&v)) return *n;
  if (auto* d = std::get_if<double>(&v)) return truncate_to_integer(*d);
  if (auto* s = std::get_if<std::string>(&v)) {
    int64_t n = 0;
    if (parse_whole(*s, &n)) return n;
    double d = 0;
    if (parse_whole(*s, &d)) return truncate_to_integer(d);
  }
  return 0;
}

double Row::real(size_t i) const {
  const Value& v = values_.at(i);
  if (auto* n = std::get_if<int64_t>(&v)) return static_cast<double>(*n);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* s = std::get_if<std::string>(&v)) {
    double d = 0;
    if (parse_whole(*s, &d)) return d;
  }
  return 0;
}

std::string Row::text(size_t i) const {
  const Value& v = values_.at(i);
  if (auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  if (auto* d = std::get_if<double>(&v)) return internal::format_double(*d);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  return "";
}

std::optional<int64_t> Row::optional_integer(size_t i) const {
  if (is_null(i)) return std::nullopt;
  return integer(i);
}

std::optional<std::string> Row::optional_text(size_t i) const {
  if (is_null(i)) return std::nullopt;
  return text(i);
}

Result<std::unique_ptr<Database>> open(std::string_view url, const Options& options) {
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return open_postgres(url, options);
  }
  if (url.starts_with("sqlite:")) {
    std::string_view path = url.substr(7);
    if (path.starts_with("//")) path.remove_prefix(2);
    if (path.empty() || path == ":memory:") {
      // Every pooled connection would open a database of its own.
      return Status(
          StatusCode::kInvalidArgument,
          "sqlite: needs a file path (sqlite:PATH); in-memory databases are not supported");
    }
    return open_sqlite(std::string(path), options);
  }
  // Name only the scheme: a mistyped URL may still carry a password.
  return Status(StatusCode::kInvalidArgument, "unknown database URL scheme '" +
                                                  std::string(url.substr(0, url.find(':'))) +
                                                  "': expected sqlite:PATH or postgresql://...");
}

namespace internal {

size_t default_pool_size() { return 2 * std::max(1u, std::thread::hardware_concurrency()); }

std::string format_double(double d) {
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, ptr);
}

// --- ConnectionPool ---------------------------------------------------------------------------

ConnectionPool::ConnectionPool(size_t capacity, std::chrono::milliseconds wait_timeout,
                               Factory factory)
    : capacity_(std::max<size_t>(1, capacity)),
      wait_timeout_(wait_timeout),
      factory_(std::move(factory)) {}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)), reused_(other.reused_) {}

ConnectionPool::Lease::~Lease() {
  if (conn_) pool_->release(std::move(conn_));
}

Result<ConnectionPool::Lease> ConnectionPool::acquire() {
  util::blocking_point();  // every statement, ping and transaction comes through here
  std::unique_lock lock(mutex_);
  if (!returned_.wait_for(lock, wait_timeout_,
                          [&] { return !idle_.empty() || open_ < capacity_; })) {
    return Status(StatusCode::kUnavailable, "no database connection available (all " +
                                                std::to_string(capacity_) + " in use for " +
                                                std::to_string(wait_timeout_.count()) + " ms)");
  }
  if (!idle_.empty()) {
    std::unique_ptr<Connection> conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(conn), /*reused=*/true);
  }
  ++open_;
  lock.unlock();
  auto conn = factory_();
  if (!conn.ok()) {
    lock.lock();
    --open_;
    lock.unlock();
    returned_.notify_one();
    return conn.status();
  }
  return Lease(this, std::move(*conn), /*reused=*/false);
}

void ConnectionPool::add(std::unique_ptr<Connection> conn) {
  {
    std::lock_guard lock(mutex_);
    ++open_;
    idle_.push_back(std::move(conn));
  }
  returned_.notify_one();
}

void ConnectionPool::release(std::unique_ptr<Connection> conn) {
  if (conn->healthy()) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(conn));
  } else {
    conn.reset();  // closing may talk to the server: not under the lock
    std::lock_guard lock(mutex_);
    --open_;
  }
  returned_.notify_one();
}

// --- transactions -----------------------------------------------------------------------------

namespace {

thread_local uint64_t statements_of_this_thread = 0;

class PooledTransaction final : public Transaction {
 public:
  PooledTransaction(Connection& conn, std::atomic<uint64_t>* statements)
      : conn_(conn), statements_(statements) {}

  using Transaction::execute;
  using Transaction::query;

  Result<Rows> query(std::string_view sql, std::span<const Value> params) override {
    Rows rows;
    if (Status st = run(sql, params, &rows, nullptr); !st.ok()) return st;
    return rows;
  }

  Result<int64_t> execute(std::string_view sql, std::span<const Value> params) override {
    int64_t changed = 0;
    if (Status st = run(sql, params, nullptr, &changed); !st.ok()) return st;
    return changed;
  }

  // The first statement failure, or OK.
  const Status& failure() const { return failure_; }

 private:
  Status run(std::string_view sql, std::span<const Value> params, Rows* rows, int64_t* changed) {
    if (!failure_.ok()) {
      return Status(failure_.code(),
                    "transaction aborted by an earlier error: " + failure_.message());
    }
    statements_->fetch_add(1, std::memory_order_relaxed);
    ++statements_of_this_thread;
    Status st = conn_.run(sql, params, rows, changed);
    if (!st.ok()) failure_ = st;
    return st;
  }

  Connection& conn_;
  std::atomic<uint64_t>* statements_;
  Status failure_;
};

// Acquires a connection and runs `sql` (BEGIN ..., or a ping) on it. An idle connection that
// turns out dead is dropped and another taken: at most capacity of them can be dead.
Result<ConnectionPool::Lease> acquire_and_run(ConnectionPool& pool, std::string_view sql) {
  for (size_t dropped = 0;; ++dropped) {
    auto lease = pool.acquire();
    if (!lease.ok()) return lease.status();
    Status st = (*lease)->run_control(sql);
    if (st.ok()) return lease;
    if (!lease->reused() || (*lease)->healthy() || dropped >= pool.capacity()) return st;
  }
}

void backoff(int attempt) {
  thread_local std::minstd_rand rng(std::hash<std::thread::id>{}(std::this_thread::get_id()));
  std::uniform_int_distribution<int> ms(1, 5 * attempt);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms(rng)));
}

}  // namespace

Status run_transaction(ConnectionPool& pool, const TransactionSpec& spec,
                       std::atomic<uint64_t>* statements,
                       const std::function<Status(Transaction&)>& fn) {
  for (int attempt = 1;; ++attempt) {
    auto lease = acquire_and_run(pool, spec.begin);
    if (!lease.ok()) return lease.status();
    Connection& conn = **lease;
    PooledTransaction tx(conn, statements);
    Status result = fn(tx);
    if (result.ok()) result = tx.failure();  // fn went on after a failed statement
    Status commit;
    if (result.ok()) {
      commit = conn.run_control("COMMIT");
      if (commit.ok()) return commit;
      result = commit;
    }
    // A failed COMMIT may leave the transaction open (SQLite); a dead connection is dropped.
    if (conn.healthy()) (void)conn.run_control("ROLLBACK");
    bool conflict =
        tx.failure().code() == StatusCode::kAborted || commit.code() == StatusCode::kAborted;
    if (!conflict || attempt >= spec.max_attempts) return result;
    backoff(attempt);
  }
}

Status ping(ConnectionPool& pool) {
  auto lease = acquire_and_run(pool, "SELECT 1");
  return lease.ok() ? OkStatus() : lease.status();
}

}  // namespace internal

uint64_t thread_statements() { return internal::statements_of_this_thread; }

}  // namespace tajir::db
