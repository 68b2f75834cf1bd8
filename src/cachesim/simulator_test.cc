// Tests of the trace loader, Bélády and the simulator loop on hand-checked traces.
#include "cachesim/simulator.h"

#include <gtest/gtest.h>

#include "cachesim/belady.h"
#include "cachesim/trace.h"

namespace tajir::cachesim {
namespace {

Trace parse(std::string_view text) {
  auto t = parse_trace(text, "t.txt");
  EXPECT_TRUE(t.ok()) << t.status().message();
  return std::move(t).value();
}

TEST(TraceTest, ParsesKeysSizesAndUniques) {
  Trace t = parse("a\nb,10\r\n\na,5\nc\n");
  EXPECT_EQ(t.requests(), 4u);
  EXPECT_EQ(t.unique_keys(), 3u);
  EXPECT_EQ(t.ids, (std::vector<uint32_t>{0, 1, 0, 2}));
  ASSERT_TRUE(t.has_sizes());
  EXPECT_EQ(t.sizes, (std::vector<uint32_t>{1, 10, 5, 1}));
  EXPECT_EQ(t.unique_bytes, 1u + 10u + 1u);  // first size seen per key
  EXPECT_EQ(t.hashes[0], hash_key("a"));
}

TEST(TraceTest, RejectsBadSizesAndMissingFiles) {
  EXPECT_FALSE(parse_trace("a,x\n", "t").ok());
  EXPECT_FALSE(parse_trace("a,0\n", "t").ok());
  auto missing = load_trace("/nonexistent/trace.txt");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

// 1 2 3 1 2 3 with room for 2: LRU and FIFO miss every time; MIN bypasses 3 and keeps 1, 2.
TEST(SimulatorTest, CyclicTraceExactCounts) {
  Trace t = parse("1\n2\n3\n1\n2\n3\n");
  EXPECT_EQ(*simulate(t, "lru", 2, false), 6u);
  EXPECT_EQ(*simulate(t, "fifo", 2, false), 6u);
  EXPECT_EQ(*simulate(t, "belady", 2, false), 4u);
  EXPECT_EQ(*simulate(t, "belady", 3, false), 3u);  // compulsory misses only
}

// 1 2 1 3 1 2 with room for 2, worked by hand:
//   LRU:  m m h m(evicts 2) h m               -> 4
//   FIFO: m m h m(evicts 1) m(evicts 2) m     -> 5
//   MIN:  m m h m(3 is never used again) h h  -> 3
TEST(SimulatorTest, LruFifoAndBeladyDiffer) {
  Trace t = parse("1\n2\n1\n3\n1\n2\n");
  EXPECT_EQ(*simulate(t, "lru", 2, false), 4u);
  EXPECT_EQ(*simulate(t, "fifo", 2, false), 5u);
  EXPECT_EQ(*simulate(t, "belady", 2, false), 3u);
}

// MIN on a longer hand-worked trace, capacity 3:
//   a b c d a b e a b c d e
//   m m m m(evict c: a@4 b@5 c@9 d@10 -> d is farthest; evict d) ...
// worked out: a b c miss (3); d miss, farthest among a(4) b(5) c(9) d(10) is d -> bypass (4);
// a hit, b hit; e miss, farthest among a(7) b(8) c(9) e(11) is e -> bypass (5); a hit, b hit,
// c hit; d miss (6), e miss (7).
TEST(SimulatorTest, BeladyHandChecked) {
  Trace t = parse("a\nb\nc\nd\na\nb\ne\na\nb\nc\nd\ne\n");
  EXPECT_EQ(*simulate(t, "belady", 3, false), 7u);
  EXPECT_LE(*simulate(t, "belady", 3, false), *simulate(t, "lru", 3, false));
}

TEST(SimulatorTest, BytesChargeSizes) {
  // Capacity 10 bytes: a(6) and b(6) cannot both stay.
  Trace t = parse("a,6\nb,6\na,6\nb,6\n");
  EXPECT_EQ(*simulate(t, "lru", 10, true), 4u);
  EXPECT_EQ(*simulate(t, "lru", 12, true), 2u);
  EXPECT_EQ(*simulate(t, "belady", 10, true), 3u);
}

TEST(SimulatorTest, UnknownPolicyIsAnError) {
  Trace t = parse("1\n");
  auto r = simulate(t, "nope", 1, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(SimulatorTest, CsvFormat) {
  EXPECT_EQ(kCsvHeader, "trace,policy,capacity,requests,misses,miss_ratio");
  EXPECT_EQ(csv_row("web.txt", "lru", 10, 8, 2), "web.txt,lru,10,8,2,0.250000");
  EXPECT_EQ(csv_row("web.txt", "belady", 10, 3, 1), "web.txt,belady,10,3,1,0.333333");
}

TEST(SimulatorTest, PercentageCapacities) {
  auto specs = parse_capacities("1%,50%,7,2.5%");
  ASSERT_TRUE(specs.ok());
  ASSERT_EQ(specs->size(), 4u);
  std::string text;
  for (int i = 0; i < 200; ++i) text += std::to_string(i) + "," + std::to_string(i + 1) + "\n";
  Trace t = parse(text);  // 200 keys, 20100 bytes
  EXPECT_EQ(resolve_capacity((*specs)[0], t, false), 2u);
  EXPECT_EQ(resolve_capacity((*specs)[1], t, false), 100u);
  EXPECT_EQ(resolve_capacity((*specs)[2], t, false), 7u);
  EXPECT_EQ(resolve_capacity((*specs)[3], t, false), 5u);
  EXPECT_EQ(resolve_capacity((*specs)[0], t, true), 201u);
  EXPECT_EQ(resolve_capacity({0.1, true}, parse("1\n"), false), 1u);  // at least 1

  for (const char* bad : {"", "0", "-5", "1%%", "x", "5,", "150%", "1.5"}) {
    EXPECT_FALSE(parse_capacities(bad).ok()) << bad;
  }
}

TEST(SimulatorTest, NextUse) {
  EXPECT_EQ(next_use({0, 1, 0, 1, 2}, 3), (std::vector<uint64_t>{2, 3, 5, 5, 5}));
}

}  // namespace
}  // namespace tajir::cachesim
