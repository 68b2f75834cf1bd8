#include "api/auto_tuner.h"

#include <gtest/gtest.h>

#include <string>

namespace tajir::api {
namespace {

// Reads `key`, storing a 1 KiB value on a miss, as a cached GET would.
void read(cache::Cache& c, const std::string& key) {
  if (!c.get(key)) c.put(key, std::string(1024, 'x'));
}

// A window whose misses are partly for keys evicted a moment ago (what more memory would
// serve): a hot set read often, and a scan over more keys than the budget holds.
void crowded_window(cache::Cache& c) {
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 600; ++i) read(c, "hot" + std::to_string(i % 40));
    for (int i = 0; i < 400; ++i) read(c, "scan" + std::to_string(i));
  }
}

cache::Cache small_cache() {
  return cache::Cache({.memory_limit_bytes = 256 << 10, .shards = 1, .default_ttl = {}});
}

AutoTuner::Options bounds(uint64_t max_memory) {
  return {.min_memory = 128 << 10,
          .max_memory = max_memory,
          .period = {},
          .tolerance = 0.02,
          .min_requests = 100,
          .cooldown = 3};
}

TEST(AutoTuner, RaisesTheMemoryLimitWithinItsBoundsAndKeepsWhatDidNotHurt) {
  cache::Cache c = small_cache();
  AutoTuner tuner(c, bounds(384 << 10));
  crowded_window(c);
  ASSERT_GT(c.stats().ghost_hits, 0u);
  tuner.step();
  auto changes = tuner.changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].setting, "cache-memory");
  EXPECT_EQ(changes[0].from, 256 << 10);
  EXPECT_GT(changes[0].to, changes[0].from);
  EXPECT_LE(changes[0].to, 384 << 10);
  EXPECT_EQ(changes[0].outcome, "on trial");
  EXPECT_NE(changes[0].because.find("recently evicted"), std::string::npos);
  EXPECT_EQ(c.memory_limit(), static_cast<uint64_t>(changes[0].to));

  crowded_window(c);  // as good or better with more memory
  tuner.step();
  EXPECT_EQ(tuner.changes()[0].outcome.rfind("kept: hit rate", 0), 0u)
      << tuner.changes()[0].outcome;
  EXPECT_EQ(c.memory_limit(), static_cast<uint64_t>(changes[0].to));
}

TEST(AutoTuner, AtItsBoundTheAdviceChangesNothing) {
  cache::Cache c = small_cache();
  AutoTuner tuner(c, bounds(256 << 10));
  crowded_window(c);
  tuner.step();
  EXPECT_TRUE(tuner.changes().empty());
  EXPECT_EQ(c.memory_limit(), 256u << 10);
}

TEST(AutoTuner, BacksOutAChangeThatMadeTheHitRateWorseAndLeavesTheSettingAlone) {
  cache::Cache c = small_cache();
  AutoTuner tuner(c, bounds(1 << 20));
  crowded_window(c);
  tuner.step();
  ASSERT_EQ(tuner.changes().size(), 1u);
  // The traffic turns to keys never seen: every read misses.
  for (int i = 0; i < 500; ++i) read(c, "new" + std::to_string(i));
  tuner.step();
  auto changes = tuner.changes();
  EXPECT_EQ(changes[0].outcome.rfind("backed out: hit rate 0.000 after", 0), 0u)
      << changes[0].outcome;
  EXPECT_EQ(c.memory_limit(), 256u << 10);
  // Left alone for its cooldown, whatever the advice.
  for (int i = 0; i < 3; ++i) {
    crowded_window(c);
    tuner.step();
  }
  EXPECT_EQ(tuner.changes().size(), 1u);
  crowded_window(c);
  tuner.step();
  EXPECT_EQ(tuner.changes().size(), 2u);
}

TEST(AutoTuner, AWindowWithTooFewReadsJudgesNothing) {
  cache::Cache c = small_cache();
  AutoTuner tuner(c, bounds(1 << 20));
  for (int i = 0; i < 50; ++i) read(c, "k" + std::to_string(i));
  tuner.step();
  EXPECT_TRUE(tuner.changes().empty());
  EXPECT_EQ(c.memory_limit(), 256u << 10);
}

}  // namespace
}  // namespace tajir::api
