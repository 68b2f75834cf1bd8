#!/usr/bin/env bash
# make bench: every figure docs/BENCHMARKS.md quotes, each beside its peer from the same run.
# Usage: bench/run.sh [build-dir] [traces-dir]
set -euo pipefail
build=${1:-build}
traces=${2:-$(cd "$(dirname "$0")" && pwd)/traces}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "# tajir benchmarks"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ), commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)"
echo

echo "## Cache engine micro-benchmarks (median of 5 repetitions)"
"$build/tajir_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_min_time=0.5 --benchmark_format=json --benchmark_out="$out/micro.json" \
  --benchmark_out_format=json > /dev/null 2> "$out/micro.err" || { cat "$out/micro.err"; exit 1; }
python3 - "$out/micro.json" <<'PY'
import json, sys
rows = {b["run_name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"] if b.get("aggregate_name") == "median"}
def ns(name): return rows[name]["real_time"]
def ips(name): return rows[name]["items_per_second"]
find = ns("BM_FlatHashMapFind/real_time/threads:1")
hit = ns("BM_CacheGetHit/real_time/threads:1")
t1 = ips("BM_CacheGetHit/real_time/threads:1")
t2 = ips("BM_CacheGetHit/real_time/threads:2")
m1 = ips("BM_FlatHashMapFind/real_time/threads:1")
m2 = ips("BM_FlatHashMapFind/real_time/threads:2")
hot_find = ns("BM_FlatHashMapFindHot/real_time/threads:1")
hot_hit = ns("BM_CacheGetHitHot/real_time/threads:1")
h1 = ips("BM_CacheGetHitHot/real_time/threads:1")
h2 = ips("BM_CacheGetHitHot/real_time/threads:2")
hm1 = ips("BM_FlatHashMapFindHot/real_time/threads:1")
hm2 = ips("BM_FlatHashMapFindHot/real_time/threads:2")
small = ns("BM_InvalidateTag/10000/iterations:200/manual_time")
large = ns("BM_InvalidateTag/1000000/iterations:200/manual_time")
print("| figure | tajir | peer | ratio | target |")
print("|---|---|---|---|---|")
print(f"| get hit, 1M keys, 512 B values, 1 thread | {hit:.0f} ns | absl::flat_hash_map find {find:.0f} ns | {hit/find:.2f}x | <= 2x |")
print(f"| get hits/s, 2 threads vs 1 | {t2/1e6:.2f} M/s | 1 thread {t1/1e6:.2f} M/s | {t2/t1:.2f}x | >= 1.8x |")
print(f"| (peer) flat_hash_map finds/s, 2 threads vs 1 | {m2/1e6:.2f} M/s | 1 thread {m1/1e6:.2f} M/s | {m2/m1:.2f}x | the machine's own scaling |")
print(f"| get hit, 8 hot keys, 1 thread | {hot_hit:.0f} ns | absl::flat_hash_map find {hot_find:.0f} ns | {hot_hit/hot_find:.2f}x | |")
print(f"| get hits/s, 8 hot keys, 2 threads vs 1 | {h2/1e6:.2f} M/s | 1 thread {h1/1e6:.2f} M/s | {h2/h1:.2f}x | |")
print(f"| (peer) flat_hash_map finds/s, 8 hot keys, 2 threads vs 1 | {hm2/1e6:.2f} M/s | 1 thread {hm1/1e6:.2f} M/s | {hm2/hm1:.2f}x | |")
print(f"| invalidate 1 tag of 1,000 keys, 1M-key cache vs 10k | {large/1e3:.0f} us | 10k-key cache {small/1e3:.0f} us | {large/small:.2f}x | <= 1.5x |")
PY
echo

echo "## Resident memory under a put-heavy run, and compression"
"$build/tajir_cache_rss" 256 | sed 's/^/    /'
echo

if [ -x bench/policy_miss_ratios.sh ] || [ -f bench/policy_miss_ratios.sh ]; then
  echo "## Miss ratios: default policy vs LRU, FIFO and Belady"
  bash bench/policy_miss_ratios.sh "$build" "$traces"
fi
