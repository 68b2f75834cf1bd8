// The POS domain's plain types: what a shop, a product, a bill... is, as the API shows it.
// Money is integer minor units, quantities integers, times unix milliseconds (UTC).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tajir::pos {

enum class Role { kOwner, kCashier, kOperator };
const char* role_name(Role r);

// Who is asking: every query is scoped to `shop_id` (the operator names a shop per request).
struct Principal {
  int64_t user_id = 0;  // 0 for the operator
  int64_t shop_id = 0;
  Role role = Role::kCashier;
  std::string username;
  int64_t expires_at = 0;  // when the session ends (unix ms); 0 for the operator
};

struct Shop {
  int64_t id = 0;
  std::string name, currency, timezone;
  // The largest discount a cashier may give, in basis points of the bill's subtotal (0: none;
  // owners and the operator are not limited).
  int64_t cashier_discount_limit_bp = 0;
  int64_t created_at = 0;
};

struct User {
  int64_t id = 0;
  std::string username;
  Role role = Role::kOwner;
  int64_t shop_id = 0;
};

struct Product {
  int64_t id = 0, shop_id = 0;
  std::string name, sku;
  std::optional<std::string> barcode, category;
  int64_t price = 0, cost = 0, stock = 0, low_stock_threshold = 0;
  bool active = true;
  int64_t created_at = 0, updated_at = 0;
};

// What a write did to a row, as its own transaction saw it: `before` is the row it changed (read
// under the write's lock, so no other write can come between), `after` the row it left, or
// nullopt when the row is gone. What a write invalidates is computed from this, never from a
// read of its own.
template <typename T>
struct Change {
  T before;
  std::optional<T> after;
};

// A create or a partial update: absent fields are left as they are (or defaulted on create).
struct ProductInput {
  std::optional<std::string> name, sku;
  std::optional<std::optional<std::string>> barcode, category;  // present-but-null clears
  std::optional<int64_t> price, cost, stock, low_stock_threshold;
  std::optional<bool> active;
};

struct Customer {
  int64_t id = 0, shop_id = 0;
  std::string name;
  std::optional<std::string> phone, email, address, notes;
  int64_t bill_count = 0, total_spent = 0;
  int64_t created_at = 0, updated_at = 0;
};

struct CustomerInput {
  std::optional<std::string> name;
  std::optional<std::optional<std::string>> phone, email, address, notes;
};

struct Employee {
  int64_t id = 0, shop_id = 0;
  std::string name;
  std::optional<std::string> phone, position, username;
  bool active = true;
  int64_t created_at = 0, updated_at = 0;
};

struct EmployeeInput {
  std::optional<std::string> name;
  std::optional<std::optional<std::string>> phone, position;
  std::optional<std::string> username, password;
  std::optional<bool> active;
};

struct BillItem {
  int64_t product_id = 0;
  std::string name;
  int64_t quantity = 0, unit_price = 0, line_total = 0;
};

struct Bill {
  int64_t id = 0, shop_id = 0, number = 0;
  std::string status;  // "paid" | "void"
  std::optional<int64_t> customer_id, employee_id;
  std::vector<BillItem> items;
  int64_t subtotal = 0, discount = 0, tax = 0, total = 0;
  std::string payment_method;
  std::optional<std::string> notes;
  int64_t created_at = 0;
  std::optional<int64_t> voided_at;
};

struct BillInput {
  struct Item {
    int64_t product_id = 0, quantity = 0;
    std::optional<int64_t> unit_price;
  };
  std::vector<Item> items;
  std::optional<int64_t> customer_id, employee_id;
  int64_t discount = 0;
  int64_t tax_rate_bp = 0;
  std::string payment_method;
  std::optional<std::string> notes;
};

template <typename T>
struct Page {
  std::vector<T> items;
  int64_t page = 1, per_page = 50, total = 0;
};

struct PageRequest {
  int64_t page = 1, per_page = 50;
  int64_t offset() const { return (page - 1) * per_page; }
};

struct ProductFilter {
  std::optional<std::string> q, category;
  bool low_stock = false;
  std::optional<bool> active;
};

struct BillFilter {
  std::optional<int64_t> from, to;  // unix ms, inclusive from, exclusive to
  std::optional<int64_t> customer_id;
  std::optional<std::string> status;
  // from / to was a date alone (parse_time's UTC midnight): it means that date's midnight in
  // the shop's time zone.
  bool from_is_date = false, to_is_date = false;
};

struct Dashboard {
  struct Period {
    int64_t today = 0, week = 0, month = 0, all_time = 0;
  };
  struct TopProduct {
    int64_t product_id = 0;
    std::string name;
    int64_t quantity = 0, revenue = 0;
  };
  Period revenue, bills;
  int64_t average_bill = 0;
  std::vector<TopProduct> top_products;
  std::vector<Product> low_stock;
  std::vector<Bill> recent_bills;  // summaries: without items
  int64_t generated_at = 0;
  int64_t valid_until = 0;  // the shop's next local midnight: "today" changes then
  int64_t change_seq = 0;   // the shop's change it was read at (SalesChange::seq)
  // Not shown, for apply_change: the products just below top_products (up to the 30th); the
  // most revenue over the window any other product had when read (the 31st's; 0 when none);
  // and what sales applied since gave such products (product id, revenue), each of which may
  // have that much more.
  std::vector<TopProduct> top_more;
  int64_t top_ceiling = 0;
  std::vector<std::pair<int64_t, int64_t>> top_gains;
};

// What a bill or a void did, as its own transaction left it: enough to bring the shop's
// dashboard and first pages of bills, read at change seq - 1, to change seq without the
// database (apply_change in pos.h). Every bill, void and change of the shop's time zone raises
// the shop's change number (shops.change_seq) in its own transaction, under the shop row's
// lock, so the number a read sees in its snapshot says which of them it reflects.
struct SalesChange {
  int64_t seq = 0;
  std::string timezone;           // the shop's, at this change
  Bill bill;                      // with its items: paid (a sale) or void (a void)
  std::vector<Product> products;  // the bill's products, each once, as the change left them
};

}  // namespace tajir::pos
