// ClockWarmer: warming by the clock. Once a tick, for each shop its users read from
// (ShopRhythm), it looks `lead` ahead on the shop's clock: when that is in an hour that has not
// begun nor been warmed, and a busy one (at least min_reads reads learned for it, and at least
// half the mean of the shop's hours that have any: hours of the week once the shop has been
// watched a week, of the day until then), it warms the keys the shop read in that hour of the
// week since it was last warmed, most read first, then those read in that hour of the day. An hour
// that has begun is not warmed: what is read in it is learned for the week after. After the shop's
// midnight it warms its dashboard (a cached dashboard ends at the shop's midnight).
//
// Bounded: one thread, one shop at a time, at most twice ShopRhythm's keys_per_hour keys per
// shop and hour (warmed through the caller's `warm`, which sets the parallelism). The shop's zone
// comes from `zone` (the database) at most once an hour per shop; ShopRhythm is told its offset.
// Each warmed hour and midnight is logged.
//
// Thread safety: pass() may be called from any thread (tests call it with a clock of their own);
// passes do not overlap.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/shop_rhythm.h"
#include "api/warmer.h"
#include "cache/cache.h"

namespace tajir::api {

class ClockWarmer {
 public:
  struct Options {
    std::chrono::milliseconds lead{std::chrono::minutes(10)};  // how early an hour is warmed
    std::chrono::milliseconds tick{std::chrono::minutes(1)};   // between passes; 0: no thread
    uint64_t min_reads = 20;  // an hour with fewer reads learned is not busy
    // A key is warmed only if counted at least this often for the hour. What is learned of an
    // hour weighs about two of it (halved at each warming), so 2 warms the keys the hour read
    // about once or more each time: a load that its first read pays back, where a key read
    // once a week ago is more often a load for nothing.
    uint32_t min_key_count = 2;
  };
  using Zone = std::function<std::string(int64_t shop)>;  // the shop's IANA zone; "" unknown
  // Warms the reads at these keys (Api::warm_keys).
  using Warm = std::function<cache::WarmReport(const std::vector<std::string>& keys, WarmCause)>;

  ClockWarmer(ShopRhythm& rhythm, Options options, Zone zone, Warm warm);
  ~ClockWarmer();
  ClockWarmer(const ClockWarmer&) = delete;
  ClockWarmer& operator=(const ClockWarmer&) = delete;

  // What one pass did.
  struct Pass {
    size_t hours = 0;      // shops whose coming hour was warmed
    size_t midnights = 0;  // shops whose dashboard was rebuilt
  };
  // One pass at unix ms `now_ms`.
  Pass pass(int64_t now_ms);

 private:
  struct Shop {
    std::string zone;
    int64_t zone_read_ms = 0;        // when `zone` was read; 0: never
    int64_t looked_ahead_to_ms = 0;  // the end of the last hour looked at (warmed or quiet)
    int64_t day = 0;                 // the shop's day at the last pass; 0: no pass yet
    int64_t first_pass_ms = 0;       // the first pass that saw the shop
  };
  void loop(std::stop_token stop);
  // The reads learned for the shop's hour if it is a busy one, else 0.
  uint64_t busy_reads(int64_t shop, ShopRhythm::Span span, int hour) const;

  ShopRhythm& rhythm_;
  const Options options_;
  Zone zone_;
  Warm warm_;
  std::mutex pass_mu_;
  std::map<int64_t, Shop> shops_;  // GUARDED_BY(pass_mu_)
  std::mutex wake_mu_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: stopped and joined first
};

}  // namespace tajir::api
