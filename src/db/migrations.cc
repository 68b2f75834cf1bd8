// The schema, as an ordered list of migrations, and migrate().
//
// Each migration runs in its own write transaction, which first checks schema_migrations and
// does nothing when the version is already there, so migrate() is safe at every start and from
// two processes at once: on SQLite the second waits for the file's write lock (BEGIN
// IMMEDIATE) and then finds the version recorded; on PostgreSQL a transaction-scoped advisory
// lock does the same (without it, two concurrent CREATE TABLE IF NOT EXISTS can both fail on
// the catalog's unique index).
//
// The DDL is the only SQL that differs by dialect. Most of it differs only in the type of the
// generated 64-bit id, so a statement is written once with "{id}" standing for that type:
// SQLite's INTEGER PRIMARY KEY AUTOINCREMENT (AUTOINCREMENT so that the id of a deleted newest
// row is never handed out again: a stale reference must not start pointing at a new customer)
// and PostgreSQL's identity column. Statements that differ more go in the per-dialect lists.
//
// Types: ids and timestamps (unix milliseconds, UTC) BIGINT, money BIGINT minor units,
// booleans INTEGER 0/1.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.h"

namespace tajir::db {
namespace {

struct Migration {
  int version;
  std::vector<std::string_view> statements;  // both dialects, with "{id}"
  std::vector<std::string_view> sqlite;      // then these, on SQLite only
  std::vector<std::string_view> postgres;    // or these, on PostgreSQL only
};

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = {
      {.version = 1,
       .statements =
           {
               R"(CREATE TABLE shops (
                id {id},
                name TEXT NOT NULL,
                currency TEXT NOT NULL DEFAULT 'USD',
                timezone TEXT NOT NULL DEFAULT 'UTC',
                bill_seq BIGINT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL))",
               R"(CREATE TABLE users (
                id {id},
                shop_id BIGINT NOT NULL REFERENCES shops(id),
                username TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('owner', 'cashier')),
                employee_id BIGINT,
                active INTEGER NOT NULL DEFAULT 1,
                created_at BIGINT NOT NULL))",
               "CREATE INDEX users_employee_id ON users(employee_id)",
               R"(CREATE TABLE sessions (
                token_hash TEXT PRIMARY KEY,
                user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                shop_id BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                created_at BIGINT NOT NULL))",
               "CREATE INDEX sessions_user_id ON sessions(user_id)",
               R"(CREATE TABLE products (
                id {id},
                shop_id BIGINT NOT NULL REFERENCES shops(id),
                name TEXT NOT NULL,
                name_lower TEXT NOT NULL,
                sku TEXT NOT NULL,
                barcode TEXT,
                category TEXT,
                price BIGINT NOT NULL,
                cost BIGINT NOT NULL DEFAULT 0,
                stock BIGINT NOT NULL DEFAULT 0,
                low_stock_threshold BIGINT NOT NULL DEFAULT 0,
                active INTEGER NOT NULL DEFAULT 1,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                UNIQUE (shop_id, sku)))",
               "CREATE INDEX products_shop_id ON products(shop_id, id)",
               "CREATE INDEX products_shop_category ON products(shop_id, category, id)",
               "CREATE INDEX products_shop_barcode ON products(shop_id, barcode)",
               "CREATE INDEX products_shop_active ON products(shop_id, active, id)",
               R"(CREATE TABLE customers (
                id {id},
                shop_id BIGINT NOT NULL REFERENCES shops(id),
                name TEXT NOT NULL,
                name_lower TEXT NOT NULL,
                phone TEXT,
                email TEXT,
                address TEXT,
                notes TEXT,
                bill_count BIGINT NOT NULL DEFAULT 0,
                total_spent BIGINT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL))",
               "CREATE INDEX customers_shop_id ON customers(shop_id, id)",
               "CREATE INDEX customers_shop_phone ON customers(shop_id, phone)",
               R"(CREATE TABLE employees (
                id {id},
                shop_id BIGINT NOT NULL REFERENCES shops(id),
                name TEXT NOT NULL,
                phone TEXT,
                position TEXT,
                username TEXT,
                active INTEGER NOT NULL DEFAULT 1,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL))",
               "CREATE INDEX employees_shop_id ON employees(shop_id, id)",
               R"(CREATE TABLE bills (
                id {id},
                shop_id BIGINT NOT NULL REFERENCES shops(id),
                number BIGINT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('paid', 'void')),
                customer_id BIGINT,
                employee_id BIGINT,
                subtotal BIGINT NOT NULL,
                discount BIGINT NOT NULL,
                tax BIGINT NOT NULL,
                total BIGINT NOT NULL,
                payment_method TEXT NOT NULL,
                notes TEXT,
                created_at BIGINT NOT NULL,
                voided_at BIGINT,
                UNIQUE (shop_id, number)))",
               "CREATE INDEX bills_shop_created ON bills(shop_id, created_at)",
               "CREATE INDEX bills_shop_status_created ON bills(shop_id, status, created_at)",
               "CREATE INDEX bills_shop_customer_created ON bills(shop_id, customer_id, "
               "created_at)",
               R"(CREATE TABLE bill_items (
                id {id},
                bill_id BIGINT NOT NULL REFERENCES bills(id) ON DELETE CASCADE,
                product_id BIGINT NOT NULL,
                name TEXT NOT NULL,
                quantity BIGINT NOT NULL,
                unit_price BIGINT NOT NULL,
                line_total BIGINT NOT NULL))",
               "CREATE INDEX bill_items_bill_id ON bill_items(bill_id)",
               "CREATE INDEX bill_items_product_id ON bill_items(product_id)",
               R"(CREATE TABLE idempotency_keys (
                shop_id BIGINT NOT NULL,
                key TEXT NOT NULL,
                bill_id BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (shop_id, key)))",
           }},
      // A shop's paid volume (the sum of its paid bills' subtotal + tax), kept as bills are
      // paid and voided and held under pos/money.h's limit, so no SUM over its bills can
      // overflow. The backfill clamps to [0, 10^18]: bills stored before the limits may hold
      // wrapped figures, and the migration must not fail on them (SQLite's SUM raises on
      // overflow, so its TOTAL, a float sum, exact below 2^53, is used).
      {.version = 2,
       .statements = {"ALTER TABLE shops ADD COLUMN paid_volume BIGINT NOT NULL DEFAULT 0"},
       .sqlite = {R"(UPDATE shops SET paid_volume = (
                SELECT CAST(MIN(MAX(TOTAL(subtotal + tax), 0), 1e18) AS INTEGER)
                FROM bills WHERE bills.shop_id = shops.id AND status = 'paid'))"},
       .postgres = {R"(UPDATE shops SET paid_volume = (
                SELECT LEAST(GREATEST(COALESCE(SUM(subtotal::numeric + tax), 0), 0),
                             1000000000000000000)::bigint
                FROM bills WHERE bills.shop_id = shops.id AND status = 'paid'))"}},
      // The digest of the request an Idempotency-Key was first used for (NULL for keys
      // stored before: they match any request, as they did).
      {.version = 3, .statements = {"ALTER TABLE idempotency_keys ADD COLUMN request_digest TEXT"}},
      // The largest discount a cashier may give, in basis points of the subtotal.
      {.version = 4,
       .statements = {"ALTER TABLE shops ADD COLUMN cashier_discount_limit_bp BIGINT NOT NULL "
                      "DEFAULT 0"}},
      // Usernames unique without regard to case. Accounts that already differ only in case
      // would make the unique index fail, so all but the oldest of each such group are marked
      // case_duplicate and left out of it (a partial index): none is renamed or locked out
      // (they still log in by their exact name), and every new name is unique in any case.
      {.version = 5,
       .statements =
           {
               "ALTER TABLE users ADD COLUMN case_duplicate INTEGER NOT NULL DEFAULT 0",
               "UPDATE users SET case_duplicate = 1 WHERE id NOT IN "
               "(SELECT MIN(id) FROM users GROUP BY lower(username))",
               "CREATE UNIQUE INDEX users_username_lower ON users(lower(username)) "
               "WHERE case_duplicate = 0",
           }},
      // Text indexes for search (pos/internal/search.h says how queries use them). SQLite: an
      // FTS5 trigram table per searched table, holding no copy of the text (external content)
      // and of each trigram only the rows it is in (detail=none, columnsize=0: queries AND
      // single trigrams, and the index is a third of the size), kept in step by triggers (updates
      // only when a searched column is set, so a sale's stock or totals update does not touch it)
      // and filled from the rows already there. PostgreSQL: pg_trgm (a trusted extension: the
      // database's owner may create it) GIN indexes on the searched expressions, and "C"-collated
      // B-trees for sku/barcode prefixes.
      {.version = 6,
       .sqlite =
           {
               "CREATE VIRTUAL TABLE products_fts USING fts5(name_lower, content='products', "
               "content_rowid='id', tokenize='trigram case_sensitive 0', detail=none, "
               "columnsize=0)",
               R"(CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
                INSERT INTO products_fts(rowid, name_lower) VALUES (new.id, new.name_lower);
                END)",
               R"(CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
                INSERT INTO products_fts(products_fts, rowid, name_lower)
                  VALUES ('delete', old.id, old.name_lower);
                END)",
               R"(CREATE TRIGGER products_fts_update AFTER UPDATE OF id, name_lower ON products
                BEGIN
                INSERT INTO products_fts(products_fts, rowid, name_lower)
                  VALUES ('delete', old.id, old.name_lower);
                INSERT INTO products_fts(rowid, name_lower) VALUES (new.id, new.name_lower);
                END)",
               "INSERT INTO products_fts(products_fts) VALUES ('rebuild')",
               "CREATE VIRTUAL TABLE customers_fts USING fts5(name_lower, phone, email, "
               "content='customers', content_rowid='id', tokenize='trigram case_sensitive 0', "
               "detail=none, columnsize=0)",
               R"(CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN
                INSERT INTO customers_fts(rowid, name_lower, phone, email)
                  VALUES (new.id, new.name_lower, new.phone, new.email);
                END)",
               R"(CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN
                INSERT INTO customers_fts(customers_fts, rowid, name_lower, phone, email)
                  VALUES ('delete', old.id, old.name_lower, old.phone, old.email);
                END)",
               R"(CREATE TRIGGER customers_fts_update
                AFTER UPDATE OF id, name_lower, phone, email ON customers BEGIN
                INSERT INTO customers_fts(customers_fts, rowid, name_lower, phone, email)
                  VALUES ('delete', old.id, old.name_lower, old.phone, old.email);
                INSERT INTO customers_fts(rowid, name_lower, phone, email)
                  VALUES (new.id, new.name_lower, new.phone, new.email);
                END)",
               "INSERT INTO customers_fts(customers_fts) VALUES ('rebuild')",
           },
       .postgres =
           {
               "CREATE EXTENSION IF NOT EXISTS pg_trgm",
               "CREATE INDEX products_name_trgm ON products USING gin (name_lower gin_trgm_ops) "
               "WITH (fastupdate = off)",
               "CREATE INDEX products_shop_sku_c ON products(shop_id, sku COLLATE \"C\")",
               "CREATE INDEX products_shop_barcode_c ON products(shop_id, barcode COLLATE \"C\")",
               "CREATE INDEX customers_name_trgm ON customers USING gin (name_lower gin_trgm_ops) "
               "WITH (fastupdate = off)",
               "CREATE INDEX customers_phone_trgm ON customers USING gin (phone gin_trgm_ops) WITH "
               "(fastupdate = off)",
               "CREATE INDEX customers_email_trgm ON customers USING gin (lower(email) "
               "gin_trgm_ops) WITH (fastupdate = off)",
           }},
      // The cache's statistics over time, rolled up per hour and per day (span_ms), per shop
      // (shop_id 0: the whole server, so no foreign key), kept bounded by pos/cache_history.cc.
      {.version = 7, .statements = {R"(CREATE TABLE cache_history (
                shop_id BIGINT NOT NULL,
                span_ms BIGINT NOT NULL,
                start_ms BIGINT NOT NULL,
                hits BIGINT NOT NULL,
                misses BIGINT NOT NULL,
                key_count BIGINT NOT NULL,
                memory_bytes BIGINT NOT NULL,
                PRIMARY KEY (shop_id, span_ms, start_ms)))"}},
      // A shop's change number, raised by every bill, void and time zone change in the same
      // transaction (under the shop row's lock): the version of the shop's sales that a read
      // reflects, so that the cache can apply a change to a cached read exactly once.
      {.version = 8,
       .statements = {"ALTER TABLE shops ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0"}},
      // The nodes' second lease (redis::Witness, pos/node_beats.cc): each node's beats while it
      // holds its Redis lease, and whether it resigned since. updated_ms (the node's clock)
      // only lets rows of long-dead nodes go.
      {.version = 9, .statements = {R"(CREATE TABLE node_beats (
                node TEXT PRIMARY KEY,
                beats BIGINT NOT NULL,
                resigned INTEGER NOT NULL,
                updated_ms BIGINT NOT NULL))"}},
  };
  return kMigrations;
}

// Any 64-bit number no other user of the database takes: "tajir" in ASCII.
constexpr int64_t kMigrationLockKey = 0x74616a6972;

std::string for_dialect(std::string_view statement, Dialect dialect) {
  constexpr std::string_view kToken = "{id}";
  std::string_view id_type = dialect == Dialect::kSqlite
                                 ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                                 : "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
  std::string out(statement);
  for (size_t at = out.find(kToken); at != std::string::npos; at = out.find(kToken, at)) {
    out.replace(at, kToken.size(), id_type);
    at += id_type.size();
  }
  return out;
}

Status apply(Database& db, const Migration& m) {
  const Dialect dialect = db.dialect();
  return db.write([&](Transaction& tx) -> Status {
    if (dialect == Dialect::kPostgres) {
      auto locked = tx.execute("SELECT pg_advisory_xact_lock(?)", {kMigrationLockKey});
      if (!locked.ok()) return locked.status();
    }
    auto created = tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
    if (!created.ok()) return created.status();
    auto done =
        tx.query("SELECT version FROM schema_migrations WHERE version = ?", {int64_t{m.version}});
    if (!done.ok()) return done.status();
    if (!done->empty()) return OkStatus();

    std::vector<std::string> statements;
    for (std::string_view s : m.statements) statements.push_back(for_dialect(s, dialect));
    for (std::string_view s : dialect == Dialect::kSqlite ? m.sqlite : m.postgres) {
      statements.emplace_back(s);
    }
    for (const std::string& s : statements) {
      auto applied = tx.execute(s);
      if (!applied.ok()) {
        return Status(applied.status().code(), "migration " + std::to_string(m.version) +
                                                   " failed: " + applied.status().message());
      }
    }
    int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    auto recorded = tx.execute("INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)",
                               {int64_t{m.version}, now_ms});
    return recorded.ok() ? OkStatus() : recorded.status();
  });
}

}  // namespace

Status migrate(Database& db) {
  for (const Migration& m : migrations()) {
    if (Status st = apply(db, m); !st.ok()) return st;
  }
  return OkStatus();
}

int schema_version() { return migrations().back().version; }

}  // namespace tajir::db
