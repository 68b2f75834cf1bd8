#include "api/forecast.h"

#include <gtest/gtest.h>

#include <vector>

namespace tajir::api {
namespace {

constexpr int64_t kHour = 3'600'000, kDay = 24 * kHour, kWeek = 7 * kDay;
constexpr int64_t kMonday = 1'795'392'000'000;  // 2026-11-23T00:00:00Z

// A shop open 09:00 to 18:00: 100 requests an hour (90 hits), 4 at night (none hit); `scale`
// multiplies the requests of each hour.
pos::CacheHistoryPoint hour_row(int64_t at, double scale = 1) {
  const int64_t h = at / kHour % 24;
  const bool open = h >= 9 && h < 18;
  const auto requests = static_cast<uint64_t>((open ? 100 : 4) * scale);
  return {1, at, open ? requests * 9 / 10 : 0, open ? requests - requests * 9 / 10 : requests,
          0, 0};
}

std::vector<pos::CacheHistoryPoint> rows(int64_t from, int64_t to, double scale = 1) {
  std::vector<pos::CacheHistoryPoint> out;
  for (int64_t t = from; t < to; t += kHour) out.push_back(hour_row(t, scale));
  return out;
}

TEST(Forecast, IsTheMeanOfTheSameHourInTheWeeksBefore) {
  auto history = rows(kMonday, kMonday + 3 * kWeek);
  // The third week was 20% busier: a mean of 100, 100 and 120.
  for (auto& r : history) {
    if (r.at_ms >= kMonday + 2 * kWeek) r = hour_row(r.at_ms, 1.2);
  }
  const int64_t now = kMonday + 3 * kWeek + 8 * kHour + 30 * 60'000;  // Monday 08:30
  const auto f = forecast(history, now, 3);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].at_ms, kMonday + 3 * kWeek + 9 * kHour);
  EXPECT_EQ(f[0].basis, "week");
  EXPECT_EQ(f[0].seasons, 3);
  EXPECT_NEAR(*f[0].requests, (100 + 100 + 120) / 3.0, 1e-9);
  EXPECT_NEAR(*f[0].hit_rate, 0.9, 1e-9);
  EXPECT_EQ(f[2].at_ms, kMonday + 3 * kWeek + 11 * kHour);
  EXPECT_NEAR(*f[2].requests, (100 + 100 + 120) / 3.0, 1e-9);
}

TEST(Forecast, WithLessThanAWeekItGoesByTheDaysAndWithNothingItSaysSo) {
  const auto history = rows(kMonday, kMonday + 2 * kDay);
  const auto f = forecast(history, kMonday + 2 * kDay + 8 * kHour, 2);
  EXPECT_EQ(f[0].basis, "day");
  EXPECT_EQ(f[0].seasons, 2);
  EXPECT_NEAR(*f[0].requests, 100, 1e-9);
  const auto none = forecast({}, kMonday, 1);
  EXPECT_EQ(none[0].basis, "none");
  EXPECT_FALSE(none[0].requests.has_value());
}

TEST(Forecast, AnHourWithoutARowInsideTheHistoryHadNoRequests) {
  auto history = rows(kMonday, kMonday + 2 * kWeek);
  std::erase_if(history, [](const auto& r) { return r.at_ms == kMonday + kWeek + 10 * kHour; });
  const auto f = forecast(history, kMonday + 2 * kWeek + 9 * kHour, 1);  // 10:00
  EXPECT_EQ(f[0].seasons, 2);
  EXPECT_NEAR(*f[0].requests, 50, 1e-9);  // (0 + 100) / 2
}

TEST(Forecast, TheBacktestSaysHowFarTheRuleWasOff) {
  const int64_t now = kMonday + 3 * kWeek;
  const auto steady = rows(kMonday, now);
  ForecastError e = backtest(steady, now, 24);
  EXPECT_EQ(e.hours, 24);
  EXPECT_NEAR(*e.requests_mape, 0, 1e-9);
  EXPECT_NEAR(*e.hit_rate_mae, 0, 1e-9);
  // The last day 50% busier than the weeks before: each of its hours was forecast 1/3 low.
  auto busier = steady;
  for (auto& r : busier) {
    if (r.at_ms >= now - kDay) r = hour_row(r.at_ms, 1.5);
  }
  e = backtest(busier, now, 24);
  EXPECT_EQ(e.hours, 24);
  EXPECT_NEAR(*e.requests_mape, 1.0 / 3, 1e-9);
  EXPECT_FALSE(backtest({}, now, 24).requests_mape.has_value());
}

}  // namespace
}  // namespace tajir::api
