// apply_change on hand-made reads: the cases a random POS day does not reach (bills of another
// day or month, the edge of the 30-day window, full lists), each with what it must become.
#include <gtest/gtest.h>

#include <algorithm>

#include "pos/pos.h"

namespace tajir::pos {
namespace {

constexpr int64_t kSecond = 1000, kHour = 3600 * kSecond, kDay = 24 * kHour;
// Wednesday 2026-11-25T10:00:00Z; the week began on Monday the 23rd, the month on the 1st.
constexpr int64_t kNow = 1'795'392'000'000 + 2 * kDay + 10 * kHour;

Bill bill(int64_t id, int64_t number, int64_t created_at, int64_t total,
          std::vector<BillItem> items = {{1, "Tea", 1, 100, 100}}) {
  Bill b;
  b.id = id;
  b.number = number;
  b.status = "paid";
  b.created_at = created_at;
  b.total = total;
  b.items = std::move(items);
  return b;
}

Product product(int64_t id, int64_t stock, int64_t threshold = 10) {
  Product p;
  p.id = id;
  p.name = "P" + std::to_string(id);
  p.stock = stock;
  p.low_stock_threshold = threshold;
  return p;
}

SalesChange sale(Bill b, std::vector<Product> products = {product(1, 50)},
                 std::string zone = "UTC") {
  return {7, std::move(zone), std::move(b), std::move(products)};
}

SalesChange voided(Bill b, std::vector<Product> products = {product(1, 50)}) {
  b.status = "void";
  b.voided_at = kNow;
  return {7, "UTC", std::move(b), std::move(products)};
}

Dashboard made_at(int64_t at) {
  Dashboard d;
  d.generated_at = at;
  return d;
}

// The 30 best products as a dashboard knows them: products first..first+29, the best first
// (revenue 2000 - 10 x id), five shown, the others kept below them; the rest had at most
// `ceiling`.
void know_top(Dashboard& d, int64_t first, int64_t ceiling) {
  d.top_products.clear();
  d.top_more.clear();
  for (int64_t id = first; id < first + 30; ++id) {
    (d.top_products.size() < 5 ? d.top_products : d.top_more)
        .push_back({id, "P", 1, 2000 - 10 * id});
  }
  d.top_ceiling = ceiling;
}

// Full lists that a void of one of the first bills, of product 1, leaves as they are: ten recent
// bills newer than it, 30 known top products without product 1.
Dashboard busy(int64_t at) {
  Dashboard d = made_at(at);
  d.revenue = d.bills = {0, 0, 0, 1000};
  for (int64_t n = 109; n >= 100; --n) d.recent_bills.push_back(bill(n, n, at, 1));
  know_top(d, 2, 100);
  return d;
}

TEST(ApplyChange, ASaleCountsInThePeriodsOfTheShopsZoneItsTimeFallsIn) {
  Dashboard d = made_at(kNow);
  // Tuesday 23:59:59 UTC: this week and month, not today.
  ASSERT_TRUE(apply_change(sale(bill(1, 1, kNow - 10 * kHour - 1, 500)), d));
  EXPECT_EQ(d.revenue.today, 0);
  EXPECT_EQ(d.revenue.week, 500);
  EXPECT_EQ(d.revenue.month, 500);
  EXPECT_EQ(d.bills.all_time, 1);
  EXPECT_EQ(d.average_bill, 500);
  // The same instant in Dubai (UTC+4) is Wednesday 03:59:59: today.
  Dashboard dubai = made_at(kNow);
  ASSERT_TRUE(apply_change(
      sale(bill(1, 1, kNow - 10 * kHour - 1, 500), {product(1, 50)}, "Asia/Dubai"), dubai));
  EXPECT_EQ(dubai.revenue.today, 500);
  // Sunday the 22nd: last week, this month.
  Dashboard sunday = made_at(kNow);
  ASSERT_TRUE(apply_change(sale(bill(1, 1, kNow - 3 * kDay, 300)), sunday));
  EXPECT_EQ(sunday.revenue.week, 0);
  EXPECT_EQ(sunday.revenue.month, 300);
}

TEST(ApplyChange, AVoidTakesItsBillOutOfThePeriodsItWasIn) {
  Dashboard d = busy(kNow);
  d.revenue = {0, 0, 700, 1000};
  d.bills = {0, 0, 2, 3};
  Bill old = bill(2, 2, kNow - 40 * kDay, 300);  // last month, out of the 30-day window
  ASSERT_TRUE(apply_change(voided(old), d));
  EXPECT_EQ(d.revenue.month, 700);
  EXPECT_EQ(d.revenue.all_time, 700);
  EXPECT_EQ(d.bills.all_time, 2);
  EXPECT_EQ(d.average_bill, 350);
  Bill today = bill(3, 3, kNow - kHour, 200);
  Dashboard t = busy(kNow);
  t.revenue = {200, 200, 200, 200};
  t.bills = {1, 1, 1, 1};
  Dashboard incomplete = t;
  incomplete.top_more.pop_back();  // not full, yet it does not know product 1
  EXPECT_FALSE(apply_change(voided(today), incomplete)) << "a complete top list lists its product";
  ASSERT_TRUE(apply_change(voided(today), t));
  EXPECT_EQ(t.revenue.today, 0);
  EXPECT_EQ(t.bills.today, 0);
  EXPECT_EQ(t.average_bill, 0);
  Dashboard none = busy(kNow);
  none.revenue = none.bills = {};
  EXPECT_FALSE(apply_change(voided(today), none)) << "a shop's figures cannot go below nothing";
}

// generated_at is known to the second: a bill within that second of the window's start may be
// in it or not.
TEST(ApplyChange, ABillAtTheEdgeOfTheThirtyDaysIsNotDecided) {
  const int64_t edge = kNow - 30 * kDay;
  Dashboard full = busy(kNow);
  full.top_products[0].product_id = 1;
  for (int64_t at : {edge, edge + 500, edge + 998}) {
    Dashboard d = full;
    EXPECT_FALSE(
        apply_change(voided(bill(30, 3, at, 100, {{77, "P", 1, 100, 100}}), {product(77, 50)}), d))
        << at - edge;
  }
  Dashboard before = full;
  EXPECT_TRUE(apply_change(voided(bill(30, 3, edge - 1, 100, {{1, "P", 1, 100, 100}})), before))
      << "surely before the window: the top products stay";
  EXPECT_EQ(before.top_products[0].revenue, full.top_products[0].revenue);
  Dashboard inside = full;
  EXPECT_TRUE(apply_change(
      voided(bill(30, 3, edge + 999, 100, {{77, "P", 1, 100, 100}}), {product(77, 50)}), inside))
      << "surely inside, and product 77 is not known";
  Dashboard listed = full;
  EXPECT_FALSE(apply_change(voided(bill(30, 3, edge + 999, 100, {{1, "P", 1, 100, 100}})), listed))
      << "a known product falls, maybe below one not known";
}

TEST(ApplyChange, ASaleMovesTheTopProductsItCanAndNoMore) {
  Dashboard d = made_at(kNow);
  d.top_products = {{1, "Tea", 3, 300}, {2, "Jam", 2, 200}};
  ASSERT_TRUE(apply_change(
      sale(bill(5, 5, kNow, 0,
                {{2, "Jam", 2, 100, 200}, {3, "Oil", 1, 50, 50}, {2, "Jam", 1, 100, 100}}),
           {product(2, 50), product(3, 50)}),
      d));
  ASSERT_EQ(d.top_products.size(), 3u) << "not full: every product sold is listed";
  EXPECT_EQ(d.top_products[0].product_id, 2);
  EXPECT_EQ(d.top_products[0].quantity, 5);
  EXPECT_EQ(d.top_products[0].revenue, 500);
  EXPECT_EQ(d.top_products[2].product_id, 3);

  // Products 1 to 30 known (revenue 1990 down to 1700: the fifth 1950), the others at most 1690.
  Dashboard full = made_at(kNow);
  know_top(full, 1, 1690);
  Dashboard free = full;
  EXPECT_TRUE(
      apply_change(sale(bill(5, 5, kNow, 0, {{99, "P", 1, 0, 0}}), {product(99, 50)}), free))
      << "a product not known that gains no revenue stays out";
  Dashboard paid = full;
  ASSERT_TRUE(
      apply_change(sale(bill(5, 5, kNow, 200, {{99, "P", 1, 200, 200}}), {product(99, 50)}), paid))
      << "at most 1890 now";
  ASSERT_TRUE(
      apply_change(sale(bill(6, 6, kNow, 200, {{98, "P", 1, 200, 200}}), {product(98, 50)}), paid))
      << "another one: each has at most 1890";
  EXPECT_EQ(paid.top_products.back().product_id, 5);
  EXPECT_FALSE(
      apply_change(sale(bill(7, 7, kNow, 60, {{99, "P", 1, 60, 60}}), {product(99, 50)}), paid))
      << "at most 1950 now: it may come before the fifth, by its id";
  Dashboard renamed = full;
  EXPECT_FALSE(apply_change(sale(bill(5, 5, kNow, 50, {{1, "Q", 1, 50, 50}})), renamed))
      << "the largest of its names decides, by the database's collation";
  Dashboard tie = full;
  ASSERT_TRUE(
      apply_change(sale(bill(5, 5, kNow, 10, {{6, "P", 1, 10, 10}}), {product(6, 50)}), tie));
  EXPECT_EQ(tie.top_products[4].product_id, 5) << "a tie at 1950 goes to the lower id";
  ASSERT_TRUE(apply_change(sale(bill(6, 6, kNow, 1, {{6, "P", 1, 1, 1}}), {product(6, 50)}), tie));
  EXPECT_EQ(tie.top_products[4].product_id, 6) << "known below the five, it moves up into them";
  EXPECT_EQ(tie.top_more.front().product_id, 5);
  Dashboard overflow = made_at(kNow);
  know_top(overflow, 1, 0);
  overflow.top_more.pop_back();  // 29 known: every product sold
  ASSERT_TRUE(
      apply_change(sale(bill(5, 5, kNow, 0, {{70, "P", 1, 1800, 1800}, {71, "P", 1, 1650, 1650}}),
                        {product(70, 50), product(71, 50)}),
                   overflow));
  EXPECT_EQ(overflow.top_more.size(), 25u);
  EXPECT_EQ(overflow.top_ceiling, 1650) << "the 31st, which fell off, is known";
}

TEST(ApplyChange, TheLowStockListTakesTheBillsProductsInTheirPlace) {
  Dashboard d = made_at(kNow);
  d.low_stock = {product(1, 2), product(2, 5)};
  ASSERT_TRUE(
      apply_change(sale(bill(5, 5, kNow, 100, {{3, "P", 1, 100, 100}}), {product(3, 4)}), d));
  ASSERT_EQ(d.low_stock.size(), 3u);
  EXPECT_EQ(d.low_stock[1].id, 3) << "by stock, then id";

  Dashboard full = made_at(kNow);
  for (int64_t id = 1; id <= 50; ++id) full.low_stock.push_back(product(id, id % 10, 10));
  std::sort(full.low_stock.begin(), full.low_stock.end(), [](const Product& a, const Product& b) {
    return std::pair(a.stock, a.id) < std::pair(b.stock, b.id);
  });
  const Product last = full.low_stock.back();  // stock 9, id 49
  Dashboard in = full;
  ASSERT_TRUE(
      apply_change(sale(bill(5, 5, kNow, 100, {{99, "P", 1, 100, 100}}), {product(99, 0)}), in));
  EXPECT_EQ(in.low_stock.size(), 50u);
  EXPECT_EQ(in.low_stock[5].id, 99) << "after the five others with no stock, by id";
  EXPECT_NE(in.low_stock.back().id, last.id) << "the last one falls off";
  Dashboard beyond = full;
  ASSERT_TRUE(apply_change(sale(bill(5, 5, kNow, 100, {{99, "P", 1, 100, 100}}), {product(99, 10)}),
                           beyond));
  EXPECT_EQ(beyond.low_stock.back().id, last.id) << "after the last listed: stays out";
  Dashboard out = full;
  EXPECT_FALSE(apply_change(
      voided(bill(5, 5, kNow, 100, {{last.id, "P", 1, 100, 100}}), {product(last.id, 11)}), out))
      << "it leaves a full list: the next one is not known";
  Dashboard missing = full;
  EXPECT_FALSE(apply_change(sale(bill(5, 5, kNow, 100, {{99, "P", 1, 100, 100}}), {}), missing))
      << "the change must say what it left of every product";
}

TEST(ApplyChange, RecentBillsTakeASaleFirstAndLoseAVoidOnlyWhenNotFull) {
  Dashboard d = made_at(kNow);
  for (int64_t n = 10; n >= 1; --n) d.recent_bills.push_back(bill(n, n, kNow, 100));
  Dashboard sold = d;
  ASSERT_TRUE(apply_change(sale(bill(11, 11, kNow, 100)), sold));
  EXPECT_EQ(sold.recent_bills.size(), 10u);
  EXPECT_EQ(sold.recent_bills.front().id, 11);
  EXPECT_TRUE(sold.recent_bills.front().items.empty()) << "a summary";
  EXPECT_EQ(sold.recent_bills.back().id, 2);
  Dashboard older = busy(kNow);
  older.recent_bills = d.recent_bills;
  EXPECT_TRUE(apply_change(voided(bill(100, 0, kNow, 100)), older)) << "older than the tenth";
  Dashboard listed = older;
  EXPECT_FALSE(apply_change(voided(bill(5, 5, kNow, 100)), listed)) << "the eleventh moves in";
}

TEST(ApplyChange, AFirstPageOfBillsTakesWhatItsFilterSelects) {
  Page<Bill> page{{bill(8, 8, kNow, 1), bill(6, 6, kNow, 1), bill(5, 5, kNow, 1)}, 1, 3, 7};
  Page<Bill> sold = page;
  ASSERT_TRUE(apply_change(sale(bill(9, 9, kNow, 1)), {}, sold));
  EXPECT_EQ(sold.total, 8);
  EXPECT_EQ(sold.items.front().id, 9);
  EXPECT_EQ(sold.items.back().id, 6);
  Page<Bill> voids{{bill(4, 4, kNow, 1)}, 1, 3, 1};
  voids.items[0].status = "void";
  ASSERT_TRUE(apply_change(voided(bill(6, 6, kNow, 1)), {.status = "void"}, voids));
  EXPECT_EQ(voids.total, 2);
  EXPECT_EQ(voids.items.front().id, 6) << "in its place by number";
  Page<Bill> paid = page;
  EXPECT_FALSE(apply_change(voided(bill(6, 6, kNow, 1)), {.status = "paid"}, paid))
      << "it leaves a full page of a longer list: the next one is not known";
  Page<Bill> all = page;
  ASSERT_TRUE(apply_change(voided(bill(6, 6, kNow, 1)), {}, all));
  EXPECT_EQ(all.items[1].status, "void") << "replaced where it is";
  EXPECT_EQ(all.total, 7);
  Page<Bill> second = page;
  second.page = 2;
  EXPECT_FALSE(apply_change(sale(bill(9, 9, kNow, 1)), {}, second)) << "only first pages";
  Page<Bill> dated = page;
  EXPECT_FALSE(apply_change(sale(bill(9, 9, kNow, 1)), {.from = kNow - kDay}, dated));
}

}  // namespace
}  // namespace tajir::pos
