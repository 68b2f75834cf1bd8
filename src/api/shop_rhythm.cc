#include "api/shop_rhythm.h"

#include <algorithm>

namespace tajir::api {
namespace {

// Floor division, for instants before 1970 too.
int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// The hour of the week of a local instant. 1970-01-01 was a Thursday: hour 0 of the epoch is
// hour 72 of its week.
int hour_of_week(int64_t local_ms) {
  const int64_t h = (floor_div(local_ms, ShopRhythm::kHourMs) + 72) % ShopRhythm::kHoursPerWeek;
  return static_cast<int>(h < 0 ? h + ShopRhythm::kHoursPerWeek : h);
}

}  // namespace

ShopRhythm::ShopRhythm(size_t keys_per_hour, size_t max_hours, int64_t hour_ms)
    : hour_ms_(std::clamp<int64_t>(hour_ms, 1, kHourMs)),
      week_hours_(keys_per_hour, max_hours),
      day_hours_(keys_per_hour, std::max<size_t>(1, max_hours / 7)) {}

void ShopRhythm::note(int64_t shop, std::string_view key, int64_t now_ms) {
  int64_t off = 0;
  {
    Stripe& s = stripes_[ReadHabits::thread_stripe()];
    std::lock_guard lock(s.mu);
    off = s.offsets.try_emplace(shop, 0).first->second;
  }
  const int hour = hour_of_week(now_ms * (kHourMs / hour_ms_) + off);
  week_hours_.note(holder(shop, Span::kWeek, hour), key);
  day_hours_.note(holder(shop, Span::kDay, hour % kHoursPerDay), key);
}

void ShopRhythm::set_offset(int64_t shop, int64_t offset_ms) {
  for (Stripe& s : stripes_) {
    std::lock_guard lock(s.mu);
    s.offsets[shop] = offset_ms;
  }
}

int64_t ShopRhythm::offset(int64_t shop) const {
  for (const Stripe& s : stripes_) {
    std::lock_guard lock(s.mu);
    auto it = s.offsets.find(shop);
    if (it != s.offsets.end()) return it->second;
  }
  return 0;
}

ShopRhythm::When ShopRhythm::when(int64_t shop, int64_t at_ms) const {
  const int64_t scale = kHourMs / hour_ms_, off = offset(shop);
  const int64_t local = at_ms * scale + off;
  const int64_t hours = floor_div(local, kHourMs);
  When w;
  w.hour = hour_of_week(local);
  // The first real ms whose clock reads the next hour: ceil(((hours + 1) * kHourMs - off) / scale).
  const int64_t next = (hours + 1) * kHourMs - off;
  w.hour_ends_ms = -floor_div(-next, scale);
  w.day = floor_div(local, 24 * kHourMs);
  return w;
}

std::vector<int64_t> ShopRhythm::shops() const {
  std::vector<int64_t> out;
  for (const Stripe& s : stripes_) {
    std::lock_guard lock(s.mu);
    for (const auto& [shop, off] : s.offsets) out.push_back(shop);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace tajir::api
