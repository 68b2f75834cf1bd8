#!/usr/bin/env bash
# The POS day with a daily rhythm (tajir-loadgen --rhythm-hour-ms): a quiet night, a morning and
# an evening rush, each hour with its own best-sellers, compressed so that an hour lasts HOUR_MS
# (400 by default: a week in 67 s), in an open loop whose peak rate is RATE. The server runs with
# the same compression and entries that live two and a half of those hours (--cache-ttl 1), so
# last week's reads are gone when an hour comes again. The first week teaches (the loadgen's
# warm-up), the second is measured: with warming by the clock, and without, each on a fresh copy
# of the same database. Reported: the hit rate of the reads in the first quarter hour of each
# busy period, the whole hit rate, and the entries the clock warmed.
# Usage: bench/posday_rhythm.sh [build-dir] [shops]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
shops=${2:-3}
hour_ms=${HOUR_MS:-400}
rate=${RATE:-300}
week=$(python3 -c "print(168 * $hour_ms / 1000)")
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
"$build/tajir" seed --db "sqlite:$work/base.db" --shops "$shops" --products 1000 --customers 500 \
  --bills $((shops * 1000)) > "$work/seed.log" 2>&1

run() {  # $1 label, rest: settings for tajir serve
  local label=$1; shift
  cp "$work/base.db" "$work/run.db"
  local port; port=$(free_port)
  "$build/tajir" serve --port "$port" --db "sqlite:$work/run.db" --log-level off --access-log off \
    --hot-keys off --rhythm-hour-ms "$hour_ms" --cache-ttl 1 "$@" > "$work/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  "$build/tajir-loadgen" --url "http://127.0.0.1:$port" --shops "$shops" --connections 16 \
    --rate "$rate" --rhythm-hour-ms "$hour_ms" --warmup "$week" --duration "$week" \
    --label "$label" --json "$work/$label.json" > "$work/$label.txt" || {
    cat "$work/$label.txt"; echo "tajir-loadgen failed for $label" >&2; exit 1; }
  curl -sf "http://127.0.0.1:$port/metrics" | awk '/^tajir_cache_warmed_total\{cause="clock"\}/ {print $2}' \
    > "$work/$label.clock"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  rm -f "$work/run.db" "$work/run.db-wal" "$work/run.db-shm"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "an hour is $hour_ms ms (a week $week s); peak $rate req/s, 16 tills, $shops shops; week 1 teaches, week 2 measured"
run clock --warm-ahead-minutes 10 --warm-ahead-keys "${KEYS:-16}"
[ -n "${SKIP_NONE:-}" ] || run none --warm-ahead-minutes 0
python3 - "$work" <<'PY'
import json, os, sys
w = sys.argv[1]
print("| second week | first quarter hour of busy periods: reads, hit rate | all reads' hit rate | read p99 ms | stale | entries the clock warmed | database statements per request, warming included |")
print("|---|---:|---:|---:|---:|---:|---:|")
for label in ("clock", "none"):
    if not os.path.exists(f"{w}/{label}.json"):
        continue
    r = json.load(open(f"{w}/{label}.json"))
    clock = open(f"{w}/{label}.clock").read().strip() or "0"
    print(f"| {label} | {r['rhythm']['busy_start_reads']}, {100 * r['rhythm']['busy_start_hit_rate']:.1f}% | "
          f"{100 * r['hit_rate']:.1f}% | {r['read_p99_ms']:.1f} | {r['stale_reads']} | {float(clock):.0f} | "
          f"{r['server_statements_per_request']:.3f} |")
for label in ("clock", "none"):
    if os.path.exists(f"{w}/{label}.json"):
        ops = json.load(open(f"{w}/{label}.json"))["rhythm"]["busy_start_by_op"]
        print(f"{label}, first quarter hour by read: " + ", ".join(
            f"{op} {o['reads']} at {100 * o['hit_rate']:.0f}%" for op, o in ops.items()))
PY
