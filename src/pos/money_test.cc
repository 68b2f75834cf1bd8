#include "pos/money.h"

#include <gtest/gtest.h>

#include <random>

namespace tajir::pos {
namespace {

std::vector<BillLine> lines_of(size_t n, int64_t quantity, int64_t unit_price) {
  return std::vector<BillLine>(n, BillLine{quantity, unit_price});
}

TEST(BillAmounts, ComputesTotalsAndRoundsTaxHalfUp) {
  std::vector<BillLine> lines{{2, 1000}, {3, 300}};
  auto a = bill_amounts(lines, 150, 500);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->line_totals, (std::vector<int64_t>{2000, 900}));
  EXPECT_EQ(a->subtotal, 2900);
  EXPECT_EQ(a->tax, 138);  // 137.5 rounds up
  EXPECT_EQ(a->total, 2900 - 150 + 138);
}

TEST(BillAmounts, LineOverTheBillLimitNamesTheLine) {
  // The bill: 20 lines of 10^6 x 10^12 used to wrap.
  auto a = bill_amounts(lines_of(20, kMaxQuantity, kMaxMoney), 0, 0);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a.status().field(), "items[0]");
}

TEST(BillAmounts, SubtotalOverTheLimitNamesItems) {
  // Each line is 10^14 exactly (allowed); two of them are not.
  auto one = bill_amounts(lines_of(1, 100, kMaxMoney), 0, kMaxTaxRateBp);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->subtotal, kMaxSubtotal);
  EXPECT_EQ(one->tax, kMaxSubtotal);
  EXPECT_EQ(one->total, 2 * kMaxSubtotal);
  auto two = bill_amounts(lines_of(2, 100, kMaxMoney), 0, 0);
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.status().field(), "items");
}

TEST(BillAmounts, NoNegativeTaxAtTheLargestRate) {
  // The cashier bill: 4 lines of 300 at 10^12 with a 100% tax made a negative tax.
  auto a = bill_amounts(lines_of(4, 300, kMaxMoney), 0, kMaxTaxRateBp);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().field(), "items[0]");
}

TEST(BillAmounts, DiscountAboveSubtotalIsRefused) {
  std::vector<BillLine> lines{{1, 100}};
  auto a = bill_amounts(lines, 101, 0);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().field(), "discount");
  auto whole = bill_amounts(lines, 100, 10000);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->total, 0);
}

TEST(BillAmounts, InputsOutOfRangeNameTheirField) {
  std::vector<BillLine> ok{{1, 100}};
  EXPECT_EQ(bill_amounts({}, 0, 0).status().field(), "items");
  EXPECT_EQ(bill_amounts(lines_of(501, 1, 1), 0, 0).status().field(), "items");
  EXPECT_EQ(bill_amounts(ok, -1, 0).status().field(), "discount");
  EXPECT_EQ(bill_amounts(ok, kMaxMoney + 1, 0).status().field(), "discount");
  EXPECT_EQ(bill_amounts(ok, 0, 10001).status().field(), "tax_rate_bp");
  EXPECT_EQ(bill_amounts(ok, 0, -1).status().field(), "tax_rate_bp");
  std::vector<BillLine> bad_quantity{{1, 1}, {0, 1}};
  EXPECT_EQ(bill_amounts(bad_quantity, 0, 0).status().field(), "items[1].quantity");
  std::vector<BillLine> bad_price{{1, -5}};
  EXPECT_EQ(bill_amounts(bad_price, 0, 0).status().field(), "items[0].unit_price");
}

// Against a reference in 128-bit arithmetic: every accepted bill is exact, every refused one
// is one whose exact figures break a limit.
TEST(BillAmounts, AgreesWithExactArithmetic) {
  std::mt19937_64 rng(42);
  auto pick = [&](int64_t max) {
    switch (rng() % 3) {
      case 0:
        return static_cast<int64_t>(rng() % static_cast<uint64_t>(max + 1));
      case 1:
        return max - static_cast<int64_t>(rng() % 3);
      default:
        return static_cast<int64_t>(rng() % 1000);
    }
  };
  for (int round = 0; round < 20000; ++round) {
    std::vector<BillLine> lines(1 + rng() % 8);
    for (auto& l : lines) l = {std::max<int64_t>(1, pick(kMaxQuantity)), pick(kMaxMoney)};
    int64_t discount = pick(kMaxMoney), rate = pick(kMaxTaxRateBp);
    __int128 subtotal = 0;
    bool line_over = false;
    for (const auto& l : lines) {
      __int128 line = static_cast<__int128>(l.quantity) * l.unit_price;
      line_over |= line > kMaxSubtotal;
      subtotal += line;
    }
    bool valid = !line_over && subtotal <= kMaxSubtotal && discount <= subtotal;
    auto a = bill_amounts(lines, discount, rate);
    ASSERT_EQ(a.ok(), valid) << a.status().message();
    if (!valid) continue;
    __int128 tax = ((subtotal - discount) * rate + 5000) / 10000;
    EXPECT_EQ(a->subtotal, static_cast<int64_t>(subtotal));
    EXPECT_EQ(a->tax, static_cast<int64_t>(tax));
    EXPECT_EQ(a->total, static_cast<int64_t>(subtotal - discount + tax));
    EXPECT_GE(a->tax, 0);
  }
}

TEST(DiscountWithin, ComparesInBasisPointsOfTheSubtotal) {
  EXPECT_TRUE(discount_within(0, 1000, 0));
  EXPECT_FALSE(discount_within(1, 1000, 0));
  EXPECT_TRUE(discount_within(100, 1000, 1000));  // 10% of 1000
  EXPECT_FALSE(discount_within(101, 1000, 1000));
  EXPECT_TRUE(discount_within(kMaxMoney, kMaxSubtotal, 10000));
  EXPECT_FALSE(discount_within(kMaxMoney, kMaxMoney - 1, 10000));
}

}  // namespace
}  // namespace tajir::pos
