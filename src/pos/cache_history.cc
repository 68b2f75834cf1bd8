// Pos: the cache's statistics history in the database (cache_history.h).
#include <algorithm>
#include <set>

#include "pos/pos.h"

namespace tajir::pos {
namespace {

constexpr CacheRollup kRollups[] = {CacheRollup::kHour, CacheRollup::kDay};

int64_t span_of(CacheRollup r) { return static_cast<int64_t>(r); }

// The start of the span holding the instant just before `at_ms` (a point's end belongs to the
// interval before it).
int64_t span_start(int64_t at_ms, CacheRollup r) {
  const int64_t span = span_of(r);
  const int64_t t = at_ms - 1;
  return t - ((t % span) + span) % span;
}

}  // namespace

Status Pos::add_cache_history(const std::vector<CacheHistoryPoint>& points,
                              const CacheHistoryLimits& limits) {
  if (points.empty()) return OkStatus();
  return db_.write([&](db::Transaction& tx) -> Status {
    std::set<int64_t> shops;
    int64_t newest = 0;
    for (const CacheHistoryPoint& p : points) {
      shops.insert(p.shop_id);
      newest = std::max(newest, p.at_ms);
      for (CacheRollup r : kRollups) {
        auto added = tx.execute(
            "INSERT INTO cache_history(shop_id, span_ms, start_ms, hits, misses, key_count, "
            "memory_bytes) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (shop_id, span_ms, start_ms) DO UPDATE SET "
            "hits = cache_history.hits + excluded.hits, "
            "misses = cache_history.misses + excluded.misses, "
            "key_count = excluded.key_count, memory_bytes = excluded.memory_bytes",
            {p.shop_id, span_of(r), span_start(p.at_ms, r), static_cast<int64_t>(p.hits),
             static_cast<int64_t>(p.misses), static_cast<int64_t>(p.keys),
             static_cast<int64_t>(p.memory_bytes)});
        if (!added.ok()) return added.status();
      }
    }
    for (int64_t shop : shops) {
      for (CacheRollup r : kRollups) {
        const int64_t keep = r == CacheRollup::kHour ? limits.hours : limits.days;
        const int64_t oldest_kept = span_start(newest, r) - (keep - 1) * span_of(r);
        auto dropped = tx.execute(
            "DELETE FROM cache_history WHERE shop_id = ? AND span_ms = ? AND start_ms < ?",
            {shop, span_of(r), oldest_kept});
        if (!dropped.ok()) return dropped.status();
      }
    }
    return OkStatus();
  });
}

Result<std::vector<CacheHistoryPoint>> Pos::cache_history(int64_t shop_id, CacheRollup rollup,
                                                          int64_t max_rows) {
  std::vector<CacheHistoryPoint> out;
  Status st = db_.read([&](db::Transaction& tx) -> Status {
    auto rows = tx.query(
        "SELECT start_ms, hits, misses, key_count, memory_bytes FROM cache_history "
        "WHERE shop_id = ? AND span_ms = ? ORDER BY start_ms DESC LIMIT ?",
        {shop_id, span_of(rollup), max_rows});
    if (!rows.ok()) return rows.status();
    for (const db::Row& row : *rows) {
      out.push_back({shop_id, row.integer(0), static_cast<uint64_t>(row.integer(1)),
                     static_cast<uint64_t>(row.integer(2)), static_cast<uint64_t>(row.integer(3)),
                     static_cast<uint64_t>(row.integer(4))});
    }
    return OkStatus();
  });
  if (!st.ok()) return st;
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace tajir::pos
