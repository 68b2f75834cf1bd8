#include "api/forecast.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace tajir::api {
namespace {

constexpr int64_t kHour = static_cast<int64_t>(pos::CacheRollup::kHour);
constexpr int64_t kDay = 24 * kHour, kWeek = 7 * kDay;

int64_t hour_of(int64_t ms) { return ms / kHour * kHour - (ms % kHour < 0 ? kHour : 0); }

class History {
 public:
  explicit History(const std::vector<pos::CacheHistoryPoint>& rows) {
    for (const auto& r : rows) by_hour_[hour_of(r.at_ms)] = &r;
    if (!by_hour_.empty()) first_ = by_hour_.begin()->first;
  }
  // The forecast of hour `at` from the hours `period` apart before it, up to `seasons` of them.
  HourForecast at(int64_t at) const {
    HourForecast f{.at_ms = at};
    if (!seasonal(f, kWeek, 4, "week")) seasonal(f, kDay, 7, "day");
    return f;
  }
  // The hour's requests and hits; nullopt before the history starts.
  std::optional<std::pair<uint64_t, uint64_t>> actual(int64_t at) const {
    if (by_hour_.empty() || at < first_) return std::nullopt;
    auto it = by_hour_.find(at);
    if (it == by_hour_.end()) return std::pair<uint64_t, uint64_t>{0, 0};
    return std::pair<uint64_t, uint64_t>{it->second->hits + it->second->misses, it->second->hits};
  }

 private:
  bool seasonal(HourForecast& f, int64_t period, int seasons, std::string_view basis) const {
    uint64_t requests = 0, hits = 0;
    int n = 0;
    for (int k = 1; k <= seasons; ++k) {
      auto a = actual(f.at_ms - k * period);
      if (!a) break;
      requests += a->first;
      hits += a->second;
      ++n;
    }
    if (n == 0) return false;
    f.requests = static_cast<double>(requests) / n;
    if (requests > 0) f.hit_rate = static_cast<double>(hits) / static_cast<double>(requests);
    f.basis = basis;
    f.seasons = n;
    return true;
  }

  std::map<int64_t, const pos::CacheHistoryPoint*> by_hour_;
  int64_t first_ = 0;
};

}  // namespace

std::vector<HourForecast> forecast(const std::vector<pos::CacheHistoryPoint>& rows, int64_t now_ms,
                                   int hours) {
  const History h(rows);
  std::vector<HourForecast> out;
  for (int i = 1; i <= hours; ++i) out.push_back(h.at(hour_of(now_ms) + i * kHour));
  return out;
}

ForecastError backtest(const std::vector<pos::CacheHistoryPoint>& rows, int64_t now_ms, int hours) {
  const History h(rows);
  ForecastError e;
  double pct = 0, rate = 0;
  int rated = 0;
  for (int i = 1; i <= hours; ++i) {
    const int64_t at = hour_of(now_ms) - i * kHour;
    const auto a = h.actual(at);
    const HourForecast f = h.at(at);
    if (!a || a->first == 0 || !f.requests) continue;
    const double actual = static_cast<double>(a->first);
    pct += std::abs(*f.requests - actual) / actual;
    ++e.hours;
    if (f.hit_rate) {
      rate += std::abs(*f.hit_rate - static_cast<double>(a->second) / actual);
      ++rated;
    }
  }
  if (e.hours > 0) e.requests_mape = pct / e.hours;
  if (rated > 0) e.hit_rate_mae = rate / rated;
  return e;
}

}  // namespace tajir::api
