// Row <-> type mapping and the column lists, each written once, for the POS queries.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "db/database.h"
#include "pos/types.h"

namespace tajir::pos::internal {

inline constexpr const char* kProductColumns =
    "id, shop_id, name, sku, barcode, category, price, cost, stock, low_stock_threshold, active, "
    "created_at, updated_at";
inline constexpr const char* kCustomerColumns =
    "id, shop_id, name, phone, email, address, notes, bill_count, total_spent, created_at, "
    "updated_at";
inline constexpr const char* kEmployeeColumns =
    "id, shop_id, name, phone, position, username, active, created_at, updated_at";
inline constexpr const char* kBillColumns =
    "id, shop_id, number, status, customer_id, employee_id, subtotal, discount, tax, total, "
    "payment_method, notes, created_at, voided_at";
inline constexpr const char* kShopColumns =
    "id, name, currency, timezone, cashier_discount_limit_bp, created_at";

Product product_from(const db::Row& r);
Customer customer_from(const db::Row& r);
Employee employee_from(const db::Row& r);
Bill bill_from(const db::Row& r);  // without items
Shop shop_from(const db::Row& r);

db::Value nullable(const std::optional<std::string>& s);
db::Value nullable(const std::optional<int64_t>& v);

// The SET list of a partial update: one "col = ?" per field present in the input.
class Assignments {
 public:
  void set(const char* column, db::Value v) {
    if (!sql_.empty()) sql_ += ", ";
    sql_ += column;
    sql_ += " = ?";
    params_.push_back(std::move(v));
  }
  template <typename T>
  void set_if(const char* column, const std::optional<T>& v) {
    if (v) set(column, to_value(*v));
  }
  bool empty() const { return sql_.empty(); }
  const std::string& sql() const { return sql_; }
  std::vector<db::Value>& params() { return params_; }

 private:
  static db::Value to_value(const std::string& s) { return s; }
  static db::Value to_value(int64_t v) { return v; }
  static db::Value to_value(bool v) { return int64_t{v ? 1 : 0}; }
  static db::Value to_value(const std::optional<std::string>& s) { return nullable(s); }
  std::string sql_;
  std::vector<db::Value> params_;
};

// Fills `out` with one page of `SELECT columns <from_where> ORDER BY order_by`, and its total.
// `from_where` is " FROM table WHERE ..." with `params` for its placeholders.
template <typename T, typename From>
Status read_page(db::Transaction& tx, const char* columns, const std::string& from_where,
                 std::vector<db::Value> params, const char* order_by, const PageRequest& page,
                 From from, Page<T>& out) {
  auto count = tx.query("SELECT COUNT(*)" + from_where, params);
  if (!count.ok()) return count.status();
  out.page = page.page;
  out.per_page = page.per_page;
  out.total = (*count)[0].integer(0);
  params.push_back(page.per_page);
  params.push_back(page.offset());
  auto rows = tx.query(
      std::string("SELECT ") + columns + from_where + " ORDER BY " + order_by + " LIMIT ? OFFSET ?",
      params);
  if (!rows.ok()) return rows.status();
  for (const auto& r : *rows) out.items.push_back(from(r));
  return OkStatus();
}

// The row of `table` with this id in this shop, or kNotFound "<what> not found". `lock` is
// appended to the SELECT: row_lock(dialect) in a write that changes the row it read.
template <typename T, typename From>
Result<T> find_in_shop(db::Transaction& tx, const char* columns, const char* table, int64_t shop_id,
                       int64_t id, From from, const char* what, const char* lock = "") {
  auto rows = tx.query(
      std::string("SELECT ") + columns + " FROM " + table + " WHERE id = ? AND shop_id = ?" + lock,
      {id, shop_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return NotFound(std::string(what) + " not found");
  return from((*rows)[0]);
}

// What a write transaction appends to the SELECT of a row it is about to change, so that it
// reads the newest committed row and holds it until commit: " FOR UPDATE" on PostgreSQL (whose
// writes run READ COMMITTED); nothing on SQLite, whose one writer already excludes every other.
inline const char* row_lock(db::Dialect d) {
  return d == db::Dialect::kPostgres ? " FOR UPDATE" : "";
}

// Runs fn(tx) -> Result<T> in a read (or write) transaction and returns its value; a write
// commits only when fn succeeds.
template <typename T, typename Fn>
Result<T> transact(db::Database& db, bool write, Fn fn) {
  std::optional<T> out;
  auto body = [&](db::Transaction& tx) -> Status {
    Result<T> r = fn(tx);
    if (!r.ok()) return r.status();
    out = std::move(*r);
    return OkStatus();
  };
  Status st = write ? db.write(body) : db.read(body);
  if (!st.ok()) return st;
  return std::move(*out);
}
template <typename T, typename Fn>
Result<T> read_value(db::Database& db, Fn fn) {
  return transact<T>(db, false, std::move(fn));
}
template <typename T, typename Fn>
Result<T> write_value(db::Database& db, Fn fn) {
  return transact<T>(db, true, std::move(fn));
}

// "(?,?,?)": the placeholders of an IN list of n values. REQUIRES: n > 0.
std::string in_list(size_t n);

// With `out`, the shop's change number (shops.change_seq) in tx's snapshot goes there; without,
// nothing is read.
Status read_change_seq(db::Transaction& tx, int64_t shop_id, int64_t* out);

// The shop's rows of `table` among `ids`, in one query; ids of other shops or gone are left out.
// With `change_seq`, the shop's change number in the same snapshot (none read for no ids).
template <typename T, typename From>
Result<std::vector<T>> rows_by_ids(db::Database& db, const char* columns, const char* table,
                                   int64_t shop_id, const std::vector<int64_t>& ids, From from,
                                   int64_t* change_seq = nullptr) {
  std::vector<T> out;
  if (ids.empty()) return out;
  std::vector<db::Value> params{shop_id};
  params.insert(params.end(), ids.begin(), ids.end());
  Status st = db.read([&](db::Transaction& tx) {
    if (Status s = read_change_seq(tx, shop_id, change_seq); !s.ok()) return s;
    auto rows = tx.query(std::string("SELECT ") + columns + " FROM " + table +
                             " WHERE shop_id = ? AND id IN " + in_list(ids.size()),
                         params);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) out.push_back(from(r));
    return OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

// Loads the items of each bill (by its id), in one query.
Status load_items(db::Transaction& tx, std::span<Bill> bills);

struct Boundaries {
  int64_t day = 0, week = 0, month = 0;
  int64_t next_day = 0;  // the next local midnight
};
Boundaries local_boundaries(std::string_view timezone, int64_t now_ms);
// The shop's midnight starting the date whose UTC midnight is `utc_midnight_ms`.
int64_t local_midnight(std::string_view timezone, int64_t utc_midnight_ms);

// SHA-256 of `data`, as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

// Lower-cases ASCII letters (SQLite's lower() does no more, so both sides agree).
std::string ascii_lower(std::string_view s);

// "%" + s + "%" with LIKE's wildcards in s escaped by '\'.
std::string like_pattern(std::string_view s);

}  // namespace tajir::pos::internal
