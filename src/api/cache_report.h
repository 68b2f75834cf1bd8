// What the cache's management endpoints report: the statistics as JSON (API.md's fields and
// the original Python design's), the advice optimize gives with the figure behind each piece,
// and /metrics in Prometheus' text format. Counters come from cache/stats.h's one list.
//
// Two scopes. The whole server's (the operator naming no shop): the engine's own counters.
// One shop's (its owner, or the operator naming it): its GETs, keys and memory (shop_stats.h)
// and the settings, which say nothing of other shops; never a server-wide counter, since
// invalidations, evictions or loads of every shop show how busy the others are.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/invalidator.h"
#include "api/read_cache.h"
#include "cache/cache.h"
#include "pos/cache_map.h"
#include "redis/tier.h"

namespace tajir::api {

// GET /api/cache/stats without the refill: `shop`'s figures, or with shop 0 the whole cache's.
nlohmann::json stats_json(const ReadCache& reads, int64_t shop, pos::InvalidationMode mode);

// What optimize recommends to one shop's owner, from that shop's figures alone: per type read
// since start, to warm it (a warmable type that misses more than it hits) or to keep it; and
// the share of the memory limit the shop's entries take.
nlohmann::json shop_advice(const ReadCache& reads, int64_t shop);

// TTL advice for one type whose entries are filled with `ttl`; nullopt below 20 entries seen
// to their end.
std::optional<nlohmann::json> ttl_advice(const std::string& type, const cache::TypeStats& t,
                                         std::chrono::milliseconds ttl, double jitter);

// The TTL advice of each type filled with the default TTL `ttl` (every type but the dashboard's
// and the sessions', whose TTLs are set by meaning: the shop's midnight, a session's end).
std::vector<nlohmann::json> ttl_advices(const cache::Stats& st, std::chrono::milliseconds ttl,
                                        double jitter);

// A memory-limit recommendation from ghost hits (misses more memory would have served) or
// from a peak use far below the limit; nullopt when neither says anything.
std::optional<nlohmann::json> memory_advice(const cache::Stats& st);

// "hit rate 0.42 (42 hits, 58 misses)".
std::string hit_rate_text(uint64_t hits, uint64_t misses);

// The Prometheus text of /metrics; `c` may be null (caching off), `tier` (no Redis tier) too.
std::string metrics_text(const cache::Cache* c, const RefillStats& refill, uint64_t db_statements,
                         const redis::Tier* tier = nullptr, const redis::Group* group = nullptr);

// The /metrics lines of the entries warmed, by cause.
std::string warm_metrics_text(const WarmCounts& warmed);

// tiers.redis of the stats: in the server scope with the tier's counters (every shop's),
// in a shop's only whether it is enabled and up. `tier` null: disabled. `group` (the server
// scope only): the nodes on that Redis, as `nodes`.
nlohmann::json redis_json(const redis::Tier* tier, bool server_scope,
                          const redis::Group* group = nullptr);
// The legacy redis_status: "disabled", "connected" or "disconnected".
std::string redis_status(const redis::Tier* tier);

}  // namespace tajir::api
