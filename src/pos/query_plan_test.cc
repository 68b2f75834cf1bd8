// The hot queries use indexes: no full scan of a large table on either database.
//
// The test runs the reads a till and a back office make all day through Pos, on a seeded
// database, records every SELECT they issue (a Database decorator, so the SQL is not written
// twice), and asks the database for each one's plan with the same parameters. SQLite: no
// "SCAN <table>" over a large table (a "SEARCH ... USING INDEX" is what we want). PostgreSQL:
// with enable_seqscan off, a "Seq Scan" that remains means no index could serve the query.
//
// Searches must do better than not scanning the table: they must not read all of the shop's
// rows either (pos/internal/search.h). They are checked apart, on one large shop (where a
// walk of the shop's index is what a scan costs) with selective terms: every search reaches
// its rows through the text index (SQLite: its FTS5 table, then each row by id; PostgreSQL: a
// pg_trgm GIN index), never through an index of the shop (and category or active) alone.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "db/database.h"
#include "db/test_databases.h"
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

// Seeds `real` (and, with `analyze`, gathers the statistics autovacuum would after such a load),
// then records the SELECTs that `reads` makes as owner1.
void record_reads(db::Database& real, const SeedOptions& data, bool analyze,
                  const std::function<void(Pos&, const Principal&)>& reads,
                  std::vector<Statement>& log) {
  Pos seeding(real, PosOptions{.pwhash_opslimit = 1, .pwhash_memlimit = 8192});
  auto logins = seed(seeding, data, [](int64_t, int64_t, const char*) {});
  ASSERT_TRUE(logins.ok()) << logins.status().message();
  if (analyze && real.dialect() == db::Dialect::kPostgres) {
    auto analyzed = real.write([](db::Transaction& tx) { return tx.execute("ANALYZE").status(); });
    ASSERT_TRUE(analyzed.ok()) << analyzed.message();
  }
  RecordingDatabase rec(real);
  Pos pos(rec);
  auto login = pos.login("owner1", kDemoPassword);
  ASSERT_TRUE(login.ok()) << login.status().message();
  auto principal = pos.authenticate(login->token);
  ASSERT_TRUE(principal.ok());
  reads(pos, *principal);
  log = std::move(rec.log);
}

void check_plans(db::Database& real) {
  std::vector<Statement> log;
  record_reads(real, {.shops = 2, .products = 3000, .customers = 3000, .bills = 20000, .seed = 7},
               false, run_hot_reads, log);
  ASSERT_GT(log.size(), 20u);

  const std::regex full_scan(
      real.dialect() == db::Dialect::kSqlite
          ? "^SCAN (products|customers|bills|bill_items|sessions|users|employees)( |$)"
          : "Seq Scan on (products|customers|bills|bill_items|sessions|users|employees)\\b");
  for (const Statement& s : log) {
    for (const std::string& line : plan_of(real, s)) {
      EXPECT_FALSE(std::regex_search(line, full_scan))
          << "full scan: " << line << "\n  in: " << s.sql;
    }
  }
}

// Selective searches (each under 1% of the rows) the way a till makes them: name fragments,
// a sku prefix, a filtered list, a later page, a phone and an email fragment.
void run_searches(Pos& pos, const Principal& p) {
  PageRequest first{1, 50}, later{2, 20};
  for (const char* q : {"royal saff", "Bev-0012", "al ain cola"}) {
    ASSERT_TRUE(pos.list_products(p, {std::string(q), {}, false, {}}, first).ok());
  }
  ASSERT_TRUE(
      pos.list_products(p, {std::string("sahara halva"), std::string("Snacks"), false, true}, later)
          .ok());
  for (const char* q : {"layla wong", "55 123", "aisha.12"}) {
    ASSERT_TRUE(pos.list_customers(p, std::string(q), first).ok());
  }
}

void check_search_plans(db::Database& real) {
  std::vector<Statement> log;
  record_reads(real, {.shops = 1, .products = 20000, .customers = 20000, .bills = 0, .seed = 7},
               true, run_searches, log);
  std::erase_if(log, [](const Statement& s) { return s.sql.find(" LIKE ") == std::string::npos; });
  ASSERT_EQ(log.size(), 14u);  // a count and a page for each search

  const bool sqlite = real.dialect() == db::Dialect::kSqlite;
  const std::regex text_index(sqlite ? "^SCAN (products|customers)_fts VIRTUAL TABLE INDEX"
                                     : "Bitmap Index Scan on (products|customers)_\\w+_trgm\\b");
  const std::regex shop_walk(
      sqlite ? "^(SCAN (products|customers)( |$)|SEARCH (products|customers) USING (COVERING )?"
               "INDEX \\w+ \\(shop_id=\\?( AND (category|active)=\\?)?\\)$)"
             : "(Seq Scan on|Index (Only )?Scan using|Bitmap Index Scan on) "
               "(products|customers)(_shop_(id|category|active))?\\b");
  for (const Statement& s : log) {
    bool indexed = false;
    for (const std::string& line : plan_of(real, s)) {
      EXPECT_FALSE(std::regex_search(line, shop_walk))
          << "search reads the shop's rows: " << line << "\n  in: " << s.sql;
      indexed = indexed || std::regex_search(line, text_index);
    }
    EXPECT_TRUE(indexed) << "search without its text index:\n  " << s.sql;
  }
}

TEST(QueryPlans, SqliteHotQueriesUseIndexes) { db::test_db::with_sqlite("plan", check_plans); }

TEST(QueryPlans, PostgresHotQueriesUseIndexes) { db::test_db::with_postgres("plans", check_plans); }

TEST(QueryPlans, SqliteSearchesUseTheTextIndex) {
  db::test_db::with_sqlite("plan-q", check_search_plans);
}

TEST(QueryPlans, PostgresSearchesUseTheTextIndex) {
  db::test_db::with_postgres("search_plans", check_search_plans);
}

}  // namespace
}  // namespace tajir::pos
