// What the cache's management endpoints report: the statistics as JSON (API.md's fields and
// the original Python design's), the advice optimize gives with the figure behind each piece,
// and /metrics in Prometheus' text format. Counters come from cache/stats.h's one list.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/invalidator.h"
#include "cache/cache.h"
#include "pos/cache_map.h"

namespace tajir::api {

nlohmann::json stats_json(const cache::Cache* c, pos::InvalidationMode mode);

// TTL advice for one type whose entries are filled with `ttl`; nullopt below 20 entries seen
// to their end.
std::optional<nlohmann::json> ttl_advice(const std::string& type, const cache::TypeStats& t,
                                         std::chrono::milliseconds ttl, double jitter);

// A memory-limit recommendation from ghost hits (misses more memory would have served) or
// from a peak use far below the limit; nullopt when neither says anything.
std::optional<nlohmann::json> memory_advice(const cache::Stats& st);

// "hit rate 0.42 (42 hits, 58 misses)".
std::string hit_rate_text(const cache::TypeStats& t);

// The Prometheus text of /metrics; `c` may be null (caching off).
std::string metrics_text(const cache::Cache* c, const RefillStats& refill, uint64_t db_statements);

}  // namespace tajir::api
