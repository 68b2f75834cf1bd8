// The cache's statistics history as the database keeps it (table cache_history), so that it
// survives a restart: per shop (0: the whole server), one row per hour and one per day (UTC),
// each the sum of the hits and misses of the interval points added to it and the keys and
// memory of the last one. Bounded per shop and span: rows older than the newest `hours`
// hours (or `days` days) are dropped as points are added, so a shop keeps at most 48 + 400
// rows by default. Written by api::HistoryWriter's thread, read by /api/cache/stats/history.
#pragma once

#include <cstdint>

namespace tajir::pos {

enum class CacheRollup : int64_t { kHour = 3'600'000, kDay = 86'400'000 };  // its span in ms

// One interval's figures (ShopStats::Point, cache::HistoryPoint), or one stored row.
struct CacheHistoryPoint {
  int64_t shop_id = 0;  // 0: the whole server
  int64_t at_ms = 0;    // a point: the end of its interval; a row: the start of its span
  uint64_t hits = 0, misses = 0, keys = 0, memory_bytes = 0;
};

struct CacheHistoryLimits {
  int64_t hours = 24 * 7 * 5;  // five weeks: a forecast by hour of the week needs several
  int64_t days = 400;
};

}  // namespace tajir::pos
