// The hot queries use indexes: no full scan of a large table on either database.
//
// The test runs the reads a till and a back office make all day through Pos, on a seeded
// database, records every SELECT they issue (a Database decorator, so the SQL is not written
// twice), and asks the database for each one's plan with the same parameters. SQLite: no
// "SCAN <table>" over a large table (a "SEARCH ... USING INDEX" is what we want). PostgreSQL:
// with enable_seqscan off, a "Seq Scan" that remains means no index could serve the query.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "db/database.h"
#include "db/postgres_test_server.h"
#include "pos/pos.h"
#include "pos/seed.h"

namespace tajir::pos {
namespace {

struct Statement {
  std::string sql;
  std::vector<db::Value> params;
};

class RecordingTransaction : public db::Transaction {
 public:
  RecordingTransaction(db::Transaction& inner, std::vector<Statement>& log)
      : inner_(inner), log_(log) {}
  Result<db::Rows> query(std::string_view sql, std::span<const db::Value> params) override {
    if (sql.starts_with("SELECT"))
      log_.push_back({std::string(sql), {params.begin(), params.end()}});
    return inner_.query(sql, params);
  }
  Result<int64_t> execute(std::string_view sql, std::span<const db::Value> params) override {
    return inner_.execute(sql, params);
  }
  using db::Transaction::execute;
  using db::Transaction::query;

 private:
  db::Transaction& inner_;
  std::vector<Statement>& log_;
};

class RecordingDatabase : public db::Database {
 public:
  explicit RecordingDatabase(db::Database& inner) : inner_(inner) {}
  db::Dialect dialect() const override { return inner_.dialect(); }
  Status read(const std::function<Status(db::Transaction&)>& fn) override {
    return inner_.read([&](db::Transaction& tx) {
      RecordingTransaction rec(tx, log);
      return fn(rec);
    });
  }
  Status write(const std::function<Status(db::Transaction&)>& fn) override {
    return inner_.write([&](db::Transaction& tx) {
      RecordingTransaction rec(tx, log);
      return fn(rec);
    });
  }
  Status ping() override { return inner_.ping(); }
  uint64_t statements() const override { return inner_.statements(); }
  std::string describe() const override { return inner_.describe(); }

  std::vector<Statement> log;

 private:
  db::Database& inner_;
};

// Runs the hot reads of one shop.
void run_hot_reads(Pos& pos, const Principal& p) {
  PageRequest first{1, 50}, later{3, 50};
  ASSERT_TRUE(pos.list_products(p, {}, first).ok());
  ASSERT_TRUE(pos.list_products(p, {}, later).ok());
  ASSERT_TRUE(pos.list_products(p, {std::string("tea"), {}, false, {}}, first).ok());
  ASSERT_TRUE(pos.list_products(p, {{}, std::string("Dairy"), false, {}}, first).ok());
  ASSERT_TRUE(pos.list_products(p, {{}, {}, true, true}, first).ok());
  ASSERT_TRUE(pos.product(p, 5).ok());
  ASSERT_TRUE(pos.list_customers(p, {}, first).ok());
  ASSERT_TRUE(pos.list_customers(p, std::string("khan"), first).ok());
  ASSERT_TRUE(pos.customer(p, 7).ok());
  ASSERT_TRUE(pos.list_bills(p, {}, first).ok());
  ASSERT_TRUE(pos.list_bills(p, {{}, {}, {}, std::string("void")}, first).ok());
  ASSERT_TRUE(pos.list_bills(p, {now_ms() - 7 * 86'400'000LL, now_ms(), {}, {}}, first).ok());
  ASSERT_TRUE(pos.list_bills(p, {{}, {}, int64_t{3}, {}}, first).ok());
  int64_t today = now_ms() / 86'400'000LL * 86'400'000LL;  // dates: the shop's midnights
  ASSERT_TRUE(pos.list_bills(p, {today, today + 86'400'000LL, {}, {}, true, true}, first).ok());
  ASSERT_TRUE(pos.dashboard(p).ok());
  auto bills = pos.list_bills(p, {}, PageRequest{1, 1});
  ASSERT_TRUE(bills.ok() && !bills->items.empty());
  ASSERT_TRUE(pos.bill(p, bills->items[0].id).ok());
  ASSERT_TRUE(pos.list_employees(p, first).ok());
}

std::vector<std::string> plan_of(db::Database& db, const Statement& s) {
  std::vector<std::string> lines;
  Status st = db.read([&](db::Transaction& tx) -> Status {
    bool sqlite = db.dialect() == db::Dialect::kSqlite;
    if (!sqlite) {
      auto off = tx.execute("SET LOCAL enable_seqscan = off");
      if (!off.ok()) return off.status();
    }
    auto rows = tx.query((sqlite ? "EXPLAIN QUERY PLAN " : "EXPLAIN ") + s.sql, s.params);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) lines.push_back(r.text(sqlite ? 3 : 0));
    return OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st.message() << "\n" << s.sql;
  return lines;
}

void check_plans(db::Database& real) {
  Pos seeding(real, PosOptions{.pwhash_opslimit = 1, .pwhash_memlimit = 8192});
  auto logins =
      seed(seeding, {.shops = 2, .products = 3000, .customers = 3000, .bills = 20000, .seed = 7},
           [](int64_t, int64_t, const char*) {});
  ASSERT_TRUE(logins.ok()) << logins.status().message();

  RecordingDatabase rec(real);
  Pos pos(rec);
  auto login = pos.login("owner1", kDemoPassword);
  ASSERT_TRUE(login.ok()) << login.status().message();
  auto principal = pos.authenticate(login->token);
  ASSERT_TRUE(principal.ok());
  run_hot_reads(pos, *principal);
  ASSERT_GT(rec.log.size(), 20u);

  const std::regex full_scan(
      real.dialect() == db::Dialect::kSqlite
          ? "^SCAN (products|customers|bills|bill_items|sessions|users|employees)( |$)"
          : "Seq Scan on (products|customers|bills|bill_items|sessions|users|employees)\\b");
  for (const Statement& s : rec.log) {
    for (const std::string& line : plan_of(real, s)) {
      EXPECT_FALSE(std::regex_search(line, full_scan))
          << "full scan: " << line << "\n  in: " << s.sql;
    }
  }
}

TEST(QueryPlans, SqliteHotQueriesUseIndexes) {
  auto dir = std::filesystem::temp_directory_path() / ("tajir-plan-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    auto db = db::open("sqlite:" + (dir / "plan.db").string(), {.sqlite_synchronous_full = false});
    ASSERT_TRUE(db.ok()) << db.status().message();
    ASSERT_TRUE(db::migrate(**db).ok());
    check_plans(**db);
  }
  std::filesystem::remove_all(dir);
}

TEST(QueryPlans, PostgresHotQueriesUseIndexes) {
  auto server = db::PostgresTestServer::start();
  ASSERT_TRUE(server.ok()) << server.status().message();
  auto url = (*server)->create_database("plans");
  ASSERT_TRUE(url.ok()) << url.status().message();
  auto db = db::open(*url);
  ASSERT_TRUE(db.ok()) << db.status().message();
  ASSERT_TRUE(db::migrate(**db).ok());
  check_plans(**db);
}

}  // namespace
}  // namespace tajir::pos
