#include "api/clock_warmer.h"

#include <spdlog/spdlog.h>

#include "api/read_cache.h"
#include "pos/pos.h"

namespace tajir::api {

ClockWarmer::ClockWarmer(ShopRhythm& rhythm, Options options, Zone zone, Warm warm)
    : rhythm_(rhythm), options_(options), zone_(std::move(zone)), warm_(std::move(warm)) {
  if (options_.tick.count() > 0) thread_ = std::jthread([this](std::stop_token st) { loop(st); });
}

ClockWarmer::~ClockWarmer() {
  thread_.request_stop();
  wake_.notify_all();
}

void ClockWarmer::loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    pass(pos::now_ms());
    std::unique_lock lock(wake_mu_);
    wake_.wait_for(lock, stop, options_.tick, [] { return false; });
  }
}

ClockWarmer::Pass ClockWarmer::pass(int64_t now_ms) {
  std::lock_guard lock(pass_mu_);
  Pass out;
  for (int64_t id : rhythm_.shops()) {
    Shop& shop = shops_[id];
    if (shop.zone_read_ms == 0 || now_ms - shop.zone_read_ms >= ShopRhythm::kHourMs) {
      shop.zone = zone_(id);
      shop.zone_read_ms = now_ms;
    }
    rhythm_.set_offset(id, shop.zone.empty() ? 0 : pos::utc_offset_ms(shop.zone, now_ms));

    const ShopRhythm::When today = rhythm_.when(id, now_ms);
    if (shop.day != 0 && today.day != shop.day) {
      const cache::WarmReport r =
          warm_({ReadCache::key(id, "dashboard", "/api/dashboard")}, WarmCause::kMidnight);
      ++out.midnights;
      spdlog::info("shop {}: its day turned; its dashboard warmed ({} loaded, {} present) in {} ms",
                   id, r.loaded, r.present, r.took.count());
    }
    shop.day = today.day;

    // Only an hour that has not begun: warming takes what was learned of it (ShopRhythm::take),
    // and what is read in it now is next week's lesson. Looked at once: until it begins, what
    // was learned of it does not change.
    const ShopRhythm::When next = rhythm_.when(id, now_ms + options_.lead.count());
    if (next.hour_ends_ms == today.hour_ends_ms || next.hour_ends_ms == shop.looked_ahead_to_ms)
      continue;
    shop.looked_ahead_to_ms = next.hour_ends_ms;
    uint64_t sum = 0, hours_read = 0;
    for (int h = 0; h < ShopRhythm::kHoursPerWeek; ++h) {
      const uint64_t n = rhythm_.reads(id, h);
      sum += n;
      hours_read += n > 0;
    }
    const uint64_t reads = rhythm_.reads(id, next.hour);
    if (reads < options_.min_reads || reads * 2 * hours_read < sum) continue;
    const std::vector<std::string> keys = rhythm_.take(id, next.hour);
    if (keys.empty()) continue;
    const cache::WarmReport r = warm_(keys, WarmCause::kClock);
    ++out.hours;
    spdlog::info(
        "shop {}: warmed {} keys ahead of hour {} of its week ({} reads learned): {} loaded, "
        "{} present, {} failed, {} ms",
        id, keys.size(), next.hour, reads, r.loaded, r.present, r.failed, r.took.count());
  }
  return out;
}

}  // namespace tajir::api
