// Bills: one transaction each, stock checked and moved in the same statement that changes it.
//
// A sale decrements each product with `UPDATE ... SET stock = stock - q WHERE ... AND stock >= q`;
// zero rows changed means not enough stock, and the whole transaction rolls back. The condition
// and the change are one statement, so two tills selling the last unit cannot both succeed, on
// SQLite (one writer) and on PostgreSQL (the row lock, then the condition re-checked). The bill
// number comes from the shop row (`bill_seq = bill_seq + 1 ... RETURNING`), which serialises the
// numbering of one shop without gaps; created_at is taken after that row is locked, so a later
// number never has an earlier time. The same statement adds the bill to the shop's paid
// volume, under pos/money.h's limit, so no sum over a shop's bills can overflow.
//
// An Idempotency-Key is stored with a digest of the request it was first used for: the parsed
// input in a canonical form (request_digest), so the same cart sent again with other
// whitespace, key order or defaults spelled out is the same request.
#include <algorithm>

#include "pos/internal/rows.h"
#include "pos/money.h"
#include "pos/pos.h"

namespace tajir::pos {
namespace {

// What can be checked before the database: the rest (amounts) is bill_amounts()'s.
Status check_bill(const BillInput& in) {
  if (in.items.empty()) return InvalidArgument("a bill needs at least one item", "items");
  if (in.items.size() > static_cast<size_t>(kMaxLines))
    return InvalidArgument("at most 500 items per bill", "items");
  for (size_t i = 0; i < in.items.size(); ++i) {
    if (in.items[i].product_id <= 0) {
      return InvalidArgument("product_id must be a positive id",
                             "items[" + std::to_string(i) + "].product_id");
    }
  }
  if (in.payment_method != "cash" && in.payment_method != "card" && in.payment_method != "other") {
    return InvalidArgument("payment_method must be cash, card or other", "payment_method");
  }
  if (in.notes && in.notes->size() > 2000)
    return InvalidArgument("notes is longer than 2000 characters", "notes");
  return OkStatus();
}

// The digest an Idempotency-Key is stored with: of every field of the parsed input, each
// written unambiguously (numbers in decimal, absent as "-", text length-prefixed).
std::string request_digest(const BillInput& in) {
  auto number = [](const std::optional<int64_t>& v) {
    return v ? std::to_string(*v) : std::string("-");
  };
  auto text = [](const std::optional<std::string>& v) {
    return v ? std::to_string(v->size()) + ":" + *v : std::string("-");
  };
  std::string s = "bill/1 items";
  for (const auto& it : in.items) {
    s += " " + std::to_string(it.product_id) + "x" + std::to_string(it.quantity) + "@" +
         number(it.unit_price);
  }
  s += " customer " + number(in.customer_id) + " employee " + number(in.employee_id) +
       " discount " + std::to_string(in.discount) + " tax " + std::to_string(in.tax_rate_bp) +
       " method " + text(in.payment_method) + " notes " + text(in.notes);
  return internal::sha256_hex(s);
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
  if (rows->empty())
    return Status(StatusCode::kNotFound, std::string(field) + " not found").with_field(field);
  return OkStatus();
}

// Moves a product's stock by `delta` and returns the row as this write leaves it, if it had
// at least `at_least` (a sale's quantity); nullopt: it had not (or is gone).
Result<std::optional<Product>> move_stock(db::Transaction& tx, int64_t shop_id, int64_t product_id,
                                          int64_t delta, std::optional<int64_t> at_least,
                                          int64_t now) {
  std::vector<db::Value> params{delta, now, product_id, shop_id};
  if (at_least) params.push_back(*at_least);
  auto rows =
      tx.query(std::string("UPDATE products SET stock = stock + ?, updated_at = ? "
                           "WHERE id = ? AND shop_id = ?") +
                   (at_least ? " AND stock >= ?" : "") + " RETURNING " + internal::kProductColumns,
               params);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Product>();
  return std::optional<Product>(internal::product_from((*rows)[0]));
}

// Keeps the last row seen of each product: what the change left.
void keep_row(std::vector<Product>& rows, Product p) {
  auto it = std::find_if(rows.begin(), rows.end(), [&](const Product& x) { return x.id == p.id; });
  if (it == rows.end())
    rows.push_back(std::move(p));
  else
    *it = std::move(p);
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

// The bill an Idempotency-Key was first used for, if any, or kUnprocessable if that was another
// request. (A key stored before digests were kept has none and matches any request.)
Result<std::optional<int64_t>> idempotent_bill_id(db::Transaction& tx, int64_t shop_id,
                                                  const std::string& key,
                                                  const std::string& digest) {
  auto rows =
      tx.query("SELECT bill_id, request_digest FROM idempotency_keys WHERE shop_id = ? AND key = ?",
               {shop_id, key});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<int64_t>();
  const db::Row& r = (*rows)[0];
  if (!r.is_null(1) && r.text(1) != digest) {
    return Status(
               StatusCode::kUnprocessable,
               "this Idempotency-Key was used for another request; send a new key for a new bill")
        .with_field("Idempotency-Key")
        .with_reason("idempotency_key_reused");
  }
  return std::optional<int64_t>(r.integer(0));
}

Status cashier_may_not(std::string message, std::string field) {
  return Status(StatusCode::kPermissionDenied, std::move(message)).with_field(std::move(field));
}

// The employee whose login `p` is (a cashier's), or none.
Result<std::optional<int64_t>> own_employee(db::Transaction& tx, const Principal& p) {
  auto rows = tx.query("SELECT employee_id FROM users WHERE id = ? AND shop_id = ?",
                       {p.user_id, p.shop_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<int64_t>();
  return (*rows)[0].optional_integer(0);
}

// What a cashier may not decide alone: a discount above the shop's limit for cashiers.
Status check_cashier_discount(db::Transaction& tx, const Principal& p, const Bill& b) {
  if (p.role != Role::kCashier || b.discount == 0) return OkStatus();
  auto rows = tx.query("SELECT cashier_discount_limit_bp FROM shops WHERE id = ?", {p.shop_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return NotFound("shop not found");
  if (discount_within(b.discount, b.subtotal, (*rows)[0].integer(0))) return OkStatus();
  return cashier_may_not("a discount above the shop's cashier_discount_limit_bp needs the owner",
                         "discount");
}

struct Numbered {
  int64_t number = 0;      // the bill's
  int64_t change_seq = 0;  // the shop's change
  std::string timezone;
};

// Numbers the bill and the shop's change, and adds the bill to the shop's paid volume, within
// pos/money.h's limits.
Result<Numbered> next_bill_number(db::Transaction& tx, int64_t shop_id, int64_t volume) {
  auto seq = tx.query(
      "UPDATE shops SET bill_seq = bill_seq + 1, change_seq = change_seq + 1, "
      "paid_volume = paid_volume + ? WHERE id = ? AND bill_seq < ? AND paid_volume <= ? "
      "RETURNING bill_seq, change_seq, timezone",
      {volume, shop_id, kMaxShopBills, kMaxShopVolume - volume});
  if (!seq.ok()) return seq.status();
  if (!seq->empty()) {
    const db::Row& r = (*seq)[0];
    return Numbered{r.integer(0), r.integer(1), r.text(2)};
  }
  auto shop = tx.query("SELECT 1 FROM shops WHERE id = ?", {shop_id});
  if (!shop.ok()) return shop.status();
  if (shop->empty()) return NotFound("shop not found");
  return InvalidArgument(
      "the shop's bills would pass the server's limits (10^9 bills; 10^18 minor units of paid "
      "subtotals plus taxes)",
      "items");
}

}  // namespace

Result<Bill> Pos::create_bill(const Principal& p, const BillInput& in,
                              const std::optional<std::string>& idempotency_key, bool* replayed,
                              SalesChange* change) {
  if (Status st = check_bill(in); !st.ok()) return st;
  if (idempotency_key && (idempotency_key->empty() || idempotency_key->size() > 200)) {
    return InvalidArgument("Idempotency-Key must be 1 to 200 characters", "Idempotency-Key");
  }
  const std::string digest = idempotency_key ? request_digest(in) : std::string();
  const bool cashier = p.role == Role::kCashier;
  if (replayed) *replayed = false;
  std::optional<Bill> out;
  SalesChange made;
  Status st = db_.write([&](db::Transaction& tx) -> Status {
    out.reset();
    made = SalesChange{};
    if (idempotency_key) {
      auto prior = idempotent_bill_id(tx, p.shop_id, *idempotency_key, digest);
      if (!prior.ok()) return prior.status();
      if (*prior) {
        auto b = find_bill(tx, p.shop_id, **prior);
        if (!b.ok()) return b.status();
        out = std::move(*b);
        if (replayed) *replayed = true;
        return OkStatus();
      }
    }
    if (Status s = must_exist(tx, "customers", p.shop_id, in.customer_id, "customer_id"); !s.ok())
      return s;
    std::optional<int64_t> employee_id = in.employee_id;
    if (cashier) {
      auto own = own_employee(tx, p);
      if (!own.ok()) return own.status();
      if (in.employee_id && in.employee_id != *own) {
        return cashier_may_not("a cashier's bills record the cashier's own employee",
                               "employee_id");
      }
      employee_id = *own;
    } else if (Status s = must_exist(tx, "employees", p.shop_id, in.employee_id, "employee_id");
               !s.ok()) {
      return s;
    }

    Bill b;
    b.shop_id = p.shop_id;
    b.status = "paid";
    b.customer_id = in.customer_id;
    b.employee_id = employee_id;
    b.discount = in.discount;
    b.payment_method = in.payment_method;
    b.notes = in.notes;
    std::vector<BillLine> lines;
    for (size_t i = 0; i < in.items.size(); ++i) {
      const auto& it = in.items[i];
      std::string at = "items[" + std::to_string(i) + "]";
      auto rows = tx.query("SELECT name, price, active FROM products WHERE id = ? AND shop_id = ?",
                           {it.product_id, p.shop_id});
      if (!rows.ok()) return rows.status();
      if (rows->empty()) {
        return Status(StatusCode::kNotFound,
                      "product " + std::to_string(it.product_id) + " not found")
            .with_field(at + ".product_id");
      }
      const db::Row& r = (*rows)[0];
      if (r.integer(2) == 0) {
        return Status(StatusCode::kFailedPrecondition,
                      "product " + std::to_string(it.product_id) + " is inactive")
            .with_field(at + ".product_id");
      }
      if (cashier && it.unit_price && *it.unit_price < r.integer(1)) {
        return cashier_may_not("a unit_price below the product's price needs the owner",
                               at + ".unit_price");
      }
      int64_t price = it.unit_price.value_or(r.integer(1));
      b.items.push_back({it.product_id, r.text(0), it.quantity, price, 0});
      lines.push_back({it.quantity, price});
    }
    auto amounts = bill_amounts(lines, in.discount, in.tax_rate_bp);
    if (!amounts.ok()) return amounts.status();
    for (size_t i = 0; i < b.items.size(); ++i) b.items[i].line_total = amounts->line_totals[i];
    b.subtotal = amounts->subtotal;
    b.tax = amounts->tax;
    b.total = amounts->total;
    if (Status s = check_cashier_discount(tx, p, b); !s.ok()) return s;

    const int64_t now = now_ms();
    for (size_t i = 0; i < b.items.size(); ++i) {
      const BillItem& item = b.items[i];
      auto row = move_stock(tx, p.shop_id, item.product_id, -item.quantity, item.quantity, now);
      if (!row.ok()) return row.status();
      if (!*row) {
        return Status(StatusCode::kFailedPrecondition,
                      "insufficient stock for product " + std::to_string(item.product_id))
            .with_field("items[" + std::to_string(i) + "].quantity")
            .with_reason("insufficient_stock");
      }
      keep_row(made.products, std::move(**row));
    }
    auto number = next_bill_number(tx, p.shop_id, b.subtotal + b.tax);
    if (!number.ok()) return number.status();
    b.number = number->number;
    made.seq = number->change_seq;
    made.timezone = std::move(number->timezone);
    b.created_at = now_ms();  // with the shop row locked: in the order of the numbers
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
          "INSERT INTO idempotency_keys(shop_id, key, bill_id, request_digest, created_at) "
          "VALUES (?, ?, ?, ?, ?)",
          {p.shop_id, *idempotency_key, b.id, digest, b.created_at});
      if (!r.ok()) return r.status();
    }
    made.bill = b;
    out = std::move(b);
    return OkStatus();
  });
  if (st.ok() && change != nullptr && !(replayed != nullptr && *replayed)) {
    *change = std::move(made);
  }
  if (st.code() == StatusCode::kAlreadyExists && idempotency_key) {
    // A concurrent request with the same key won: answer with its bill, if it was this request.
    auto winner = internal::read_value<Bill>(db_, [&](db::Transaction& tx) -> Result<Bill> {
      auto id = idempotent_bill_id(tx, p.shop_id, *idempotency_key, digest);
      if (!id.ok()) return id.status();
      if (!*id) return Internal("idempotency key vanished");
      return find_bill(tx, p.shop_id, **id);
    });
    if (winner.ok() && replayed) *replayed = true;
    return winner;
  }
  if (!st.ok()) return st;
  return std::move(*out);
}

Result<Page<Bill>> Pos::list_bills(const Principal& p, const BillFilter& f, const PageRequest& page,
                                   int64_t* change_seq) {
  Page<Bill> out;
  Status st = db_.read([&](db::Transaction& tx) -> Status {
    if (Status s = internal::read_change_seq(tx, p.shop_id, change_seq); !s.ok()) return s;
    std::optional<int64_t> from = f.from, to = f.to;
    if ((from && f.from_is_date) || (to && f.to_is_date)) {
      auto shop = tx.query("SELECT timezone FROM shops WHERE id = ?", {p.shop_id});
      if (!shop.ok()) return shop.status();
      if (shop->empty()) return NotFound("shop not found");
      const std::string zone = (*shop)[0].text(0);
      if (from && f.from_is_date) from = internal::local_midnight(zone, *from);
      if (to && f.to_is_date) to = internal::local_midnight(zone, *to);
    }
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
    if (from) {
      where += " AND created_at >= ?";
      params.push_back(*from);
    }
    if (to) {
      where += " AND created_at < ?";
      params.push_back(*to);
    }
    // Newest first is the highest number: created_at can tie within a millisecond.
    Status s = internal::read_page(tx, internal::kBillColumns, where, params, "number DESC", page,
                                   internal::bill_from, out);
    if (s.ok()) s = internal::load_items(tx, out.items);
    return s;
  });
  if (!st.ok()) return st;
  return out;
}

Result<Bill> Pos::bill(const Principal& p, int64_t id) {
  return internal::read_value<Bill>(
      db_, [&](db::Transaction& tx) { return find_bill(tx, p.shop_id, id); });
}

Result<Bill> Pos::void_bill(const Principal& p, int64_t id, bool& already_void,
                            SalesChange* change) {
  SalesChange made;
  auto voided = internal::write_value<Bill>(db_, [&](db::Transaction& tx) -> Result<Bill> {
    already_void = false;
    made = SalesChange{};
    int64_t now = now_ms();
    auto r = tx.execute(
        "UPDATE bills SET status = 'void', voided_at = ? WHERE id = ? AND shop_id = ? AND status = "
        "'paid'",
        {now, id, p.shop_id});
    if (!r.ok()) return r.status();
    auto b = find_bill(tx, p.shop_id, id);  // after the UPDATE: the row as this write left it
    if (!b.ok()) return b.status();
    if (*r == 0) {
      already_void = true;
      return b;
    }
    for (const BillItem& item : b->items) {
      auto row = move_stock(tx, p.shop_id, item.product_id, item.quantity, std::nullopt, now);
      if (!row.ok()) return row.status();
      if (*row) keep_row(made.products, std::move(**row));
    }
    if (Status s = move_customer_totals(tx, *b, -1); !s.ok()) return s;
    // What the sale added to the shop's paid volume (clamped: a bill stored before the limits
    // may hold any figures).
    int64_t volume = 0;
    if (__builtin_add_overflow(b->subtotal, b->tax, &volume)) volume = kMaxShopVolume;
    volume = std::clamp<int64_t>(volume, 0, kMaxShopVolume);
    auto v = tx.query(
        "UPDATE shops SET paid_volume = paid_volume - ?, change_seq = change_seq + 1 "
        "WHERE id = ? RETURNING change_seq, timezone",
        {volume, p.shop_id});
    if (!v.ok()) return v.status();
    if (v->empty()) return NotFound("shop not found");
    made.seq = (*v)[0].integer(0);
    made.timezone = (*v)[0].text(1);
    made.bill = *b;
    return b;
  });
  if (voided.ok() && !already_void && change != nullptr) *change = std::move(made);
  return voided;
}

}  // namespace tajir::pos

namespace tajir::pos {

bool maintainable(const BillFilter& f, const PageRequest& page) {
  return page.page == 1 && !f.from && !f.to;
}

// The first page of the bills `f` selects, newest (highest number) first: a bill that starts or
// stops matching takes its place by number or leaves; one that matches before and after is
// replaced. What cannot be known: a bill that matched but is neither on a full page nor older
// than its last (so the page is not what list_bills gave), and the bill that moves up into a
// full page when one leaves it.
bool apply_change(const SalesChange& c, const BillFilter& f, Page<Bill>& page) {
  if (!maintainable(f, {page.page, page.per_page})) return false;
  const Bill& after = c.bill;
  if (after.status != "paid" && after.status != "void") return false;
  auto matches = [&](const Bill& b) {
    return (!f.status || *f.status == b.status) &&
           (!f.customer_id || b.customer_id == f.customer_id);
  };
  Bill before = after;  // a void's bill was paid; a sale's did not exist
  before.status = "paid";
  before.voided_at.reset();
  const bool was = after.status == "void" && matches(before), now = matches(after);
  auto& items = page.items;
  const size_t per_page = static_cast<size_t>(page.per_page);
  const bool full = items.size() >= per_page;
  if (!full && page.total != static_cast<int64_t>(items.size())) return false;
  auto it =
      std::find_if(items.begin(), items.end(), [&](const Bill& b) { return b.id == after.id; });
  const bool listed = it != items.end();
  if (was && !listed && !(full && after.number < items.back().number)) return false;
  if (listed && !now && full && page.total > page.per_page) return false;
  if (listed) items.erase(it);
  page.total += (now ? 1 : 0) - (was ? 1 : 0);
  const bool older_than_page = full && !listed && after.number < items.back().number;
  if (now && !older_than_page) {
    items.insert(std::find_if(items.begin(), items.end(),
                              [&](const Bill& b) { return b.number < after.number; }),
                 after);
  }
  if (items.size() > per_page) items.resize(per_page);
  return true;
}

}  // namespace tajir::pos
