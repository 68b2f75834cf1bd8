#include "api/clock_warmer.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "api/read_cache.h"

namespace tajir::api {
namespace {

using Keys = std::vector<std::string>;
constexpr int64_t kHour = ShopRhythm::kHourMs;
constexpr int64_t kWeek = 168 * kHour;
constexpr int64_t kMonday = 1'795'392'000'000;  // 2026-11-23T00:00:00Z, a Monday

TEST(ShopRhythm, AnInstantFallsInTheHourOfTheShopsWeekOnItsClock) {
  ShopRhythm r(4, 64);
  ShopRhythm::When w = r.when(1, kMonday + 10 * kHour + 5 * 60'000);
  EXPECT_EQ(w.hour, 10);
  EXPECT_EQ(w.hour_ends_ms, kMonday + 11 * kHour);
  EXPECT_EQ(w.day, kMonday / (24 * kHour));
  EXPECT_EQ(r.when(1, kMonday - 1).hour, 167);  // Sunday 23:59:59.999
  r.set_offset(1, 5 * kHour);                   // Asia/Karachi
  w = r.when(1, kMonday - 5 * kHour);           // Monday 00:00 in Karachi
  EXPECT_EQ(w.hour, 0);
  EXPECT_EQ(w.hour_ends_ms, kMonday - 4 * kHour);
  EXPECT_EQ(w.day, kMonday / (24 * kHour));
}

TEST(ShopRhythm, AShortHourCompressesTheWeek) {
  ShopRhythm r(4, 64, 1000);          // an hour a second: a week in 168 s
  const int64_t t0 = kMonday / 3600;  // real ms whose clock reads Monday 00:00
  EXPECT_EQ(r.when(1, t0).hour, 0);
  EXPECT_EQ(r.when(1, t0 + 10'500).hour, 10);
  EXPECT_EQ(r.when(1, t0 + 10'500).hour_ends_ms, t0 + 11'000);
  EXPECT_EQ(r.when(1, t0 + 168'000).hour, 0);
  r.note(1, "a", t0 + 10'200);
  r.note(1, "a", t0 + 10'900);
  r.note(1, "b", t0 + 11'100);
  EXPECT_EQ(r.reads(1, ShopRhythm::Span::kWeek, 10), 2u);
  EXPECT_EQ(r.reads(1, ShopRhythm::Span::kWeek, 11), 1u);
  EXPECT_EQ(r.take(1, ShopRhythm::Span::kWeek, 10), (Keys{"a"}));
}

TEST(ShopRhythm, AReadCountsInItsHourOfTheWeekAndOfTheDay) {
  ShopRhythm r(4, 64);
  r.note(1, "a", kMonday + 10 * kHour);
  r.note(1, "a", kMonday + 34 * kHour);  // Tuesday 10:00
  r.note(1, "b", kMonday + 35 * kHour);
  EXPECT_EQ(r.reads(1, ShopRhythm::Span::kWeek, 10), 1u);
  EXPECT_EQ(r.reads(1, ShopRhythm::Span::kWeek, 34), 1u);
  EXPECT_EQ(r.reads(1, ShopRhythm::Span::kDay, 10), 2u);
  EXPECT_EQ(r.reads(1, ShopRhythm::Span::kDay, 11), 1u);
  EXPECT_EQ(r.take(1, ShopRhythm::Span::kDay, 10), (Keys{"a"}));
  EXPECT_EQ(r.reads(1, ShopRhythm::Span::kDay, 10), 1u);   // halved
  EXPECT_EQ(r.reads(1, ShopRhythm::Span::kWeek, 34), 1u);  // the week's hours are apart
}

struct Warmed {
  Keys keys;
  WarmCause cause;
};

// The keys warmed ahead of an hour, in order (not the dashboards rebuilt at midnights).
std::vector<Keys> ahead(const std::vector<Warmed>& warmed) {
  std::vector<Keys> out;
  for (const Warmed& w : warmed) {
    if (w.cause == WarmCause::kClock) out.push_back(w.keys);
  }
  return out;
}

class ClockWarmerTest : public ::testing::Test {
 protected:
  ClockWarmer::Warm warm() {
    return [this](const Keys& keys, WarmCause cause) {
      warmed.push_back({keys, cause});
      return cache::WarmReport{.loaded = keys.size()};
    };
  }
  ClockWarmer::Zone zone() {
    return [this](int64_t shop) {
      ++zone_reads;
      return shop == 2 ? std::string("Asia/Karachi") : std::string("UTC");
    };
  }
  void read(int64_t shop, const std::string& key, int times, int64_t at) {
    for (int i = 0; i < times; ++i) rhythm.note(shop, key, at + i * 1000);
  }

  ShopRhythm rhythm{8, 1024};
  std::vector<Warmed> warmed;
  int zone_reads = 0;
};

TEST_F(ClockWarmerTest, WarmsABusyHourAheadOnceAndAQuietOneNever) {
  ClockWarmer clock(rhythm, {.lead = std::chrono::minutes(10), .tick = {}, .min_reads = 20}, zone(),
                    warm());
  read(1, "1|products|/api/products/7", 25, kMonday + 10 * kHour);  // Monday 10:00
  read(1, "1|products|/api/products?page=3", 5, kMonday + 10 * kHour + 60'000);
  read(1, "1|customers|/api/customers/4", 3, kMonday + 14 * kHour);  // Monday 14:00: quiet

  EXPECT_EQ(clock.pass(kWeek + kMonday + 9 * kHour + 40 * 60'000).hours,
            0u);  // 10:00 is 20 min off
  EXPECT_EQ(clock.pass(kWeek + kMonday + 9 * kHour + 52 * 60'000).hours, 1u);
  ASSERT_EQ(warmed.size(), 1u);
  EXPECT_EQ(warmed[0].cause, WarmCause::kClock);
  EXPECT_EQ(warmed[0].keys,
            (Keys{"1|products|/api/products/7", "1|products|/api/products?page=3"}));
  EXPECT_EQ(clock.pass(kWeek + kMonday + 9 * kHour + 55 * 60'000).hours, 0u);  // warmed already
  EXPECT_EQ(zone_reads, 1);  // once an hour at most
  EXPECT_EQ(clock.pass(kWeek + kMonday + 13 * kHour + 55 * 60'000).hours, 0u);  // 3 reads: quiet
  EXPECT_EQ(warmed.size(), 1u);
}

// What is read in an hour that has begun is learned for the week after, not warmed now.
TEST_F(ClockWarmerTest, AnHourThatHasBegunIsNotWarmedItIsLearnedFrom) {
  ClockWarmer clock(rhythm, {.lead = std::chrono::minutes(10), .tick = {}, .min_reads = 20}, zone(),
                    warm());
  read(1, "a", 25, kMonday + 10 * kHour);
  EXPECT_EQ(clock.pass(kMonday + 10 * kHour + 30'000).hours, 0u);
  EXPECT_EQ(clock.pass(kMonday + 10 * kHour + 55 * 60'000).hours, 0u);
  EXPECT_EQ(rhythm.reads(1, ShopRhythm::Span::kWeek, 10), 25u);
  EXPECT_EQ(clock.pass(kWeek + kMonday + 9 * kHour + 52 * 60'000).hours, 1u);
}

TEST_F(ClockWarmerTest, WarmsWhatTheHourReadLastWeekAndNotWhatItStoppedReading) {
  ClockWarmer clock(rhythm, {.lead = std::chrono::minutes(10), .tick = {}, .min_reads = 20}, zone(),
                    warm());
  read(1, "old", 30, kMonday + 10 * kHour);
  clock.pass(kWeek + kMonday + 9 * kHour + 52 * 60'000);
  read(1, "new", 25, kWeek + kMonday + 10 * kHour);  // the week after, another read
  clock.pass(2 * kWeek + kMonday + 9 * kHour + 52 * 60'000);
  EXPECT_EQ(ahead(warmed), (std::vector<Keys>{{"old"}, {"new"}}));
}

// A shop watched for less than a week is warmed from the same hour of the days before.
TEST_F(ClockWarmerTest, BeforeAWeekHasPassedYesterdaysHourIsWarmedAhead) {
  ClockWarmer clock(rhythm, {.lead = std::chrono::minutes(10), .tick = {}, .min_reads = 20}, zone(),
                    warm());
  rhythm.note(1, "first", kMonday);
  clock.pass(kMonday);
  read(1, "a", 25, kMonday + 10 * kHour);                               // Monday 10:00
  EXPECT_EQ(clock.pass(kMonday + 33 * kHour + 52 * 60'000).hours, 1u);  // Tuesday 09:52
  EXPECT_EQ(ahead(warmed), (std::vector<Keys>{{"a"}}));
}

// Once it has been watched for a week, its hour of the week decides: a Sunday morning that is
// quiet is not warmed because the weekday mornings are busy.
TEST_F(ClockWarmerTest, AfterAWeekAQuietHourOfTheWeekIsNotWarmedForBusyDays) {
  ClockWarmer clock(rhythm, {.lead = std::chrono::minutes(10), .tick = {}, .min_reads = 20}, zone(),
                    warm());
  rhythm.note(1, "first", kMonday);
  clock.pass(kMonday);
  for (int day = 0; day < 5; ++day) read(1, "a", 25, kMonday + (24 * day + 10) * kHour);
  read(1, "b", 2, kMonday + (24 * 6 + 10) * kHour);  // Sunday 10:00
  EXPECT_EQ(clock.pass(kWeek + kMonday + (24 * 6 + 9) * kHour + 52 * 60'000).hours, 0u);
  EXPECT_EQ(clock.pass(2 * kWeek + kMonday + 9 * kHour + 52 * 60'000).hours, 1u);  // Monday
  // What Monday 10:00 read, then what 10:00 read on the other days since.
  EXPECT_EQ(ahead(warmed), (std::vector<Keys>{{"a", "b"}}));
}

// A key the hour read once is more often a load for nothing than a hit: not warmed.
TEST_F(ClockWarmerTest, AKeyTheHourReadOnceIsNotWarmed) {
  ClockWarmer clock(rhythm, {.lead = std::chrono::minutes(10), .tick = {}, .min_reads = 20}, zone(),
                    warm());
  read(1, "often", 25, kMonday + 10 * kHour);
  read(1, "once", 1, kMonday + 10 * kHour + 60'000);
  read(1, "twice", 2, kMonday + 10 * kHour + 120'000);
  clock.pass(kWeek + kMonday + 9 * kHour + 52 * 60'000);
  EXPECT_EQ(ahead(warmed), (std::vector<Keys>{{"often", "twice"}}));
}

// A shop whose Mondays differ from its Sundays: Monday 10:00 warms what it read a week before,
// not what Sunday 10:00 read.
TEST_F(ClockWarmerTest, WhereTheDaysDifferTheHourOfTheDayAddsNothing) {
  ClockWarmer clock(rhythm, {.lead = std::chrono::minutes(10), .tick = {}, .min_reads = 20}, zone(),
                    warm());
  rhythm.note(1, "first", kMonday);
  clock.pass(kMonday);
  read(1, "monday", 25, kMonday + 10 * kHour);
  clock.pass(kMonday + (24 * 6 + 9) * kHour + 52 * 60'000);  // Sunday, in the first week
  read(1, "sunday", 25, kMonday + (24 * 6 + 10) * kHour);
  clock.pass(kWeek + kMonday + 9 * kHour + 52 * 60'000);  // the next Monday
  EXPECT_EQ(ahead(warmed), (std::vector<Keys>{{"monday"}, {"monday"}}))
      << "Sunday (watched less than a week) warmed Monday's; Monday warms only its own";
}

// Hours are the shop's: in Karachi (UTC+5) its 10:00 is 05:00 UTC.
TEST_F(ClockWarmerTest, AnHourIsOnTheShopsOwnClock) {
  ClockWarmer clock(rhythm, {.lead = std::chrono::minutes(10), .tick = {}, .min_reads = 20}, zone(),
                    warm());
  rhythm.note(2, "first", kMonday - kWeek);
  clock.pass(kMonday - kWeek);  // learns the zone
  read(2, "2|products|/api/products/1", 30, kMonday + 5 * kHour);
  clock.pass(kWeek + kMonday + 4 * kHour + 40 * 60'000);  // 09:40 there: too early
  EXPECT_TRUE(ahead(warmed).empty());
  clock.pass(kWeek + kMonday + 4 * kHour + 52 * 60'000);
  EXPECT_EQ(ahead(warmed), (std::vector<Keys>{{"2|products|/api/products/1"}}));
}

TEST_F(ClockWarmerTest, AfterTheShopsMidnightItsDashboardIsRebuilt) {
  ClockWarmer clock(rhythm, {.lead = std::chrono::minutes(10), .tick = {}, .min_reads = 20}, zone(),
                    warm());
  rhythm.note(2, "first", kMonday);
  EXPECT_EQ(clock.pass(kMonday + 18 * kHour).midnights, 0u);  // Monday 23:00 in Karachi
  EXPECT_EQ(clock.pass(kMonday + 18 * kHour + 30 * 60'000).midnights, 0u);
  EXPECT_EQ(clock.pass(kMonday + 19 * kHour + 30'000).midnights, 1u);  // Tuesday 00:00:30
  ASSERT_EQ(warmed.size(), 1u);
  EXPECT_EQ(warmed[0].cause, WarmCause::kMidnight);
  EXPECT_EQ(warmed[0].keys, (Keys{ReadCache::key(2, "dashboard", "/api/dashboard")}));
  EXPECT_EQ(clock.pass(kMonday + 19 * kHour + 90'000).midnights, 0u);
}

}  // namespace
}  // namespace tajir::api
