#!/usr/bin/env bash
# Several tajir nodes on one PostgreSQL and one Redis: the POS day (tajir-loadgen, its tills
# spread over the nodes, every read checked against the writes acknowledged on any node) with
# 1 node without Redis, then 1, 2 and 3 nodes on Redis, each on a fresh copy of the same seeded
# database; then 3 nodes while one of them is paused (SIGSTOP) for longer than its lease, the
# tills on the other two: the worst write stall. Write latency with each count of nodes is
# what cross-node invalidation costs (docs/CACHE.md, "Several nodes").
# Usage: bench/nodes.sh [build-dir] [seconds] [connections] [shops] [warm-up seconds]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
secs=${2:-30}
conns=${3:-16}
shops=${4:-10}
warmup=${5:-10}
lease_ms=${LEASE_MS:-2000}
work=$(mktemp -d)
chmod 755 "$work"
pids=()
source "$(dirname "$0")/../scripts/lib/postgres.sh"
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  pg_stop "$work/pg" immediate
  rm -rf "$work"
}
trap cleanup EXIT

pg_port=$(free_port)
pg_start "$work/pg" "$pg_port" -c max_connections=200
pg="postgresql://tajir@127.0.0.1:$pg_port"
as_pg "$pg_bin/createdb" -h "$work/pg" -p "$pg_port" -U tajir base
"$build/tajir" seed --db "$pg/base" --shops "$shops" --products 1000 --customers 2000 \
  --bills $((shops * 2000)) > "$work/seed.log" 2>&1

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no > "$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" PING >/dev/null 2>&1 && break; sleep 0.05; done

run=0
nodes=()  # pids of the current run's nodes
urls=""
start_nodes() {  # $1 count, rest: settings for tajir serve
  local count=$1; shift
  run=$((run + 1))
  as_pg "$pg_bin/createdb" -h "$work/pg" -p "$pg_port" -U tajir -T base "run$run"
  redis-cli -p "$redis_port" FLUSHALL >/dev/null
  nodes=(); urls=""
  for i in $(seq "$count"); do
    local port; port=$(free_port)
    "$build/tajir" serve --port "$port" --db "$pg/run$run" --log-level off --warm false "$@" \
      > "$work/node$run-$i.log" 2>&1 &
    nodes+=($!); pids+=($!)
    for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$work/node$run-$i.log"; echo "node $i did not start" >&2; exit 1; }
    urls="${urls:+$urls,}http://127.0.0.1:$port"
  done
}
stop_nodes() {
  for p in "${nodes[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  nodes=()
}
loadgen() {  # $1 label, $2 urls, rest: more for tajir-loadgen
  local label=$1 to=$2; shift 2
  "$build/tajir-loadgen" --url "$to" --shops "$shops" --connections "$conns" --duration "$secs" \
    --warmup "$warmup" --label "$label" --json "$work/$label.json" "$@" > "$work/$label.txt" || {
    cat "$work/$label.txt"; echo "tajir-loadgen failed for $label" >&2; exit 1; }
}
# The writer's wait for the other nodes, from node 1's stats.
waits() {
  curl -s -H "Authorization: Bearer bench-admin-token-0000" "${urls%%,*}/api/cache/stats" |
    python3 -c 'import json,sys; n=json.load(sys.stdin)["tiers"]["redis"].get("nodes") or {}; print(n.get("write_wait_mean_us"), n.get("write_wait_max_us"), n.get("live"))'
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "PostgreSQL $(as_pg "$pg_bin/postgres" --version | awk '{print $3}'), $(redis-server --version | awk '{print $1, $3}')"
echo "tajir-loadgen: $shops shops (1,000 products, 2,000 customers, 2,000 bills each), $conns connections"
echo "over all nodes, ${warmup} s warm-up then ${secs} s measured per row; lease ${lease_ms} ms; every"
echo "process on this one machine"
echo
admin=(--admin-token bench-admin-token-0000)
start_nodes 1 "${admin[@]}"; loadgen "1-node-no-redis" "$urls"; stop_nodes
declare -A wait_of
for n in 1 2 3; do
  start_nodes "$n" "${admin[@]}" --redis "redis://127.0.0.1:$redis_port" --lease-ms "$lease_ms"
  loadgen "$n-nodes" "$urls"
  wait_of[$n]=$(waits)
  stop_nodes
done
# A node paused past its lease while the tills write on the other two.
start_nodes 3 "${admin[@]}" --redis "redis://127.0.0.1:$redis_port" --lease-ms "$lease_ms"
paused=${nodes[2]}
others=$(echo "$urls" | cut -d, -f1-2)
( sleep $((warmup + secs / 3)); kill -STOP "$paused"; sleep $(( (lease_ms * 2 + 999) / 1000 )); kill -CONT "$paused" ) &
loadgen "3-nodes-one-paused" "$others"
wait_of[paused]=$(waits)
stop_nodes

python3 - "$work" "${wait_of[1]}" "${wait_of[2]}" "${wait_of[3]}" "${wait_of[paused]}" <<'EOF'
import json, sys
work, waits = sys.argv[1], sys.argv[2:]
rows = ["1-node-no-redis", "1-nodes", "2-nodes", "3-nodes", "3-nodes-one-paused"]
print(f"{'':22}{'req/s':>8}{'read p50':>10}{'read p99':>10}{'write p50':>10}{'write p99':>10}{'write max':>10}{'hits':>7}{'stale':>7}{'wait mean/max us':>20}")
for i, label in enumerate(rows):
    j = json.load(open(f"{work}/{label}.json"))
    w = "" if i == 0 else "/".join(waits[i - 1].split()[:2])
    print(f"{label:22}{j['throughput']:8.0f}{j['read_p50_ms']:10.2f}{j['read_p99_ms']:10.2f}"
          f"{j['write_p50_ms']:10.2f}{j['write_p99_ms']:10.2f}{j['latency']['writes']['max_ms']:10.1f}"
          f"{100 * j['hit_rate']:6.1f}%{j['stale_reads']:7d}{w:>20}")
EOF
