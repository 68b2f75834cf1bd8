#!/usr/bin/env bash
# What one read costs in each tier (local, Redis, SQLite, PostgreSQL) and what a write waits
# for 1, 2 and 3 nodes (bench/tiers.cc), beside redis-benchmark GET of the same value size with
# one client, alternating, in one run.
# Usage: bench/tiers.sh [build-dir] [rounds] [value bytes]
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
bytes=${3:-11000}
work=$(mktemp -d)
redis_pid=""
trap '[ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no > "$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.05; done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "$(redis-server --version | awk '{print $1, $3}'); value $bytes bytes; one request in flight"
for r in $(seq "$rounds"); do
  TAJIR_WAIT_SAMPLES="$work/waits.txt" "$build/tajir_tiers_bench" 1 "$bytes" | sed "s/^\([a-z].*\) \{1,\}1 /\1 $r /" | tail -n +3 >> "$work/tajir.txt"
  # redis-benchmark's own client, one connection: its p50 and p99 in ms.
  redis-benchmark -p "$port" -t get -d "$bytes" -c 1 -n 20000 --csv 2>/dev/null |
    awk -F, -v r="$r" 'NR==2 {gsub(/"/,""); printf "redis-benchmark GET %d %.2f %.2f %.2f %.2f\n", r, $5*1000, $7*1000, $3*1000, $8*1000}' >> "$work/peer.txt"
done
# What one Redis core runs: plain GETs from 50 connections (the group's scripts cost more).
ops=$(redis-benchmark -p "$port" -t get -c 50 -n 200000 --csv 2>/dev/null | awk -F, 'NR==2 {gsub(/"/,""); print $2}')
python3 - "$work/tajir.txt" "$work/peer.txt" > "$work/table.txt" <<'PY'
import statistics, sys
rows = {}
for path in sys.argv[1:]:
    for line in open(path):
        parts = line.split()
        if len(parts) < 6: continue
        name = " ".join(parts[:-5])
        rows.setdefault(name, []).append([float(x) for x in parts[-4:]])
med = {n: [statistics.median(v[i] for v in vs) for i in range(4)] for n, vs in rows.items()}
print(f"\nmedians of {len(next(iter(rows.values())))} alternating rounds, microseconds per operation")
print("| hop | p50 | p99 | mean | vs redis-benchmark GET p50 |")
print("|---|---|---|---|---|")
peer = med.get("redis-benchmark GET", [float("nan")])[0]
for n, (p50, p99, mean, _) in med.items():
    print(f"| {n} | {p50:.2f} | {p99:.2f} | {mean:.2f} | {p50 / peer:.2f}x |")
PY
cat "$work/table.txt"
echo
echo "Redis: $ops GET/s from 50 connections. Past this machine (bench/nodes_sim.py, from this run's samples):"
check=$(awk -F'|' '$2 ~ /write wait 3/ {print $3, $4}' "$work/table.txt")
# shellcheck disable=SC2086
python3 "$(dirname "$0")/nodes_sim.py" "$work/waits.txt" --check $check --redis-ops "$ops"
