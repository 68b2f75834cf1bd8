#include "pos/internal/rows.h"

#include <unordered_map>

namespace tajir::pos::internal {

Product product_from(const db::Row& r) {
  Product p;
  p.id = r.integer(0);
  p.shop_id = r.integer(1);
  p.name = r.text(2);
  p.sku = r.text(3);
  p.barcode = r.optional_text(4);
  p.category = r.optional_text(5);
  p.price = r.integer(6);
  p.cost = r.integer(7);
  p.stock = r.integer(8);
  p.low_stock_threshold = r.integer(9);
  p.active = r.integer(10) != 0;
  p.created_at = r.integer(11);
  p.updated_at = r.integer(12);
  return p;
}

Customer customer_from(const db::Row& r) {
  Customer c;
  c.id = r.integer(0);
  c.shop_id = r.integer(1);
  c.name = r.text(2);
  c.phone = r.optional_text(3);
  c.email = r.optional_text(4);
  c.address = r.optional_text(5);
  c.notes = r.optional_text(6);
  c.bill_count = r.integer(7);
  c.total_spent = r.integer(8);
  c.created_at = r.integer(9);
  c.updated_at = r.integer(10);
  return c;
}

Employee employee_from(const db::Row& r) {
  Employee e;
  e.id = r.integer(0);
  e.shop_id = r.integer(1);
  e.name = r.text(2);
  e.phone = r.optional_text(3);
  e.position = r.optional_text(4);
  e.username = r.optional_text(5);
  e.active = r.integer(6) != 0;
  e.created_at = r.integer(7);
  e.updated_at = r.integer(8);
  return e;
}

Bill bill_from(const db::Row& r) {
  Bill b;
  b.id = r.integer(0);
  b.shop_id = r.integer(1);
  b.number = r.integer(2);
  b.status = r.text(3);
  b.customer_id = r.optional_integer(4);
  b.employee_id = r.optional_integer(5);
  b.subtotal = r.integer(6);
  b.discount = r.integer(7);
  b.tax = r.integer(8);
  b.total = r.integer(9);
  b.payment_method = r.text(10);
  b.notes = r.optional_text(11);
  b.created_at = r.integer(12);
  b.voided_at = r.optional_integer(13);
  return b;
}

Shop shop_from(const db::Row& r) {
  return Shop{r.integer(0), r.text(1), r.text(2), r.text(3), r.integer(4), r.integer(5)};
}

db::Value nullable(const std::optional<std::string>& s) {
  return s ? db::Value(*s) : db::Value(std::monostate{});
}

db::Value nullable(const std::optional<int64_t>& v) {
  return v ? db::Value(*v) : db::Value(std::monostate{});
}

Status read_change_seq(db::Transaction& tx, int64_t shop_id, int64_t* out) {
  if (out == nullptr) return OkStatus();
  auto shop = tx.query("SELECT change_seq FROM shops WHERE id = ?", {shop_id});
  if (!shop.ok()) return shop.status();
  if (shop->empty()) return NotFound("shop not found");
  *out = (*shop)[0].integer(0);
  return OkStatus();
}

std::string in_list(size_t n) {
  std::string out = "(?";
  for (size_t i = 1; i < n; ++i) out += ",?";
  return out + ")";
}

Status load_items(db::Transaction& tx, std::span<Bill> bills) {
  if (bills.empty()) return OkStatus();
  // One query for a whole page of bills, not one per bill.
  std::vector<db::Value> ids;
  std::unordered_map<int64_t, Bill*> by_id;
  for (Bill& b : bills) {
    ids.push_back(b.id);
    by_id[b.id] = &b;
    b.items.clear();
  }
  auto rows = tx.query(
      "SELECT bill_id, product_id, name, quantity, unit_price, line_total FROM bill_items "
      "WHERE bill_id IN " +
          in_list(ids.size()) + " ORDER BY bill_id, id",
      ids);
  if (!rows.ok()) return rows.status();
  for (const auto& r : *rows) {
    by_id[r.integer(0)]->items.push_back(
        {r.integer(1), r.text(2), r.integer(3), r.integer(4), r.integer(5)});
  }
  return OkStatus();
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string like_pattern(std::string_view s) {
  std::string out = "%";
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

}  // namespace tajir::pos::internal
