#include "api/user_habits.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace tajir::api {
namespace {

using Keys = std::vector<std::string>;

TEST(UserHabits, HandsOutAUsersMostReadKeysFirstAndOnlyTheirs) {
  UserHabits h(3, 64);
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
TEST(UserHabits, RecentReadsDisplaceOldOnesAndEachLoginHalvesThePast) {
  UserHabits h(2, 64);
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

TEST(UserHabits, HoldsAtMostMaxUsersAndDropsTheLongestUnnoted) {
  UserHabits h(2, UserHabits::kStripes);  // one user a stripe
  h.note(1, "a");
  h.note(1 + UserHabits::kStripes, "b");  // same stripe: user 1 goes
  EXPECT_TRUE(h.take(1).empty());
  EXPECT_EQ(h.take(1 + UserHabits::kStripes), (Keys{"b"}));
  for (int64_t u = 100; u < 1000; ++u) h.note(u, "k");
  EXPECT_LE(h.users(), UserHabits::kStripes);
}

TEST(UserHabits, ManyThreadsNoteAtOnce) {
  UserHabits h(4, 1024);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&h, t] {
        for (int i = 0; i < 20'000; ++i) h.note(i % 50, "key" + std::to_string((i + t) % 6));
      });
    }
  }
  EXPECT_EQ(h.users(), 50u);
  for (int64_t u = 0; u < 50; ++u) EXPECT_EQ(h.take(u).size(), 4u);
}

}  // namespace
}  // namespace tajir::api
