// Bills: one transaction each, stock checked and moved in the same statement that changes it.
//
// A sale decrements each product with `UPDATE ... SET stock = stock - q WHERE ... AND stock >= q`;
// zero rows changed means not enough stock, and the whole transaction rolls back. The condition
// and the change are one statement, so two tills selling the last unit cannot both succeed, on
// SQLite (one writer) and on PostgreSQL (the row lock, then the condition re-checked). The bill
// number comes from the shop row (`bill_seq = bill_seq + 1 ... RETURNING`), which serialises the
// numbering of one shop without gaps.
#include "pos/internal/rows.h"
#include "pos/pos.h"

namespace tajir::pos {
namespace {

constexpr int64_t kMaxQuantity = 1'000'000;
constexpr int64_t kMaxMoney = 1'000'000'000'000;  // 10^12 minor units: no overflow in sums

Status check_bill(const BillInput& in) {
  if (in.items.empty()) return InvalidArgument("a bill needs at least one item", "items");
  if (in.items.size() > 500) return InvalidArgument("at most 500 items per bill", "items");
  for (size_t i = 0; i < in.items.size(); ++i) {
    const auto& it = in.items[i];
    std::string at = "items[" + std::to_string(i) + "]";
    if (it.product_id <= 0) return InvalidArgument("product_id must be a positive id", at + ".product_id");
    if (it.quantity < 1 || it.quantity > kMaxQuantity) {
      return InvalidArgument("quantity must be 1 to 1000000", at + ".quantity");
    }
    if (it.unit_price && (*it.unit_price < 0 || *it.unit_price > kMaxMoney)) {
      return InvalidArgument("unit_price out of range", at + ".unit_price");
    }
  }
  if (in.discount < 0 || in.discount > kMaxMoney) return InvalidArgument("discount out of range", "discount");
  if (in.tax_rate_bp < 0 || in.tax_rate_bp > 10000) {
    return InvalidArgument("tax_rate_bp must be 0 to 10000 (basis points)", "tax_rate_bp");
  }
  if (in.payment_method != "cash" && in.payment_method != "card" && in.payment_method != "other") {
    return InvalidArgument("payment_method must be cash, card or other", "payment_method");
  }
  if (in.notes && in.notes->size() > 2000) return InvalidArgument("notes is longer than 2000 characters", "notes");
  return OkStatus();
}

Result<Bill> find_bill(db::Transaction& tx, int64_t shop_id, int64_t id) {
  auto b = internal::find_in_shop<Bill>(tx, internal::kBillColumns, "bills", shop_id, id,
                                        internal::bill_from, "bill");
  if (!b.ok()) return b;
  if (Status st = internal::load_items(tx, {&*b, 1}); !st.ok()) return st;
  return b;
}

Status must_exist(db::Transaction& tx, const char* table, int64_t shop_id,
                  const std::optional<int64_t>& id, const char* field) {
  if (!id) return OkStatus();
  auto rows = tx.query(std::string("SELECT 1 FROM ") + table + " WHERE id = ? AND shop_id = ?",
                       {*id, shop_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status(StatusCode::kNotFound, std::string(field) + " not found").with_field(field);
  return OkStatus();
}

// Adds `sign` x the bill to its customer's totals.
Status move_customer_totals(db::Transaction& tx, const Bill& b, int sign) {
  if (!b.customer_id) return OkStatus();
  auto r = tx.execute(
      "UPDATE customers SET bill_count = bill_count + ?, total_spent = total_spent + ? "
      "WHERE id = ? AND shop_id = ?",
      {int64_t{sign}, sign * b.total, *b.customer_id, b.shop_id});
  return r.ok() ? OkStatus() : r.status();
}

Result<std::optional<int64_t>> idempotent_bill_id(db::Transaction& tx, int64_t shop_id,
                                                  const std::string& key) {
  auto rows = tx.query("SELECT bill_id FROM idempotency_keys WHERE shop_id = ? AND key = ?",
                       {shop_id, key});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<int64_t>();
  return std::optional<int64_t>((*rows)[0].integer(0));
}

}  // namespace

Result<Bill> Pos::create_bill(const Principal& p, const BillInput& in,
                              const std::optional<std::string>& idempotency_key, bool* replayed) {
  if (Status st = check_bill(in); !st.ok()) return st;
  if (idempotency_key && (idempotency_key->empty() || idempotency_key->size() > 200)) {
    return InvalidArgument("Idempotency-Key must be 1 to 200 characters", "Idempotency-Key");
  }
  if (replayed) *replayed = false;
  std::optional<Bill> out;
  Status st = db_.write([&](db::Transaction& tx) -> Status {
    out.reset();
    if (idempotency_key) {
      auto prior = idempotent_bill_id(tx, p.shop_id, *idempotency_key);
      if (!prior.ok()) return prior.status();
      if (*prior) {
        auto b = find_bill(tx, p.shop_id, **prior);
        if (!b.ok()) return b.status();
        out = std::move(*b);
        if (replayed) *replayed = true;
        return OkStatus();
      }
    }
    if (Status s = must_exist(tx, "customers", p.shop_id, in.customer_id, "customer_id"); !s.ok()) return s;
    if (Status s = must_exist(tx, "employees", p.shop_id, in.employee_id, "employee_id"); !s.ok()) return s;

    Bill b;
    b.shop_id = p.shop_id;
    b.status = "paid";
    b.customer_id = in.customer_id;
    b.employee_id = in.employee_id;
    b.discount = in.discount;
    b.payment_method = in.payment_method;
    b.notes = in.notes;
    b.created_at = now_ms();
    for (size_t i = 0; i < in.items.size(); ++i) {
      const auto& it = in.items[i];
      std::string at = "items[" + std::to_string(i) + "].product_id";
      auto rows = tx.query("SELECT name, price, active FROM products WHERE id = ? AND shop_id = ?",
                           {it.product_id, p.shop_id});
      if (!rows.ok()) return rows.status();
      if (rows->empty()) {
        return Status(StatusCode::kNotFound, "product " + std::to_string(it.product_id) + " not found").with_field(at);
      }
      const db::Row& r = (*rows)[0];
      if (r.integer(2) == 0) {
        return Status(StatusCode::kFailedPrecondition, "product " + std::to_string(it.product_id) + " is inactive").with_field(at);
      }
      int64_t price = it.unit_price.value_or(r.integer(1));
      b.items.push_back({it.product_id, r.text(0), it.quantity, price, price * it.quantity});
      b.subtotal += price * it.quantity;
    }
    if (b.discount > b.subtotal) return InvalidArgument("discount may not exceed the subtotal", "discount");
    b.tax = ((b.subtotal - b.discount) * in.tax_rate_bp + 5000) / 10000;
    b.total = b.subtotal - b.discount + b.tax;

    for (size_t i = 0; i < b.items.size(); ++i) {
      const BillItem& item = b.items[i];
      auto r = tx.execute(
          "UPDATE products SET stock = stock - ?, updated_at = ? "
          "WHERE id = ? AND shop_id = ? AND stock >= ?",
          {item.quantity, b.created_at, item.product_id, p.shop_id, item.quantity});
      if (!r.ok()) return r.status();
      if (*r == 0) {
        return Status(StatusCode::kFailedPrecondition,
                      "insufficient stock for product " + std::to_string(item.product_id))
            .with_field("items[" + std::to_string(i) + "].quantity");
      }
    }
    auto seq = tx.query("UPDATE shops SET bill_seq = bill_seq + 1 WHERE id = ? RETURNING bill_seq",
                        {p.shop_id});
    if (!seq.ok()) return seq.status();
    if (seq->empty()) return NotFound("shop not found");
    b.number = (*seq)[0].integer(0);
    auto id = tx.query(
        "INSERT INTO bills(shop_id, number, status, customer_id, employee_id, subtotal, discount, "
        "tax, total, payment_method, notes, created_at) VALUES (?, ?, 'paid', ?, ?, ?, ?, ?, ?, ?, "
        "?, ?) RETURNING id",
        {p.shop_id, b.number, internal::nullable(b.customer_id), internal::nullable(b.employee_id),
         b.subtotal, b.discount, b.tax, b.total, b.payment_method, internal::nullable(b.notes),
         b.created_at});
    if (!id.ok()) return id.status();
    b.id = (*id)[0].integer(0);
    for (const BillItem& item : b.items) {
      auto r = tx.execute(
          "INSERT INTO bill_items(bill_id, product_id, name, quantity, unit_price, line_total) "
          "VALUES (?, ?, ?, ?, ?, ?)",
          {b.id, item.product_id, item.name, item.quantity, item.unit_price, item.line_total});
      if (!r.ok()) return r.status();
    }
    if (Status s = move_customer_totals(tx, b, +1); !s.ok()) return s;
    if (idempotency_key) {
      auto r = tx.execute(
          "INSERT INTO idempotency_keys(shop_id, key, bill_id, created_at) VALUES (?, ?, ?, ?)",
          {p.shop_id, *idempotency_key, b.id, b.created_at});
      if (!r.ok()) return r.status();
    }
    out = std::move(b);
    return OkStatus();
  });
  if (st.code() == StatusCode::kAlreadyExists && idempotency_key) {
    // A concurrent request with the same key won: answer with its bill.
    if (replayed) *replayed = true;
    return internal::read_value<Bill>(db_, [&](db::Transaction& tx) -> Result<Bill> {
      auto id = idempotent_bill_id(tx, p.shop_id, *idempotency_key);
      if (!id.ok()) return id.status();
      if (!*id) return Internal("idempotency key vanished");
      return find_bill(tx, p.shop_id, **id);
    });
  }
  if (!st.ok()) return st;
  return std::move(*out);
}

Result<Page<Bill>> Pos::list_bills(const Principal& p, const BillFilter& f, const PageRequest& page) {
  std::string where = " FROM bills WHERE shop_id = ?";
  std::vector<db::Value> params{p.shop_id};
  if (f.status) {
    where += " AND status = ?";
    params.push_back(*f.status);
  }
  if (f.customer_id) {
    where += " AND customer_id = ?";
    params.push_back(*f.customer_id);
  }
  if (f.from) {
    where += " AND created_at >= ?";
    params.push_back(*f.from);
  }
  if (f.to) {
    where += " AND created_at < ?";
    params.push_back(*f.to);
  }
  Page<Bill> out;
  Status st = db_.read([&](db::Transaction& tx) {
    Status s = internal::read_page(tx, internal::kBillColumns, where, params,
                                   "created_at DESC, id DESC", page, internal::bill_from, out);
    if (s.ok()) s = internal::load_items(tx, out.items);
    return s;
  });
  if (!st.ok()) return st;
  return out;
}

Result<Bill> Pos::bill(const Principal& p, int64_t id) {
  return internal::read_value<Bill>(db_, [&](db::Transaction& tx) { return find_bill(tx, p.shop_id, id); });
}

Result<Bill> Pos::void_bill(const Principal& p, int64_t id, bool& already_void) {
  return internal::write_value<Bill>(db_, [&](db::Transaction& tx) -> Result<Bill> {
    already_void = false;
    int64_t now = now_ms();
    auto r = tx.execute(
        "UPDATE bills SET status = 'void', voided_at = ? WHERE id = ? AND shop_id = ? AND status = 'paid'",
        {now, id, p.shop_id});
    if (!r.ok()) return r.status();
    auto b = find_bill(tx, p.shop_id, id);  // after the UPDATE: the row as this write left it
    if (!b.ok()) return b.status();
    if (*r == 0) {
      already_void = true;
      return b;
    }
    for (const BillItem& item : b->items) {
      auto s = tx.execute(
          "UPDATE products SET stock = stock + ?, updated_at = ? WHERE id = ? AND shop_id = ?",
          {item.quantity, now, item.product_id, p.shop_id});
      if (!s.ok()) return s.status();
    }
    if (Status s = move_customer_totals(tx, *b, -1); !s.ok()) return s;
    return b;
  });
}

}  // namespace tajir::pos
