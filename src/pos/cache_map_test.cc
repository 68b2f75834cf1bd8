// CacheMap as a table: for each write, the reads it drops; every other read must stay.
//
// A cached read is dropped by a write when one of the write's tags is among the read's tags
// (what Cache::invalidate does with each tag). reads() is a fixed set of reads, of shop 1 and of
// shop 2 (which no write of shop 1 may touch); each row names a write and the reads it drops.
// In precise mode these are the reads the write changes: one missing would be served stale, one
// more is a needless miss against cache_map.h's "drops exactly what a write changed" (the rare
// exception is commented on its row). In coarse mode they are every read of the types the write
// touches, in its shop.
#include "pos/cache_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace tajir::pos {
namespace {

using Tags = std::vector<std::string>;

constexpr int64_t kShop = 1;
constexpr int64_t kOtherShop = 2;

// The data the reads show, in shop 1:
//   products 7 and 8 are on the first page of the product list, 9 on the second; 8 is low on
//   stock (so on the dashboard), 7 and 9 are not;
//   customers 3 and 4 on the first customer page, 5 on the second;
//   employees 5 and 6 on the employee page;
//   bills 11 and 12; users 21 and 22 have sessions.
// Shop 2 has product 70, customer 30, employee 50, bill 110, user 23.
std::vector<std::pair<std::string, Tags>> reads(const CacheMap& m) {
  ProductFilter all, q{.q = "tea"}, category{.category = "drinks"}, low{.low_stock = true},
      active{.active = true};
  return {
      {"product 7", m.product(kShop, 7)},
      {"product 8", m.product(kShop, 8)},
      {"product 9", m.product(kShop, 9)},
      {"products page 1", m.product_page(kShop, all, {7, 8})},
      {"products page 2", m.product_page(kShop, all, {9})},
      {"products searched index", m.product_index(kShop, q)},
      {"products by category index", m.product_index(kShop, category)},
      {"products low on stock index", m.product_index(kShop, low)},
      {"products active index", m.product_index(kShop, active)},
      {"customer 3", m.customer(kShop, 3)},
      {"customer 5", m.customer(kShop, 5)},
      {"customers page 1", m.customer_page(kShop, false, {3, 4})},
      {"customers page 2", m.customer_page(kShop, false, {5})},
      {"customers searched index", m.customer_index(kShop, true)},
      {"employee 5", m.employee(kShop, 5)},
      {"employee 6", m.employee(kShop, 6)},
      {"employees page", m.employee_page(kShop, {5, 6})},
      {"bill 11", m.bill(kShop, 11)},
      {"bill 12", m.bill(kShop, 12)},
      {"bills page", m.bill_page(kShop)},
      {"dashboard", m.dashboard(kShop)},
      {"shop", m.shop(kShop)},
      {"session of user 21", m.session(kShop, 21)},
      {"session of user 22", m.session(kShop, 22)},
      {"shop 2: product 70", m.product(kOtherShop, 70)},
      {"shop 2: products page", m.product_page(kOtherShop, all, {70})},
      {"shop 2: customer 30", m.customer(kOtherShop, 30)},
      {"shop 2: customers page", m.customer_page(kOtherShop, false, {30})},
      {"shop 2: employees page", m.employee_page(kOtherShop, {50})},
      {"shop 2: bill 110", m.bill(kOtherShop, 110)},
      {"shop 2: bills page", m.bill_page(kOtherShop)},
      {"shop 2: dashboard", m.dashboard(kOtherShop)},
      {"shop 2: shop", m.shop(kOtherShop)},
      {"shop 2: session of user 23", m.session(kOtherShop, 23)},
  };
}

const std::set<std::string> kProductPages = {"products page 1",
                                             "products page 2",
                                             "products searched index",
                                             "products by category index",
                                             "products low on stock index",
                                             "products active index"};
const std::set<std::string> kCustomerPages = {"customers page 1", "customers page 2",
                                              "customers searched index"};
const std::set<std::string> kSessions = {"session of user 21", "session of user 22"};

std::set<std::string> operator+(std::set<std::string> a, const std::set<std::string>& b) {
  a.insert(b.begin(), b.end());
  return a;
}

struct Row {
  std::string write;
  Tags tags;                    // what the write invalidates
  std::set<std::string> drops;  // the reads it changes; every other read of reads() is kept
};

bool intersects(const Tags& write, const Tags& read) {
  return std::any_of(write.begin(), write.end(), [&](const std::string& t) {
    return std::find(read.begin(), read.end(), t) != read.end();
  });
}

// Checks every row against every read: dropped exactly when the row says so.
void check(const CacheMap& m, const std::vector<Row>& rows) {
  const auto all = reads(m);
  for (const Row& row : rows) {
    for (const auto& name : row.drops) {
      EXPECT_TRUE(
          std::any_of(all.begin(), all.end(), [&](const auto& r) { return r.first == name; }))
          << "the table names a read that reads() lacks: " << name;
    }
    for (const auto& [name, tags] : all) {
      const bool dropped = intersects(row.tags, tags);
      const bool expected = row.drops.contains(name);
      EXPECT_EQ(dropped, expected)
          << row.write << (expected ? " must drop " : " must keep ") << name;
    }
  }
}

// Product `id` as reads() shows it: 8 is low on stock, the others are not.
Product product(int64_t id) {
  Product p;
  p.id = id;
  p.shop_id = kShop;
  p.name = "Green tea";
  p.sku = "TEA-" + std::to_string(id);
  p.barcode = "600" + std::to_string(id);
  p.category = "drinks";
  p.price = 1250;
  p.stock = id == 8 ? 2 : 40;
  p.low_stock_threshold = 5;
  return p;
}

// The tags of an update of product `id` that `change` makes.
template <typename Change>
Tags updated(const CacheMap& m, int64_t id, Change change) {
  const Product before = product(id);
  Product after = before;
  change(after);
  return m.product_written(kShop, &before, &after);
}

Bill bill(int64_t id, std::string status, std::optional<int64_t> customer,
          const std::vector<int64_t>& products) {
  Bill b;
  b.id = id;
  b.shop_id = kShop;
  b.status = std::move(status);
  b.customer_id = customer;
  for (int64_t p : products) b.items.push_back({.product_id = p, .quantity = 1});
  return b;
}

using Set = std::set<std::string>;

TEST(CacheMap, PreciseWritesDropExactlyTheReadsTheyChange) {
  const CacheMap m(InvalidationMode::kPrecise);
  const Product p7 = product(7), p8 = product(8), p10 = product(10);
  Product p10_low = product(10);
  p10_low.stock = 0;
  const Set page1_7 = {"product 7", "products page 1"}, page1_8 = {"product 8", "products page 1"};
  const std::vector<Row> rows = {
      // Products, by the field that changed. Product 7 is on page 1 and not low on stock.
      {"renaming product 7", updated(m, 7, [](Product& p) { p.name = "Black tea"; }),
       page1_7 + Set{"products searched index"}},
      {"changing product 7's sku", updated(m, 7, [](Product& p) { p.sku = "TEA-B"; }),
       page1_7 + Set{"products searched index"}},
      {"changing product 7's barcode", updated(m, 7, [](Product& p) { p.barcode = "5"; }),
       page1_7 + Set{"products searched index"}},
      {"clearing product 7's barcode", updated(m, 7, [](Product& p) { p.barcode.reset(); }),
       page1_7 + Set{"products searched index"}},
      {"repricing product 7", updated(m, 7, [](Product& p) { p.price = 1500; }), page1_7},
      {"changing product 7's cost", updated(m, 7, [](Product& p) { p.cost = 900; }), page1_7},
      {"changing product 7's stock", updated(m, 7, [](Product& p) { p.stock = 30; }),
       page1_7 + Set{"products low on stock index"}},
      {"product 7's stock falling to its threshold", updated(m, 7, [](Product& p) { p.stock = 5; }),
       page1_7 + Set{"products low on stock index", "dashboard"}},
      {"raising product 7's threshold over its stock",
       updated(m, 7, [](Product& p) { p.low_stock_threshold = 50; }),
       page1_7 + Set{"products low on stock index", "dashboard"}},
      {"moving product 7 to another category",
       updated(m, 7, [](Product& p) { p.category = "food"; }),
       page1_7 + Set{"products by category index"}},
      // The low-stock filter does not read `active`, but is dropped too (a rare write).
      {"deactivating product 7", updated(m, 7, [](Product& p) { p.active = false; }),
       page1_7 + Set{"products low on stock index", "products active index"}},
      // Product 8 is low on stock: the dashboard lists it.
      {"repricing product 8", updated(m, 8, [](Product& p) { p.price = 99; }),
       page1_8 + Set{"dashboard"}},
      {"restocking product 8", updated(m, 8, [](Product& p) { p.stock = 100; }),
       page1_8 + Set{"products low on stock index", "dashboard"}},
      {"deactivating product 8", updated(m, 8, [](Product& p) { p.active = false; }),
       page1_8 + Set{"products low on stock index", "products active index", "dashboard"}},
      // Creating or deleting a product shifts the membership of every page.
      {"creating product 10", m.product_written(kShop, nullptr, &p10), kProductPages},
      {"creating product 10 low on stock", m.product_written(kShop, nullptr, &p10_low),
       kProductPages + Set{"dashboard"}},
      {"deleting product 7", m.product_written(kShop, &p7, nullptr),
       kProductPages + Set{"product 7"}},
      {"deleting product 8", m.product_written(kShop, &p8, nullptr),
       kProductPages + Set{"product 8", "dashboard"}},

      // Bills: the bill lists, the dashboard, the customer, and the stock of what was sold.
      {"a bill for customer 3 selling products 7 and 9",
       m.bill_written(kShop, bill(13, "paid", 3, {7, 9})),
       {"bills page", "dashboard", "customer 3", "customers page 1", "product 7", "product 9",
        "products page 1", "products page 2", "products low on stock index"}},
      {"a bill with no customer selling product 8 twice",
       m.bill_written(kShop, bill(13, "paid", std::nullopt, {8, 8})),
       page1_8 + Set{"bills page", "dashboard", "products low on stock index"}},
      {"voiding bill 11 (customer 5, product 9)",
       m.bill_written(kShop, bill(11, "void", 5, {9})),
       {"bill 11", "bills page", "dashboard", "customer 5", "customers page 2", "product 9",
        "products page 2", "products low on stock index"}},

      // Customers: the q filter reads name, phone and email, not notes or address.
      {"editing customer 3's name, phone or email",
       m.customer_written(kShop, 3, false, true),
       {"customer 3", "customers page 1", "customers searched index"}},
      {"editing customer 3's notes or address",
       m.customer_written(kShop, 3, false, false),
       {"customer 3", "customers page 1"}},
      {"creating customer 6", m.customer_written(kShop, 6, true, true), kCustomerPages},
      {"deleting customer 3", m.customer_written(kShop, 3, true, true),
       kCustomerPages + Set{"customer 3"}},

      // Employees: a login that ends ends the shop's cached sessions.
      {"editing employee 5",
       m.employee_written(kShop, 5, false, false),
       {"employee 5", "employees page"}},
      {"deactivating employee 5", m.employee_written(kShop, 5, false, true),
       Set{"employee 5", "employees page"} + kSessions},
      {"creating employee 7", m.employee_written(kShop, 7, true, false), {"employees page"}},
      {"deleting employee 5", m.employee_written(kShop, 5, true, true),
       Set{"employee 5", "employees page"} + kSessions},

      // The shop: its own read, and the dashboard (its time zone draws the days).
      {"changing the shop's settings", m.shop_written(kShop, false), {"shop", "dashboard"}},
      {"changing the shop's time zone",
       m.shop_written(kShop, true),
       {"shop", "dashboard", "bill 11", "bill 12", "bills page"}},
      {"user 21 logging out", m.user_sessions_ended(21), {"session of user 21"}},
  };
  check(m, rows);
}

TEST(CacheMap, CoarseWritesDropEveryReadOfTheTypesTheyTouch) {
  const CacheMap m(InvalidationMode::kCoarse);
  const Set products = kProductPages + Set{"product 7", "product 8", "product 9"};
  const Set customers = kCustomerPages + Set{"customer 3", "customer 5"};
  const Set employees = {"employee 5", "employee 6", "employees page"};
  const Set bills = {"bill 11", "bill 12", "bills page"};
  const Product p7 = product(7);
  const std::vector<Row> rows = {
      {"repricing product 7", updated(m, 7, [](Product& p) { p.price = 1500; }),
       products + Set{"dashboard"}},
      {"deleting product 7", m.product_written(kShop, &p7, nullptr), products + Set{"dashboard"}},
      {"a bill for customer 3 selling product 7", m.bill_written(kShop, bill(13, "paid", 3, {7})),
       bills + products + customers + Set{"dashboard"}},
      {"voiding bill 11", m.bill_written(kShop, bill(11, "void", std::nullopt, {9})),
       bills + products + customers + Set{"dashboard"}},
      {"editing customer 3's notes", m.customer_written(kShop, 3, false, false), customers},
      {"editing employee 5", m.employee_written(kShop, 5, false, false), employees},
      {"deleting employee 5", m.employee_written(kShop, 5, true, true), employees + kSessions},
      {"changing the shop's settings", m.shop_written(kShop, false), {"shop", "dashboard"}},
      {"user 21 logging out", m.user_sessions_ended(21), {"session of user 21"}},
  };
  check(m, rows);
}

TEST(CacheMap, ManagementTagsClearByTypeByShopOrEverywhere) {
  const CacheMap m;
  const Set products = kProductPages + Set{"product 7", "product 8", "product 9"};
  Set shop1;
  for (const auto& [name, tags] : reads(m)) {
    if (!name.starts_with("shop 2:")) shop1.insert(name);
  }
  const std::vector<Row> rows = {
      {"clearing shop 1's products", {CacheMap::type_tag("products", kShop)}, products},
      {"clearing products everywhere",
       {CacheMap::type_tag("products")},
       products + Set{"shop 2: product 70", "shop 2: products page"}},
      {"clearing shop 1", {CacheMap::shop_tag(kShop)}, shop1},
  };
  check(m, rows);
}

}  // namespace
}  // namespace tajir::pos
