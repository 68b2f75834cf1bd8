#include "cache/tag_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace tajir::cache {
namespace {

using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using LinkResult = TagIndex::LinkResult;

TEST(TagIndex, InvalidateHandsOverExactlyTheLinkedKeys) {
  TagIndex idx(4);
  EXPECT_EQ(idx.link("shop:1", "a", UINT64_MAX), LinkResult::kLinked);
  EXPECT_EQ(idx.link("shop:1", "b", UINT64_MAX), LinkResult::kLinked);
  EXPECT_EQ(idx.link("shop:1", "b", UINT64_MAX), LinkResult::kAlreadyLinked);
  EXPECT_EQ(idx.link("shop:2", "c", UINT64_MAX), LinkResult::kLinked);
  idx.unlink("shop:1", "a");
  auto inv = idx.invalidate("shop:1", 10, 0);
  EXPECT_THAT(inv.keys, UnorderedElementsAre("b"));
  idx.finish("shop:1", inv.seq);
  EXPECT_THAT(idx.invalidate("shop:1", 11, 0).keys, IsEmpty()) << "the set was handed over";
  EXPECT_EQ(idx.version("shop:1"), 11u);
  EXPECT_EQ(idx.version("shop:2"), 0u);
}

TEST(TagIndex, LinkIsRefusedForTicketsOlderThanTheVersion) {
  TagIndex idx(1);
  (void)idx.invalidate("t", 5, 0);
  EXPECT_EQ(idx.link("t", "k", 4), LinkResult::kStale);
  EXPECT_EQ(idx.link("t", "k", 5), LinkResult::kLinked);
  EXPECT_EQ(idx.link("never-invalidated", "k", 0), LinkResult::kLinked);
}

TEST(TagIndex, ARelinkIsRefusedOnceALaterInvalidationTookTheKeys) {
  TagIndex idx(1);
  ASSERT_EQ(idx.link("t", "k", UINT64_MAX), LinkResult::kLinked);
  auto first = idx.invalidate("t", 5, 0);
  ASSERT_THAT(first.keys, UnorderedElementsAre("k"));
  EXPECT_TRUE(idx.relink("t", "k", first.seq)) << "no other take since: linked again";
  idx.finish("t", first.seq);
  auto second = idx.invalidate("t", 6, 0);
  EXPECT_THAT(second.keys, UnorderedElementsAre("k")) << "the next invalidation finds it";
  auto third = idx.invalidate("t", 7, 0);
  EXPECT_FALSE(idx.relink("t", "k", second.seq)) << "the third took the keys without it";
  idx.finish("t", second.seq);
  idx.finish("t", third.seq);
  EXPECT_THAT(idx.invalidate("t", 8, 0).keys, IsEmpty());
}

TEST(TagIndex, VersionsNeverGoBackwards) {
  TagIndex idx(1);
  (void)idx.invalidate("t", 9, 0);
  (void)idx.invalidate("t", 7, 0);  // a concurrent invalidation arriving late
  EXPECT_EQ(idx.version("t"), 9u);
  EXPECT_EQ(idx.link("t", "k", 8), LinkResult::kStale);
}

TEST(TagIndex, GarbageIsCollectedOnlyWhenSafe) {
  TagIndex idx(2);
  (void)idx.link("fresh", "k", UINT64_MAX);
  EXPECT_EQ(idx.size(), 1u);
  idx.unlink("fresh", "k");
  EXPECT_EQ(idx.size(), 0u) << "a never-invalidated tag goes with its last key";

  auto inv = idx.invalidate("old", 3, /*now_ns=*/100);
  EXPECT_EQ(idx.collect_garbage(/*before_ns=*/1000), 0u) << "still erasing";
  idx.finish("old", inv.seq);
  EXPECT_EQ(idx.collect_garbage(/*before_ns=*/100), 0u) << "not older than the horizon";
  (void)idx.link("old", "k2", UINT64_MAX);
  EXPECT_EQ(idx.collect_garbage(/*before_ns=*/1000), 0u) << "has a key";
  idx.unlink("old", "k2");
  EXPECT_EQ(idx.collect_garbage(/*before_ns=*/1000), 1u);
  EXPECT_EQ(idx.version("old"), 0u);
}

TEST(TagIndex, FinishWaitsForEarlierInvalidationsOfTheTag) {
  TagIndex idx(1);
  (void)idx.link("t", "k", UINT64_MAX);
  auto first = idx.invalidate("t", 1, 0);   // took "k", still erasing it
  auto second = idx.invalidate("t", 2, 0);  // found the set empty
  ASSERT_THAT(second.keys, IsEmpty());
  std::atomic<bool> second_done{false};
  std::thread t([&] {
    idx.finish("t", second.seq);
    second_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(second_done) << "the second may not return while the first still erases";
  idx.finish("t", first.seq);
  t.join();
  EXPECT_TRUE(second_done);
  auto third = idx.invalidate("t", 3, 0);
  idx.finish("t", third.seq);  // nothing earlier is pending: returns at once
}

}  // namespace
}  // namespace tajir::cache
