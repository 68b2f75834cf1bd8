#include "loadgen/oracle.h"

#include <gtest/gtest.h>

#include <thread>

namespace tajir::loadgen {
namespace {

TEST(Oracle, ProductReadIsFreshUntilAnAcknowledgedBillLowersTheBound) {
  Oracle o;
  o.add_product(1, 7, {.price = 1250, .stock = 40});
  uint64_t before = o.now();
  EXPECT_TRUE(o.check_product(before, 1, 7, 1250, 40));
  o.bill_acknowledged(1, {.number = 1, .total = 2500, .customer_id = 0, .lines = {{7, 2}}});
  EXPECT_TRUE(o.check_product(before, 1, 7, 1250, 40)) << "began before the bill was acknowledged";
  EXPECT_FALSE(o.check_product(o.now(), 1, 7, 1250, 40)) << "stock 40 after selling 2 of 40";
  EXPECT_TRUE(o.check_product(o.now(), 1, 7, 1250, 38));
  EXPECT_TRUE(o.check_product(o.now(), 1, 7, 1250, 35)) << "a later bill may already show";
  EXPECT_EQ(o.stale_count(), 1u);
  ASSERT_EQ(o.stale().size(), 1u);
  EXPECT_NE(o.stale()[0].find("product 7"), std::string::npos);
}

TEST(Oracle, PriceEditsRaiseTheLowerBound) {
  Oracle o;
  o.add_product(1, 7, {.price = 1000, .stock = 5});
  o.price_acknowledged(1, 7, 1010);
  EXPECT_EQ(o.product(1, 7).price, 1010);
  EXPECT_FALSE(o.check_product(o.now(), 1, 7, 1000, 5));
  EXPECT_TRUE(o.check_product(o.now(), 1, 7, 1010, 5));
}

TEST(Oracle, BillsRaiseCustomerTotalsAndTheShopsCounts) {
  Oracle o;
  o.add_shop(1, {.bills = 10, .revenue = 5000, .last_number = 10});
  o.add_customer(1, 3, {.bill_count = 2, .total_spent = 900, .notes_version = 0});
  uint64_t before = o.now();
  o.bill_acknowledged(1, {.number = 11, .total = 300, .customer_id = 3, .lines = {}});
  uint64_t after = o.now();
  EXPECT_TRUE(o.check_customer(before, 1, 3, {2, 900, 0}));
  EXPECT_FALSE(o.check_customer(after, 1, 3, {2, 900, 0}));
  EXPECT_TRUE(o.check_customer(after, 1, 3, {3, 1200, 0}));
  EXPECT_TRUE(o.check_dashboard(before, 1, 10, 5000));
  EXPECT_FALSE(o.check_dashboard(after, 1, 10, 5000));
  EXPECT_TRUE(o.check_dashboard(after, 1, 11, 5300));
  EXPECT_FALSE(o.check_newest_bill(after, 1, 10));
  EXPECT_TRUE(o.check_newest_bill(after, 1, 11));
  o.notes_acknowledged(1, 3, 4);
  EXPECT_FALSE(o.check_customer(o.now(), 1, 3, {3, 1200, 3}));
  EXPECT_EQ(o.stale_count(), 4u);
}

TEST(Oracle, EntitiesWithoutABaselineAreNotChecked) {
  Oracle o;
  EXPECT_TRUE(o.check_product(o.now(), 9, 1, 0, 1000));
  EXPECT_EQ(o.checks(), 0u);
}

TEST(Oracle, ConcurrentAcknowledgementsAndChecks) {
  Oracle o;
  o.add_product(1, 1, {.price = 0, .stock = 100000});
  std::thread writer([&] {
    for (int i = 0; i < 10000; ++i)
      o.bill_acknowledged(1, {.number = i + 1, .total = 1, .customer_id = 0, .lines = {{1, 1}}});
  });
  // A reader that always shows the newest acknowledged stock is never stale.
  for (int i = 0; i < 10000; ++i) {
    uint64_t t = o.now();
    EXPECT_TRUE(o.check_product(t, 1, 1, 0, o.product(1, 1).stock));
  }
  writer.join();
  EXPECT_EQ(o.product(1, 1).stock, 90000);
}

}  // namespace
}  // namespace tajir::loadgen
