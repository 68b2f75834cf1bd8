#!/usr/bin/env bash
# The POS day (tajir-loadgen) against tajir with no cache, coarse invalidation, precise
# invalidation without and with the background refill, each on a fresh copy of the same seeded
# SQLite database, in one run; then open loop, at half the rate the server sustains, with no
# cache and with the precise cache.
# Usage: bench/posday.sh [build-dir] [seconds] [connections] [shops] [warm-up seconds]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
secs=${2:-60}
conns=${3:-16}
shops=${4:-20}
warmup=${5:-60}
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

# Many small shops and a few big ones is what Zipf popularity over shops gives the traffic; the
# catalogue and customers are the same size in each.
"$build/tajir" seed --db "sqlite:$work/base.db" --shops "$shops" --products 1000 --customers 2000 \
  --bills $((shops * 5000)) > "$work/seed.log" 2>&1

loadgen_args=()  # more for tajir-loadgen (the open-loop runs set --rate)
run_mode() {  # $1 label, rest: settings for tajir serve
  local label=$1; shift
  cp "$work/base.db" "$work/run.db"
  local port; port=$(free_port)
  # X-DB-Statements on every answer: the reads with no database are counted from it.
  "$build/tajir" serve --port "$port" --db "sqlite:$work/run.db" --log-level off --db-statements-header true \
    "$@" > "$work/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  "$build/tajir-loadgen" --url "http://127.0.0.1:$port" --shops "$shops" --connections "$conns" \
    --duration "$secs" --warmup "$warmup" --label "$label" --json "$work/$label.json" "${loadgen_args[@]}" \
    > "$work/$label.txt" || {
    cat "$work/$label.txt"; echo "tajir-loadgen failed for $label" >&2; exit 1; }
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  rm -f "$work/run.db" "$work/run.db-wal" "$work/run.db-shm"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "tajir-loadgen: $shops shops (1,000 products, 2,000 customers, 5,000 bills each), $conns connections,"
echo "${warmup} s warm-up then ${secs} s measured per row; SQLite; one server at a time on this machine"
echo
run_mode "no-cache" --cache false
run_mode "coarse" --invalidation coarse
run_mode "precise-no-refill" --refill false
run_mode "precise"
# Open loop: requests fall due on a schedule (Poisson arrivals) and each latency runs from the
# time it fell due, so a queue in the server shows. The rate is half what the server sustains,
# estimated by the closed-loop throughput at $conns connections: the lower of no cache and
# precise, so that both run below saturation at the same offered load.
rate=$(python3 -c 'import json, sys; print(round(min(json.load(open(f))["throughput"] for f in sys.argv[1:]) / 2, 1))' \
  "$work/no-cache.json" "$work/precise.json")
loadgen_args=(--rate "$rate")
run_mode "open-no-cache" --cache false
run_mode "open-precise"
python3 - "$work" "$rate" <<'PY'
import json, sys, os
rows = [json.load(open(os.path.join(sys.argv[1], f"{m}.json"))) for m in ("no-cache", "coarse", "precise-no-refill", "precise")]
print("| mode | req/s | read p50 ms | read p99 ms | write p99 ms | hit rate | first reads of a target | reads with no DB | DB stmts/request (incl. background) | stale reads / checks |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r['label']} | {r['throughput']:.0f} | {r['read_p50_ms']:.2f} | {r['read_p99_ms']:.2f} | {r['write_p99_ms']:.2f} "
          f"| {100*r['hit_rate']:.1f}% | {100*r['first_reads']:.1f}% | {100*r['reads_without_db']:.1f}% | {r['statements_per_request']:.2f} ({r['server_statements_per_request']:.2f}) "
          f"| {r['stale_reads']} / {r['checks']} |")
none, coarse, _, precise = rows
print()
print(f"precise vs coarse: hit rate {100*precise['hit_rate']:.1f}% vs {100*coarse['hit_rate']:.1f}% = "
      f"{100*(precise['hit_rate']-coarse['hit_rate']):+.1f} points (target >= +15); "
      f"reads with no DB {100*precise['reads_without_db']:.1f}% (target >= 90%); "
      f"throughput {precise['throughput']/none['throughput']:.2f}x no cache")
print()
print("hit rate by operation (precise / coarse):")
for op, p in precise["by_op"].items():
    c = coarse["by_op"][op]
    if p["count"]:
        print(f"  {op:22s} {100*p['hit_rate']:5.1f}% / {100*c['hit_rate']:5.1f}%   stmts/req {p['statements']:.2f} / {c['statements']:.2f} / no cache {none['by_op'][op]['statements']:.2f}")
print()
open_none, open_precise = (json.load(open(os.path.join(sys.argv[1], f"{m}.json"))) for m in ("open-no-cache", "open-precise"))
o = open_precise["open_loop"]
print(f"open loop at {float(sys.argv[2]):.0f} req/s (half the lower closed-loop throughput of no-cache and precise), "
      f"{o['arrivals']} arrivals; latency from the time each request fell due:")
print("| mode | target req/s | achieved req/s | sent > 10 ms late | unsent | read p99 ms | hit p99 ms | miss p99 ms | write p99 ms | write p99.9 ms | stale reads / checks |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
def ms(x, q="p99_ms"):  # "-" for a class with no request (no hit without the cache)
    return f"{x[q]:.2f}" if x["count"] else "-"
for r in (open_none, open_precise):
    o, l = r["open_loop"], r["latency"]
    print(f"| {r['label']} | {o['target_rate']:.0f} | {o['achieved_rate']:.0f} | {o['late']} of {o['due']} | {o['unsent']} "
          f"| {ms(l['reads'])} | {ms(l['hits'])} | {ms(l['misses'])} | {ms(l['writes'])} "
          f"| {ms(l['writes'], 'p999_ms')} | {r['stale_reads']} / {r['checks']} |")
ln, lp = open_none["latency"], open_precise["latency"]
print()
print(f"open loop, precise vs no cache: read p99 {ms(lp['reads'])} vs {ms(ln['reads'])} ms, "
      f"hit p99 {ms(lp['hits'])} ms, write p99 {ms(lp['writes'])} vs {ms(ln['writes'])} ms")
PY
