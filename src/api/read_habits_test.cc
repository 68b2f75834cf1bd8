#include "api/read_habits.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace tajir::api {
namespace {

using Keys = std::vector<std::string>;

TEST(ReadHabits, HandsOutAUsersMostReadKeysFirstAndOnlyTheirs) {
  ReadHabits h(3, 64);
  for (int i = 0; i < 5; ++i) h.note(1, "1|products|page=2");
  for (int i = 0; i < 3; ++i) h.note(1, "1|customers|id=7");
  h.note(1, "1|bills|page=1");
  h.note(2, "1|dashboard");
  EXPECT_EQ(h.take(1), (Keys{"1|products|page=2", "1|customers|id=7", "1|bills|page=1"}));
  EXPECT_EQ(h.take(2), (Keys{"1|dashboard"}));
  EXPECT_TRUE(h.take(3).empty());
}

// A new key takes the least counted one's place with its count plus one, so what a user reads
// now climbs past what they read once long ago; each take halves what came before.
TEST(ReadHabits, RecentReadsDisplaceOldOnesAndEachLoginHalvesThePast) {
  ReadHabits h(2, 64);
  for (int i = 0; i < 4; ++i) h.note(1, "old-a");
  h.note(1, "old-b");
  for (int i = 0; i < 3; ++i) h.note(1, "new");  // takes old-b's place (1 + 1), then 4
  EXPECT_EQ(h.take(1), (Keys{"old-a", "new"}));  // 4 and 4: the older first, as held
  // Counts are now 2 and 2. Another session of "new" only puts it first.
  for (int i = 0; i < 2; ++i) h.note(1, "new");
  EXPECT_EQ(h.take(1), (Keys{"new", "old-a"}));  // 4 and 2 -> 2 and 1
  EXPECT_EQ(h.take(1), (Keys{"new", "old-a"}));  // -> 1 and 0: old-a goes
  EXPECT_EQ(h.take(1), (Keys{"new"}));
  EXPECT_TRUE(h.take(1).empty());
}

TEST(ReadHabits, HoldsAtMostMaxUsersAndDropsTheLongestUnnoted) {
  ReadHabits h(2, 2);  // one holder in this thread's stripe
  h.note(1, "a");
  h.note(2, "b");  // user 1 goes
  EXPECT_TRUE(h.take(1).empty());
  EXPECT_EQ(h.take(2), (Keys{"b"}));
  for (int64_t u = 100; u < 1000; ++u) h.note(u, "k");
  EXPECT_EQ(h.holders(), 1u);
}

// A shop's hour (ShopRhythm) warms only what was read since it was last warmed; what it
// stopped reading keeps a fading count, so that it ranks again if it comes back.
TEST(ReadHabits, FreshKeysAreThoseReadSinceTheLastTakeAndReadsAreHalvedToo) {
  ReadHabits h(4, 64);
  for (int i = 0; i < 6; ++i) h.note(1, "a");
  for (int i = 0; i < 2; ++i) h.note(1, "b");
  EXPECT_EQ(h.reads(1), 8u);
  EXPECT_EQ(h.take(1, ReadHabits::Keys::kFresh), (Keys{"a", "b"}));
  EXPECT_EQ(h.reads(1), 4u);
  h.note(1, "b");
  EXPECT_EQ(h.take(1, ReadHabits::Keys::kFresh), (Keys{"b"}));  // a (3) was not read since
  EXPECT_EQ(h.reads(1), 2u);
  h.note(1, "a");
  EXPECT_EQ(h.take(1, ReadHabits::Keys::kFresh), (Keys{"a"}));  // a: 1 + 1, b: 1
  EXPECT_TRUE(h.take(1, ReadHabits::Keys::kFresh).empty());
  EXPECT_EQ(h.reads(2), 0u);
}

TEST(ReadHabits, ManyThreadsNoteAtOnce) {
  ReadHabits h(4, 1024);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&h, t] {
        for (int i = 0; i < 20'000; ++i) h.note(i % 50, "key" + std::to_string((i + t) % 6));
      });
    }
  }
  EXPECT_EQ(h.holders(), 50u);
  uint64_t reads = 0;
  for (int64_t u = 0; u < 50; ++u) reads += h.reads(u);
  EXPECT_EQ(reads, 80'000u) << "each thread's notes, added up";
  for (int64_t u = 0; u < 50; ++u) EXPECT_EQ(h.take(u).size(), 4u);
}

}  // namespace
}  // namespace tajir::api
