// Cache::rewrite_tags: an invalidation that keeps what the caller can bring up to date.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <mutex>
#include <random>
#include <thread>

#include "cache/cache.h"

#if defined(__SANITIZE_ADDRESS__)
#define TAJIR_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TAJIR_LSAN 1
#endif
#endif
#if defined(TAJIR_LSAN)
#include <sanitizer/lsan_interface.h>
#endif

namespace tajir::cache {
namespace {

using namespace std::chrono_literals;

Options test_options() {
  return Options{.memory_limit_bytes = 64 << 20,
                 .shards = 1,
                 .policy = "lru",
                 .default_ttl = 0ms,
                 .ttl_jitter = 0,
                 .codec = Codec::kNone,
                 .maintenance_interval = 0ms};
}

std::string get_str(Cache& c, std::string_view key) {
  auto v = c.get(key);
  return v ? **v : "<miss>";
}

size_t rewrite(Cache& c, std::string_view tag, const Rewriter& r,
               std::vector<DroppedKey>* dropped = nullptr) {
  const std::string_view tags[] = {tag};
  return c.rewrite_tags(tags, r, dropped);
}

// "VERSION:SUM", the value of the counters below.
std::pair<uint64_t, uint64_t> parse(std::string_view v) {
  const size_t colon = v.find(':');
  return {std::stoull(std::string(v.substr(0, colon))),
          std::stoull(std::string(v.substr(colon + 1)))};
}
std::string counter(uint64_t version, uint64_t sum) {
  return std::to_string(version) + ":" + std::to_string(sum);
}

// The rewrite of change `n` adding `delta`: applies to a value at version n-1 only, keeps one
// already at n or later, drops anything else.
Rewriter add(uint64_t n, uint64_t delta) {
  return [=](std::string_view, std::string_view value, std::optional<Version> version) {
    if (!version) return Rewrite{};
    if (version->number >= n) return Rewrite{.keep = true};
    if (version->number + 1 != n) return Rewrite{};
    auto [v, sum] = parse(value);
    if (v != version->number) std::abort();  // the version handed over is the entry's
    return Rewrite{.keep = true, .value = counter(n, sum + delta), .version = Version{n}};
  };
}

TEST(CacheRewrite, AKeptEntryHasItsNewValueAndVersionAndStaysTagged) {
  Cache c(test_options());
  ASSERT_EQ(c.put("k", counter(3, 30), {.tags = {"t"}, .version = Version{3}}), PutResult::kStored);
  EXPECT_EQ(rewrite(c, "t", add(4, 4)), 0u);
  EXPECT_EQ(get_str(c, "k"), counter(4, 34));
  EXPECT_EQ(rewrite(c, "t", add(4, 4)), 0u) << "change 4 again: kept as it is";
  EXPECT_EQ(get_str(c, "k"), counter(4, 34));
  EXPECT_EQ(rewrite(c, "t", add(6, 1)), 1u) << "change 6 on version 4: change 5 is missing";
  EXPECT_EQ(get_str(c, "k"), "<miss>");
  Stats st = c.stats();
  EXPECT_EQ(st.total.rewrites, 2u);
  EXPECT_EQ(st.total.invalidations, 1u);

  ASSERT_EQ(c.put("k", counter(7, 1), {.tags = {"t"}, .version = Version{7}}), PutResult::kStored);
  EXPECT_EQ(rewrite(c, "t", add(8, 1)), 0u);
  EXPECT_EQ(c.invalidate_tags({"t"}), 1u) << "the kept entry is linked to its tag again";
  EXPECT_EQ(c.stats().total.keys, 0u);
  EXPECT_EQ(c.stats().total.memory_bytes, 0u);
}

TEST(CacheRewrite, WhatIsNotKeptIsDroppedAndReportedLikeAnInvalidation) {
  Cache c(test_options());
  ASSERT_EQ(c.put("versioned", counter(1, 1), {.tags = {"t"}, .version = Version{1}}),
            PutResult::kStored);
  ASSERT_EQ(c.put("plain", "x", {.tags = {"t"}}), PutResult::kStored);
  ASSERT_EQ(c.put("other", "y", {.tags = {"u"}}), PutResult::kStored);
  ASSERT_EQ(get_str(c, "plain"), "x");  // read: worth loading again
  std::vector<DroppedKey> dropped;
  EXPECT_EQ(rewrite(c, "t", add(2, 1), &dropped), 1u);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].key, "plain");
  EXPECT_TRUE(dropped[0].read);
  EXPECT_EQ(get_str(c, "versioned"), counter(2, 2));
  EXPECT_EQ(get_str(c, "other"), "y");

  // A version given to an entry that has none: there is no room for it, so it goes.
  ASSERT_EQ(c.put("plain", "x", {.tags = {"t"}}), PutResult::kStored);
  EXPECT_EQ(rewrite(c, "t",
                    [](std::string_view, std::string_view, std::optional<Version>) {
                      return Rewrite{.keep = true, .version = Version{9}};
                    }),
            1u);
  EXPECT_EQ(get_str(c, "plain"), "<miss>");
  EXPECT_EQ(get_str(c, "versioned"), counter(2, 2)) << "kept: it has a version";
}

TEST(CacheRewrite, KeepingTheValueSharesTheStoredBytes) {
  Cache c(test_options());
  ASSERT_EQ(c.put("k", counter(1, 5), {.tags = {"t"}, .version = Version{1}}), PutResult::kStored);
  Value before = *c.get("k");
  EXPECT_EQ(rewrite(c, "t",
                    [](std::string_view, std::string_view, std::optional<Version>) {
                      return Rewrite{.keep = true, .version = Version{2, "seventy-seven"}};
                    }),
            0u);
  EXPECT_EQ(c.get("k")->get(), before.get());
  std::optional<Version> seen;
  EXPECT_EQ(rewrite(c, "t",
                    [&](std::string_view, std::string_view, std::optional<Version> version) {
                      seen = version;
                      return Rewrite{};
                    }),
            1u);
  EXPECT_EQ(seen, (Version{2, "seventy-seven"}))
      << "its version was advanced, with what it keeps aside";
}

// The fingerprint is the API's ETag: a kept entry's must be that of its new bytes (a client
// holding the old ETag would otherwise get 304 for a value it has not seen), whether the hit
// takes the lock-free path (tajir) or the locked one (lru), compressed or not.
TEST(CacheRewrite, AKeptEntrysFingerprintIsThatOfItsNewBytes) {
  for (const char* policy : {"tajir", "lru"}) {
    for (Codec codec : {Codec::kNone, Codec::kLz4}) {
      SCOPED_TRACE(std::string(policy) + (codec == Codec::kNone ? "" : ", compressed"));
      Options o = test_options();
      o.policy = policy;
      o.codec = codec;
      o.compress_above_fill = 0;
      o.compress_min_bytes = 64;
      Cache c(o);
      const std::string before = counter(1, 1) + std::string(4000, 'a');
      const std::string after = counter(2, 3) + std::string(4000, 'b');
      ASSERT_EQ(c.put("k", before, {.tags = {"t"}, .version = Version{1}}), PutResult::kStored);
      ASSERT_EQ(c.get_with_fingerprint("k")->fingerprint, fingerprint_of(before));
      EXPECT_EQ(rewrite(c, "t",
                        [&](std::string_view, std::string_view, std::optional<Version>) {
                          return Rewrite{.keep = true, .value = after, .version = Version{2}};
                        }),
                0u);
      auto hit = c.get_with_fingerprint("k");
      ASSERT_TRUE(hit);
      EXPECT_EQ(*hit->value, after);
      EXPECT_EQ(hit->fingerprint, fingerprint_of(after));
      auto filled = c.get_or_fill(
          "k", [] { return Result<Loaded>(Status(StatusCode::kInternal, "no fill")); });
      ASSERT_TRUE(filled.ok());
      EXPECT_TRUE(filled->hit);
      EXPECT_EQ(filled->fingerprint, fingerprint_of(after)) << "get_or_fill's hit too";

      // A new version alone keeps the bytes, and so their fingerprint.
      EXPECT_EQ(rewrite(c, "t",
                        [&](std::string_view, std::string_view, std::optional<Version>) {
                          return Rewrite{.keep = true, .version = Version{3, "aside"}};
                        }),
                0u);
      EXPECT_EQ(c.get_with_fingerprint("k")->fingerprint, fingerprint_of(after));
    }
  }
}

TEST(CacheRewrite, AFillThatBeganBeforeTheRewriteIsRefused) {
  Cache c(test_options());
  ASSERT_EQ(c.put("k", counter(1, 1), {.tags = {"t"}, .version = Version{1}}), PutResult::kStored);
  const Ticket before = c.ticket();  // a fill that read the database before change 2
  EXPECT_EQ(rewrite(c, "t", add(2, 1)), 0u);
  EXPECT_EQ(c.put("k", counter(1, 1), {.tags = {"t"}, .version = Version{1}}, &before),
            PutResult::kStale);
  EXPECT_EQ(get_str(c, "k"), counter(2, 2));
}

// While the rewrite of K ran, another write's invalidation of the same tag took the tag's keys
// (K was not among them: the rewrite had taken it). Relinking K then would let it outlive that
// invalidation unseen, so the rewrite drops it.
TEST(CacheRewrite, AnotherInvalidationOfTheTagDuringTheRewriteDropsTheEntry) {
  Cache c(test_options());
  ASSERT_EQ(c.put("k", counter(1, 1), {.tags = {"t"}, .version = Version{1}}), PutResult::kStored);
  std::latch taken(1);
  std::jthread later;
  EXPECT_EQ(
      rewrite(c, "t",
              [&](std::string_view key, std::string_view value, std::optional<Version> version) {
                if (key != "k") return Rewrite{};
                // Another entry of the tag, so that the later invalidation's rewriter
                // is called and tells us it has taken the tag's keys.
                EXPECT_EQ(c.put("k2", counter(1, 1), {.tags = {"t"}, .version = Version{1}}),
                          PutResult::kStored);
                later = std::jthread([&] {
                  rewrite(c, "t",
                          [&](std::string_view, std::string_view v, std::optional<Version> ver) {
                            taken.count_down();
                            return add(2, 1)(std::string_view(), v, ver);
                          });
                });
                taken.wait();
                return add(2, 1)(key, value, version);
              }),
      1u);
  later.join();
  EXPECT_EQ(get_str(c, "k"), "<miss>");
  EXPECT_EQ(get_str(c, "k2"), counter(2, 2)) << "the later invalidation kept what it found";
}

TEST(CacheRewrite, AnEntryReplacedWhileItsRewriteRanIsDropped) {
  Cache c(test_options());
  ASSERT_EQ(c.put("k", counter(1, 1), {.tags = {"t"}, .version = Version{1}}), PutResult::kStored);
  EXPECT_EQ(
      rewrite(c, "t",
              [&](std::string_view key, std::string_view value, std::optional<Version> version) {
                EXPECT_EQ(c.put("k", counter(1, 1), {.tags = {"t"}, .version = Version{1}}),
                          PutResult::kStored);
                return add(2, 1)(key, value, version);
              }),
      1u);
  EXPECT_EQ(get_str(c, "k"), "<miss>");
}

TEST(CacheRewrite, CompressedValuesAndAsidesAreRewrittenAndChargedAsIfPut) {
  Options o = test_options();
  o.codec = Codec::kLz4;
  o.compress_above_fill = 0;
  const std::string big(8000, 'a'), bigger(12000, 'b');
  Cache c(o), reference(o);
  const std::string aside(700, 'x');
  ASSERT_EQ(c.put("k", big, {.tags = {"t"}, .version = Version{1, aside}}), PutResult::kStored);
  ASSERT_EQ(reference.put("k", bigger, {.tags = {"t"}, .version = Version{2, "short"}}),
            PutResult::kStored);
  ASSERT_EQ(c.stats().compressed_values, 1u);
  EXPECT_EQ(rewrite(c, "t",
                    [&](std::string_view, std::string_view value, std::optional<Version> v) {
                      EXPECT_EQ(value, big) << "the rewrite sees the value decompressed";
                      EXPECT_EQ(v->aside, aside);
                      return Rewrite{.keep = true, .value = bigger, .version = Version{2, "short"}};
                    }),
            0u);
  EXPECT_EQ(get_str(c, "k"), bigger);
  const Stats st = c.stats(), ref = reference.stats();
  EXPECT_EQ(st.total.memory_bytes, ref.total.memory_bytes);
  EXPECT_EQ(st.compression_raw_bytes, ref.compression_raw_bytes);
  EXPECT_EQ(st.compression_stored_bytes, ref.compression_stored_bytes);
  EXPECT_EQ(c.invalidate_tags({"t"}), 1u);
  EXPECT_EQ(c.stats().total.memory_bytes, 0u);
  EXPECT_EQ(c.stats().compressed_values, 0u);
}

// Writers commit changes to a counter and rewrite the cached copy; fillers read the "database"
// at any moment, including between a commit and its rewrite (the value is then already at the
// change's version, and the rewrite must not add the change a second time); readers check
// that every value is a true state (its sum is the sum of the changes up to its version) no
// older than the last change acknowledged before they began.
TEST(CacheRewrite, RacingWritersAndFillersNeverCountAChangeTwiceNorServeAnOldOne) {
  Options o = test_options();
  o.shards = 4;
  o.policy = "tajir";
  Cache c(o);
  constexpr int kWriters = 3, kReaders = 3, kChanges = 3000;
  std::mutex db_mu;
  uint64_t seq = 0;                                     // GUARDED_BY(db_mu)
  std::vector<uint64_t> sums(kWriters * kChanges + 1);  // GUARDED_BY(db_mu): after change n
  std::atomic<uint64_t> acked{0};  // the newest change whose rewrite has returned (a bound)
  std::atomic<int> writers_left{kWriters};
  std::atomic<long> bad{0}, reads{0};
  std::vector<std::jthread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(10 + w);
      for (int i = 0; i < kChanges; ++i) {
        uint64_t n = 0, delta = 1 + rng() % 9;
        {
          std::lock_guard lock(db_mu);  // the commit
          n = ++seq;
          sums[n] = sums[n - 1] + delta;
        }
        if (rng() % 4 == 0) std::this_thread::yield();  // fills between commit and rewrite
        rewrite(c, "t", add(n, delta));
        uint64_t seen = acked.load();
        while (n > seen && !acked.compare_exchange_weak(seen, n)) {
        }
      }
      --writers_left;
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&] {
      while (writers_left > 0) {
        const uint64_t floor = acked.load();
        auto got = c.get_or_fill("k",
                                 [&]() -> Result<Loaded> {
                                   std::lock_guard lock(db_mu);
                                   return Loaded{.value = counter(seq, sums[seq]),
                                                 .tags = {"t"},
                                                 .version = Version{seq}};
                                 },
                                 {});
        if (!got.ok()) std::abort();
        ++reads;
        if (got->fingerprint != fingerprint_of(*got->value)) ++bad;  // a kept entry's ETag
        auto [v, sum] = parse(*got->value);
        std::lock_guard lock(db_mu);
        if (v < floor || sum != sums[v]) ++bad;
      }
    });
  }
  threads.clear();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_GT(c.stats().total.rewrites, 0u);
  if (auto v = c.get("k")) {
    EXPECT_EQ(**v, counter(seq, sums[seq]));
  }
}

// A version's aside lives on the heap, its pointer in the entry's trailer after the key. Keys of
// every length mod 8, with and without a wall deadline before the version: a live entry's aside
// must be reachable for a leak checker, which scans only aligned words (a fuzz run that ends with
// the cache alive reported every aside as leaked when the trailer followed the key unaligned).
TEST(CacheRewrite, AVersionsAsideIsReachableFromItsLiveEntry) {
#if !defined(TAJIR_LSAN)
  GTEST_SKIP() << "needs LeakSanitizer (make test-sanitize)";
#else
  Cache c(test_options());
  for (int len = 1; len <= 16; ++len) {
    for (const int64_t deadline : {int64_t{0}, int64_t{4'000'000'000'000}}) {
      const std::string key = std::string(len, 'k') + (deadline != 0 ? "w" : "");
      ASSERT_EQ(c.put(key, counter(1, 1),
                      {.tags = {"t"},
                       .wall_deadline_ms = deadline,
                       .version = Version{1, "the rows below the top five " + key}}),
                PutResult::kStored);
    }
  }
  EXPECT_EQ(__lsan_do_recoverable_leak_check(), 0) << "an aside is out of a pointer scan's sight";
  // And each entry still reads its version and deadline back whole.
  size_t seen = 0;
  EXPECT_EQ(rewrite(c, "t",
                    [&](std::string_view key, std::string_view, std::optional<Version> v) {
                      EXPECT_EQ(v.value_or(Version{}).aside,
                                "the rows below the top five " + std::string(key));
                      ++seen;
                      return Rewrite{.keep = true};
                    }),
            0u);
  EXPECT_EQ(seen, 32u);
  EXPECT_EQ(get_str(c, std::string(3, 'k') + "w"), counter(1, 1)) << "the deadline is in 2096";
#endif
}

}  // namespace
}  // namespace tajir::cache
