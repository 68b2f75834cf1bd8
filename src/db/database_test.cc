// The same tests against SQLite (a file in a temporary directory) and a real PostgreSQL, which
// this binary starts once, on first use (PostgresTestServer), and stops at exit. Without the
// PostgreSQL server binaries the PostgreSQL tests fail, saying so.
#include "db/database.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include "db/postgres_test_server.h"

namespace tajir::db {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

// --- the PostgreSQL server, one per test binary ---------------------------------------------

class PostgresEnvironment : public ::testing::Environment {
 public:
  // A fresh database on the shared server, which starts on the first call.
  Result<std::string> new_database() { return server_.new_database("test_"); }
  void TearDown() override { server_.stop(); }

 private:
  SharedPostgresTestServer server_;
};

PostgresEnvironment* const postgres =
    static_cast<PostgresEnvironment*>(::testing::AddGlobalTestEnvironment(new PostgresEnvironment));

// --- helpers --------------------------------------------------------------------------------

Options test_options() {
  Options options;
  options.sqlite_synchronous_full = false;  // the fsyncs would dominate the tests' time
  return options;
}

std::unique_ptr<Database> open_or_die(const std::string& url, const Options& options) {
  auto db = open(url, options);
  EXPECT_TRUE(db.ok()) << url << ": " << db.status().message();
  return db.ok() ? std::move(*db) : nullptr;
}

// Runs one statement in its own write transaction.
Result<int64_t> execute(Database& db, std::string_view sql, std::initializer_list<Value> params) {
  std::vector<Value> values(params);
  int64_t changed = 0;
  Status st = db.write([&](Transaction& tx) -> Status {
    auto n = tx.execute(sql, values);
    if (!n.ok()) return n.status();
    changed = *n;
    return OkStatus();
  });
  if (!st.ok()) return st;
  return changed;
}

// The first column of the first row of a query, read in its own transaction.
Result<Value> scalar(Database& db, std::string_view sql, std::initializer_list<Value> params = {}) {
  std::vector<Value> values(params);
  Value value;
  Status st = db.read([&](Transaction& tx) -> Status {
    auto rows = tx.query(sql, values);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return Status(StatusCode::kNotFound, "no rows");
    value = (*rows)[0].value(0);
    return OkStatus();
  });
  if (!st.ok()) return st;
  return value;
}

int64_t count(Database& db, std::string_view table) {
  auto n = scalar(db, "SELECT COUNT(*) FROM " + std::string(table));
  EXPECT_TRUE(n.ok()) << n.status().message();
  return n.ok() ? std::get<int64_t>(*n) : -1;
}

int64_t insert_shop(Transaction& tx, std::string_view name) {
  auto rows = tx.query("INSERT INTO shops(name, created_at) VALUES (?, ?) RETURNING id",
                       {std::string(name), int64_t{1700000000000}});
  EXPECT_TRUE(rows.ok()) << rows.status().message();
  return rows.ok() ? (*rows)[0].integer(0) : -1;
}

int64_t insert_shop(Database& db, std::string_view name) {
  int64_t id = 0;
  EXPECT_TRUE(db.write([&](Transaction& tx) -> Status {
                  id = insert_shop(tx, name);
                  return OkStatus();
                }).ok());
  return id;
}

int64_t insert_product(Database& db, int64_t shop, std::string_view sku, int64_t stock) {
  int64_t id = 0;
  Status st = db.write([&](Transaction& tx) -> Status {
    auto r = tx.query(
        "INSERT INTO products(shop_id, name, name_lower, sku, price, stock, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        {shop, "Tea", "tea", std::string(sku), int64_t{250}, stock, int64_t{1}, int64_t{1}});
    if (!r.ok()) return r.status();
    id = (*r)[0].integer(0);
    return OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st.message();
  return id;
}

// --- the backends -----------------------------------------------------------------------------

struct SqliteBackend {
  static Result<std::string> new_database(const fs::path& dir, std::string_view name) {
    return "sqlite:" + (dir / (std::string(name) + ".db")).string();
  }
};

struct PostgresBackend {
  static Result<std::string> new_database(const fs::path&, std::string_view) {
    return postgres->new_database();
  }
};

struct BackendNames {
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, SqliteBackend> ? "Sqlite" : "Postgres";
  }
};

template <typename Backend>
class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tajir-db-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto url = new_database("main");
    ASSERT_TRUE(url.ok()) << url.status().message();
    url_ = *url;
    db_ = open_or_die(url_, test_options());
    ASSERT_NE(db_, nullptr);
    Status st = migrate(*db_);
    ASSERT_TRUE(st.ok()) << st.message();
  }

  void TearDown() override {
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Result<std::string> new_database(std::string_view name) {
    return Backend::new_database(dir_, name);
  }

  fs::path dir_;
  std::string url_;
  std::unique_ptr<Database> db_;
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
TYPED_TEST_SUITE(DatabaseTest, Backends, BackendNames);

// --- the tests of both backends -------------------------------------------------------------

TYPED_TEST(DatabaseTest, MigrateIsIdempotent) {
  Database& db = *this->db_;
  EXPECT_EQ(count(db, "schema_migrations"), schema_version());
  int64_t shop = insert_shop(db, "Corner");
  ASSERT_TRUE(migrate(db).ok());
  EXPECT_EQ(count(db, "schema_migrations"), schema_version());
  EXPECT_EQ(count(db, "shops"), 1) << "migrating again keeps the data";
  for (const char* table : {"users", "sessions", "products", "customers", "employees", "bills",
                            "bill_items", "idempotency_keys"}) {
    EXPECT_EQ(count(db, table), 0) << table;
  }
  auto defaults = scalar(db, "SELECT currency || ' ' || timezone FROM shops WHERE id = ?", {shop});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(std::get<std::string>(*defaults), "USD UTC");
}

// A database of the schema before migration 8 (shops.change_seq), with a shop in it, as a
// server of that schema left it: migrating brings it forward, the shop at change 0.
TYPED_TEST(DatabaseTest, MigrateBringsADatabaseAtVersion7Forward) {
  Database& db = *this->db_;
  int64_t shop = insert_shop(db, "Older");
  ASSERT_TRUE(execute(db, "ALTER TABLE shops DROP COLUMN change_seq", {}).ok());
  ASSERT_TRUE(execute(db, "DROP TABLE node_beats", {}).ok());
  ASSERT_TRUE(execute(db, "DELETE FROM schema_migrations WHERE version > 7", {}).ok());
  ASSERT_EQ(count(db, "schema_migrations"), 7);
  ASSERT_TRUE(migrate(db).ok());
  EXPECT_EQ(count(db, "schema_migrations"), schema_version());
  EXPECT_EQ(schema_version(), 9);
  auto seq = scalar(db, "SELECT change_seq FROM shops WHERE id = ?", {shop});
  ASSERT_TRUE(seq.ok()) << seq.status().message();
  EXPECT_EQ(std::get<int64_t>(*seq), 0);
  EXPECT_EQ(count(db, "node_beats"), 0);
}

TYPED_TEST(DatabaseTest, MigrateConcurrentlyFromTwoHandles) {
  auto url = this->new_database("fresh");
  ASSERT_TRUE(url.ok()) << url.status().message();
  auto a = open_or_die(*url, test_options());
  auto b = open_or_die(*url, test_options());
  ASSERT_TRUE(a && b);
  Status sa, sb;
  std::thread ta([&] { sa = migrate(*a); });
  std::thread tb([&] { sb = migrate(*b); });
  ta.join();
  tb.join();
  EXPECT_TRUE(sa.ok()) << sa.message();
  EXPECT_TRUE(sb.ok()) << sb.message();
  EXPECT_EQ(count(*a, "schema_migrations"), schema_version());
}

TYPED_TEST(DatabaseTest, InsertReturningGivesNewIds) {
  Database& db = *this->db_;
  int64_t first = insert_shop(db, "One");
  int64_t second = insert_shop(db, "Two");
  EXPECT_GT(first, 0);
  EXPECT_GT(second, first);
  auto name = scalar(db, "SELECT name FROM shops WHERE id = ?", {second});
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(std::get<std::string>(*name), "Two");
}

TYPED_TEST(DatabaseTest, ValuesRoundTrip) {
  Database& db = *this->db_;
  ASSERT_TRUE(execute(db,
                      "CREATE TABLE kinds (k BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, "
                      "s TEXT)",
                      {})
                  .ok());
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  const std::string kText = "h\u00e9llo \u4e16\u754c \U0001F600 it's \"quoted\"; a?b $1 \\n";
  struct Case {
    Value i, d, s;
  };
  std::vector<Case> cases = {
      {std::monostate{}, std::monostate{}, std::monostate{}},
      {kMax, 3.141592653589793, kText},
      {kMin, -1e300, std::string("")},
      {int64_t{-1}, 0.1, std::string("'; DROP TABLE kinds; --")},
      {int64_t{0}, 1e-300, std::string("?")},
  };
  Status st = db.write([&](Transaction& tx) -> Status {
    for (size_t k = 0; k < cases.size(); ++k) {
      auto n = tx.execute("INSERT INTO kinds(k, i, d, s) VALUES (?, ?, ?, ?)",
                          {static_cast<int64_t>(k), cases[k].i, cases[k].d, cases[k].s});
      if (!n.ok()) return n.status();
      EXPECT_EQ(*n, 1);
    }
    return OkStatus();
  });
  ASSERT_TRUE(st.ok()) << st.message();
  st = db.read([&](Transaction& tx) -> Status {
    auto rows = tx.query("SELECT i, d, s FROM kinds ORDER BY k");
    if (!rows.ok()) return rows.status();
    EXPECT_EQ(rows->size(), cases.size());
    for (size_t k = 0; k < rows->size() && k < cases.size(); ++k) {
      const Row& row = (*rows)[k];
      EXPECT_EQ(row.value(0), cases[k].i) << "row " << k;
      EXPECT_EQ(row.value(1), cases[k].d) << "row " << k;
      EXPECT_EQ(row.value(2), cases[k].s) << "row " << k;
    }
    return OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st.message();
}

TYPED_TEST(DatabaseTest, QuestionMarkInLiteralsIsNotAPlaceholder) {
  Database& db = *this->db_;
  Status st = db.read([&](Transaction& tx) -> Status {
    auto rows = tx.query(
        "SELECT 'why?' AS \"really?\", CAST(? AS BIGINT), 'it''s ?', CAST(? AS TEXT) "
        "-- a comment?\n",
        {int64_t{7}, std::string("x?")});
    if (!rows.ok()) return rows.status();
    EXPECT_EQ(rows->size(), 1u);
    const Row& row = rows->at(0);
    EXPECT_EQ(row.text(0), "why?");
    EXPECT_EQ(row.value(1), Value(int64_t{7}));
    EXPECT_EQ(row.text(2), "it's ?");
    EXPECT_EQ(row.text(3), "x?");
    return OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st.message();
}

TYPED_TEST(DatabaseTest, WrongNumberOfParametersIsInvalidArgument) {
  Status st = this->db_->read([&](Transaction& tx) -> Status {
    return tx.query("SELECT CAST(? AS BIGINT)", {int64_t{1}, int64_t{2}}).status();
  });
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.message();
}

TYPED_TEST(DatabaseTest, WriteRollsBackWhenFnFails) {
  Database& db = *this->db_;
  Status st = db.write([&](Transaction& tx) -> Status {
    insert_shop(tx, "Ghost");
    return Status(StatusCode::kInvalidArgument, "changed my mind");
  });
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "changed my mind");
  EXPECT_EQ(count(db, "shops"), 0);
}

TYPED_TEST(DatabaseTest, FailedStatementRollsBackEvenIfFnIgnoresIt) {
  Database& db = *this->db_;
  int64_t shop = insert_shop(db, "Corner");
  Status st = db.write([&](Transaction& tx) -> Status {
    insert_shop(tx, "Second");
    auto dup = tx.execute("INSERT INTO shops(id, name, created_at) VALUES (?, 'x', 0)", {shop});
    EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
    auto after = tx.execute("UPDATE shops SET name = 'y'");
    EXPECT_EQ(after.status().code(), StatusCode::kAlreadyExists);
    EXPECT_THAT(after.status().message(), HasSubstr("earlier error"));
    return OkStatus();  // swallowed
  });
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(count(db, "shops"), 1);
}

TYPED_TEST(DatabaseTest, OnConflictDoNothingToleratesADuplicate) {
  Database& db = *this->db_;
  int64_t shop = insert_shop(db, "Corner");
  for (int64_t bill : {7, 8}) {
    auto n = execute(db,
                     "INSERT INTO idempotency_keys(shop_id, key, bill_id, created_at) "
                     "VALUES (?, ?, ?, 0) ON CONFLICT DO NOTHING",
                     {shop, "k-1", bill});
    ASSERT_TRUE(n.ok()) << n.status().message();
    EXPECT_EQ(*n, bill == 7 ? 1 : 0);
  }
  auto bill = scalar(db, "SELECT bill_id FROM idempotency_keys WHERE shop_id = ? AND key = ?",
                     {shop, "k-1"});
  ASSERT_TRUE(bill.ok());
  EXPECT_EQ(std::get<int64_t>(*bill), 7);
}

TYPED_TEST(DatabaseTest, ConstraintViolationsMapToCodes) {
  Database& db = *this->db_;
  int64_t shop = insert_shop(db, "Corner");
  insert_product(db, shop, "TEA-1", 5);
  auto user = [&](std::string_view name, std::string_view role) {
    return execute(db,
                   "INSERT INTO users(shop_id, username, password_hash, role, created_at) "
                   "VALUES (?, ?, 'h', ?, 0)",
                   {shop, std::string(name), std::string(role)});
  };
  ASSERT_TRUE(user("amina", "owner").ok());
  auto dup = user("amina", "cashier");
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(dup.status().message(), HasSubstr("username"));

  auto sku = execute(db,
                     "INSERT INTO products(shop_id, name, name_lower, sku, price, created_at, "
                     "updated_at) VALUES (?, 'Tea', 'tea', 'TEA-1', 1, 0, 0)",
                     {shop});
  EXPECT_EQ(sku.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(sku.status().message(), HasSubstr("sku"));

  EXPECT_EQ(user("bilal", "janitor").status().code(), StatusCode::kFailedPrecondition) << "CHECK";
  auto orphan = execute(db,
                        "INSERT INTO customers(shop_id, name, name_lower, created_at, updated_at) "
                        "VALUES (?, 'C', 'c', 0, 0)",
                        {shop + 1000});
  EXPECT_EQ(orphan.status().code(), StatusCode::kFailedPrecondition) << "FOREIGN KEY";
  auto null = execute(db, "INSERT INTO shops(name, created_at) VALUES (NULL, 0)", {});
  EXPECT_EQ(null.status().code(), StatusCode::kFailedPrecondition) << "NOT NULL";
  EXPECT_EQ(count(db, "users"), 1);
}

TYPED_TEST(DatabaseTest, ExecuteCountsChangedRows) {
  Database& db = *this->db_;
  int64_t shop = insert_shop(db, "Corner");
  insert_product(db, shop, "A", 1);
  insert_product(db, shop, "B", 1);
  EXPECT_EQ(*execute(db, "UPDATE products SET stock = stock + 1 WHERE shop_id = ?", {shop}), 2);
  EXPECT_EQ(*execute(db, "UPDATE products SET stock = 0 WHERE shop_id = ?", {shop + 1}), 0);
  EXPECT_EQ(*execute(db, "CREATE TABLE scratch (x BIGINT)", {}), 0);
  EXPECT_EQ(*execute(db, "DELETE FROM products WHERE sku = ?", {"A"}), 1);
}

TYPED_TEST(DatabaseTest, ReadSeesOneSnapshot) {
  Database& db = *this->db_;
  int64_t shop = insert_shop(db, "Corner");
  Status st = db.read([&](Transaction& tx) -> Status {
    auto before = tx.query("SELECT COUNT(*) FROM shops");
    if (!before.ok()) return before.status();
    // Another connection commits a write in the middle of this read.
    Status w = db.write([&](Transaction& wtx) -> Status {
      insert_shop(wtx, "Newcomer");
      return wtx.execute("UPDATE shops SET name = 'Renamed' WHERE id = ?", {shop}).status();
    });
    EXPECT_TRUE(w.ok()) << w.message();
    auto after = tx.query("SELECT COUNT(*), MAX(name) FROM shops");
    if (!after.ok()) return after.status();
    EXPECT_EQ((*after)[0].integer(0), (*before)[0].integer(0));
    EXPECT_EQ((*after)[0].text(1), "Corner");
    return OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(count(db, "shops"), 2) << "a later read sees the write";
}

TYPED_TEST(DatabaseTest, ReadCannotWrite) {
  Database& db = *this->db_;
  Status st = db.read([&](Transaction& tx) -> Status {
    return tx.execute("INSERT INTO shops(name, created_at) VALUES ('x', 0)").status();
  });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(count(db, "shops"), 0);
}

TYPED_TEST(DatabaseTest, ConcurrentIncrementsAreNotLost) {
  Database& db = *this->db_;
  ASSERT_TRUE(
      execute(db, "CREATE TABLE counters (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)", {}).ok());
  ASSERT_TRUE(execute(db, "INSERT INTO counters VALUES (1, 0)", {}).ok());
  constexpr int kThreads = 4, kIncrements = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        auto n = execute(db, "UPDATE counters SET n = n + 1 WHERE id = ?", {int64_t{1}});
        if (!n.ok() || *n != 1) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto n = scalar(db, "SELECT n FROM counters WHERE id = 1");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::get<int64_t>(*n), kThreads * kIncrements);
}

TYPED_TEST(DatabaseTest, ConditionalStockDecrementNeverOversells) {
  Database& db = *this->db_;
  int64_t shop = insert_shop(db, "Corner");
  int64_t product = insert_product(db, shop, "TEA", 100);
  constexpr int kThreads = 8, kAttempts = 20;
  constexpr int64_t kQuantity = 3;
  std::atomic<int> sold{0}, refused{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kAttempts; ++i) {
        auto n = execute(db, "UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?",
                         {kQuantity, product, kQuantity});
        if (!n.ok()) {
          errors++;
        } else {
          (*n == 1 ? sold : refused)++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(sold.load(), 100 / kQuantity);
  EXPECT_EQ(refused.load(), kThreads * kAttempts - 100 / kQuantity);
  auto stock = scalar(db, "SELECT stock FROM products WHERE id = ?", {product});
  ASSERT_TRUE(stock.ok());
  EXPECT_EQ(std::get<int64_t>(*stock), 100 % kQuantity);
}

TYPED_TEST(DatabaseTest, StatementsAreCounted) {
  Database& db = *this->db_;
  uint64_t before = db.statements();
  Status st = db.write([&](Transaction& tx) -> Status {
    insert_shop(tx, "A");
    insert_shop(tx, "B");
    return tx.execute("UPDATE shops SET bill_seq = bill_seq + 1").status();
  });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(db.statements(), before + 3) << "BEGIN and COMMIT are not counted";
  ASSERT_TRUE(scalar(db, "SELECT COUNT(*) FROM shops").ok());
  EXPECT_EQ(db.statements(), before + 4);
  ASSERT_TRUE(db.ping().ok());
  EXPECT_EQ(db.statements(), before + 4) << "nor pings";
}

TYPED_TEST(DatabaseTest, PoolOfOneSerializesReads) {
  Options options = test_options();
  options.pool_size = 1;
  auto db = open_or_die(this->url_, options);
  ASSERT_NE(db, nullptr);
  std::atomic<int> inside{0}, most{0};
  std::vector<Status> results(3);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([&] {
      result = db->read([&](Transaction& tx) -> Status {
        int now = ++inside;
        for (int seen = most.load(); seen < now && !most.compare_exchange_weak(seen, now);) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        auto rows = tx.query("SELECT COUNT(*) FROM shops");
        --inside;
        return rows.status();
      });
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(most.load(), 1);
}

TYPED_TEST(DatabaseTest, WaitingForAConnectionTimesOut) {
  Options options = test_options();
  options.pool_size = 1;
  options.busy_timeout = std::chrono::milliseconds(100);
  auto db = open_or_die(this->url_, options);
  ASSERT_NE(db, nullptr);
  std::mutex mu;
  std::condition_variable cv;
  bool holding = false, release = false;
  std::thread holder([&] {
    Status st = db->read([&](Transaction&) -> Status {
      std::unique_lock lock(mu);
      holding = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
      return OkStatus();
    });
    EXPECT_TRUE(st.ok()) << st.message();
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return holding; });
  }
  Status st = db->read([](Transaction&) { return OkStatus(); });
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_THAT(st.message(), HasSubstr("no database connection available"));
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  holder.join();
  EXPECT_TRUE(db->read([](Transaction&) { return OkStatus(); }).ok());
}

TYPED_TEST(DatabaseTest, PingAndDescribe) {
  EXPECT_TRUE(this->db_->ping().ok());
  std::string description = this->db_->describe();
  if (this->db_->dialect() == Dialect::kSqlite) {
    EXPECT_EQ(description, this->url_);
  } else {
    EXPECT_THAT(description, HasSubstr("postgresql://127.0.0.1:"));
  }
}

// --- URLs and rows -------------------------------------------------------------------------

TEST(Database, BadUrlsAreInvalidArgument) {
  for (const char* url :
       {"", "mysql://localhost/db", "tajir.db", "sqlite:", "sqlite://",
        "sqlite::memory:", "postgresql://host:5432/db?nonsense=1", "postgresql://%zz"}) {
    auto db = open(url);
    EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument) << url;
  }
  auto db = open("mysql://root:hunter2@localhost/db");
  EXPECT_THAT(db.status().message(), Not(HasSubstr("hunter2")));
}

TEST(Database, RowAccessorsConvert) {
  Row row({int64_t{5}, 2.9, std::string("42"), std::monostate{}, std::string("x"), -2.9,
           std::string("1.5")});
  EXPECT_EQ(row.size(), 7u);
  EXPECT_EQ(row.integer(0), 5);
  EXPECT_EQ(row.text(0), "5");
  EXPECT_EQ(row.integer(1), 2);
  EXPECT_EQ(row.text(1), "2.9");
  EXPECT_EQ(row.integer(2), 42);
  EXPECT_EQ(row.real(2), 42.0);
  EXPECT_TRUE(row.is_null(3));
  EXPECT_EQ(row.integer(3), 0);
  EXPECT_EQ(row.text(3), "");
  EXPECT_EQ(row.optional_integer(3), std::nullopt);
  EXPECT_EQ(row.optional_text(3), std::nullopt);
  EXPECT_EQ(row.optional_integer(0), 5);
  EXPECT_EQ(row.optional_text(4), "x");
  EXPECT_EQ(row.integer(4), 0);
  EXPECT_EQ(row.integer(5), -2);
  EXPECT_EQ(row.integer(6), 1);
  EXPECT_EQ(row.real(6), 1.5);
}

// --- PostgreSQL only -----------------------------------------------------------------------

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = postgres->new_database();
    ASSERT_TRUE(url.ok()) << url.status().message();
    url_ = *url;
  }
  std::string url_;
};

TEST_F(PostgresTest, UnreachableServerIsUnavailableQuickly) {
  Options options;
  options.busy_timeout = std::chrono::milliseconds(1000);
  auto start = std::chrono::steady_clock::now();
  auto db = open(
      "postgresql://tajir@127.0.0.1:" + std::to_string(PostgresTestServer::unused_port()) + "/x",
      options);
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
  // A black-holed address waits for connect_timeout (libpq's minimum is 2 s).
  db = open("postgresql://tajir@192.0.2.1:5432/x?connect_timeout=2", options);
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable) << db.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(6));
}

TEST_F(PostgresTest, DescribeHidesThePassword) {
  std::string url = url_;
  url.replace(url.find("tajir@"), 6, "tajir:hunter2@");  // trust authentication ignores it
  auto db = open(url);
  ASSERT_TRUE(db.ok()) << db.status().message();
  EXPECT_THAT((*db)->describe(), Not(HasSubstr("hunter2")));
}

// The backend of a pooled connection is killed; the pool replaces the connection.
TEST_F(PostgresTest, LostConnectionsAreReplaced) {
  Options options;
  options.pool_size = 1;
  auto db = open_or_die(url_, options);
  auto admin = open_or_die(url_, options);
  ASSERT_TRUE(db && admin);
  auto kill_backend_of = [&](Database& victim) {
    auto pid = scalar(victim, "SELECT pg_backend_pid()");
    ASSERT_TRUE(pid.ok());
    int64_t p = std::get<int64_t>(*pid);
    ASSERT_TRUE(scalar(*admin, "SELECT pg_terminate_backend(?)", {p}).ok());
    for (int i = 0; i < 100; ++i) {  // it exits soon after the signal
      auto alive = scalar(*admin, "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ?", {p});
      if (alive.ok() && std::get<int64_t>(*alive) == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };

  // Idle when it died: the next transaction notices at BEGIN and takes a new connection.
  kill_backend_of(*db);
  EXPECT_TRUE(scalar(*db, "SELECT 1").ok());
  kill_backend_of(*db);
  EXPECT_TRUE(db->ping().ok());

  // Dying mid-transaction: that transaction fails as kUnavailable, the next one works.
  Status st = db->write([&](Transaction& tx) -> Status {
    auto pid = tx.query("SELECT pg_backend_pid()");
    if (!pid.ok()) return pid.status();
    auto killed = scalar(*admin, "SELECT pg_terminate_backend(?)", {(*pid)[0].integer(0)});
    EXPECT_TRUE(killed.ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return tx.execute("SELECT 1").status();
  });
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.message();
  EXPECT_TRUE(scalar(*db, "SELECT 1").ok());
}

// Two writers lock two rows in opposite orders; PostgreSQL aborts one (40P01) and write() runs
// it again, so both commit.
TEST_F(PostgresTest, DeadlockedWriteIsRetried) {
  auto db = open_or_die(url_, test_options());
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(
      execute(*db, "CREATE TABLE counters (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)", {}).ok());
  ASSERT_TRUE(execute(*db, "INSERT INTO counters VALUES (1, 0), (2, 0)", {}).ok());
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  std::atomic<int> runs{0};
  auto writer = [&](int64_t first, int64_t second) {
    bool first_run = true;
    return db->write([&](Transaction& tx) -> Status {
      runs++;
      auto a = tx.execute("UPDATE counters SET n = n + 1 WHERE id = ?", {first});
      if (!a.ok()) return a.status();
      if (first_run) {  // hold the first lock until the other writer holds its own
        first_run = false;
        std::unique_lock lock(mu);
        ++arrived;
        cv.notify_all();
        cv.wait_for(lock, std::chrono::seconds(5), [&] { return arrived >= 2; });
      }
      return tx.execute("UPDATE counters SET n = n + 1 WHERE id = ?", {second}).status();
    });
  };
  Status s1, s2;
  std::thread t1([&] { s1 = writer(1, 2); });
  std::thread t2([&] { s2 = writer(2, 1); });
  t1.join();
  t2.join();
  EXPECT_TRUE(s1.ok()) << s1.message();
  EXPECT_TRUE(s2.ok()) << s2.message();
  EXPECT_EQ(runs.load(), 3);
  auto total = scalar(*db, "SELECT SUM(n) FROM counters");
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(Row({*total}).integer(0), 4);
}

TEST_F(PostgresTest, ResultColumnsFollowTheirTypes) {
  auto db = open_or_die(url_, test_options());
  ASSERT_NE(db, nullptr);
  Status st = db->read([&](Transaction& tx) -> Status {
    auto rows = tx.query(
        "SELECT CAST(1 AS SMALLINT), CAST(2 AS INTEGER), CAST(3 AS BIGINT), CAST(1.5 AS REAL), "
        "CAST(2.25 AS NUMERIC), true, 'text', CAST(NULL AS BIGINT), "
        "CAST('Infinity' AS DOUBLE PRECISION)");
    if (!rows.ok()) return rows.status();
    const Row& row = rows->at(0);
    EXPECT_EQ(row.value(0), Value(int64_t{1}));
    EXPECT_EQ(row.value(1), Value(int64_t{2}));
    EXPECT_EQ(row.value(2), Value(int64_t{3}));
    EXPECT_EQ(row.value(3), Value(1.5));
    EXPECT_EQ(row.value(4), Value(2.25));
    EXPECT_EQ(row.value(5), Value(int64_t{1}));
    EXPECT_EQ(row.value(6), Value(std::string("text")));
    EXPECT_TRUE(row.is_null(7));
    EXPECT_EQ(row.value(8), Value(std::numeric_limits<double>::infinity()));
    return OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st.message();
}

}  // namespace
}  // namespace tajir::db
