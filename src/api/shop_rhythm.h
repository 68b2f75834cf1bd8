// ShopRhythm: for each shop, which cached reads its users make in each hour of the shop's week
// (hour 0 is Monday 00:00 to 01:00 on the shop's clock) and how many, learned from live
// traffic, so that ClockWarmer can warm an hour's reads before the hour starts.
//
// Each (shop, hour) is a holder of one ReadHabits: a top-k of its keys by the space-saving rule
// and a count of its reads, both halved each time the hour is warmed, so each week weighs as
// much as all the weeks before it. Bounded: at most `max_hours` (shop, hour) pairs of
// `keys_per_hour` keys; the pair noted longest ago makes room.
//
// The shop's clock is UTC plus its zone's offset, which ClockWarmer sets off the request path
// (set_offset); until then a shop's hours are UTC's. `hour_ms` shorter than an hour compresses
// the week for tests and benchmarks: one such span of real time counts as an hour.
//
// Thread safety: thread-safe; note() takes two mutexes of the calling thread's own stripe.
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

  // The reads learned for the shop's hour of the week.
  uint64_t reads(int64_t shop, int hour) const { return hours_.reads(holder(shop, hour)); }
  // The keys read in the shop's hour since it was last taken, most read first (over the weeks);
  // halves what was learned of it (ReadHabits::take).
  std::vector<std::string> take(int64_t shop, int hour) {
    return hours_.take(holder(shop, hour), ReadHabits::Keys::kFresh);
  }
  // Every shop a user read from.
  std::vector<int64_t> shops() const;
  int64_t hour_ms() const { return hour_ms_; }

 private:
  static int64_t holder(int64_t shop, int hour) { return shop * kHoursPerWeek + hour; }
  int64_t offset(int64_t shop) const;

  // Each thread reads the offsets in its own stripe (ReadHabits::thread_stripe); set_offset()
  // writes them all.
  struct alignas(64) Stripe {
    mutable std::mutex mu;
    std::unordered_map<int64_t, int64_t> offsets;  // GUARDED_BY(mu): shop -> ms east of UTC
  };
  static constexpr size_t kStripes = ReadHabits::kStripes;

  const int64_t hour_ms_;
  ReadHabits hours_;
  std::array<Stripe, kStripes> stripes_;
};

}  // namespace tajir::api
