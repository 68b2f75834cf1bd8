// The cache's statistics, defined once: each counter's C++ name, JSON name, Prometheus name and
// meaning come from the one list below, so the stats endpoint, the metrics page and the code
// cannot drift apart.
//
// Counters live per shard and per value type and are summed when read, so keeping them costs a
// plain increment under a lock the operation already holds; hits and misses, which take no lock,
// are counted per thread instead (a stripe of counters per thread index), also summed when read:
// exact totals once the threads counting them are joined. Expirations are counted apart from
// misses and evictions (after CacheLib).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace tajir::cache {

// X(member, "json_name", "prometheus_name", "help")
#define TAJIR_CACHE_COUNTERS(X)                                                              \
  X(hits, "hits", "tajir_cache_hits_total", "Gets answered from the cache.")                 \
  X(misses, "misses", "tajir_cache_misses_total", "Gets that found no live entry.")          \
  X(coalesced, "coalesced", "tajir_cache_coalesced_total",                                   \
    "Misses that waited for another caller's load of the same key instead of loading.")      \
  X(loads, "loads", "tajir_cache_loads_total", "Loader calls made by get_or_load and warm.") \
  X(load_errors, "load_errors", "tajir_cache_load_errors_total",                             \
    "Loader calls that failed; their error reached every waiter and nothing was cached.")    \
  X(puts, "puts", "tajir_cache_puts_total", "Entries stored.")                               \
  X(stale_puts, "stale_puts", "tajir_cache_stale_puts_total",                                \
    "Puts refused because a tag or key was invalidated after the fill's ticket was taken.")  \
  X(rejected_puts, "rejected_puts", "tajir_cache_rejected_puts_total",                       \
    "Puts refused because the entry alone is larger than a shard's budget.")                 \
  X(invalidations, "invalidations", "tajir_cache_invalidations_total",                       \
    "Entries removed by tag, pattern or key invalidation, erase or clear.")                  \
  X(rewrites, "rewrites", "tajir_cache_rewrites_total",                                      \
    "Entries a write's invalidation kept, brought up to date by its rewrite.")               \
  X(evictions, "evictions", "tajir_cache_evictions_total",                                   \
    "Entries removed by the eviction policy to stay within the memory limit.")               \
  X(expirations, "expirations", "tajir_cache_expirations_total",                             \
    "Entries removed because their TTL ran out (found by a get or by the reaper).")          \
  X(warmups, "warmups", "tajir_cache_warmups_total", "Entries stored by warm().")

// Gauges: values at the moment of reading, also per shard and type.
#define TAJIR_CACHE_GAUGES(X)                                 \
  X(keys, "keys", "tajir_cache_keys", "Live entries.")        \
  X(memory_bytes, "memory_bytes", "tajir_cache_memory_bytes", \
    "Bytes charged for keys, values, tags and bookkeeping.")

enum class Counter : uint8_t {
#define TAJIR_X(name, json, prom, help) name,
  TAJIR_CACHE_COUNTERS(TAJIR_X)
#undef TAJIR_X
};
inline constexpr size_t kNumCounters = 0
#define TAJIR_X(name, json, prom, help) +1
    TAJIR_CACHE_COUNTERS(TAJIR_X)
#undef TAJIR_X
    ;

struct CounterInfo {
  const char* json_name;
  const char* prometheus_name;
  const char* help;
};
inline constexpr std::array<CounterInfo, kNumCounters> kCounterInfo = {{
#define TAJIR_X(name, json, prom, help) {json, prom, help},
    TAJIR_CACHE_COUNTERS(TAJIR_X)
#undef TAJIR_X
}};

// The ages of entries when an invalidation removed them (by tag, key or pattern; not eviction,
// expiry or clear()): how long a cached value stayed true before a write changed it. A log2
// histogram: bucket b counts ages in [2^(b-1), 2^b) ms, bucket 0 ages under 1 ms; the last
// bucket ends at 2^31 ms (24.8 days).
struct AgeHistogram {
  static constexpr size_t kBuckets = 32;
  std::array<uint64_t, kBuckets> buckets{};
  uint64_t sum_ms = 0;

  static size_t bucket_of(uint64_t age_ms) {
    return std::min<size_t>(static_cast<size_t>(std::bit_width(age_ms)), kBuckets - 1);
  }
  uint64_t count() const {
    uint64_t n = 0;
    for (uint64_t b : buckets) n += b;
    return n;
  }
  double mean_ms() const {
    uint64_t n = count();
    return n == 0 ? 0.0 : static_cast<double>(sum_ms) / static_cast<double>(n);
  }
  // The age under which a fraction q (0..1) of the ages fall, interpolated linearly within its
  // bucket (so within a factor of 2 of the truth); 0 when there is none.
  double quantile_ms(double q) const {
    const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(count());
    double below = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
      if (buckets[b] == 0) continue;
      const double n = static_cast<double>(buckets[b]);
      if (below + n >= rank) {
        const double lo = b == 0 ? 0.0 : static_cast<double>(uint64_t{1} << (b - 1));
        const double hi = static_cast<double>(uint64_t{1} << b);
        return lo + (hi - lo) * std::max(0.0, rank - below) / n;
      }
      below += n;
    }
    return 0.0;
  }
  AgeHistogram& operator+=(const AgeHistogram& o) {
    for (size_t b = 0; b < kBuckets; ++b) buckets[b] += o.buckets[b];
    sum_ms += o.sum_ms;
    return *this;
  }
};

// Counters and gauges of one value type, or of the whole cache.
struct TypeStats {
#define TAJIR_X(name, json, prom, help) uint64_t name = 0;
  TAJIR_CACHE_COUNTERS(TAJIR_X)
  TAJIR_CACHE_GAUGES(TAJIR_X)
#undef TAJIR_X
  AgeHistogram invalidated_age;  // ages at invalidation (see AgeHistogram)

  uint64_t get(Counter c) const {
    switch (c) {
#define TAJIR_X(name, json, prom, help) \
  case Counter::name:                   \
    return name;
      TAJIR_CACHE_COUNTERS(TAJIR_X)
#undef TAJIR_X
    }
    return 0;
  }
  // hits / (hits + misses), 0 when there was no get.
  double hit_rate() const {
    return hits + misses == 0 ? 0.0
                              : static_cast<double>(hits) / static_cast<double>(hits + misses);
  }
};

struct Stats {
  TypeStats total;
  std::vector<std::pair<std::string, TypeStats>> by_type;  // registered types, in id order
  uint64_t peak_memory_bytes = 0;         // highest memory_bytes seen since start (or reset_peak)
  uint64_t memory_limit_bytes = 0;        // the budget; memory_bytes never exceeds it after a put
  uint64_t compressed_values = 0;         // live values stored compressed
  uint64_t compression_raw_bytes = 0;     // their size before compression
  uint64_t compression_stored_bytes = 0;  // their size as stored
  uint64_t ghost_hits = 0;  // misses on recently evicted keys: what more memory would have hit
  uint64_t tags = 0;        // tags known to the tag index
  std::string policy;       // the eviction policy's name
  size_t shards = 0;

  // raw / stored over compressed values; 1 when none is compressed.
  double compression_ratio() const {
    return compression_stored_bytes == 0 ? 1.0
                                         : static_cast<double>(compression_raw_bytes) /
                                               static_cast<double>(compression_stored_bytes);
  }
};

// One point of the performance history: the counters over one interval.
struct HistoryPoint {
  std::chrono::system_clock::time_point at;  // end of the interval
  uint64_t hits = 0;                         // during the interval
  uint64_t misses = 0;                       // during the interval
  uint64_t keys = 0;                         // at its end
  uint64_t memory_bytes = 0;                 // at its end
  double hit_rate() const {
    return hits + misses == 0 ? 0.0
                              : static_cast<double>(hits) / static_cast<double>(hits + misses);
  }
};

}  // namespace tajir::cache
