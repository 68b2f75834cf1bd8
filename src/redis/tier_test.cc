#include "redis/tier.h"

#include <gtest/gtest.h>

#include <thread>

#include "redis/test_server.h"

namespace tajir::redis {
namespace {

using std::chrono::milliseconds;

TierOptions options(const RedisTestServer& s) {
  return {.client = s.fast_client(),
          .sample_interval = milliseconds(0)};  // the tests call repair() and sample()
}

const std::vector<std::string> kTags{"type:products", "shop:1", "product:1:7", "plist:1"};

Fill fill_of(std::string_view body, int64_t deadline = 0) {
  return {.body = body,
          .tags = &kTags,
          .shop_tags = {"shop:1", "product:1:7", "plist:1"},
          .ttl = milliseconds(60'000),
          .wall_deadline_ms = deadline};
}

// A miss's ticket, then a store under it.
void fill(Tier& t, std::string_view key, std::string_view body) {
  Lookup l = t.get(1, key);
  ASSERT_TRUE(l.ticket.has_value());
  t.put(*l.ticket, key, fill_of(body));
}

// Calls f until it returns true (at most 2 s): past a reconnect's backoff.
template <typename F>
bool eventually(F f) {
  for (int i = 0; i < 200; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return false;
}

TEST(RedisTier, AStoredValueIsFoundWithItsTags) {
  RedisTestServer server;
  Tier t(options(server));
  fill(t, "1|products|/api/products/7", "{\"id\":7}");
  Lookup l = t.get(1, "1|products|/api/products/7");
  ASSERT_TRUE(l.found.has_value());
  EXPECT_EQ(l.found->body, "{\"id\":7}");
  EXPECT_EQ(l.found->tags, kTags);
  EXPECT_GT(l.found->ttl.count(), 0);
  EXPECT_LE(l.found->ttl.count(), 60'000);
  EXPECT_EQ(t.stats().hits, 1u);
  EXPECT_EQ(t.stats().stores, 1u);
}

TEST(RedisTier, InvalidatingOneOfItsTagsMakesAValueUnreadable) {
  RedisTestServer server;
  Tier t(options(server));
  fill(t, "k7", "seven");
  fill(t, "k8", "eight");  // with the same tags
  ASSERT_TRUE(t.invalidate({{1, {"product:1:7"}}}));
  EXPECT_FALSE(t.get(1, "k7").found.has_value());
  EXPECT_FALSE(t.get(1, "k8").found.has_value());  // it carries product:1:7 too
  // A tag no value carries leaves them be; a new fill is found again.
  fill(t, "k7", "seven again");
  ASSERT_TRUE(t.invalidate({{1, {"product:1:99"}}}));
  ASSERT_TRUE(t.get(1, "k7").found.has_value());
  EXPECT_EQ(t.get(1, "k7").found->body, "seven again");
}

TEST(RedisTier, AnotherShopsInvalidationLeavesAValue) {
  RedisTestServer server;
  Tier t(options(server));
  fill(t, "k7", "seven");
  ASSERT_TRUE(t.invalidate({{2, {"product:1:7", "shop:2"}}}));  // shop 2's keys, not shop 1's
  EXPECT_TRUE(t.get(1, "k7").found.has_value());
}

TEST(RedisTier, AFillIsRefusedWhenItsShopWasInvalidatedDuringItsLoad) {
  RedisTestServer server;
  Tier t(options(server));
  Lookup l = t.get(1, "k7");
  ASSERT_TRUE(l.ticket.has_value());
  // The write commits and invalidates while the fill loads the old row...
  ASSERT_TRUE(t.invalidate({{1, {"product:1:7"}}}));
  // ...and its store then comes too late.
  t.put(*l.ticket, "k7", fill_of("old"));
  EXPECT_FALSE(t.get(1, "k7").found.has_value());
  EXPECT_EQ(t.stats().stale_stores, 1u);
  EXPECT_EQ(t.stats().stores, 0u);
}

TEST(RedisTier, AValuePastItsWallDeadlineIsNotServed) {
  RedisTestServer server;
  Tier t(options(server));
  Lookup l = t.get(1, "dash");
  ASSERT_TRUE(l.ticket.has_value());
  const int64_t soon =
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count() +
      300;
  t.put(*l.ticket, "dash", fill_of("today", soon));
  EXPECT_TRUE(t.get(1, "dash").found.has_value());
  EXPECT_TRUE(eventually([&] { return !t.get(1, "dash").found.has_value(); }));
}

TEST(RedisTier, AVersionKeyOutlivesTheValuesThatRecordIt) {
  RedisTestServer server;
  Tier t(options(server));
  fill(t, "k7", "seven");
  Client c(options(server).client);
  auto value_ttl = c.command({"PTTL", "{s1}:v:k7"});
  auto version_ttl = c.command({"PTTL", "{s1}:tv:product:1:7"});
  ASSERT_TRUE(value_ttl.ok() && version_ttl.ok());
  EXPECT_GT(value_ttl->integer, 0);
  EXPECT_GT(version_ttl->integer, value_ttl->integer);
  // Every key of the shop is in its hash tag's slot.
  auto keys = c.command({"KEYS", "*"});
  ASSERT_TRUE(keys.ok());
  for (const Reply& k : keys->elements) EXPECT_TRUE(k.str.starts_with("{s1}:")) << k.str;
}

TEST(RedisTier, ADownRedisIsBypassedWithoutErrorsReachingTheCaller) {
  RedisTestServer server;
  Tier t(options(server));
  fill(t, "k7", "seven");
  server.kill();
  Lookup l = t.get(1, "k7");
  EXPECT_FALSE(l.found.has_value());
  EXPECT_FALSE(l.ticket.has_value());  // no ticket: the fill is not stored
  EXPECT_GE(t.stats().errors, 1u);
  EXPECT_EQ(t.stats().state, TierState::kDown);
  server.start();  // empty: persistence is off
  EXPECT_TRUE(eventually([&] { return t.get(1, "k7").ticket.has_value(); }));
  EXPECT_EQ(t.stats().state, TierState::kUp);
}

// The case the generation is for: an invalidation that did not reach Redis, and a Redis that
// comes back with the value it dropped still in it (its append-only file).
TEST(RedisTier, AMissedInvalidationStopsReadsUntilTheGenerationIsRaised) {
  RedisTestServer server(/*append_only=*/true);
  Tier t(options(server));
  fill(t, "k7", "old");
  server.kill();
  EXPECT_FALSE(t.invalidate({{1, {"product:1:7"}}}));  // the write's invalidation is lost
  EXPECT_EQ(t.stats().pending_shops, 1u);
  server.start();  // with "old" still in it, its versions unchanged
  // Reachable, but not read (nor written) until repaired.
  Lookup l = t.get(1, "k7");
  EXPECT_FALSE(l.found.has_value());
  EXPECT_FALSE(l.ticket.has_value());
  EXPECT_GE(t.stats().bypassed, 1u);
  ASSERT_TRUE(eventually([&] { return t.repair(); }));
  EXPECT_EQ(t.stats().state, TierState::kUp);
  Lookup after = t.get(1, "k7");
  EXPECT_FALSE(after.found.has_value()) << "a value the lost invalidation dropped was served";
  EXPECT_TRUE(after.ticket.has_value());
  EXPECT_EQ(t.stats().generations_raised, 1u);
}

TEST(RedisTier, AFillWhoseTicketPredatesARepairIsRefused) {
  RedisTestServer server(/*append_only=*/true);
  Tier t(options(server));
  Lookup l = t.get(1, "k7");
  ASSERT_TRUE(l.ticket.has_value());
  server.kill();
  EXPECT_FALSE(t.invalidate({{1, {"product:1:7"}}}));
  server.start();
  ASSERT_TRUE(eventually([&] { return t.repair(); }));
  t.put(*l.ticket, "k7", fill_of("old"));  // loaded before the lost invalidation
  EXPECT_FALSE(t.get(1, "k7").found.has_value());
  EXPECT_EQ(t.stats().stale_stores, 1u);
}

TEST(RedisTier, ARedisThatMayEvictVersionsIsNotUsed) {
  RedisTestServer server(false, {"--maxmemory-policy", "allkeys-lru"});
  Tier t(options(server));
  Lookup l = t.get(1, "k7");
  EXPECT_FALSE(l.found.has_value());
  EXPECT_FALSE(l.ticket.has_value());  // bypassed: nothing is stored either
  EXPECT_EQ(t.stats().state, TierState::kEvicting);
  Client c(options(server).client);
  ASSERT_TRUE(c.command({"CONFIG", "SET", "maxmemory-policy", "volatile-lru"}).ok());
  t.sample();
  EXPECT_TRUE(t.get(1, "k7").ticket.has_value());
  EXPECT_EQ(t.stats().state, TierState::kUp);
}

TEST(RedisTier, SamplesRedisMemory) {
  RedisTestServer server;
  Tier t(options(server));
  EXPECT_FALSE(t.stats().used_memory.has_value());
  t.sample();
  ASSERT_TRUE(t.stats().used_memory.has_value());
  EXPECT_GT(*t.stats().used_memory, 0u);
  EXPECT_GE(*t.stats().used_memory_peak, *t.stats().used_memory);
}

TEST(RedisTier, OnAClusterEachShopIsServedByItsMasterAndInvalidatedAcrossMasters) {
  RedisTestCluster cluster;
  ASSERT_TRUE(cluster.ok());
  Tier t({.client = cluster.fast_client(), .sample_interval = milliseconds(0)});
  constexpr int kShops = 40;
  for (int shop = 1; shop <= kShops; ++shop) {
    Lookup l = t.get(shop, "k");
    ASSERT_TRUE(l.ticket.has_value()) << shop;
    t.put(*l.ticket, "k", fill_of("body" + std::to_string(shop)));
  }
  for (int shop = 1; shop <= kShops; ++shop) {
    Lookup l = t.get(shop, "k");
    ASSERT_TRUE(l.found.has_value()) << shop;
    EXPECT_EQ(l.found->body, "body" + std::to_string(shop));
  }
  // One invalidation of every even shop: one pipeline, split over the masters.
  std::vector<ShopTags> groups;
  for (int shop = 2; shop <= kShops; shop += 2) groups.push_back({shop, {"product:1:7"}});
  ASSERT_TRUE(t.invalidate(groups));
  for (int shop = 1; shop <= kShops; ++shop)
    EXPECT_EQ(t.get(shop, "k").found.has_value(), shop % 2 == 1) << shop;
  EXPECT_EQ(t.stats().pending_shops, 0u);
  t.sample();
  const TierStats s = t.stats();
  EXPECT_TRUE(s.cluster);
  EXPECT_EQ(s.masters, 3u);
  EXPECT_EQ(s.state, TierState::kUp);
  ASSERT_TRUE(s.used_memory.has_value());
  // Three masters' memory, summed: more than any one of them uses.
  Client one(cluster.node(0).fast_client());
  auto info = one.command({"INFO", "memory"});
  ASSERT_TRUE(info.ok());
  EXPECT_GT(*s.used_memory, 2u * static_cast<uint64_t>(std::stoll(
                                     info->str.substr(info->str.find("used_memory:") + 12))));
}

}  // namespace
}  // namespace tajir::redis
