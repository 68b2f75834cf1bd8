// The shop and its products.
#include <cstdio>

#include "pos/currency.h"
#include "pos/internal/rows.h"
#include "pos/internal/search.h"
#include "pos/pos.h"

namespace tajir::pos {

using internal::Assignments;

namespace {

Status check_product(const ProductInput& in, bool create) {
  if (create && (!in.name || !in.sku || !in.price)) {
    return InvalidArgument("name, sku and price are required", !in.name  ? "name"
                                                               : !in.sku ? "sku"
                                                                         : "price");
  }
  if (in.name && (in.name->empty() || in.name->size() > 200))
    return InvalidArgument("name must be 1 to 200 characters", "name");
  if (in.sku && (in.sku->empty() || in.sku->size() > 64))
    return InvalidArgument("sku must be 1 to 64 characters", "sku");
  if (in.price && *in.price < 0) return InvalidArgument("price may not be negative", "price");
  if (in.cost && *in.cost < 0) return InvalidArgument("cost may not be negative", "cost");
  if (in.stock && *in.stock < 0) return InvalidArgument("stock may not be negative", "stock");
  if (in.low_stock_threshold && *in.low_stock_threshold < 0) {
    return InvalidArgument("low_stock_threshold may not be negative", "low_stock_threshold");
  }
  return OkStatus();
}

Status sku_conflict(const Status& st) {
  if (st.code() == StatusCode::kAlreadyExists) {
    return Status(StatusCode::kAlreadyExists, "a product with this sku exists").with_field("sku");
  }
  return st;
}

Result<Product> find_product(db::Transaction& tx, int64_t shop_id, int64_t id,
                             const char* lock = "") {
  return internal::find_in_shop<Product>(tx, internal::kProductColumns, "products", shop_id, id,
                                         internal::product_from, "product", lock);
}

}  // namespace

Result<Shop> Pos::shop(const Principal& p) {
  return internal::read_value<Shop>(db_, [&](db::Transaction& tx) -> Result<Shop> {
    auto rows = tx.query(
        std::string("SELECT ") + internal::kShopColumns + " FROM shops WHERE id = ?", {p.shop_id});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return NotFound("shop not found");
    return internal::shop_from((*rows)[0]);
  });
}

Result<Shop> Pos::update_shop(const Principal& p, const ShopInput& in) {
  if (in.name && (in.name->empty() || in.name->size() > 200))
    return InvalidArgument("name must be 1 to 200 characters", "name");
  if (in.currency && !is_currency_code(*in.currency))
    return InvalidArgument("currency must be an ISO 4217 code such as \"USD\"", "currency");
  if (in.timezone && !valid_timezone(*in.timezone))
    return InvalidArgument("timezone must be an IANA name such as \"Asia/Dubai\"", "timezone");
  if (in.cashier_discount_limit_bp &&
      (*in.cashier_discount_limit_bp < 0 || *in.cashier_discount_limit_bp > 10000)) {
    return InvalidArgument("cashier_discount_limit_bp must be 0 to 10000 (basis points)",
                           "cashier_discount_limit_bp");
  }
  return internal::write_value<Shop>(db_, [&](db::Transaction& tx) -> Result<Shop> {
    // Built inside: a retried transaction must not bind its parameters twice.
    Assignments set;
    set.set_if("name", in.name);
    set.set_if("currency", in.currency);
    set.set_if("timezone", in.timezone);
    set.set_if("cashier_discount_limit_bp", in.cashier_discount_limit_bp);
    if (set.empty())
      set.set("id", p.shop_id);  // nothing to change: still the row, from this transaction
    std::string sql = "UPDATE shops SET " + set.sql();
    // A new time zone moves the dashboard's days: a change of the shop's sales figures, which
    // cached dashboards must not be brought past (SalesChange). (The right-hand sides of SET
    // read the row as it was.)
    if (in.timezone) {
      sql += ", change_seq = change_seq + CASE WHEN timezone = ? THEN 0 ELSE 1 END";
      set.params().push_back(*in.timezone);
    }
    set.params().push_back(p.shop_id);
    auto rows = tx.query(sql + " WHERE id = ? RETURNING " + std::string(internal::kShopColumns),
                         set.params());
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return NotFound("shop not found");
    return internal::shop_from((*rows)[0]);
  });
}

Result<Page<Product>> Pos::list_products(const Principal& p, const ProductFilter& f,
                                         const PageRequest& page, int64_t* change_seq) {
  internal::ListQuery list = internal::product_list(db_.dialect(), p.shop_id, f.q);
  std::string& where = list.from_where;
  std::vector<db::Value>& params = list.params;
  if (f.category) {
    where += " AND category = ?";
    params.push_back(*f.category);
  }
  if (f.low_stock) where += " AND stock <= low_stock_threshold";
  if (f.active) {
    where += " AND active = ?";
    params.push_back(int64_t{*f.active ? 1 : 0});
  }
  Page<Product> out;
  Status st = db_.read([&](db::Transaction& tx) {
    if (Status s = internal::read_change_seq(tx, p.shop_id, change_seq); !s.ok()) return s;
    return internal::read_page(tx, internal::kProductColumns, where, params, list.order_by, page,
                               internal::product_from, out);
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<Product>> Pos::products_by_ids(const Principal& p,
                                                  const std::vector<int64_t>& ids,
                                                  int64_t* change_seq) {
  return internal::rows_by_ids<Product>(db_, internal::kProductColumns, "products", p.shop_id, ids,
                                        internal::product_from, change_seq);
}

Result<Product> Pos::product(const Principal& p, int64_t id, int64_t* change_seq) {
  return internal::read_value<Product>(db_, [&](db::Transaction& tx) -> Result<Product> {
    if (Status s = internal::read_change_seq(tx, p.shop_id, change_seq); !s.ok()) return s;
    return find_product(tx, p.shop_id, id);
  });
}

Result<Product> Pos::create_product(const Principal& p, const ProductInput& in) {
  if (Status st = check_product(in, /*create=*/true); !st.ok()) return st;
  return internal::write_value<Product>(db_, [&](db::Transaction& tx) -> Result<Product> {
    int64_t now = now_ms();
    auto rows = tx.query(
        "INSERT INTO products(shop_id, name, name_lower, sku, barcode, category, price, cost, "
        "stock, low_stock_threshold, active, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING " +
            std::string(internal::kProductColumns),
        {p.shop_id, *in.name, internal::ascii_lower(*in.name), *in.sku,
         internal::nullable(in.barcode.value_or(std::nullopt)),
         internal::nullable(in.category.value_or(std::nullopt)), *in.price, in.cost.value_or(0),
         in.stock.value_or(0), in.low_stock_threshold.value_or(0),
         int64_t{in.active.value_or(true) ? 1 : 0}, now, now});
    if (!rows.ok()) return sku_conflict(rows.status());
    return internal::product_from((*rows)[0]);
  });
}

Result<Change<Product>> Pos::update_product(const Principal& p, int64_t id,
                                            const ProductInput& in) {
  if (Status st = check_product(in, /*create=*/false); !st.ok()) return st;
  return internal::write_value<Change<Product>>(
      db_, [&](db::Transaction& tx) -> Result<Change<Product>> {
        auto before = find_product(tx, p.shop_id, id, internal::row_lock(db_.dialect()));
        if (!before.ok()) return before.status();
        Assignments set;
        set.set_if("name", in.name);
        if (in.name) set.set("name_lower", internal::ascii_lower(*in.name));
        set.set_if("sku", in.sku);
        set.set_if("barcode", in.barcode);
        set.set_if("category", in.category);
        set.set_if("price", in.price);
        set.set_if("cost", in.cost);
        set.set_if("stock", in.stock);
        set.set_if("low_stock_threshold", in.low_stock_threshold);
        set.set_if("active", in.active);
        if (set.empty())
          return Change<Product>{*before, *before};  // nothing to change, nor updated_at
        set.set("updated_at", now_ms());
        set.params().push_back(id);
        set.params().push_back(p.shop_id);
        auto rows = tx.query("UPDATE products SET " + set.sql() +
                                 " WHERE id = ? AND shop_id = ? RETURNING " +
                                 std::string(internal::kProductColumns),
                             set.params());
        if (!rows.ok()) return sku_conflict(rows.status());
        if (rows->empty()) return NotFound("product not found");
        return Change<Product>{std::move(*before), internal::product_from((*rows)[0])};
      });
}

Result<Change<Product>> Pos::delete_product(const Principal& p, int64_t id) {
  return internal::write_value<
      Change<Product>>(db_, [&](db::Transaction& tx) -> Result<Change<Product>> {
    auto before = find_product(tx, p.shop_id, id, internal::row_lock(db_.dialect()));
    if (!before.ok()) return before.status();
    auto used = tx.query(
        "SELECT 1 FROM bill_items i JOIN bills b ON b.id = i.bill_id "
        "WHERE i.product_id = ? AND b.shop_id = ? LIMIT 1",
        {id, p.shop_id});
    if (!used.ok()) return used.status();
    if (!used->empty()) {
      auto rows = tx.query(
          "UPDATE products SET active = 0, updated_at = ? WHERE id = ? AND shop_id = ? RETURNING " +
              std::string(internal::kProductColumns),
          {now_ms(), id, p.shop_id});
      if (!rows.ok()) return rows.status();
      if (rows->empty()) return NotFound("product not found");
      return Change<Product>{std::move(*before), internal::product_from((*rows)[0])};
    }
    auto r = tx.execute("DELETE FROM products WHERE id = ? AND shop_id = ?", {id, p.shop_id});
    if (!r.ok()) return r.status();
    if (*r == 0) return NotFound("product not found");
    return Change<Product>{std::move(*before), std::nullopt};
  });
}

}  // namespace tajir::pos
