#!/usr/bin/env bash
# Search latency, uncached: GET /api/products?q= and /api/customers?q= through
# `tajir serve --cache false` (every read goes to the database), on SQLite databases of one shop
# with N products and N customers, for a selective term, a common one and a short one (1-2
# characters, which no trigram index serves: the scan). Prints one markdown table: per size and
# term, the rows it finds (the page's total) and the median of the requests' times (curl's
# time_total, on loopback; the first request of each term is a warm-up, not counted).
#
# Databases are seeded once (tajir seed --shops 1 --products N --customers N --bills 0) into
# $TAJIR_SEARCH_BENCH_DIR (default /tmp/tajir-search-bench) and reused by later runs; the seed
# time is printed when it happens. The schema migrates on start, so a database seeded by an
# older build gains the indexes (its first start pays their backfill). With
# TAJIR_SEARCH_BENCH_BEFORE=DIR, the build in DIR (one without the text indexes, whose scan is
# the "before"; the tables' triggers do not bother it) answers the same requests on the same
# databases right after, in a second column (and its totals, should they differ).
# Usage: bench/search_bench.sh [build-dir] [sizes...]   (default sizes: 10000 100000 1000000)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
runs=${TAJIR_SEARCH_BENCH_RUNS:-9}
before=${TAJIR_SEARCH_BENCH_BEFORE:+$(cd "$TAJIR_SEARCH_BENCH_BEFORE" && pwd)}
dir=${TAJIR_SEARCH_BENCH_DIR:-/tmp/tajir-search-bench}
mkdir -p "$dir"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# "total median_ms" of GET $1, $runs times after one warm-up.
measure() {
  local url=$1 times=() total
  total=$(curl -sf -H "Authorization: Bearer $token" "$url" |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("total", 1))')
  for _ in $(seq "$runs"); do
    times+=("$(curl -sf -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" "$url")")
  done
  python3 -c 'import statistics,sys; print(sys.argv[1], f"{statistics.median(map(float, sys.argv[2:])) * 1000:.2f}")' \
    "$total" "${times[@]}"
}

# name|path|q: selective (well under 1% of the rows), common, and short; first, one product by
# id, the floor of any request (HTTP, the session, one row).
terms=(
  "one product by id|products/1|"
  "selective|products|royal saff"
  "selective (sku prefix)|products|Bev-0012"
  "common|products|tea"
  "short (2 chars)|products|al"
  "selective|customers|layla wong"
  "common|customers|khan"
  "short (2 chars)|customers|al"
)

# Runs every term against `tajir serve` of build dir $1 on database $2: one "total ms" line each.
run_terms() {  # (in a subshell: its own trap)
  trap cleanup EXIT
  local port; port=$(free_port)
  "$1/tajir" serve --port "$port" --db "sqlite:$2" --cache false --log-level off \
    > "$dir/serve.log" 2>&1 &
  server_pid=$!
  local base="http://127.0.0.1:$port"
  for _ in $(seq 600); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
  token=$(curl -sf -X POST -H 'Content-Type: application/json' \
    -d '{"username":"owner1","password":"tajir-demo-2026"}' "$base/api/auth/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  local t label path q url
  for t in "${terms[@]}"; do
    IFS='|' read -r label path q <<< "$t"
    url="$base/api/$path"
    [ -z "$q" ] || url+="?q=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$q")"
    measure "$url"
  done
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

if [ -n "$before" ]; then
  echo "| products = customers | list | term | q | rows found | median ms | before: median ms |"
  echo "|---:|---|---|---|---:|---:|---:|"
else
  echo "| products = customers | list | term | q | rows found | median ms |"
  echo "|---:|---|---|---|---:|---:|"
fi
for n in "${sizes[@]}"; do
  db="$dir/search-$n.db"
  if [ ! -f "$db.done" ]; then
    rm -f "$db" "$db-wal" "$db-shm"
    start=$(date +%s.%N)
    "$build/tajir" seed --db "sqlite:$db" --shops 1 --products "$n" --customers "$n" --bills 0 \
      > /dev/null 2>&1
    touch "$db.done"
    echo "seeded $n products and $n customers in $(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')") s" >&2
  fi
  mapfile -t after < <(run_terms "$build" "$db")
  [ -z "$before" ] || mapfile -t old < <(run_terms "$before" "$db")
  for i in "${!terms[@]}"; do
    IFS='|' read -r label path q <<< "${terms[$i]}"
    read -r total ms <<< "${after[$i]}"
    row="| $n | $path | $label | \`$q\` | $total | $ms |"
    if [ -n "$before" ]; then
      read -r old_total old_ms <<< "${old[$i]}"
      [ "$old_total" = "$total" ] || old_ms="$old_ms (found $old_total)"
      row+=" $old_ms |"
    fi
    echo "$row"
  done
done
