// ShopStats: the cache's figures of one shop, so that an owner sees its own shop and nothing of
// the others' (how busy another shop is shows in its hits, keys and memory).
//
// Counted here, per shop and value type: the cached GETs ReadCache::serve() answered, a hit
// (X-Cache: HIT) or a miss, and the fills that failed; a sample of the hits' lookup times.
// The engine counts per value type only; a shop's keys and memory come from it on read, from
// the entries carrying the shop's tag (Cache::usage_by_tag, pos::CacheMap::shop_tag).
//
// The hot path is begin() and end() around a lookup: a shared lock of the shop -> slot map (taken
// exclusively only the first time a shop is seen) and relaxed atomic increments in the shop's slot.
// Slots are never freed, one per shop that was read (a few hundred bytes each).
//
// History: once per the cache's history interval, a background thread records a point per shop
// (its hits and misses of the interval, its keys and memory at the end), in one ring of the
// cache's history_points samples; a sample holds only the shops that had anything, so an idle
// shop costs nothing. history() ends with the interval in progress (`partial`).
//
//   ShopStats shops(&cache);
//   auto lookup = shops.begin(42);
//   auto got = cache.get_or_fill(key, fill, {.type = products});
//   shops.end(lookup, products, got->hit ? Outcome::kHit : Outcome::kMiss);
//   ShopStats::Counts c = shops.counts(42);
//
// Thread safety: thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "cache/cache.h"

namespace tajir::api {

class ShopStats {
 public:
  struct Slot;  // one shop's counters

  // `cache` null: caching off, nothing is counted. The sampling thread runs when the cache runs
  // its own maintenance thread (Options::maintenance_interval > 0).
  explicit ShopStats(cache::Cache* cache);
  ~ShopStats();
  ShopStats(const ShopStats&) = delete;
  ShopStats& operator=(const ShopStats&) = delete;

  // One cached GET of `shop`: begin() before its lookup, end() after it. A hit's lookup is timed
  // for every one of a shop's first 64 GETs, then for one in 64.
  enum class Outcome { kHit, kMiss, kError };
  struct Lookup {
    Slot* slot;
    bool timed;
    std::chrono::steady_clock::time_point started;
  };
  Lookup begin(int64_t shop);
  void end(const Lookup& lookup, cache::TypeId type, Outcome outcome);

  struct Counts {
    std::array<uint64_t, cache::kMaxTypes> hits{}, misses{}, errors{};
    uint64_t latency_ns = 0, latency_samples = 0;  // of the timed hits
    uint64_t total_hits() const;
    uint64_t total_misses() const;
    uint64_t total_errors() const;
    // The mean time of a timed hit's lookup, in microseconds; nullopt before the first.
    std::optional<double> latency_us() const;
  };
  // Since start; zeros for a shop never counted.
  Counts counts(int64_t shop) const;
  // Every shop's, summed.
  Counts all_shops() const;

  // What the live entries carrying the shop's tag hold, per type (zeros with caching off).
  cache::TagUsage usage(int64_t shop) const;

  struct Point {
    int64_t at_ms = 0;  // unix ms: the end of the interval (now, for the partial one)
    uint64_t hits = 0, misses = 0, keys = 0, memory_bytes = 0;
    bool partial = false;  // the interval in progress
  };
  // The shop's last `max_points` recorded points, oldest first, then the one in progress.
  std::vector<Point> history(int64_t shop, size_t max_points) const;

  // Every shop's recorded points that end after `after_ms` (unix ms), oldest first, with their
  // shop; a shop with nothing in an interval has no point for it. For the stored history
  // (HistoryWriter).
  std::vector<std::pair<int64_t, Point>> points_since(int64_t after_ms) const;

  // Records one point per shop now (the thread does this once per history interval).
  void record_point();

 private:
  struct ShopPoint {
    uint32_t slot;
    uint32_t hits, misses, keys;
    uint64_t memory_bytes;
  };
  struct Sample {
    int64_t at_ms = 0;
    std::vector<ShopPoint> shops;  // sorted by slot
  };

  Slot* find(int64_t shop) const;
  Slot& slot_for(int64_t shop);
  void sample_loop(std::stop_token stop);

  cache::Cache* cache_;
  std::string tag_prefix_;  // what every shop's tag starts with ("shop:")

  mutable std::shared_mutex slots_mu_;
  absl::flat_hash_map<int64_t, Slot*> slot_of_;  // GUARDED_BY(slots_mu_)
  std::deque<Slot> slots_;  // GUARDED_BY(slots_mu_) for growth; a Slot never moves

  mutable std::mutex history_mu_;
  std::vector<Sample> ring_;  // GUARDED_BY(history_mu_)
  size_t next_ = 0;           // GUARDED_BY(history_mu_): samples recorded
  // GUARDED_BY(history_mu_): each slot's hits and misses at the last sample, by slot index.
  std::vector<std::pair<uint64_t, uint64_t>> last_;

  std::mutex wake_mu_;
  std::condition_variable_any wake_;
  std::jthread sampler_;  // last: stopped and joined first
};

}  // namespace tajir::api
