// Micro-benchmarks of the cache engine, each beside the peer it is judged against in the same
// run. bench/run.sh runs them with repetitions and prints the ratios that docs/BENCHMARKS.md
// quotes.
//
//   BM_FlatHashMapFind   absl::flat_hash_map<std::string, std::string>::find on the same keys:
//                        the floor for any hash-table lookup (no lock, no policy, no stats).
//   BM_CacheGetHit       Cache::get on a hit: hash, lookup (no lock), TTL check, policy touch,
//                        counters, shared_ptr copy. 1M keys of about 40 bytes, 512-byte values.
//   ...Hot               the same on 8 hot keys that every thread hits: what threads share then
//                        is the entries, and the values' reference counts.
// Each on 1 and 2 threads: the ratio of their items/s is how hits scale, beside how the bare
// map's finds scale on the same machine.
//   BM_InvalidateTag     invalidate_tags() of one tag carried by 1,000 keys, in caches of 10k
//                        and 1M keys: the cost must follow what is removed, not the cache size.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "cache/cache.h"

namespace tajir::cache {
namespace {

constexpr size_t kKeys = 1'000'000;
constexpr size_t kValueBytes = 512;
constexpr size_t kProbes = 1 << 20;  // a random sequence of key indexes, replayed
constexpr size_t kHot = 8;           // the hot benchmarks' keys: probes modulo this

std::string make_key(size_t i) {
  char buf[64];
  // 40 bytes: "tajir:shop=000042:products:page=0123456"
  int n = std::snprintf(buf, sizeof buf, "tajir:shop=%06zu:products:page=%07zu", i % 997, i);
  return std::string(buf, static_cast<size_t>(n));
}

struct Fixture {
  std::vector<std::string> keys;
  std::vector<uint32_t> probes;
  absl::flat_hash_map<std::string, std::string> map;
  std::unique_ptr<Cache> cache;

  Fixture() {
    keys.reserve(kKeys);
    for (size_t i = 0; i < kKeys; ++i) keys.push_back(make_key(i));
    std::mt19937 rng(42);
    probes.resize(kProbes);
    for (auto& p : probes) p = static_cast<uint32_t>(rng() % kKeys);
    const std::string value(kValueBytes, 'v');
    map.reserve(kKeys);
    for (const auto& k : keys) map.emplace(k, value);
    // The engine's defaults (policy, shards, a 10-minute TTL), with room for every key.
    cache = std::make_unique<Cache>(Options{.memory_limit_bytes = 4ull << 30});
    for (const auto& k : keys) {
      if (cache->put(k, value) != PutResult::kStored) std::abort();
    }
  }
};

Fixture& fixture() {
  static Fixture* f = new Fixture();  // built once, shared by the benchmarks and their threads
  return *f;
}

// `keys`: how many of the fixture's keys the probes pick among (kKeys, or kHot).
template <size_t keys>
void BM_FlatHashMapFind(benchmark::State& state) {
  Fixture& f = fixture();
  size_t i = static_cast<size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    auto it = f.map.find(f.keys[f.probes[i++ & (kProbes - 1)] % keys]);
    benchmark::DoNotOptimize(it->second.data());
  }
  state.SetItemsProcessed(state.iterations());
}

template <size_t keys>
void BM_CacheGetHit(benchmark::State& state) {
  Fixture& f = fixture();
  size_t i = static_cast<size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    auto v = f.cache->get(f.keys[f.probes[i++ & (kProbes - 1)] % keys]);
    benchmark::DoNotOptimize(v->get()->data());
  }
  state.SetItemsProcessed(state.iterations());
}
// Two threads too: how well this machine's memory system scales random lookups at all is the
// peer of the cache's own two-thread scaling.
BENCHMARK(BM_FlatHashMapFind<kKeys>)
    ->Name("BM_FlatHashMapFind")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK(BM_CacheGetHit<kKeys>)->Name("BM_CacheGetHit")->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_FlatHashMapFind<kHot>)
    ->Name("BM_FlatHashMapFindHot")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK(BM_CacheGetHit<kHot>)->Name("BM_CacheGetHitHot")->Threads(1)->Threads(2)->UseRealTime();

// Cache of state.range(0) keys; each iteration tags 1,000 of them with one tag (untimed) and
// times the invalidation of that tag.
void BM_InvalidateTag(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  Cache cache(Options{.memory_limit_bytes = 4ull << 30, .maintenance_interval = {}});
  const std::string value(64, 'v');
  for (size_t i = 0; i < size; ++i) {
    (void)cache.put(make_key(i), value, {.tags = {"shop:" + std::to_string(i % 997)}});
  }
  std::mt19937 rng(7);
  size_t round = 0;
  for (auto _ : state) {
    const std::string tag = "product:" + std::to_string(round++);
    std::vector<std::string> keys;
    const size_t first = rng() % size;  // 1,000 distinct keys spread over the key space
    for (size_t j = 0; j < 1000; ++j)
      keys.push_back(make_key((first + j * (size / 1000)) % size) + ":" + tag);
    for (const auto& k : keys) (void)cache.put(k, value, {.tags = {tag, "shop:1"}});
    auto start = std::chrono::steady_clock::now();
    size_t removed = cache.invalidate_tags({tag});
    auto took = std::chrono::steady_clock::now() - start;
    if (removed != 1000) std::abort();
    state.SetIterationTime(std::chrono::duration<double>(took).count());
  }
  state.counters["cache_keys"] = static_cast<double>(cache.stats().total.keys);
}
BENCHMARK(BM_InvalidateTag)->Arg(10'000)->Arg(1'000'000)->UseManualTime()->Iterations(200);

}  // namespace
}  // namespace tajir::cache
