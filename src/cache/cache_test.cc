#include "cache/cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xxhash.h>

#include <barrier>
#include <future>
#include <latch>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace tajir::cache {
namespace {

using namespace std::chrono_literals;
using ::testing::UnorderedElementsAre;

// A cache for deterministic tests: one shard, LRU, no background thread, time from `clock`.
Options test_options(const ManualClock* clock, uint64_t limit = 64 << 20,
                     const char* policy = "lru") {
  return Options{.memory_limit_bytes = limit,
                 .shards = 1,
                 .policy = policy,
                 .default_ttl = 0ms,
                 .ttl_jitter = 0,
                 .codec = Codec::kNone,
                 .maintenance_interval = 0ms,
                 .clock = clock};
}

std::string get_str(Cache& c, std::string_view key) {
  auto v = c.get(key);
  return v ? **v : "<miss>";
}

// Hits on an LRU take the shard's lock (a hit moves the entry in a list); on the tajir policy
// they take none (Cache::hit_unlocked). Tests of what a hit does run on both.
constexpr const char* kBothHitPaths[] = {"lru", "tajir"};

// --- 1. get, put, erase, clear, TTL -------------------------------------------------------

TEST(Cache, GetPutEraseClear) {
  for (const char* policy : kBothHitPaths) {
    SCOPED_TRACE(policy);
    ManualClock clock;
    Cache c(test_options(&clock, 64 << 20, policy));
    EXPECT_FALSE(c.get("a").has_value());
    EXPECT_EQ(c.put("a", "1"), PutResult::kStored);
    EXPECT_EQ(c.put("b", "2"), PutResult::kStored);
    EXPECT_EQ(get_str(c, "a"), "1");
    EXPECT_EQ(c.put("a", "one"), PutResult::kStored);  // replaces
    EXPECT_EQ(get_str(c, "a"), "one");
    EXPECT_TRUE(c.erase("a"));
    EXPECT_FALSE(c.erase("a"));
    EXPECT_EQ(get_str(c, "a"), "<miss>");
    EXPECT_EQ(c.clear(), 1u);
    EXPECT_EQ(get_str(c, "b"), "<miss>");
    EXPECT_EQ(c.stats().total.keys, 0u);
    EXPECT_EQ(c.stats().total.memory_bytes, 0u);
  }
}

TEST(Cache, HitHandsOutTheStoredBytesWithoutCopying) {
  for (const char* policy : kBothHitPaths) {
    SCOPED_TRACE(policy);
    ManualClock clock;
    Cache c(test_options(&clock, 64 << 20, policy));
    ASSERT_EQ(c.put("k", std::string(512, 'x')), PutResult::kStored);
    auto a = c.get("k");
    auto b = c.get("k");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->get(), b->get()) << "both hits share one buffer";
    c.erase("k");
    EXPECT_EQ(**a, std::string(512, 'x')) << "a reader's value outlives the entry";
  }
}

TEST(Cache, ExpiredEntriesAreNeverReturned) {
  for (const char* policy : kBothHitPaths) {
    SCOPED_TRACE(policy);
    ManualClock clock;
    Cache c(test_options(&clock, 64 << 20, policy));
    ASSERT_EQ(c.put("k", "v", {.ttl = 10s}), PutResult::kStored);
    ASSERT_EQ(c.put("forever", "v", {.ttl = 0s}), PutResult::kStored);
    clock.advance(9999ms);
    EXPECT_EQ(get_str(c, "k"), "v");
    clock.advance(1ms);
    EXPECT_EQ(get_str(c, "k"), "<miss>");
    EXPECT_EQ(c.stats().total.expirations, 1u);
    clock.advance(1000h);
    EXPECT_EQ(get_str(c, "forever"), "v");
  }
}

// A value that ends at a time of day (the API's dashboard, at the shop's midnight) carries a
// wall deadline: the monotonic clock that TTLs run on does not see the wall clock step forward,
// nor time a VM spent suspended.
// test_options(), with the wall clock read from `wall_ms`.
Options wall_clock_options(const ManualClock* clock, const std::atomic<int64_t>* wall_ms) {
  Options o = test_options(clock);
  o.wall_clock_ms = [wall_ms] { return wall_ms->load(); };
  return o;
}

TEST(Cache, AWallDeadlineEndsAnEntryWhenTheWallClockPassesIt) {
  for (const char* policy : kBothHitPaths) {
    SCOPED_TRACE(policy);
    ManualClock clock;
    std::atomic<int64_t> wall_ms{1'750'000'000'000};
    Options o = wall_clock_options(&clock, &wall_ms);
    o.policy = policy;
    Cache c(o);
    const int64_t midnight = wall_ms + 3'600'000;
    ASSERT_EQ(c.put("dash", "today", {.ttl = 1h, .wall_deadline_ms = midnight}),
              PutResult::kStored);
    ASSERT_EQ(c.put("plain", "v", {.ttl = 1h}), PutResult::kStored);
    ASSERT_EQ(c.put("tagged", "today", {.tags = {"d"}, .ttl = 1h, .wall_deadline_ms = midnight}),
              PutResult::kStored);
    wall_ms = midnight - 1;
    EXPECT_EQ(get_str(c, "dash"), "today");
    wall_ms = midnight;  // the wall clock steps to midnight; no monotonic time passed
    EXPECT_EQ(get_str(c, "dash"), "<miss>") << "yesterday's today served past midnight";
    EXPECT_EQ(c.invalidate_tags({"d"}), 0u) << "an entry past its deadline is not invalidated";
    Stats st = c.stats();
    EXPECT_EQ(st.total.expirations, 2u);
    EXPECT_EQ(st.total.misses, 1u);
    EXPECT_EQ(st.total.keys, 1u) << "the entries are removed";
    EXPECT_EQ(get_str(c, "plain"), "v") << "an entry without a deadline ignores the wall clock";
  }
}

TEST(Cache, ALoadersWallDeadlineEndsTheEntryWhileItsTtlStillRuns) {
  ManualClock clock;
  std::atomic<int64_t> wall_ms{1'750'000'000'000};
  Cache c(wall_clock_options(&clock, &wall_ms));
  int day = 1;
  auto dashboard = [&]() -> Result<Loaded> {
    return Loaded{"day " + std::to_string(day), {}, 24h, wall_ms + 60'000};
  };
  auto first = c.get_or_fill("dash", dashboard);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first->value, "day 1");
  // The VM is suspended over midnight: two hours pass on the wall, one second on the monotonic
  // clock, so the 24-hour TTL is far from over.
  clock.advance(1s);
  wall_ms += 2 * 3'600'000;
  day = 2;
  auto next = c.get_or_fill("dash", dashboard);
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->hit);
  EXPECT_EQ(*next->value, "day 2");
  EXPECT_EQ(get_str(c, "dash"), "day 2");
  EXPECT_EQ(c.stats().total.expirations, 1u);
}

TEST(Cache, DefaultTtlAppliesAndJitterOnlyShortens) {
  ManualClock clock;
  Options o = test_options(&clock);
  o.default_ttl = 100s;
  o.ttl_jitter = 0.5;
  Cache c(o);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(c.put("k" + std::to_string(i), "v"), PutResult::kStored);
  clock.advance(50s - 1ms);
  EXPECT_EQ(c.run_maintenance(), 0u) << "jitter never shortens by more than 50%";
  clock.advance(25s);
  size_t early = c.run_maintenance();
  EXPECT_GT(early, 20u) << "jitter spreads expiries";
  EXPECT_LT(early, 180u);
  clock.advance(25s + 1ms);
  EXPECT_EQ(early + c.run_maintenance(), 200u) << "no TTL is extended";
}

// What --auto-tune changes: entries stored afterwards get the new default TTL, those stored
// before keep theirs.
TEST(Cache, ANewDefaultTtlAppliesToWhatIsStoredFromThen) {
  ManualClock clock;
  Options o = test_options(&clock);
  o.default_ttl = 100s;
  Cache c(o);
  ASSERT_EQ(c.put("before", "v"), PutResult::kStored);
  c.set_default_ttl(10s);
  EXPECT_EQ(c.default_ttl(), 10s);
  EXPECT_EQ(c.options().default_ttl, 100s);
  ASSERT_EQ(c.put("after", "v"), PutResult::kStored);
  clock.advance(10s + 1ms);
  EXPECT_FALSE(c.get("after").has_value());
  EXPECT_TRUE(c.get("before").has_value());
  clock.advance(90s);
  EXPECT_FALSE(c.get("before").has_value());
}

TEST(Cache, TtlsLongerThanTheExpiryWheelAreReclaimedOnTime) {
  ManualClock clock;
  Cache c(test_options(&clock));
  ASSERT_EQ(c.put("long", "v", {.ttl = std::chrono::hours(3)}), PutResult::kStored);
  ASSERT_EQ(c.put("short", "v", {.ttl = 5s}), PutResult::kStored);
  for (int minute = 1; minute < 180; ++minute) {  // the reaper runs every minute for 3 hours
    clock.advance(std::chrono::minutes(1));
    size_t n = c.run_maintenance();
    ASSERT_EQ(n, minute == 1 ? 1u : 0u) << "minute " << minute;
  }
  EXPECT_EQ(get_str(c, "long"), "v");
  clock.advance(std::chrono::minutes(1));
  EXPECT_EQ(c.run_maintenance(), 1u);
  EXPECT_EQ(c.stats().total.keys, 0u);
}

TEST(Cache, BackgroundThreadReclaimsExpiredMemory) {
  ManualClock clock;
  Options o = test_options(&clock);
  o.maintenance_interval = 5ms;
  Cache c(o);
  for (int i = 0; i < 1000; ++i) c.put("k" + std::to_string(i), std::string(100, 'v'), {.ttl = 1s});
  EXPECT_GT(c.stats().total.memory_bytes, 100'000u);
  clock.advance(2s);
  for (int i = 0; i < 400 && c.stats().total.keys > 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(c.stats().total.keys, 0u);
  EXPECT_EQ(c.stats().total.memory_bytes, 0u);
  EXPECT_EQ(c.stats().total.expirations, 1000u);
}

// --- 2. tags and patterns ----------------------------------------------------------------

TEST(Cache, InvalidatingATagRemovesExactlyItsEntries) {
  ManualClock clock;
  Cache c(test_options(&clock));
  c.put("p:42:page1", "a", {.tags = {"shop:42", "products:42"}});
  c.put("p:42:7", "b", {.tags = {"shop:42", "products:42", "product:42:7"}});
  c.put("p:42:8", "c", {.tags = {"shop:42", "products:42", "product:42:8"}});
  c.put("d:42", "d", {.tags = {"shop:42", "dashboard:42"}});
  c.put("p:43:page1", "e", {.tags = {"shop:43", "products:43"}});

  EXPECT_EQ(c.invalidate_tags({"product:42:7"}), 1u);
  EXPECT_EQ(get_str(c, "p:42:7"), "<miss>");
  EXPECT_EQ(get_str(c, "p:42:8"), "c");
  EXPECT_EQ(c.invalidate_tags({"products:42"}), 2u);
  EXPECT_EQ(get_str(c, "d:42"), "d");
  EXPECT_EQ(get_str(c, "p:43:page1"), "e");
  EXPECT_EQ(c.invalidate_tags({"nothing-has-this"}), 0u);
  EXPECT_EQ(c.invalidate_tags({"shop:42", "shop:43"}), 2u);
  EXPECT_EQ(c.stats().total.keys, 0u);
  EXPECT_EQ(c.stats().total.invalidations, 5u);
}

TEST(Cache, InvalidationReportsWhichDroppedEntriesWereRead) {
  for (const char* policy : kBothHitPaths) {
    SCOPED_TRACE(policy);
    ManualClock clock;
    Cache c(test_options(&clock, 64 << 20, policy));
    c.put("read", "a", {.tags = {"t"}});
    c.put("unread", "b", {.tags = {"t"}});
    c.warm({{"warmed", [] { return Result<Loaded>(Loaded{"c", {"t"}, std::nullopt}); }, {}}}, 1);
    EXPECT_EQ(get_str(c, "read"), "a");
    EXPECT_TRUE(
        c.get_or_load("warmed", [] { return Result<std::string>("x"); }).ok());  // a hit reads
    std::vector<DroppedKey> dropped;
    const std::string_view tag[] = {"t"};
    EXPECT_EQ(c.invalidate_tags(tag, InvalidationCause::kWrite, &dropped), 3u);
    std::vector<std::pair<std::string, bool>> got;
    for (const auto& d : dropped) got.emplace_back(d.key, d.read);
    EXPECT_THAT(got, UnorderedElementsAre(std::pair<std::string, bool>{"read", true},
                                          std::pair<std::string, bool>{"unread", false},
                                          std::pair<std::string, bool>{"warmed", true}));
    // Stored again, an entry starts unread.
    c.put("read", "a2", {.tags = {"t"}});
    dropped.clear();
    c.invalidate_tags(tag, InvalidationCause::kWrite, &dropped);
    ASSERT_EQ(dropped.size(), 1u);
    EXPECT_FALSE(dropped[0].read);
  }
}

TEST(Cache, ReplacingAnEntryReplacesItsTags) {
  ManualClock clock;
  Cache c(test_options(&clock));
  c.put("k", "v1", {.tags = {"old"}});
  c.put("k", "v2", {.tags = {"new"}});
  EXPECT_EQ(c.invalidate_tags({"old"}), 0u);
  EXPECT_EQ(get_str(c, "k"), "v2");
  EXPECT_EQ(c.invalidate_tags({"new"}), 1u);
}

TEST(Cache, TagsOfEvictedAndExpiredEntriesAreForgotten) {
  ManualClock clock;
  Cache c(test_options(&clock));
  for (int i = 0; i < 100; ++i)
    c.put("k" + std::to_string(i), "v", {.tags = {"t" + std::to_string(i)}, .ttl = 1s});
  EXPECT_EQ(c.stats().tags, 100u);
  clock.advance(2s);
  c.run_maintenance();
  EXPECT_EQ(c.stats().tags, 0u) << "tags never invalidated go with their last key";
  c.put("x", "v", {.tags = {"t"}});
  c.invalidate_tags({"t"});
  EXPECT_EQ(c.stats().tags, 1u) << "an invalidated tag keeps its version for the ticket horizon";
  clock.advance(c.options().ticket_horizon + 1s);
  c.run_maintenance();
  EXPECT_EQ(c.stats().tags, 1u) << "kept for two horizons (a ticket taken during the invalidation)";
  clock.advance(c.options().ticket_horizon);
  c.run_maintenance();
  EXPECT_EQ(c.stats().tags, 0u);
}

TEST(Cache, GlobInvalidationScansKeys) {
  ManualClock clock;
  Cache c(test_options(&clock));
  for (int i = 0; i < 10; ++i) c.put("products:42:page=" + std::to_string(i), "v");
  c.put("products:43:page=1", "v");
  c.put("dashboard:42", "v");
  EXPECT_EQ(c.invalidate_matching("products:42:*"), 10u);
  EXPECT_EQ(c.stats().total.keys, 2u);
  EXPECT_EQ(c.invalidate_matching("*:4[23]*"), 2u);
}

// --- 3. no stale sets ---------------------------------------------------------------------

TEST(Cache, SlowLoaderCannotUndoAnInvalidation) {
  ManualClock clock;
  Cache c(test_options(&clock));
  std::string db = "price=100";
  std::latch loader_read(1), write_done(1);

  // The loader reads the database, then stalls before its put (a slow network, a GC pause...).
  auto slow = std::async(std::launch::async, [&] {
    return c.get_or_load("product:7",
                         [&]() -> Result<std::string> {
                           std::string read = db;
                           loader_read.count_down();
                           write_done.wait();
                           return read;
                         },
                         {.tags = {"product:7"}});
  });
  loader_read.wait();
  db = "price=200";                  // the write commits...
  c.invalidate_tags({"product:7"});  // ...then invalidates
  write_done.count_down();

  auto r = slow.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->value, "price=100") << "the overlapping read may see the old value";
  EXPECT_EQ(get_str(c, "product:7"), "<miss>") << "but the old value never lands in the cache";
  EXPECT_EQ(c.stats().total.stale_puts, 1u);

  auto fresh = c.get_or_load("product:7", [&]() -> Result<std::string> { return db; },
                             {.tags = {"product:7"}});
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(*fresh->value, "price=200");
  EXPECT_EQ(get_str(c, "product:7"), "price=200");
}

TEST(Cache, TicketsAreRefusedAfterEraseClearPatternOrHorizon) {
  ManualClock clock;
  Cache c(test_options(&clock));
  Ticket t = c.ticket();
  c.erase("k");
  EXPECT_EQ(c.put("k", "old", {}, &t), PutResult::kStale);

  t = c.ticket();
  c.clear();
  EXPECT_EQ(c.put("k", "old", {}, &t), PutResult::kStale);

  t = c.ticket();
  c.invalidate_matching("zzz*");
  EXPECT_EQ(c.put("k", "old", {}, &t), PutResult::kStale);

  t = c.ticket();
  clock.advance(c.options().ticket_horizon + 1ms);
  EXPECT_EQ(c.put("k", "old", {}, &t), PutResult::kStale);

  t = c.ticket();
  c.invalidate_tags({"unrelated"});
  EXPECT_EQ(c.put("k", "fresh", {.tags = {"mine"}}, &t), PutResult::kStored)
      << "an invalidation of another tag does not refuse the fill";
  EXPECT_EQ(get_str(c, "k"), "fresh");
}

TEST(Cache, StaleRefusalKeepsANewerEntry) {
  ManualClock clock;
  Cache c(test_options(&clock));
  Ticket old_ticket = c.ticket();
  c.invalidate_tags({"t"});
  Ticket new_ticket = c.ticket();
  ASSERT_EQ(c.put("k", "new", {.tags = {"t"}}, &new_ticket), PutResult::kStored);
  EXPECT_EQ(c.put("k", "old", {.tags = {"t"}}, &old_ticket), PutResult::kStale);
  EXPECT_EQ(get_str(c, "k"), "new");
}

// --- 4. single-flight ---------------------------------------------------------------------

TEST(Cache, ConcurrentMissesRunTheLoaderOnce) {
  Options o = test_options(nullptr);
  o.shards = 16;
  Cache c(o);
  constexpr int kThreads = 16;
  std::atomic<int> loads{0};
  std::atomic<bool> release{false};
  std::vector<std::future<Result<Lookup>>> results;
  for (int i = 0; i < kThreads; ++i) {
    results.push_back(std::async(std::launch::async, [&] {
      return c.get_or_load("dash", [&]() -> Result<std::string> {
        ++loads;
        while (!release) std::this_thread::yield();
        return std::string("aggregate");
      });
    }));
  }
  // Hold the loader until every other caller is waiting on it.
  while (c.stats().total.coalesced < kThreads - 1) std::this_thread::yield();
  release = true;
  const std::string* first = nullptr;
  for (auto& f : results) {
    auto r = f.get();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r->value, "aggregate");
    if (first == nullptr) first = r->value.get();
    EXPECT_EQ(r->value.get(), first) << "all callers share the one loaded value";
  }
  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(c.stats().total.loads, 1u);
  EXPECT_EQ(c.stats().total.misses, static_cast<uint64_t>(kThreads));
}

uint64_t xxh3(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }
std::string json_page(int n);  // below, with the compression tests

// The fingerprint (the API's ETag) is computed once, when the value is stored; a hit hashes
// nothing. It is of the bytes as given, even when they are stored compressed.
TEST(Cache, AValuesFingerprintIsTheXxh3OfItsBytesOnEveryPath) {
  for (const char* policy : kBothHitPaths) {
    SCOPED_TRACE(policy);
    ManualClock clock;
    Options o = test_options(&clock, 64 << 20, policy);
    o.codec = Codec::kLz4;
    o.compress_min_bytes = 1024;
    o.compress_above_fill = 0;
    Cache c(o);
    const std::string page = json_page(50);
    c.put("page", page);
    ASSERT_EQ(c.stats().compressed_values, 1u);
    auto hit = c.get_with_fingerprint("page");
    ASSERT_TRUE(hit);
    EXPECT_TRUE(hit->hit);
    EXPECT_EQ(*hit->value, page);
    EXPECT_EQ(hit->fingerprint, xxh3(page));
    EXPECT_FALSE(c.get_with_fingerprint("absent"));

    auto load = [](std::string v) { return [v] { return Result<std::string>(v); }; };
    auto miss = c.get_or_load("small", load("tiny"));
    ASSERT_TRUE(miss.ok());
    EXPECT_FALSE(miss->hit);
    EXPECT_EQ(miss->fingerprint, xxh3("tiny")) << "the loader's caller";
    auto again = c.get_or_load("small", load("other"));
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->hit);
    EXPECT_EQ(again->fingerprint, xxh3("tiny"));
    c.put("small", "changed");
    EXPECT_EQ(c.get_with_fingerprint("small")->fingerprint, xxh3("changed"));
    EXPECT_EQ(c.get_or_load("page", load(""))->fingerprint, xxh3(page));
  }
}

TEST(Cache, WaitersOfALoadGetItsFingerprint) {
  Options o = test_options(nullptr, 64 << 20, "tajir");
  Cache c(o);
  std::atomic<bool> release{false};
  auto loader = [&]() -> Result<std::string> {
    while (!release) std::this_thread::yield();
    return std::string("aggregate");
  };
  auto leader = std::async(std::launch::async, [&] { return c.get_or_load("dash", loader); });
  auto waiter = std::async(std::launch::async, [&] { return c.get_or_load("dash", loader); });
  while (c.stats().total.coalesced < 1) std::this_thread::yield();
  release = true;
  for (auto* f : {&leader, &waiter}) {
    auto r = f->get();
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->hit);
    EXPECT_EQ(r->fingerprint, xxh3("aggregate"));
  }
}

TEST(Cache, LoaderErrorReachesEveryWaiterAndIsNotCached) {
  Cache c(test_options(nullptr));
  constexpr int kThreads = 8;
  std::atomic<bool> release{false};
  std::atomic<int> loads{0};
  auto failing = [&]() -> Result<std::string> {
    ++loads;
    while (!release) std::this_thread::yield();
    return Status(StatusCode::kUnavailable, "database down");
  };
  std::vector<std::future<Result<Lookup>>> results;
  for (int i = 0; i < kThreads; ++i) {
    results.push_back(std::async(std::launch::async, [&] { return c.get_or_load("k", failing); }));
  }
  while (c.stats().total.coalesced < kThreads - 1) std::this_thread::yield();
  release = true;
  for (auto& f : results) {
    auto r = f.get();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(r.status().message(), "database down");
  }
  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(c.stats().total.load_errors, 1u);
  EXPECT_EQ(c.stats().total.keys, 0u);
  auto ok = c.get_or_load("k", []() -> Result<std::string> { return std::string("back"); });
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(ok->hit);
  EXPECT_EQ(*ok->value, "back");
}

TEST(Cache, ThrowingLoaderBecomesAnError) {
  Cache c(test_options(nullptr));
  auto r = c.get_or_load("k", []() -> Result<std::string> { throw std::runtime_error("boom"); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(Cache, WaitersOfAStaleLoadLoadAgain) {
  Cache c(test_options(nullptr));
  std::atomic<int> version{1};
  std::atomic<int> loads{0};
  std::latch leader_loading(1);
  std::atomic<bool> release{false};
  auto loader = [&]() -> Result<std::string> {
    std::string v = "v" + std::to_string(version.load());
    if (loads++ == 0) {
      leader_loading.count_down();
      while (!release) std::this_thread::yield();
    }
    return v;
  };
  auto leader =
      std::async(std::launch::async, [&] { return c.get_or_load("k", loader, {.tags = {"t"}}); });
  leader_loading.wait();
  version = 2;
  c.invalidate_tags({"t"});  // the write is done before the waiter arrives
  auto waiter =
      std::async(std::launch::async, [&] { return c.get_or_load("k", loader, {.tags = {"t"}}); });
  while (c.stats().total.coalesced < 1) std::this_thread::yield();
  release = true;
  EXPECT_EQ(*leader.get()->value, "v1");
  EXPECT_EQ(*waiter.get()->value, "v2") << "a waiter that came after the write never sees v1";
  EXPECT_EQ(get_str(c, "k"), "v2");
}

TEST(Cache, LoaderChosenTagsAreLinkedAndCoveredByTheTicket) {
  ManualClock clock;
  Cache c(test_options(&clock));
  auto page = c.get_or_fill(
      "page:1",
      []() -> Result<Loaded> {
        return Loaded{"items 7 and 8", {"product:7", "product:8"}, std::chrono::milliseconds(1000)};
      },
      {.tags = {"list"}});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(c.invalidate_tags({"product:8"}), 1u) << "a tag the loader chose";
  // An invalidation of a loader-chosen tag during the load refuses the put.
  auto again = c.get_or_fill("page:1",
                             [&]() -> Result<Loaded> {
                               c.invalidate_tags({"product:7"});
                               return Loaded{"stale", {"product:7"}, std::nullopt};
                             },
                             {.tags = {"list"}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again->value, "stale") << "the loading caller gets its value";
  EXPECT_EQ(get_str(c, "page:1"), "<miss>") << "but it is not cached";
  // The loader's TTL replaces the default.
  ASSERT_TRUE(c.get_or_fill("short", []() -> Result<Loaded> {
                 return Loaded{"v", {}, std::chrono::milliseconds(10)};
               }).ok());
  clock.advance(std::chrono::milliseconds(11));
  EXPECT_EQ(get_str(c, "short"), "<miss>");
}

// --- 5. the byte budget -------------------------------------------------------------------

TEST(Cache, BudgetIsNeverExceededAndLruEvictsTheOldest) {
  ManualClock clock;
  uint64_t one_entry = 0;
  {
    Cache probe(test_options(&clock));
    probe.put("key999", std::string(100, 'v'));
    one_entry = probe.stats().total.memory_bytes;
  }
  Cache c(test_options(&clock, 20'000));
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(c.put("key" + std::to_string(i), std::string(100, 'v')), PutResult::kStored);
    ASSERT_LE(c.stats().total.memory_bytes, 20'000u);
    (void)c.get("key0");  // keep key0 recent
  }
  Stats st = c.stats();
  EXPECT_GT(st.total.evictions, 800u);
  EXPECT_GT(st.total.keys, 20u);
  EXPECT_LE(st.peak_memory_bytes, 20'000u + one_entry) << "over by one entry at most, during a put";
  EXPECT_EQ(get_str(c, "key0"), std::string(100, 'v'));
  EXPECT_EQ(get_str(c, "key999"), std::string(100, 'v'));
  EXPECT_EQ(get_str(c, "key1"), "<miss>");
}

TEST(Cache, ChargeCountsKeysValuesAndTags) {
  ManualClock clock;
  Cache c(test_options(&clock));
  c.put("k", "");
  uint64_t bare = c.stats().total.memory_bytes;
  EXPECT_GE(bare, 64u) << "bookkeeping is charged";
  c.put("k", std::string(1000, 'v'));
  EXPECT_EQ(c.stats().total.memory_bytes, bare + 1000);
  c.put("k", std::string(1000, 'v'), {.tags = {"tag-one"}});
  EXPECT_GT(c.stats().total.memory_bytes, bare + 1000 + 7);
}

TEST(Cache, EntryLargerThanAShardIsRejectedAndReplacesNothingStale) {
  ManualClock clock;
  Cache c(test_options(&clock, 10'000));
  c.put("k", "small");
  EXPECT_EQ(c.put("k", std::string(20'000, 'v')), PutResult::kTooLarge);
  EXPECT_EQ(get_str(c, "k"), "<miss>") << "the old value is outdated by the refused put";
  EXPECT_EQ(c.stats().total.rejected_puts, 1u);
}

TEST(Cache, ShrinkingTheLimitEvictsAtOnce) {
  ManualClock clock;
  Cache c(test_options(&clock, 1 << 20));
  for (int i = 0; i < 1000; ++i) c.put("k" + std::to_string(i), std::string(200, 'v'));
  c.set_memory_limit(50'000);
  Stats st = c.stats();
  EXPECT_LE(st.total.memory_bytes, 50'000u);
  EXPECT_EQ(st.memory_limit_bytes, 50'000u);
}

// --- 6. compression -----------------------------------------------------------------------

std::string json_page(int n) {
  std::string s = "{\"items\":[";
  for (int i = 0; i < n; ++i) {
    s += "{\"id\":" + std::to_string(i) + ",\"name\":\"Green tea " + std::to_string(i) +
         "\",\"sku\":\"GT-" + std::to_string(1000 + i) +
         "\",\"price\":1250,\"stock\":" + std::to_string(i % 40) + ",\"active\":true},";
  }
  return s + "]}";
}

TEST(Cache, ValuesAreCompressedOnlyOnceMemoryGetsTight) {
  ManualClock clock;
  Options o = test_options(&clock, 64 * 1024);
  o.codec = Codec::kLz4;
  o.compress_min_bytes = 1024;
  o.compress_above_fill = 0.5;
  Cache c(o);
  const std::string page = json_page(50);  // about 4 KiB
  c.put("first", page);
  EXPECT_EQ(c.stats().compressed_values, 0u) << "an empty cache keeps values as they are";
  for (int i = 0; c.stats().total.memory_bytes < 32 * 1024; ++i)
    c.put("filler" + std::to_string(i), page);
  EXPECT_EQ(c.stats().compressed_values, 0u) << "below half the budget nothing is compressed";
  c.put("late", page);
  EXPECT_EQ(c.stats().compressed_values, 1u) << "past half the budget, a large value is compressed";
  EXPECT_EQ(get_str(c, "late"), page);
  EXPECT_EQ(get_str(c, "first"), page);
}

TEST(Cache, LargeValuesAreCompressedTransparently) {
  for (auto [codec, policy] : {std::pair{Codec::kLz4, "lru"}, std::pair{Codec::kZstd, "tajir"}}) {
    ManualClock clock;
    Options o = test_options(&clock, 64 << 20, policy);
    o.codec = codec;
    o.compress_min_bytes = 1024;
    o.compress_above_fill = 0;
    Cache c(o);
    std::string page = json_page(50);
    c.put("page", page);
    c.put("small", "tiny");
    EXPECT_EQ(get_str(c, "page"), page);
    Stats st = c.stats();
    EXPECT_EQ(st.compressed_values, 1u);
    EXPECT_EQ(st.compression_raw_bytes, page.size());
    EXPECT_GE(st.compression_ratio(), 3.0) << codec_name(codec);
    EXPECT_LT(st.total.memory_bytes, page.size()) << "the budget is charged the stored size";
    auto via_load = c.get_or_load("page", []() -> Result<std::string> { return std::string(); });
    ASSERT_TRUE(via_load.ok());
    EXPECT_TRUE(via_load->hit);
    EXPECT_EQ(*via_load->value, page);
    c.erase("page");
    EXPECT_EQ(c.stats().compressed_values, 0u);
  }
}

// --- 7. statistics and history ------------------------------------------------------------

TEST(Cache, StatisticsPerType) {
  for (const char* policy : kBothHitPaths) {
    SCOPED_TRACE(policy);
    ManualClock clock;
    Cache c(test_options(&clock, 64 << 20, policy));
    TypeId products = c.register_type("products");
    TypeId dashboard = c.register_type("dashboard");
    EXPECT_EQ(c.register_type("products"), products);
    c.put("p1", "v", {.type = products});
    c.put("d1", "v", {.type = dashboard});
    (void)c.get("p1", products);
    (void)c.get("p1", products);
    (void)c.get("p2", products);
    (void)c.get("d2", dashboard);
    Stats st = c.stats();
    ASSERT_EQ(st.by_type.size(), 3u);
    EXPECT_EQ(st.by_type[products].first, "products");
    EXPECT_EQ(st.by_type[products].second.hits, 2u);
    EXPECT_EQ(st.by_type[products].second.misses, 1u);
    EXPECT_EQ(st.by_type[products].second.keys, 1u);
    EXPECT_EQ(st.by_type[dashboard].second.misses, 1u);
    EXPECT_EQ(st.total.hits, 2u);
    EXPECT_EQ(st.total.misses, 2u);
    EXPECT_DOUBLE_EQ(st.total.hit_rate(), 0.5);
    EXPECT_EQ(st.total.puts, 2u);
  }
}

// Hits and misses are counted per thread and summed when read: still exact totals, also when
// there are more threads than stripes of counters and some share one.
TEST(Cache, HitAndMissCountsAreExactAcrossThreads) {
  for (const char* policy : kBothHitPaths) {
    SCOPED_TRACE(policy);
    Options o = test_options(nullptr, 64 << 20, policy);
    o.shards = 4;
    Cache c(o);
    const TypeId products = c.register_type("products");
    for (int i = 0; i < 100; ++i) c.put("k" + std::to_string(i), "v", {.type = products});
    const int threads = 8 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) + 8;
    constexpr int kRounds = 1000;
    {
      std::vector<std::jthread> running;
      for (int t = 0; t < threads; ++t) {
        running.emplace_back([&c, products, t] {
          for (int i = 0; i < kRounds; ++i) {
            if (!c.get("k" + std::to_string((i * 7 + t) % 100), products)) std::abort();
            auto r =
                c.get_or_load("k" + std::to_string(i % 100),
                              [] { return Result<std::string>("unused"); }, {.type = products});
            if (!r.ok() || !r->hit) std::abort();
            if (c.get("absent" + std::to_string(i % 10), products)) std::abort();
          }
        });
      }
    }
    const TypeStats st = c.stats().by_type[products].second;
    EXPECT_EQ(st.hits, 2u * threads * kRounds);
    EXPECT_EQ(st.misses, 1u * threads * kRounds);
  }
}

TEST(Cache, AgesAtInvalidationAreRecordedPerType) {
  ManualClock clock;
  Cache c(test_options(&clock));
  TypeId products = c.register_type("products");
  TypeId bills = c.register_type("bills");
  c.put("p1", "v", {.tags = {"product:1"}, .type = products});
  c.put("p2", "v", {.type = products});
  c.put("p3", "v", {.type = products});
  c.put("b1", "v", {.type = bills});
  clock.advance(3s);
  EXPECT_EQ(c.invalidate_tags({"product:1"}), 1u);  // by tag, 3,000 ms old
  clock.advance(1s);
  EXPECT_TRUE(c.erase("p3"));                  // by key, 4,000 ms
  EXPECT_EQ(c.invalidate_matching("p*"), 1u);  // by pattern: p2, 4,000 ms
  c.put("p1", "v2", {.tags = {"product:1"}, .type = products});
  clock.advance(250ms);
  EXPECT_EQ(c.invalidate_tags({"product:1"}), 1u);  // 250 ms

  Stats st = c.stats();
  const AgeHistogram& ages = st.by_type[products].second.invalidated_age;
  EXPECT_EQ(ages.count(), 4u);
  EXPECT_EQ(ages.sum_ms, 3000u + 4000u + 4000u + 250u);
  EXPECT_EQ(ages.buckets[AgeHistogram::bucket_of(250)], 1u);   // [128, 256) ms
  EXPECT_EQ(ages.buckets[AgeHistogram::bucket_of(3000)], 3u);  // [2048, 4096) ms
  // The median of 250, 3000, 4000, 4000 is 3,500; the histogram places it in [2048, 4096).
  EXPECT_NEAR(ages.quantile_ms(0.5), 2048 + 2048 / 3.0, 1.0);
  EXPECT_EQ(st.by_type[bills].second.invalidated_age.count(), 0u);
  EXPECT_EQ(st.total.invalidated_age.count(), 4u);
  EXPECT_EQ(AgeHistogram{}.quantile_ms(0.5), 0.0);
}

TEST(Cache, AgesAreNotRecordedForEvictionExpiryReplacementOrClears) {
  ManualClock clock;
  Cache c(test_options(&clock, 20'000));
  for (int i = 0; i < 200; ++i)
    c.put("k" + std::to_string(i), std::string(100, 'x'), {.tags = {"t"}});
  c.put("k199", "replaced", {.tags = {"t"}});
  c.put("e1", "v", {.tags = {"e"}, .ttl = 1s});
  c.put("e2", "v", {.ttl = 1s});
  c.put("c1", "v", {.tags = {"c"}});
  EXPECT_EQ(c.invalidate_tags({"c"}, InvalidationCause::kClear), 1u);
  clock.advance(2s);
  EXPECT_EQ(c.invalidate_tags({"e"}), 0u) << "an expired entry is not invalidated";
  c.run_maintenance();
  EXPECT_GT(c.clear(), 0u);
  Stats st = c.stats();
  EXPECT_GT(st.total.evictions, 100u);
  EXPECT_EQ(st.total.expirations, 2u);
  EXPECT_GT(st.total.invalidations, 0u) << "clear() counts as invalidations";
  EXPECT_EQ(st.total.invalidated_age.count(), 0u) << "but records no age: no write changed them";
}

TEST(Cache, UsageByTagCountsTheLiveEntriesOfEachTagPerType) {
  ManualClock clock;
  Cache c(test_options(&clock));
  TypeId products = c.register_type("products");
  TypeId bills = c.register_type("bills");
  // Each put's charge, as the statistics count it.
  auto put = [&](std::string_view key, std::string value, PutOptions o) {
    const uint64_t before = c.stats().total.memory_bytes;
    EXPECT_EQ(c.put(key, std::move(value), o), PutResult::kStored);
    return c.stats().total.memory_bytes - before;
  };
  const uint64_t p1 =
      put("1|p", std::string(100, 'x'), {.tags = {"shop:1", "product:1:7"}, .type = products});
  const uint64_t b1 = put("1|b", "v", {.tags = {"shop:1"}, .type = bills});
  const uint64_t p12 = put("12|p", "v", {.tags = {"shop:12"}, .type = products});
  put("2|p", "v", {.tags = {"shop:2"}, .ttl = 1s, .type = products});
  put("untagged", "v", {.type = products});
  clock.advance(2s);  // 2|p has expired, though no reaper removed it yet

  auto usage = c.usage_by_tag("shop:1");
  ASSERT_EQ(usage.size(), 2u) << "shop:1 and shop:12, sorted; not shop:2 nor product:1:7";
  EXPECT_EQ(usage[0].first, "shop:1");
  EXPECT_EQ(usage[1].first, "shop:12");
  EXPECT_EQ(usage[0].second.keys[products], 1u);
  EXPECT_EQ(usage[0].second.keys[bills], 1u);
  EXPECT_EQ(usage[0].second.memory_bytes[products], p1);
  EXPECT_EQ(usage[0].second.memory_bytes[bills], b1);
  EXPECT_EQ(usage[1].second.keys[products], 1u);
  EXPECT_EQ(usage[1].second.memory_bytes[products], p12);
  EXPECT_EQ(usage[1].second.keys[bills], 0u);
  EXPECT_TRUE(c.usage_by_tag("shop:2").empty()) << "an expired entry is not live";

  EXPECT_EQ(c.invalidate_tags({"shop:12"}), 1u);
  usage = c.usage_by_tag("shop:");
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].first, "shop:1");
  EXPECT_EQ(usage[0].second.keys[products] + usage[0].second.keys[bills], 2u);
}

TEST(Cache, TypesBeyondTheLimitShareTheDefault) {
  Cache c(test_options(nullptr));
  for (size_t i = 1; i < kMaxTypes; ++i) EXPECT_EQ(c.register_type("t" + std::to_string(i)), i);
  EXPECT_EQ(c.register_type("one-too-many"), 0);
}

TEST(Cache, HistoryKeepsOnePointPerInterval) {
  ManualClock clock;
  Options o = test_options(&clock);
  o.history_points = 3;
  Cache c(o);
  c.put("k", "v");
  (void)c.get("k");
  (void)c.get("nope");
  c.record_history_point();
  (void)c.get("k");
  c.record_history_point();
  auto h = c.history(10);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].hits, 1u);
  EXPECT_EQ(h[0].misses, 1u);
  EXPECT_EQ(h[1].hits, 1u) << "points count their own interval, not the total";
  EXPECT_EQ(h[1].misses, 0u);
  EXPECT_EQ(h[1].keys, 1u);
  for (int i = 0; i < 5; ++i) c.record_history_point();
  EXPECT_EQ(c.history(10).size(), 3u) << "the ring keeps history_points";
  EXPECT_EQ(c.history(2).size(), 2u);
}

// --- 8. warming ---------------------------------------------------------------------------

TEST(Cache, WarmFillsWithBoundedParallelism) {
  Options o = test_options(nullptr);
  o.shards = 8;
  Cache c(o);
  std::atomic<int> running{0}, max_running{0};
  std::vector<WarmItem> items;
  for (int i = 0; i < 64; ++i) {
    items.push_back({"k" + std::to_string(i),
                     [&, i]() -> Result<Loaded> {
                       int now = ++running;
                       int seen = max_running.load();
                       while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
                       }
                       std::this_thread::sleep_for(1ms);
                       --running;
                       if (i == 13) return Status(StatusCode::kUnavailable, "down");
                       return Loaded{"v" + std::to_string(i), {}, {}};
                     },
                     {}});
  }
  WarmReport r = c.warm(items, 4);
  EXPECT_EQ(r.loaded, 63u);
  EXPECT_EQ(r.failed, 1u);
  EXPECT_EQ(r.present, 0u);
  EXPECT_LE(max_running.load(), 4);
  EXPECT_GE(max_running.load(), 2) << "it does run in parallel";
  EXPECT_EQ(get_str(c, "k5"), "v5");
  Stats st = c.stats();
  EXPECT_EQ(st.total.warmups, 63u);
  EXPECT_EQ(st.total.misses, 0u) << "warming is not counted as misses";
  EXPECT_EQ(st.total.hits, 1u);

  r = c.warm(items, 4);
  EXPECT_EQ(r.present, 63u);
  EXPECT_EQ(r.failed, 1u);
}

TEST(Cache, ReadKeysListsLiveReadEntriesLongestStoredFirstUpToMax) {
  ManualClock clock;
  Cache c(test_options(&clock));
  for (const char* k : {"old", "mid", "young", "unread", "expired"}) {
    c.put(k, "v", {.ttl = std::string_view(k) == "expired" ? 15s : 0ms});
    clock.advance(10s);
  }
  for (const char* k : {"young", "old", "mid", "expired"}) EXPECT_EQ(get_str(c, k), "v");
  clock.advance(10s);  // "expired" was read, then ran out
  std::vector<std::string> keys;
  for (const ReadKey& k : c.read_keys(10)) keys.push_back(k.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"old", "mid", "young"}));
  auto two = c.read_keys(2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].key, "old");
  EXPECT_EQ(two[0].age_ms, 60'000);
  EXPECT_EQ(two[1].key, "mid");
  EXPECT_TRUE(c.read_keys(0).empty());
  auto not_old = c.read_keys(10, [](std::string_view k) { return k != "old"; });
  ASSERT_EQ(not_old.size(), 2u);
  EXPECT_EQ(not_old[0].key, "mid");
  c.put("old", "w");  // a new value: not read since
  EXPECT_EQ(c.read_keys(10).size(), 2u);
}

// --- 9. threads ---------------------------------------------------------------------------

// A page built from its items' entries (as the API builds product pages): a reader that begins
// after a write's invalidation returned must never get a page showing the item as it was before,
// even when the page was built while that invalidation was still removing the item.
TEST(Cache, AFillBuiltFromOtherEntriesNeverOutlivesTheirInvalidation) {
  Options o = test_options(nullptr, 64 << 20);
  o.shards = 8;
  Cache c(o);
  constexpr int kItems = 4;
  std::array<std::atomic<int64_t>, kItems> source{}, acked{};
  auto item_key = [](int i) { return "item:" + std::to_string(i); };
  auto item_tag = [](int i) { return "t:" + std::to_string(i); };
  auto build_page = [&]() -> Result<Loaded> {
    Loaded page;
    for (int i = 0; i < kItems; ++i) {
      std::string v;
      if (auto got = c.get(item_key(i))) {
        v = **got;
      } else {
        Ticket t = c.ticket();
        v = std::to_string(source[i].load());
        c.put(item_key(i), v, {.tags = {item_tag(i)}}, &t);
      }
      page.value += v + ",";
      page.tags.push_back(item_tag(i));
    }
    return page;
  };
  std::atomic<bool> stop{false};
  std::atomic<int> stale{0}, pages{0};
  std::vector<std::jthread> threads;
  threads.emplace_back([&] {
    std::mt19937 rng(1);
    while (!stop) {
      int i = static_cast<int>(rng() % kItems);
      int64_t v = ++source[i];  // the write commits...
      const std::string tag = item_tag(i);
      c.invalidate_tags({std::string_view(tag)});  // ...drops what it changed, then answers
      acked[i].store(v);
    }
  });
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!stop) {
        std::array<int64_t, kItems> before;
        for (int i = 0; i < kItems; ++i) before[i] = acked[i].load();
        auto page = c.get_or_fill("page", build_page);
        ASSERT_TRUE(page.ok());
        std::istringstream in(*page->value);
        std::string field;
        for (int i = 0; i < kItems && std::getline(in, field, ','); ++i) {
          if (std::stoll(field) < before[i]) ++stale;
        }
        ++pages;
      }
    });
  }
  std::this_thread::sleep_for(1500ms);
  stop = true;
  threads.clear();
  EXPECT_EQ(stale.load(), 0) << "of " << pages.load() << " pages";
  EXPECT_GT(pages.load(), 1000);
}

TEST(Cache, ConcurrentMixedOperationsKeepInvariants) {
  Options o = test_options(nullptr, 200'000);
  o.shards = 8;
  o.policy = "tajir";
  o.codec = Codec::kLz4;
  o.compress_min_bytes = 256;
  o.compress_above_fill = 0;
  o.default_ttl = 50ms;
  o.maintenance_interval = 2ms;
  Cache c(o);
  constexpr int kThreads = 4;
  std::vector<std::jthread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&c, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < 20'000; ++i) {
        std::string key = "k" + std::to_string(rng() % 500);
        std::string tag = "t" + std::to_string(rng() % 20);
        switch (rng() % 8) {
          case 0:
            c.put(key, std::string(rng() % 600, 'a' + t), {.tags = {tag}});
            break;
          case 1:
            c.invalidate_tags({tag});
            break;
          case 2:
            c.erase(key);
            break;
          case 3: {
            auto r =
                c.get_or_load(key, [&]() -> Result<std::string> { return key; }, {.tags = {tag}});
            if (r.ok() && !r->hit && *r->value != key) std::abort();
            break;
          }
          default: {
            auto v = c.get(key);
            if (v && !(*v)->empty() && (**v)[0] != 'k' && ((**v)[0] < 'a' || (**v)[0] > 'd'))
              std::abort();
          }
        }
      }
    });
  }
  threads.clear();
  Stats st = c.stats();
  EXPECT_LE(st.total.memory_bytes, 200'000u);
  EXPECT_LE(st.peak_memory_bytes, 200'000u);
  EXPECT_EQ(c.clear(), st.total.keys);
  st = c.stats();
  EXPECT_EQ(st.total.memory_bytes, 0u);
  EXPECT_EQ(st.compressed_values, 0u);
}

// Readers never see a value older than the last write acknowledged before their read began.
TEST(Cache, NoStaleReadsUnderRacingWritersAndReaders) {
  Options o = test_options(nullptr);
  o.shards = 4;
  o.policy = "tajir";
  Cache c(o);
  constexpr int kKeys = 8;
  std::array<std::atomic<int>, kKeys> db{};     // the "database": a version per row
  std::array<std::atomic<int>, kKeys> acked{};  // versions whose invalidation has finished
  constexpr int kWriters = 3;  // concurrent invalidations of one tag must not overtake each other
  std::atomic<int> writers_left{kWriters};
  std::atomic<long> stale{0}, reads{0};
  std::vector<std::jthread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(100 + w);
      for (int i = 0; i < 1'000'000 && reads < 20'000; ++i) {
        int k = static_cast<int>(rng() % kKeys);
        int v = ++db[k];  // commit
        c.invalidate_tags({"row:" + std::to_string(k)});
        int seen = acked[k].load();
        while (v > seen && !acked[k].compare_exchange_weak(seen, v)) {
        }
        // A pause between writes, so that on a loaded machine readers still find keys cached
        // between two invalidations (the hits asserted below), not only misses.
        if (i % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
      --writers_left;
    });
  }
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937 rng(200 + r);
      while (writers_left > 0) {
        int k = static_cast<int>(rng() % kKeys);
        int floor = acked[k].load();
        auto got =
            c.get_or_load("row:" + std::to_string(k),
                          [&]() -> Result<std::string> { return std::to_string(db[k].load()); },
                          {.tags = {"row:" + std::to_string(k)}});
        if (!got.ok()) std::abort();
        ++reads;
        if (std::stoi(*got->value) < floor) ++stale;
      }
    });
  }
  threads.clear();
  EXPECT_GE(reads.load(), 20'000);
  EXPECT_EQ(stale.load(), 0);
  EXPECT_GT(c.stats().total.hits, 0u);
}

// --- randomized comparison with a reference model -----------------------------------------

struct ModelEntry {
  std::string value;
  std::set<std::string> tags;
  int64_t expires_ms;  // INT64_MAX: never
};

TEST(Cache, RandomizedAgainstReferenceModel) {
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE(seed % 2 == 0 ? "tajir" : "lru");
    ManualClock clock;
    Cache c(test_options(&clock, 64 << 20, seed % 2 == 0 ? "tajir" : "lru"));
    std::map<std::string, ModelEntry> model;
    int64_t now_ms = 0;
    std::mt19937 rng(seed);
    auto expire = [&] {
      std::erase_if(model, [&](const auto& kv) { return kv.second.expires_ms <= now_ms; });
    };
    for (int i = 0; i < 20'000; ++i) {
      std::string key = "k" + std::to_string(rng() % 200);
      switch (rng() % 10) {
        case 0:
        case 1:
        case 2: {
          std::vector<std::string> tags;
          for (uint32_t t = 0, n = rng() % 3; t < n; ++t)
            tags.push_back("t" + std::to_string(rng() % 30));
          int ttl_ms = rng() % 3 == 0 ? 0 : static_cast<int>(1 + rng() % 5000);
          std::string value = "v" + std::to_string(i);
          ASSERT_EQ(c.put(key, value, {.tags = tags, .ttl = std::chrono::milliseconds(ttl_ms)}),
                    PutResult::kStored);
          model[key] = {
              value, {tags.begin(), tags.end()}, ttl_ms == 0 ? INT64_MAX : now_ms + ttl_ms};
          break;
        }
        case 3: {
          expire();
          bool had = model.erase(key) > 0;
          ASSERT_EQ(c.erase(key), had) << "seed " << seed << " op " << i;
          break;
        }
        case 4: {
          expire();
          std::string tag = "t" + std::to_string(rng() % 30);
          size_t n =
              std::erase_if(model, [&](const auto& kv) { return kv.second.tags.count(tag) > 0; });
          ASSERT_EQ(c.invalidate_tags({tag}), n) << "seed " << seed << " op " << i;
          break;
        }
        case 5: {
          expire();
          std::string prefix = "k" + std::to_string(rng() % 20);
          size_t n =
              std::erase_if(model, [&](const auto& kv) { return kv.first.starts_with(prefix); });
          ASSERT_EQ(c.invalidate_matching(prefix + "*"), n);
          break;
        }
        case 6: {
          int ms = static_cast<int>(rng() % 300);
          now_ms += ms;
          clock.advance(std::chrono::milliseconds(ms));
          break;
        }
        default: {
          expire();
          auto it = model.find(key);
          std::string want = it == model.end() ? "<miss>" : it->second.value;
          ASSERT_EQ(get_str(c, key), want) << "seed " << seed << " op " << i;
        }
      }
    }
    expire();
    c.run_maintenance();
    ASSERT_EQ(c.stats().total.keys, model.size());
  }
}

}  // namespace
}  // namespace tajir::cache
