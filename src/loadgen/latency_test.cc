#include "loadgen/latency.h"

#include <gtest/gtest.h>

namespace tajir::loadgen {
namespace {

TEST(Latency, HitsMissesAndWritesAreToldApartByMethodAndXCache) {
  EXPECT_EQ(classify("GET", "HIT"), RequestClass::kHit);
  EXPECT_EQ(classify("GET", "MISS"), RequestClass::kMiss);
  EXPECT_EQ(classify("GET", ""), RequestClass::kMiss) << "no X-Cache: the cache is off";
  EXPECT_EQ(classify("POST", ""), RequestClass::kWrite);
  EXPECT_EQ(classify("PUT", "HIT"), RequestClass::kWrite) << "a write is a write";
  EXPECT_EQ(class_name(RequestClass::kHit), "hits");
  EXPECT_EQ(class_name(RequestClass::kMiss), "misses");
  EXPECT_EQ(class_name(RequestClass::kWrite), "writes");
}

TEST(Latency, PercentilesAreNearestAboveRanks) {
  std::vector<uint32_t> us;
  for (uint32_t i = 1000; i >= 1; --i) us.push_back(i * 1000);  // 1 .. 1000 ms, reversed
  Summary s = summarize(us);
  EXPECT_EQ(s.count, 1000u);
  EXPECT_DOUBLE_EQ(s.p50_ms, 501);
  EXPECT_DOUBLE_EQ(s.p90_ms, 901);
  EXPECT_DOUBLE_EQ(s.p99_ms, 991);
  EXPECT_DOUBLE_EQ(s.p999_ms, 1000);
  EXPECT_DOUBLE_EQ(s.max_ms, 1000);
  std::vector<uint32_t> again(us.rbegin(), us.rend());
  EXPECT_DOUBLE_EQ(percentile_ms(again, 0.99), 991);
  std::vector<uint32_t> none;
  EXPECT_EQ(summarize(none).count, 0u);
  EXPECT_EQ(percentile_ms(none, 0.5), 0);
}

TEST(Latency, EachClassHasItsOwnPercentilesAndReadsAreHitsWithMisses) {
  // Slow writes and misses must not show in the hits' p99, nor fast hits hide them.
  Latencies a, b;
  for (int i = 0; i < 900; ++i) a.add(RequestClass::kHit, 200);
  for (int i = 0; i < 100; ++i) b.add(RequestClass::kMiss, 5000);
  for (int i = 0; i < 50; ++i) b.add(RequestClass::kWrite, 40000);
  a.merge(b);
  Summary hits = summarize(a.of(RequestClass::kHit));
  Summary misses = summarize(a.of(RequestClass::kMiss));
  Summary writes = summarize(a.of(RequestClass::kWrite));
  EXPECT_EQ(hits.count, 900u);
  EXPECT_DOUBLE_EQ(hits.p99_ms, 0.2);
  EXPECT_DOUBLE_EQ(hits.max_ms, 0.2);
  EXPECT_EQ(misses.count, 100u);
  EXPECT_DOUBLE_EQ(misses.p50_ms, 5);
  EXPECT_EQ(writes.count, 50u);
  EXPECT_DOUBLE_EQ(writes.p50_ms, 40);
  std::vector<uint32_t> reads = a.reads();
  Summary r = summarize(reads);
  EXPECT_EQ(r.count, 1000u);
  EXPECT_DOUBLE_EQ(r.p50_ms, 0.2);
  EXPECT_DOUBLE_EQ(r.p99_ms, 5) << "the misses are the slowest tenth of the reads";
  EXPECT_DOUBLE_EQ(r.max_ms, 5) << "writes are not reads";
}

}  // namespace
}  // namespace tajir::loadgen
