// Tests of the per-thread aliases of hot values (hot_values.h).
#include "cache/internal/hot_values.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

namespace tajir::cache::internal {
namespace {

using Value = std::shared_ptr<const std::string>;

bool same_count(const Value& a, const Value& b) { return !a.owner_before(b) && !b.owner_before(a); }

TEST(HotValues, AValueHandedOutTwiceInARowGetsTheThreadsOwnCount) {
  HotValues hot;
  const Value stored = std::make_shared<const std::string>("page");
  const Value first = hot.copy(stored, 7);
  EXPECT_TRUE(same_count(first, stored)) << "once is not hot";
  const Value second = hot.copy(stored, 7);
  EXPECT_EQ(second.get(), stored.get()) << "the same bytes, not a copy of them";
  EXPECT_FALSE(same_count(second, stored));
  const Value third = hot.copy(stored, 7);
  EXPECT_TRUE(same_count(third, second)) << "later hits share the alias";

  Value other_thread;
  std::thread([&] {
    HotValues::mine().copy(stored, 7);
    other_thread = HotValues::mine().copy(stored, 7);
  }).join();
  EXPECT_FALSE(same_count(other_thread, second)) << "each thread has its own";
  EXPECT_EQ(*other_thread, "page") << "and its copies outlive it";
}

TEST(HotValues, AnAliasIsHandedOutOnlyForTheBytesTheEntryHolds) {
  HotValues hot;
  Value v1 = std::make_shared<const std::string>("v1");
  hot.copy(v1, 1);
  const Value alias = hot.copy(v1, 1);
  ASSERT_FALSE(same_count(alias, v1));
  const Value v2 = std::make_shared<const std::string>("v2");  // the key's new value
  EXPECT_EQ(*hot.copy(v2, 1), "v2");
  EXPECT_EQ(*hot.copy(v1, 1), "v1") << "an alias is only a count: the bytes are what was asked";
  v1.reset();
  EXPECT_EQ(*alias, "v1") << "a copy handed out keeps its bytes";
}

TEST(HotValues, TwoHotValuesOfOneSetKeepTheirAliasesWhileTakingTurns) {
  HotValues hot;
  const Value a = std::make_shared<const std::string>("a");
  const Value b = std::make_shared<const std::string>("b");
  hot.copy(a, 5);
  const Value alias_a = hot.copy(a, 5);
  hot.copy(b, 5);
  const Value alias_b = hot.copy(b, 5);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(same_count(hot.copy(a, 5), alias_a));
    EXPECT_TRUE(same_count(hot.copy(b, 5), alias_b));
  }
  const Value c = std::make_shared<const std::string>("c");
  hot.copy(c, 5);
  hot.copy(c, 5);  // a third one takes the way hit less recently: a's
  EXPECT_TRUE(same_count(hot.copy(b, 5), alias_b));
  EXPECT_TRUE(same_count(hot.copy(a, 5), a));
}

TEST(HotValues, LargeValuesKeepTheirSharedCount) {
  HotValues hot;
  const Value big = std::make_shared<const std::string>(HotValues::kMaxBytes + 1, 'x');
  hot.copy(big, 3);
  EXPECT_TRUE(same_count(hot.copy(big, 3), big));
}

}  // namespace
}  // namespace tajir::cache::internal
