#!/usr/bin/env bash
# Two builds of tajir side by side on the hit path: the cached products page and the cached
# dashboard over HTTP (wrk), alternating A, B, A, B, ... on one seeded SQLite demo, and the
# engine's micro-benchmarks of each build. Medians per build, and B/A. For "did this change make
# anything slower": run it with the build before the change as A.
# Usage: bench/compare_builds.sh BUILD_A BUILD_B [rounds] [seconds] [connections]
set -euo pipefail
a=$(cd "$1" && pwd); b=$(cd "$2" && pwd)
rounds=${3:-3}; secs=${4:-8}; conns=${5:-64}
here=$(cd "$(dirname "$0")" && pwd)
export TAJIR_WRK_DIR="$here/wrk"
work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
"$b/tajir" seed --db "sqlite:$work/demo.db" --shops 3 --products 2000 --customers 2000 --bills 20000 > /dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
results="$work/results"
for round in $(seq "$rounds"); do
  for side in A B; do
    build=$a; [ "$side" = B ] && build=$b
    cp "$work/demo.db" "$work/run.db"; rm -f "$work/run.db-wal" "$work/run.db-shm"
    port=$(free_port)
    "$build/tajir" serve --port "$port" --db "sqlite:$work/run.db" --log-level off > /dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.1; done
    export TAJIR_TOKEN=$(curl -sf -X POST -H 'Content-Type: application/json' \
      -d '{"username":"owner1","password":"tajir-demo-2026"}' "http://127.0.0.1:$port/api/auth/login" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    for path in "/api/products?per_page=50" "/api/dashboard"; do
      curl -sf -o /dev/null -H "Authorization: Bearer $TAJIR_TOKEN" "http://127.0.0.1:$port$path"  # fill
      line=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$here/wrk/get.lua" "http://127.0.0.1:$port$path" | grep '^RESULT')
      echo "$side $path $line" >> "$results"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done
for side in A B; do
  build=$a; [ "$side" = B ] && build=$b
  "$build/tajir_bench" --benchmark_filter='BM_CacheGetHit|BM_FlatHashMapFind|BM_InvalidateTag' \
    --benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_min_time=0.3 \
    --benchmark_format=json 2> /dev/null > "$work/micro_$side.json"
done
python3 - "$results" "$work/micro_A.json" "$work/micro_B.json" <<'PY'
import json, re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    side, path, rest = line.split(" ", 2)
    m = re.search(r"rps=([0-9.]+) p50_us=([0-9]+) p99_us=([0-9]+)", rest)
    rows.setdefault((path, side), []).append(tuple(float(x) for x in m.groups()))
print("| read (HTTP, cached) | A req/s | B req/s | B/A | A p99 us | B p99 us |")
print("|---|---:|---:|---:|---:|---:|")
for path in sorted({p for p, _ in rows}):
    med = {s: [statistics.median(v[i] for v in rows[(path, s)]) for i in range(3)] for s in "AB"}
    print(f"| {path} | {med['A'][0]:,.0f} | {med['B'][0]:,.0f} | {med['B'][0]/med['A'][0]:.2f}x | "
          f"{med['A'][2]:.0f} | {med['B'][2]:.0f} |")
def load(f):
    return {b["run_name"]: b for b in json.load(open(f))["benchmarks"] if b.get("aggregate_name") == "median"}
A, B = load(sys.argv[2]), load(sys.argv[3])
print()
print("| engine (median of 5) | A | B | B/A |")
print("|---|---:|---:|---:|")
for name in sorted(A):
    if name in B:
        print(f"| {name} | {A[name]['real_time']:.0f} ns | {B[name]['real_time']:.0f} ns | {B[name]['real_time']/A[name]['real_time']:.2f}x |")
PY
