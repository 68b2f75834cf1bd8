#include "api/cache_report.h"

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tajir::api {

using nlohmann::json;

namespace {

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b >= (1ull << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(b) / (1ull << 30));
  else if (b >= (1ull << 20))
    std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(b) / (1ull << 20));
  else
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024);
  return buf;
}

// 1203 -> "1,203".
std::string with_commas(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

// 38 -> "38 ms", 4100 -> "4.1 s", 412000 -> "412 s", then hours and days.
std::string human_ms(double ms) {
  auto whole = [](double x) { return with_commas(static_cast<uint64_t>(std::llround(x))); };
  char buf[32];
  if (ms < 1000)
    std::snprintf(buf, sizeof buf, "%.0f ms", ms);
  else if (ms < 100'000)
    std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000);
  else if (ms < 7'200'000)
    return whole(ms / 1000) + " s";
  else if (ms < 172'800'000)
    std::snprintf(buf, sizeof buf, "%.1f h", ms / 3'600'000);
  else
    return whole(ms / 86'400'000) + " days";
  return buf;
}

}  // namespace

// TTL advice for one type whose entries are filled with `ttl`, from what ended their lives: a
// write (an invalidation, at a recorded age) or the TTL (an expiration: the value was still true
// as far as the cache knows). No entry is invalidated older than its TTL, so the ages alone
// cannot show that values outlive it; the expirations can. Then: mostly invalidated, the TTL is
// not what ends entries, keep it; mostly expired, a value stays true for about M, estimated by
// an exponential fit over both (rate = invalidations / time cached), and the advice is a TTL of
// M (at most a day; twice the TTL if the fit puts M below it). nullopt below 20 entries seen to
// their end.
std::optional<json> ttl_advice(const std::string& type, const cache::TypeStats& t,
                               std::chrono::milliseconds ttl, double jitter) {
  const uint64_t invalidated = t.invalidated_age.count(), expired = t.expirations;
  const double ttl_ms = static_cast<double>(ttl.count());
  if (ttl.count() <= 0 || invalidated + expired < 20) return std::nullopt;
  const int64_t ttl_s = std::max<int64_t>(1, ttl.count() / 1000);
  const double p50 = t.invalidated_age.quantile_ms(0.5);
  json advice = {
      {"setting", "cache-ttl"},       {"type", type},
      {"current_seconds", ttl_s},     {"median_age_at_invalidation_ms", std::llround(p50)},
      {"invalidations", invalidated}, {"expirations", expired}};
  const std::string ttl_text = "TTL " + with_commas(static_cast<uint64_t>(ttl_s)) + " s";
  if (invalidated == 0) {
    advice["recommended_seconds"] = 2 * ttl_s;
    advice["because"] = "no write changed an entry within its TTL: the " + ttl_text +
                        " alone bounds their life (" + with_commas(expired) +
                        " expirations, 0 invalidations)";
  } else if (invalidated >= expired) {
    advice["recommended_seconds"] = ttl_s;
    advice["because"] = "median age at invalidation " + human_ms(p50) + " over " +
                        with_commas(invalidated) + " invalidations, against " +
                        with_commas(expired) + " expirations: writes, not the " + ttl_text +
                        ", end these entries; keep it";
  } else {
    const double cached_ms =
        static_cast<double>(t.invalidated_age.sum_ms) +
        static_cast<double>(expired) * ttl_ms * (1 - std::clamp(jitter, 0.0, 1.0) / 2);
    const double true_ms = std::log(2.0) * cached_ms / static_cast<double>(invalidated);
    const int64_t m = std::llround(std::min(true_ms, 86'400'000.0) / 1000);
    advice["recommended_seconds"] = m > ttl_s ? m : 2 * ttl_s;
    advice["value_true_median_ms"] = std::llround(true_ms);
    advice["because"] = ttl_text + " expired " + with_commas(expired) +
                        " entries still true, against " + with_commas(invalidated) +
                        " changed by a write (median age at invalidation " + human_ms(p50) +
                        "); a value stays true about " + human_ms(true_ms) +
                        " (median, exponential fit over both)";
  }
  return advice;
}

std::vector<json> ttl_advices(const cache::Stats& st, std::chrono::milliseconds ttl,
                              double jitter) {
  std::vector<json> out;
  for (const auto& [name, t] : st.by_type) {
    if (name == "default" || name == "dashboard" || name == "sessions") continue;
    if (auto advice = ttl_advice(name, t, ttl, jitter)) out.push_back(std::move(*advice));
  }
  return out;
}

namespace {

double rate(uint64_t hits, uint64_t misses) {
  return hits + misses == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(hits + misses);
}

uint64_t sum(const std::array<uint64_t, cache::kMaxTypes>& a) {
  uint64_t n = 0;
  for (uint64_t x : a) n += x;
  return n;
}

json rounded(std::optional<double> x, double scale = 1) {
  return x ? json(std::round(*x * scale * 10) / 10) : json(nullptr);
}
json optional_json(std::optional<uint64_t> x) { return x ? json(*x) : json(nullptr); }

}  // namespace

json redis_json(const redis::Tier* tier, bool server_scope, const redis::Group* group) {
  if (tier == nullptr) return {{"enabled", false}, {"connected", false}, {"state", "disabled"}};
  const redis::TierStats s = tier->stats();
  json out = {{"enabled", true},
              {"connected", s.connected},
              {"state", std::string(redis::to_string(s.state))}};
  if (!server_scope) return out;  // its counters are every shop's
  out.update({{"mode", s.cluster ? "cluster" : "single"},
              {"masters", s.masters},
              {"redirects", s.redirects},
              {"latency_us", rounded(s.latency_us())},
              {"latency_ms", rounded(s.latency_us(), 0.001)},
              {"hits", s.hits},
              {"misses", s.misses},
              {"bypassed", s.bypassed},
              {"errors", s.errors},
              {"stores", s.stores},
              {"stale_stores", s.stale_stores},
              {"invalidations", s.invalidations},
              {"missed_invalidations", s.missed_invalidations},
              {"generations_raised", s.generations_raised},
              {"pending_shops", s.pending_shops},
              {"used_memory", optional_json(s.used_memory)},
              {"used_memory_bytes", optional_json(s.used_memory)},
              {"used_memory_peak", optional_json(s.used_memory_peak)}});
  if (group != nullptr) {
    const redis::GroupStats g = group->stats();
    out["nodes"] = {
        {"node", g.node},
        {"serving", g.serving},
        {"live", g.live_nodes},
        {"lease_ms", group->options().lease.count()},
        {"applied", g.applied},
        {"entries_applied", g.entries},
        {"published", g.published},
        {"unpublished", g.unpublished},
        {"refused", g.refused},
        {"beats_missed", g.beats_missed},
        {"lease_lost", g.lease_lost},
        {"gaps", g.gaps},
        {"write_wait_mean_us", g.waits != 0 ? json(g.wait_us / g.waits) : json(nullptr)},
        {"write_wait_max_us", g.wait_max_us}};
  }
  return out;
}

std::string redis_status(const redis::Tier* tier) {
  if (tier == nullptr) return "disabled";
  return tier->stats().connected ? "connected" : "disconnected";
}

namespace {

// The local tier and the Redis one. `latency_us`: the mean of the timed hits' lookups; null
// before the first.
json tiers_json(uint64_t hits, uint64_t misses, uint64_t keys, uint64_t memory_bytes,
                std::optional<double> latency_us, uint64_t errors, json redis) {
  json latency = rounded(latency_us);
  return {{"local",
           {{"enabled", true},
            {"state", "up"},
            {"hits", hits},
            {"misses", misses},
            {"keys", keys},
            {"memory_bytes", memory_bytes},
            {"latency_us", latency},
            {"errors", errors}}},
          {"redis", std::move(redis)}};
}

// What every scope reports alike: the settings, and the legacy fields.
void put_common(json& out, const ReadCache& reads, uint64_t memory_limit, int64_t shop,
                pos::InvalidationMode mode) {
  const cache::Cache& e = *reads.engine();
  out["enabled"] = true;
  out["scope"] = shop == 0 ? "server" : "shop";
  if (shop != 0) out["shop_id"] = shop;
  out["memory_limit_bytes"] = memory_limit;
  out["policy"] = e.options().policy;
  out["invalidation"] = mode == pos::InvalidationMode::kPrecise ? "precise" : "coarse";
  out["total_keys"] = out["keys"];
  out["memory_usage"] = human_bytes(out["memory_bytes"].get<uint64_t>());
  out["redis_status"] = redis_status(reads.redis());
}

json server_stats(const ReadCache& reads, pos::InvalidationMode mode) {
  const cache::Cache& e = *reads.engine();
  cache::Stats st = e.stats();
  json out;
  auto put_counters = [](json& j, const cache::TypeStats& t) {
    for (size_t i = 0; i < cache::kNumCounters; ++i) {
      j[cache::kCounterInfo[i].json_name] = t.get(static_cast<cache::Counter>(i));
    }
    j["hit_rate"] = t.hit_rate();
    j["keys"] = t.keys;
    j["memory_bytes"] = t.memory_bytes;
    j["invalidated_age_count"] = t.invalidated_age.count();
    j["invalidated_age_p50_ms"] = std::llround(t.invalidated_age.quantile_ms(0.5));
  };
  put_counters(out, st.total);
  out["peak_memory_bytes"] = st.peak_memory_bytes;
  out["compression_ratio"] = st.compression_ratio();
  out["compressed_values"] = st.compressed_values;
  out["ghost_hits"] = st.ghost_hits;
  out["tags"] = st.tags;
  out["shards"] = st.shards;
  json by_type = json::object();
  for (const auto& [name, t] : st.by_type) {
    if (name == "default") continue;
    json j;
    put_counters(j, t);
    by_type[name] = std::move(j);
  }
  out["by_type"] = std::move(by_type);
  json by_cause = json::object();
  for (size_t i = 0; i < kWarmCauses.size(); ++i)
    by_cause[std::string(kWarmCauses[i])] = reads.warmed().of(static_cast<WarmCause>(i));
  out["warmups_by_cause"] = std::move(by_cause);
  out["tiers"] = tiers_json(st.total.hits, st.total.misses, st.total.keys, st.total.memory_bytes,
                            reads.shops().all_shops().latency_us(), st.total.load_errors,
                            redis_json(reads.redis(), true, reads.group()));
  put_common(out, reads, st.memory_limit_bytes, 0, mode);
  return out;
}

json shop_stats(const ReadCache& reads, int64_t shop, pos::InvalidationMode mode) {
  const ShopStats::Counts n = reads.shops().counts(shop);
  const cache::TagUsage u = reads.shops().usage(shop);
  const uint64_t hits = n.total_hits(), misses = n.total_misses();
  json out = {{"hits", hits},
              {"misses", misses},
              {"hit_rate", rate(hits, misses)},
              {"keys", sum(u.keys)},
              {"memory_bytes", sum(u.memory_bytes)},
              {"load_errors", n.total_errors()}};
  json by_type = json::object();
  for (const pos::CacheType& t : pos::kCacheTypes) {
    const cache::TypeId id = reads.type_id(t.name);
    by_type[std::string(t.name)] = {{"hits", n.hits[id]},
                                    {"misses", n.misses[id]},
                                    {"hit_rate", rate(n.hits[id], n.misses[id])},
                                    {"load_errors", n.errors[id]},
                                    {"keys", u.keys[id]},
                                    {"memory_bytes", u.memory_bytes[id]}};
  }
  out["by_type"] = std::move(by_type);
  out["tiers"] = tiers_json(hits, misses, sum(u.keys), sum(u.memory_bytes), n.latency_us(),
                            n.total_errors(), redis_json(reads.redis(), false));
  put_common(out, reads, reads.engine()->stats().memory_limit_bytes, shop, mode);
  return out;
}

}  // namespace

json stats_json(const ReadCache& reads, int64_t shop, pos::InvalidationMode mode) {
  if (reads.engine() == nullptr) {
    json off = {{"enabled", false},
                {"scope", shop == 0 ? "server" : "shop"},
                {"hits", 0},
                {"misses", 0},
                {"hit_rate", 0.0},
                {"keys", 0},
                {"memory_bytes", 0},
                {"total_keys", 0},
                {"memory_usage", "0 B"},
                {"redis_status", "disabled"},
                {"tiers",
                 {{"local", {{"enabled", false}, {"state", "off"}}},
                  {"redis", {{"enabled", false}, {"connected", false}, {"state", "disabled"}}}}}};
    if (shop != 0) off["shop_id"] = shop;
    return off;
  }
  return shop == 0 ? server_stats(reads, mode) : shop_stats(reads, shop, mode);
}

json shop_advice(const ReadCache& reads, int64_t shop) {
  const ShopStats::Counts n = reads.shops().counts(shop);
  const cache::TagUsage u = reads.shops().usage(shop);
  json out = json::array();
  for (const pos::CacheType& t : pos::kCacheTypes) {
    const cache::TypeId id = reads.type_id(t.name);
    const uint64_t hits = n.hits[id], misses = n.misses[id];
    if (hits + misses == 0) continue;
    const bool cold = misses > hits;
    std::string because = hit_rate_text(hits, misses);
    if (cold && t.warmable) {
      because += ": most of these reads went to the database; warm " + std::string(t.name) +
                 " when the shop opens and after large changes (optimize warmed it now)";
    } else if (cold) {
      because +=
          ": " + std::string(t.name) + " are cached as they are first read (they cannot be warmed)";
    } else {
      because += ": the cache answers most of these reads; keep it";
    }
    out.push_back({{"advice", cold && t.warmable ? "warm" : "keep"},
                   {"type", t.name},
                   {"hits", hits},
                   {"misses", misses},
                   {"hit_rate", rate(hits, misses)},
                   {"because", because}});
  }
  if (out.empty()) {
    out.push_back({{"advice", "none"},
                   {"because",
                    "no cached read of this shop since the server started (0 hits, 0 misses): "
                    "nothing to tune yet"}});
  }
  const uint64_t keys = sum(u.keys), bytes = sum(u.memory_bytes);
  const uint64_t limit = reads.engine()->stats().memory_limit_bytes;
  const double share =
      limit == 0 ? 0.0 : 100.0 * static_cast<double>(bytes) / static_cast<double>(limit);
  char share_text[32];
  if (bytes > 0 && share < 0.01)
    std::snprintf(share_text, sizeof share_text, "under 0.01%%");
  else
    std::snprintf(share_text, sizeof share_text, "%.2f%%", share);
  out.push_back({{"advice", "memory"},
                 {"keys", keys},
                 {"memory_bytes", bytes},
                 {"memory_limit_bytes", limit},
                 {"because", with_commas(keys) + (keys == 1 ? " entry" : " entries") +
                                 " of this shop take " + human_bytes(bytes) + ", " + share_text +
                                 " of the cache's " + human_bytes(limit)}});
  return out;
}

std::optional<json> memory_advice(const cache::Stats& st) {
  // Ghost hits are misses on keys evicted recently, that more memory would have served.
  if (st.total.evictions > 0 && st.ghost_hits > 0 && st.total.misses > 0) {
    double share = static_cast<double>(st.ghost_hits) / static_cast<double>(st.total.misses);
    uint64_t suggest =
        st.memory_limit_bytes +
        static_cast<uint64_t>(static_cast<double>(st.memory_limit_bytes) * std::min(1.0, share));
    return json{
        {"setting", "cache-memory"},
        {"recommended_bytes", suggest},
        {"current_bytes", st.memory_limit_bytes},
        {"because", std::to_string(st.ghost_hits) + " of " + std::to_string(st.total.misses) +
                        " misses were for recently evicted keys (" +
                        std::to_string(st.total.evictions) + " evictions)"}};
  }
  if (st.total.evictions == 0 && st.peak_memory_bytes < st.memory_limit_bytes / 2) {
    return json{
        {"setting", "cache-memory"},
        {"recommended_bytes", std::max<uint64_t>(st.peak_memory_bytes * 2, 16ull << 20)},
        {"current_bytes", st.memory_limit_bytes},
        {"because", "no evictions, and the peak use was " + human_bytes(st.peak_memory_bytes) +
                        " of " + human_bytes(st.memory_limit_bytes)}};
  }
  return std::nullopt;
}

std::string hit_rate_text(uint64_t hits, uint64_t misses) {
  return "hit rate " + std::to_string(rate(hits, misses)).substr(0, 4) + " (" +
         std::to_string(hits) + " hits, " + std::to_string(misses) + " misses)";
}

std::string warm_metrics_text(const WarmCounts& warmed) {
  std::string out =
      "# HELP tajir_cache_warmed_total Entries warming loaded into the cache, by why it warmed.\n"
      "# TYPE tajir_cache_warmed_total counter\n";
  for (size_t i = 0; i < kWarmCauses.size(); ++i) {
    out += "tajir_cache_warmed_total{cause=\"" + std::string(kWarmCauses[i]) + "\"} " +
           std::to_string(warmed.of(static_cast<WarmCause>(i))) + "\n";
  }
  return out;
}

std::string metrics_text(const cache::Cache* c, const RefillStats& refill, uint64_t db_statements,
                         const redis::Tier* tier, const redis::Group* group) {
  std::string out;
  auto line = [&](const std::string& s) { out += s + "\n"; };
  if (tier != nullptr) {
    const redis::TierStats s = tier->stats();
    auto metric = [&](const char* name, const char* type, const char* help, uint64_t v) {
      line(std::string("# HELP ") + name + " " + help);
      line(std::string("# TYPE ") + name + " " + type);
      line(std::string(name) + " " + std::to_string(v));
    };
    metric("tajir_redis_up", "gauge", "Whether the last call reached Redis.", s.connected);
    metric("tajir_redis_hits_total", "counter", "Local misses answered from Redis.", s.hits);
    metric("tajir_redis_misses_total", "counter", "Local misses Redis had no current value for.",
           s.misses);
    metric("tajir_redis_bypassed_total", "counter",
           "Local misses that did not ask Redis (down, or shops pending repair).", s.bypassed);
    metric("tajir_redis_errors_total", "counter", "Calls to Redis that failed.", s.errors);
    metric("tajir_redis_stores_total", "counter", "Fills stored in Redis.", s.stores);
    metric("tajir_redis_stale_stores_total", "counter",
           "Fills Redis refused: their shop was invalidated during the load.", s.stale_stores);
    metric("tajir_redis_invalidations_total", "counter", "Shops' invalidations applied in Redis.",
           s.invalidations);
    metric("tajir_redis_missed_invalidations_total", "counter",
           "Shops' invalidations that did not reach Redis (the shop pending repair).",
           s.missed_invalidations);
    metric("tajir_redis_pending_shops", "gauge", "Shops whose generation must be raised.",
           s.pending_shops);
    if (s.used_memory)
      metric("tajir_redis_used_memory_bytes", "gauge", "Redis's used_memory (sampled).",
             *s.used_memory);
    if (group != nullptr) {
      const redis::GroupStats g = group->stats();
      metric("tajir_node_serving", "gauge",
             "Whether this node's lease holds (its local tier read).", g.serving);
      metric("tajir_node_live", "gauge", "Nodes whose lease held at the last renewal.",
             g.live_nodes);
      metric("tajir_node_entries_applied_total", "counter", "Other nodes' invalidations applied.",
             g.entries);
      metric("tajir_node_unpublished_total", "counter",
             "Writes whose invalidation could not reach the log, answered all the same.",
             g.unpublished);
      metric("tajir_node_refused_total", "counter",
             "Writes whose invalidation could not reach the log while other nodes beat (503).",
             g.refused);
      metric("tajir_node_beats_missed_total", "counter",
             "Renewals whose beat in the database (the witness) failed.", g.beats_missed);
      metric("tajir_node_lease_lost_total", "counter",
             "Times the lease came back after it was lost (local tier cleared).", g.lease_lost);
      metric("tajir_node_write_wait_us_total", "counter",
             "Time writes spent waiting for the other nodes to apply them.", g.wait_us);
      metric("tajir_node_write_waits_total", "counter", "Writes that waited for the other nodes.",
             g.waits);
    }
  }
  if (c != nullptr) {
    cache::Stats st = c->stats();
    for (size_t i = 0; i < cache::kNumCounters; ++i) {
      const auto& info = cache::kCounterInfo[i];
      line(std::string("# HELP ") + info.prometheus_name + " " + info.help);
      line(std::string("# TYPE ") + info.prometheus_name + " counter");
      for (const auto& [name, t] : st.by_type) {
        line(std::string(info.prometheus_name) + "{type=\"" + name + "\"} " +
             std::to_string(t.get(static_cast<cache::Counter>(i))));
      }
    }
#define TAJIR_X(member, json_name, prom, help) \
  line("# HELP " prom " " help);               \
  line("# TYPE " prom " gauge");               \
  for (const auto& [name, t] : st.by_type)     \
    line(std::string(prom) + "{type=\"" + name + "\"} " + std::to_string(t.member));
    TAJIR_CACHE_GAUGES(TAJIR_X)
#undef TAJIR_X
    line("# HELP tajir_cache_memory_limit_bytes The cache's memory budget.");
    line("# TYPE tajir_cache_memory_limit_bytes gauge");
    line("tajir_cache_memory_limit_bytes " + std::to_string(st.memory_limit_bytes));
    line(
        "# HELP tajir_cache_invalidated_age_seconds Age of entries when an invalidation removed "
        "them.");
    line("# TYPE tajir_cache_invalidated_age_seconds summary");
    for (const auto& [name, t] : st.by_type) {
      const std::string labels = "{type=\"" + name + "\"";
      line("tajir_cache_invalidated_age_seconds" + labels + ",quantile=\"0.5\"} " +
           std::to_string(t.invalidated_age.quantile_ms(0.5) / 1000));
      line("tajir_cache_invalidated_age_seconds_sum" + labels + "} " +
           std::to_string(static_cast<double>(t.invalidated_age.sum_ms) / 1000));
      line("tajir_cache_invalidated_age_seconds_count" + labels + "} " +
           std::to_string(t.invalidated_age.count()));
    }
    line("# HELP tajir_cache_ghost_hits_total Misses on recently evicted keys.");
    line("# TYPE tajir_cache_ghost_hits_total counter");
    line("tajir_cache_ghost_hits_total " + std::to_string(st.ghost_hits));
  }
  line(
      "# HELP tajir_cache_refills_total Read entries a write dropped, loaded again in the "
      "background.");
  line("# TYPE tajir_cache_refills_total counter");
  line("tajir_cache_refills_total " + std::to_string(refill.refilled));
#ifdef __GLIBC__
  // What the allocator holds: in use, and freed but kept (in its arenas, not given back to the
  // system): what a growing resident size is made of (docs/BENCHMARKS.md, the soak).
  const struct mallinfo2 heap = mallinfo2();
  line("# HELP tajir_heap_bytes The process's heap (glibc malloc): in use, and free but kept.");
  line("# TYPE tajir_heap_bytes gauge");
  line("tajir_heap_bytes{state=\"in_use\"} " + std::to_string(heap.uordblks + heap.hblkhd));
  line("tajir_heap_bytes{state=\"free\"} " + std::to_string(heap.fordblks));
#endif
  line("# HELP tajir_cache_refill_drops_total Refills not queued because the queue was full.");
  line("# TYPE tajir_cache_refill_drops_total counter");
  line("tajir_cache_refill_drops_total " + std::to_string(refill.dropped));
  line("# HELP tajir_db_statements_total SQL statements run since start.");
  line("# TYPE tajir_db_statements_total counter");
  line("tajir_db_statements_total " + std::to_string(db_statements));
  return out;
}

}  // namespace tajir::api
