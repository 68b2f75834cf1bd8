// Resident memory under a put-heavy run: does the byte budget hold in real memory?
//
// Fills a cache with a 256 MiB budget with three times that much data (values of 64 B to 8 KiB,
// keys of about 40 bytes, 1 to 3 tags each, a TTL), sampling the process's resident set size.
// Prints the budget, the fixed overhead (resident memory before the first put) and the peak,
// and the ratio (peak - fixed) / budget that docs/BENCHMARKS.md quotes. A second run stores
// JSON-like values with lz4 compression and prints the compression ratio.
//
//   tajir_cache_rss [budget_mib]
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "cache/cache.h"

namespace {

size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4096;
}

std::string json_value(std::mt19937& rng, size_t target) {
  std::string s = "{\"items\":[";
  while (s.size() < target) {
    s += "{\"id\":" + std::to_string(rng() % 100000) + ",\"name\":\"Product " +
         std::to_string(rng() % 5000) +
         "\",\"category\":\"Beverages\",\"price\":" + std::to_string(rng() % 5000) +
         ",\"stock\":" + std::to_string(rng() % 90) + ",\"active\":true},";
  }
  return s + "]}";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tajir::cache;
  const uint64_t budget = (argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 256) << 20;
  const size_t fixed = rss_bytes();
  size_t peak = fixed;
  {
    Cache cache(Options{.memory_limit_bytes = budget, .codec = Codec::kNone});
    std::mt19937 rng(1);
    std::lognormal_distribution<double> size_dist(6.5, 1.0);  // median ~660 B
    uint64_t written = 0;
    for (size_t i = 0; written < 3 * budget; ++i) {
      size_t n = std::clamp<size_t>(static_cast<size_t>(size_dist(rng)), 64, 8192);
      std::string key =
          "tajir:shop=" + std::to_string(rng() % 1000) + ":product:" + std::to_string(i);
      PutOptions o{.tags = {"shop:" + std::to_string(rng() % 1000)}};
      for (uint32_t t = 0, extra = rng() % 3; t < extra; ++t)
        o.tags.push_back("product:" + std::to_string(rng() % 100000));
      (void)cache.put(key, std::string(n, static_cast<char>('a' + i % 26)), o);
      written += n + key.size();
      if (i % 4096 == 0) peak = std::max(peak, rss_bytes());
    }
    peak = std::max(peak, rss_bytes());
    Stats st = cache.stats();
    std::printf(
        "budget_bytes=%llu fixed_rss_bytes=%zu peak_rss_bytes=%zu charged_bytes=%llu keys=%llu "
        "evictions=%llu\n",
        static_cast<unsigned long long>(budget), fixed, peak,
        static_cast<unsigned long long>(st.total.memory_bytes),
        static_cast<unsigned long long>(st.total.keys),
        static_cast<unsigned long long>(st.total.evictions));
    struct mallinfo2 mi = mallinfo2();
    std::printf("malloc_in_use_bytes=%zu malloc_arena_bytes=%zu\n", mi.uordblks,
                mi.arena + mi.hblkhd);
    std::printf("rss_over_budget_ratio=%.3f\n",
                static_cast<double>(peak - fixed) / static_cast<double>(budget));
  }
  {
    Cache cache(Options{.memory_limit_bytes = budget,
                        .codec = Codec::kLz4,
                        .compress_min_bytes = 1024,
                        .compress_above_fill = 0});
    std::mt19937 rng(2);
    for (int i = 0; i < 20000; ++i) {
      (void)cache.put("page:" + std::to_string(i), json_value(rng, 1024 + rng() % 16384));
    }
    Stats st = cache.stats();
    std::printf("lz4_json_compression_ratio=%.2f compressed_values=%llu\n", st.compression_ratio(),
                static_cast<unsigned long long>(st.compressed_values));
  }
  {
    Cache cache(Options{.memory_limit_bytes = budget,
                        .codec = Codec::kZstd,
                        .compress_min_bytes = 1024,
                        .compress_above_fill = 0});
    std::mt19937 rng(2);
    for (int i = 0; i < 20000; ++i) {
      (void)cache.put("page:" + std::to_string(i), json_value(rng, 1024 + rng() % 16384));
    }
    std::printf("zstd_json_compression_ratio=%.2f\n", cache.stats().compression_ratio());
  }
  return 0;
}
