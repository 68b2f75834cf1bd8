// Forecast: the request rate and hit rate expected in the coming hours, from the stored hourly
// history (pos/cache_history.h), by a seasonal mean: an hour is forecast as the mean of the same
// hour of the week in up to four weeks before it, or, with less than a week of history, of the
// same hour of the day in up to seven days before it. An hour inside the history that has no
// row had no requests. Backtest: how far the same rule was off over the last complete hours,
// each forecast only from the rows before it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "pos/cache_history.h"

namespace tajir::api {

struct HourForecast {
  int64_t at_ms = 0;                // the hour's start, unix ms (UTC hours, as the rows)
  std::optional<double> requests;   // nullopt: no history to go by
  std::optional<double> hit_rate;   // nullopt: no requests in the hours it goes by
  std::string_view basis = "none";  // "week", "day" or "none"
  int seasons = 0;                  // the hours it is the mean of
};

// The `hours` hours after the one that holds `now_ms`, from hourly `rows` (any order).
std::vector<HourForecast> forecast(const std::vector<pos::CacheHistoryPoint>& rows, int64_t now_ms,
                                   int hours);

struct ForecastError {
  int hours = 0;                        // complete hours with a forecast and requests
  std::optional<double> requests_mape;  // mean |forecast - actual| / actual
  std::optional<double> hit_rate_mae;   // mean |forecast - actual| of the hit rate
};
// The rule's error over the `hours` complete hours before the one that holds `now_ms`.
ForecastError backtest(const std::vector<pos::CacheHistoryPoint>& rows, int64_t now_ms, int hours);

}  // namespace tajir::api
