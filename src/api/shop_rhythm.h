// ShopRhythm: for each shop, which cached reads its users make in each hour of the shop's week
// (hour 0 is Monday 00:00 to 01:00 on the shop's clock), and in each hour of its day (the same
// hour of every day, pooled), and how many, learned from live traffic, so that ClockWarmer can
// warm an hour's reads before the hour starts. The hour of the week knows a shop's Saturdays
// from its Mondays but needs a week to learn; the hour of the day has learned after one day.
//
// Each (shop, hour) is a holder of a ReadHabits: a top-k of its keys by the space-saving rule
// and a count of its reads, both halved each time the hour is warmed, so each week (or day)
// weighs as much as all those before it. Bounded: at most `max_hours` (shop, hour of the week)
// pairs and max_hours / 7 (shop, hour of the day) pairs, of `keys_per_hour` keys each; the pair
// noted longest ago makes room.
//
// The shop's clock is UTC plus its zone's offset, which ClockWarmer sets off the request path
// (set_offset); until then a shop's hours are UTC's. `hour_ms` shorter than an hour compresses
// the week for tests and benchmarks: one such span of real time counts as an hour.
//
// Thread safety: thread-safe; note() takes three mutexes of the calling thread's own stripe.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/read_habits.h"

namespace tajir::api {

class ShopRhythm {
 public:
  static constexpr int kHoursPerWeek = 168;
  static constexpr int kHoursPerDay = 24;
  // An hour of the shop's week (0 to 167), or of its day (0 to 23).
  enum class Span : uint8_t { kWeek, kDay };
  static constexpr int64_t kHourMs = 3'600'000;

  // REQUIRES: hour_ms divides kHourMs.
  ShopRhythm(size_t keys_per_hour, size_t max_hours, int64_t hour_ms = kHourMs);

  // A user of `shop` read the cache key `key` at unix ms `now_ms`.
  void note(int64_t shop, std::string_view key, int64_t now_ms);
  // The shop's offset from UTC now, in ms (its zone's, daylight saving included).
  void set_offset(int64_t shop, int64_t offset_ms);

  // Where unix ms `at_ms` falls on the shop's clock: its hour of the week, the unix ms at which
  // that hour ends, and its day (days since 1970-01-01 on the shop's clock).
  struct When {
    int hour = 0;
    int64_t hour_ends_ms = 0;
    int64_t day = 0;
  };
  When when(int64_t shop, int64_t at_ms) const;

  // The reads learned for the shop's hour of the week or of the day.
  uint64_t reads(int64_t shop, Span span, int hour) const {
    return habits(span).reads(holder(shop, span, hour));
  }
  // The keys read in the shop's hour since it was last taken and counted at least min_count,
  // most read first (over the weeks, or days); halves what was learned of it
  // (ReadHabits::take).
  std::vector<std::string> take(int64_t shop, Span span, int hour, uint32_t min_count = 1) {
    return habits(span).take(holder(shop, span, hour), ReadHabits::Keys::kFresh, min_count);
  }
  // Every shop a user read from.
  std::vector<int64_t> shops() const;
  int64_t hour_ms() const { return hour_ms_; }

 private:
  static int64_t holder(int64_t shop, Span span, int hour) {
    return shop * (span == Span::kWeek ? kHoursPerWeek : kHoursPerDay) + hour;
  }
  ReadHabits& habits(Span span) { return span == Span::kWeek ? week_hours_ : day_hours_; }
  const ReadHabits& habits(Span span) const {
    return span == Span::kWeek ? week_hours_ : day_hours_;
  }
  int64_t offset(int64_t shop) const;

  // Each thread reads the offsets in its own stripe (ReadHabits::thread_stripe); set_offset()
  // writes them all.
  struct alignas(64) Stripe {
    mutable std::mutex mu;
    std::unordered_map<int64_t, int64_t> offsets;  // GUARDED_BY(mu): shop -> ms east of UTC
  };
  static constexpr size_t kStripes = ReadHabits::kStripes;

  const int64_t hour_ms_;
  ReadHabits week_hours_;
  ReadHabits day_hours_;
  std::array<Stripe, kStripes> stripes_;
};

}  // namespace tajir::api
