#!/usr/bin/env bash
# What learning who reads what costs a hit: a cached products page read by a cashier (whose
# reads ReadHabits and ShopRhythm note), with that learning on (the default) and off
# (--warm-user-keys 0 --warm-ahead-minutes 0), alternating, ROUNDS rounds, wrk on loopback.
# Usage: bench/habits_cost.sh [build-dir] [seconds] [connections]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
secs=${2:-5}
conns=${3:-32}
rounds=${ROUNDS:-3}
here=$(cd "$(dirname "$0")" && pwd)
export TAJIR_WRK_DIR="$here/wrk"
work=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$build/tajir" seed --db "sqlite:$work/t.db" --shops 1 --products 500 --customers 10 --bills 0 > /dev/null 2>&1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run() {  # $1: label, rest: settings
  local label=$1; shift
  "$build/tajir" serve --port "$port" --db "sqlite:$work/t.db" --log-level off --access-log off \
    --hot-keys off "$@" > /dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.1; done
  TAJIR_TOKEN=$(curl -sf -X POST -H 'Content-Type: application/json' \
    -d '{"username":"cashier1","password":"tajir-demo-2026"}' "http://127.0.0.1:$port/api/auth/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  export TAJIR_TOKEN
  curl -sf -H "Authorization: Bearer $TAJIR_TOKEN" "http://127.0.0.1:$port/api/products?per_page=50" > /dev/null
  wrk -t2 -c"$conns" -d"${secs}s" -s "$TAJIR_WRK_DIR/get.lua" "http://127.0.0.1:$port/api/products?per_page=50" |
    awk -v l="$label" '/Requests\/sec/ {print l, $2}'
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}
for r in $(seq "$rounds"); do
  run on ${ON_FLAGS:-}
  run off --warm-user-keys 0 --warm-ahead-minutes 0
done | python3 -c '
import sys, statistics
rows = {}
for line in sys.stdin:
    label, rps = line.split()
    rows.setdefault(label, []).append(float(rps))
for label, v in rows.items():
    each = ", ".join(format(x, ",.0f") for x in v)
    print(f"{label}: median {statistics.median(v):,.0f} req/s over {len(v)} rounds ({each})")
on, off = statistics.median(rows["on"]), statistics.median(rows["off"])
print(f"on / off: {on / off:.3f}")
'
