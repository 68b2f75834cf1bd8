// Latencies of tajir-loadgen's requests, kept apart by what the cache did with them.
//
//   Latencies l;
//   l.add(classify("GET", reply.x_cache), latency_us);   // a hit or a miss
//   l.add(classify("POST", ""), latency_us);             // a write
//   Summary hits = summarize(l.of(RequestClass::kHit));  // p50, p90, p99, p99.9, max in ms
//
// A GET answered with X-Cache: HIT is a hit; every other GET is a miss (X-Cache: MISS, and also
// no X-Cache at all: the server's cache is off, or the read failed); every other method is a
// write. A hit's latency is the cache's; a miss's is the database's; a write's is a commit (and
// its invalidation): one percentile over all three says little about any of them.
//
// Percentiles are nearest-above ranks of the recorded values (q = 0.99 of 1,000 values is the
// 991st smallest), in milliseconds from microseconds. Not thread-safe: each till keeps its own
// and the report merges them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tajir::loadgen {

enum class RequestClass { kHit, kMiss, kWrite };
inline constexpr size_t kNumClasses = 3;

std::string_view class_name(RequestClass c);  // "hits", "misses", "writes"
RequestClass classify(std::string_view method, std::string_view x_cache);

struct Summary {
  uint64_t count = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
};

// The percentile q (in [0, 1]) of latencies in microseconds, in ms; 0 when there are none.
// Reorders `us`.
double percentile_ms(std::vector<uint32_t>& us, double q);
// Sorts `us`.
Summary summarize(std::vector<uint32_t>& us);

class Latencies {
 public:
  void add(RequestClass c, uint32_t us) { of(c).push_back(us); }
  void merge(const Latencies& o);

  std::vector<uint32_t>& of(RequestClass c) { return us_[static_cast<size_t>(c)]; }
  const std::vector<uint32_t>& of(RequestClass c) const { return us_[static_cast<size_t>(c)]; }
  // Hits and misses together.
  std::vector<uint32_t> reads() const;

 private:
  std::array<std::vector<uint32_t>, kNumClasses> us_;
};

}  // namespace tajir::loadgen
