#include "api/clock_warmer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

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
    if (shop.first_pass_ms == 0) shop.first_pass_ms = now_ms;
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
    // A shop watched for a week is judged by the hour of its week (its Sundays are not its
    // Mondays), one watched less by the hour of its day.
    using Span = ShopRhythm::Span;
    const bool week_known =
        now_ms - shop.first_pass_ms >= ShopRhythm::kHoursPerWeek * rhythm_.hour_ms();
    const int day_hour = next.hour % ShopRhythm::kHoursPerDay;
    const uint64_t reads =
        week_known ? busy_reads(id, Span::kWeek, next.hour) : busy_reads(id, Span::kDay, day_hour);
    if (reads == 0) continue;
    // What that hour of the week read; then what that hour of the day read besides, if this
    // shop's days repeat (at least half of the hour of the week's keys were read in that hour
    // yesterday too), or if the hour of the week knows nothing yet.
    std::vector<std::string> keys =
        rhythm_.take(id, Span::kWeek, next.hour, options_.min_key_count);
    std::vector<std::string> day = rhythm_.take(id, Span::kDay, day_hour, options_.min_key_count);
    size_t shared = 0;
    for (const std::string& key : keys)
      shared += std::find(day.begin(), day.end(), key) != day.end();
    if (keys.empty() || shared * 2 >= keys.size()) {
      for (std::string& key : day) {
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
      }
    }
    if (keys.empty()) continue;
    const cache::WarmReport r = warm_(keys, WarmCause::kClock);
    ++out.hours;
    spdlog::info(
        "shop {}: warmed {} keys ahead of hour {} of its week ({} reads learned of its {}): {} "
        "loaded, {} present, {} failed, {} ms",
        id, keys.size(), next.hour, reads, week_known ? "week" : "day", r.loaded, r.present,
        r.failed, r.took.count());
  }
  return out;
}

uint64_t ClockWarmer::busy_reads(int64_t shop, ShopRhythm::Span span, int hour) const {
  const int hours =
      span == ShopRhythm::Span::kWeek ? ShopRhythm::kHoursPerWeek : ShopRhythm::kHoursPerDay;
  uint64_t sum = 0, hours_read = 0;
  for (int h = 0; h < hours; ++h) {
    const uint64_t n = rhythm_.reads(shop, span, h);
    sum += n;
    hours_read += n > 0;
  }
  const uint64_t reads = rhythm_.reads(shop, span, hour);
  return reads >= options_.min_reads && reads * 2 * hours_read >= sum ? reads : 0;
}

}  // namespace tajir::api
