#include "api/shop_stats.h"

#include <gtest/gtest.h>

#include <thread>

#include "pos/cache_map.h"

namespace tajir::api {
namespace {

using namespace std::chrono_literals;
using Outcome = ShopStats::Outcome;

// A cache with no background thread: the test records the history points.
cache::Options manual() { return {.shards = 4, .default_ttl = 0ms, .maintenance_interval = 0ms}; }

void get(ShopStats& s, int64_t shop, cache::TypeId type, Outcome o) {
  s.end(s.begin(shop), type, o);
}

TEST(ShopStats, CountsEachShopApartPerType) {
  cache::Cache c(manual());
  ShopStats s(&c);
  get(s, 1, 2, Outcome::kHit);
  get(s, 1, 2, Outcome::kHit);
  get(s, 1, 3, Outcome::kMiss);
  get(s, 1, 3, Outcome::kError);
  get(s, 2, 2, Outcome::kMiss);

  ShopStats::Counts one = s.counts(1), two = s.counts(2), none = s.counts(3);
  EXPECT_EQ(one.hits[2], 2u);
  EXPECT_EQ(one.misses[3], 1u);
  EXPECT_EQ(one.errors[3], 1u);
  EXPECT_EQ(one.total_hits(), 2u);
  EXPECT_EQ(one.total_misses(), 1u);
  EXPECT_EQ(two.total_hits(), 0u) << "shop 1's hits are not shop 2's";
  EXPECT_EQ(two.misses[2], 1u);
  EXPECT_EQ(none.total_hits() + none.total_misses(), 0u);
  EXPECT_EQ(s.all_shops().total_hits(), 2u);
  EXPECT_EQ(s.all_shops().total_misses(), 2u);
}

TEST(ShopStats, TimesTheHitsOfAShopsFirstLookupsThenOneIn64) {
  cache::Cache c(manual());
  ShopStats s(&c);
  EXPECT_FALSE(s.counts(1).latency_us().has_value()) << "no hit timed yet";
  int timed = 0;
  for (int i = 0; i < 64 * 4; ++i) {
    ShopStats::Lookup l = s.begin(1);
    timed += l.timed;
    s.end(l, 1, Outcome::kHit);
  }
  EXPECT_EQ(timed, 64 + 3);
  EXPECT_EQ(s.counts(1).latency_samples, 64u + 3u);
  EXPECT_GE(*s.counts(1).latency_us(), 0.0);
  ShopStats::Lookup miss = s.begin(2);
  ASSERT_TRUE(miss.timed);
  s.end(miss, 1, Outcome::kMiss);
  EXPECT_EQ(s.counts(2).latency_samples, 0u) << "a miss's time is the database's, not the cache's";
}

TEST(ShopStats, UsageIsTheLiveEntriesOfTheShopsTag) {
  cache::Cache c(manual());
  ShopStats s(&c);
  const cache::TypeId products = c.register_type("products");
  c.put("4|a", "v", {.tags = {pos::CacheMap::shop_tag(4)}, .type = products});
  c.put("42|a", "v", {.tags = {pos::CacheMap::shop_tag(42)}, .type = products});
  c.put("42|b", "v", {.tags = {pos::CacheMap::shop_tag(42)}, .type = products});
  EXPECT_EQ(s.usage(4).keys[products], 1u) << "shop 4's, not shop 42's";
  EXPECT_EQ(s.usage(42).keys[products], 2u);
  EXPECT_EQ(s.usage(42).memory_bytes[products],
            c.stats().total.memory_bytes - s.usage(4).memory_bytes[products]);
  EXPECT_EQ(s.usage(5).keys[products], 0u);
}

TEST(ShopStats, HistoryHasEachShopsOwnPointsAndTheIntervalInProgress) {
  cache::Cache c(manual());
  ShopStats s(&c);
  const cache::TypeId products = c.register_type("products");
  EXPECT_EQ(s.history(1, 60).size(), 1u) << "only the interval in progress";

  get(s, 1, products, Outcome::kHit);
  get(s, 1, products, Outcome::kMiss);
  c.put("1|a", "v", {.tags = {pos::CacheMap::shop_tag(1)}, .type = products});
  c.put("3|a", "v",
        {.tags = {pos::CacheMap::shop_tag(3)}, .type = products});  // warmed, never read
  s.record_point();
  get(s, 1, products, Outcome::kHit);
  get(s, 2, products, Outcome::kHit);
  s.record_point();
  get(s, 1, products, Outcome::kHit);
  get(s, 1, products, Outcome::kHit);

  auto one = s.history(1, 60);
  ASSERT_EQ(one.size(), 3u);
  EXPECT_EQ(one[0].hits, 1u);
  EXPECT_EQ(one[0].misses, 1u);
  EXPECT_EQ(one[0].keys, 1u);
  EXPECT_GT(one[0].memory_bytes, 0u);
  EXPECT_FALSE(one[0].partial);
  EXPECT_EQ(one[1].hits, 1u);
  EXPECT_EQ(one[1].misses, 0u);
  EXPECT_TRUE(one[2].partial);
  EXPECT_EQ(one[2].hits, 2u) << "the interval in progress counts since the last point";
  EXPECT_EQ(one[2].keys, 1u);
  EXPECT_LE(one[0].at_ms, one[1].at_ms);

  auto two = s.history(2, 60);
  ASSERT_EQ(two.size(), 3u) << "every shop has a point per interval";
  EXPECT_EQ(two[0].hits + two[0].misses + two[0].keys, 0u) << "none of shop 1's figures";
  EXPECT_EQ(two[1].hits, 1u);
  EXPECT_EQ(two[2].hits, 0u);

  auto three = s.history(3, 60);
  EXPECT_EQ(three[0].keys, 1u) << "a shop with entries and no read has its keys recorded";
  EXPECT_EQ(three[0].hits, 0u);

  EXPECT_EQ(s.history(1, 1).size(), 2u) << "the last point and the one in progress";
  EXPECT_EQ(s.history(1, 1)[0].hits, 1u);
}

TEST(ShopStats, TheRingKeepsTheCachesNumberOfPoints) {
  cache::Options o = manual();
  o.history_points = 3;
  cache::Cache c(o);
  ShopStats s(&c);
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j <= i; ++j) get(s, 7, 1, Outcome::kHit);
    s.record_point();
  }
  auto h = s.history(7, 100);
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h[0].hits, 3u);
  EXPECT_EQ(h[2].hits, 5u);
}

TEST(ShopStats, TheBackgroundThreadRecordsAPointPerInterval) {
  cache::Cache c({.history_interval = 20ms});
  ShopStats s(&c);
  get(s, 1, 1, Outcome::kHit);
  for (int i = 0; i < 200 && s.history(1, 100).size() < 3; ++i) std::this_thread::sleep_for(10ms);
  auto h = s.history(1, 100);
  ASSERT_GE(h.size(), 3u);
  EXPECT_EQ(h[0].hits, 1u);
}

TEST(ShopStats, CountingFromManyThreadsLosesNothing) {
  cache::Cache c(manual());
  ShopStats s(&c);
  std::vector<std::jthread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&s, t] {
      for (int i = 0; i < 10'000; ++i)
        get(s, 1 + (i + t) % 50, 1, i % 3 == 0 ? Outcome::kMiss : Outcome::kHit);
    });
  }
  threads.clear();
  EXPECT_EQ(s.all_shops().total_hits() + s.all_shops().total_misses(), 40'000u);
  uint64_t by_shop = 0;
  for (int shop = 1; shop <= 50; ++shop)
    by_shop += s.counts(shop).total_hits() + s.counts(shop).total_misses();
  EXPECT_EQ(by_shop, 40'000u);
}

TEST(ShopStats, CachingOffCountsNothingAndHasNoHistory) {
  ShopStats s(nullptr);
  EXPECT_TRUE(s.history(1, 60).empty());
  EXPECT_EQ(s.usage(1).keys[0], 0u);
}

}  // namespace
}  // namespace tajir::api
