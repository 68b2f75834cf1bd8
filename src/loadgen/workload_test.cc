#include "loadgen/workload.h"

#include <gtest/gtest.h>

#include <vector>

namespace tajir::loadgen {
namespace {

TEST(Zipf, RankZeroIsTheMostPopularAndFrequenciesFollowThePowerLaw) {
  Zipf z(100, 1.0);
  std::mt19937_64 rng(1);
  std::vector<int> seen(100);
  constexpr int kDraws = 200000;
  for (int i = 0; i < kDraws; ++i) ++seen[z(rng)];
  // P(0) / P(1) = 2 for s = 1; P(0) = 1 / H(100) = 0.193.
  EXPECT_NEAR(static_cast<double>(seen[0]) / seen[1], 2.0, 0.1);
  EXPECT_NEAR(static_cast<double>(seen[0]) / kDraws, 0.193, 0.01);
  EXPECT_GT(seen[99], 0);
}

TEST(Mix, PosDayIsAboutEightyPercentReadsFifteenBillsFiveEdits) {
  Mix m = Mix::pos_day();
  double reads = 0;
  for (size_t i = 0; i < kNumOps; ++i) {
    if (is_read(static_cast<Op>(i))) reads += m.share(static_cast<Op>(i));
  }
  EXPECT_NEAR(reads, 0.80, 1e-9);
  EXPECT_NEAR(m.share(Op::kCreateBill), 0.15, 1e-9);
  EXPECT_NEAR(m.share(Op::kEditPrice) + m.share(Op::kEditCustomer), 0.05, 1e-9);
  std::mt19937_64 rng(2);
  int bills = 0;
  for (int i = 0; i < 100000; ++i) bills += m(rng) == Op::kCreateBill;
  EXPECT_NEAR(bills / 100000.0, 0.15, 0.01);
}

TEST(Weighted, NeverPicksAZeroWeight) {
  Weighted w({0, 1, 0, 3});
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10000; ++i) {
    size_t k = w(rng);
    EXPECT_TRUE(k == 1 || k == 3) << k;
  }
}

TEST(Rhythm, ADayCompressedHasAQuietNightTwoRushesAndItsOwnBestSellersEachHour) {
  const Rhythm r(1000);                                   // an hour a second
  const int64_t midnight = 86'400'000LL * 20'000 / 3600;  // a compressed midnight
  EXPECT_EQ(r.hour_of_day(midnight), 0);
  EXPECT_EQ(r.hour_of_day(midnight + 9'500), 9);
  EXPECT_DOUBLE_EQ(r.into_hour(midnight + 9'500), 0.5);
  EXPECT_TRUE(r.busy(midnight + 9'500));
  EXPECT_TRUE(r.busy(midnight + 17'000));
  EXPECT_FALSE(r.busy(midnight + 3'000));
  EXPECT_LT(r.share(midnight + 3'000), 0.05);
  EXPECT_EQ(r.item(0, 240, midnight + 9'000), 90u);  // hour 9: ranks move by 90
  EXPECT_EQ(r.item(0, 240, midnight + 17'000), 170u);
  EXPECT_EQ(r.item(239, 240, midnight + 9'000), 89u);
  EXPECT_EQ(r.hour_of_day(midnight + 24'000), 0);  // and the days repeat
}

}  // namespace
}  // namespace tajir::loadgen
