#!/usr/bin/env bash
# A soak: the POS day (tajir-loadgen, as bench/posday.sh runs it) against one tajir for MINUTES,
# sampling every few seconds the server's resident memory (VmRSS, RssAnon, and the heap malloc
# holds: in use and free), its open descriptors, the cache's memory (/metrics) and the
# loadgen's requests and latency over the last interval, into
# OUT/soak.csv; then plots them into OUT/soak.svg and says whether anything grew once warm.
# Usage: bench/soak.sh [build-dir] [minutes, default 10] [out-dir, default docs]
# SOAK_EVERY=seconds between samples (5); SOAK_CACHE=a cache budget below the working set (e.g.
# 16MiB), so that the cache is full once warm and what else grows shows. Not part of make bench:
# it takes its minutes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
minutes=${2:-10}
out=${3:-$here/../docs}
every=${SOAK_EVERY:-5}
cache_flag=()
[ -n "${SOAK_CACHE:-}" ] && cache_flag=(--cache-memory "$SOAK_CACHE")
shops=10
conns=16
total=$((minutes * 60))
warmup=$((total / 10 > 60 ? 60 : total / 10 < 30 ? 30 : total / 10))  # a tenth, within 30 s..1 min
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
server_pid="" loadgen_pid=""
cleanup() {
  [ -n "$loadgen_pid" ] && kill "$loadgen_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "soak: $minutes min of the POS day ($shops shops of 1,000 products, 2,000 customers, 5,000 bills;"
echo "$conns connections; the first $warmup s warming up), SQLite, a sample every $every s," \
  "cache budget ${SOAK_CACHE:-the default}"
"$build/tajir" seed --db "sqlite:$work/soak.db" --shops "$shops" --products 1000 --customers 2000 \
  --bills $((shops * 5000)) > "$work/seed.log" 2>&1
port=$(free_port)
"$build/tajir" serve --port "$port" --db "sqlite:$work/soak.db" --log-level off "${cache_flag[@]}" \
  > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.1; done

"$build/tajir-loadgen" --url "http://127.0.0.1:$port" --shops "$shops" --connections "$conns" \
  --warmup "$warmup" --duration $((total - warmup)) --progress "$work/progress.csv" \
  --progress-every "$every" --label soak --json "$work/loadgen.json" > "$work/loadgen.txt" 2>&1 &
loadgen_pid=$!

csv=$out/soak.csv
echo "seconds,rss_kib,anon_kib,heap_kib,heap_free_kib,fds,cache_bytes,requests_per_s,errors,p50_ms,p99_ms" > "$csv"
start=$(date +%s.%N)
while sleep "$every" && kill -0 "$loadgen_pid" 2>/dev/null; do
  kill -0 "$server_pid" 2>/dev/null || { echo "tajir died; its log:" >&2; cat "$work/serve.log" >&2; exit 1; }
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status")
  anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$server_pid/status")  # the heap's, not mapped files
  fds=$(ls "/proc/$server_pid/fd" | wc -l)
  metrics=$(curl -s "http://127.0.0.1:$port/metrics" || true)
  cache=$(echo "$metrics" |
    awk '$1 ~ /^tajir_cache_memory_bytes[{]/ {sum += $2} END {printf "%.0f", sum}')
  # The allocator's heap: in use, and freed but kept in its arenas.
  heap=$(echo "$metrics" | awk '$1 == "tajir_heap_bytes{state=\"in_use\"}" {printf "%.0f", $2 / 1024}')
  heap_free=$(echo "$metrics" | awk '$1 == "tajir_heap_bytes{state=\"free\"}" {printf "%.0f", $2 / 1024}')
  # The loadgen's last interval (seconds,phase,requests,errors,p50_ms,p99_ms), once it has one.
  last=$(tail -n 1 "$work/progress.csv" 2>/dev/null || true)
  case $last in
    ""|seconds*) load=",,," ;;
    *) load=$(echo "$last" | awk -F, -v every="$every" '{printf "%.0f,%s,%s,%s", $3 / every, $4, $5, $6}') ;;
  esac
  now=$(date +%s.%N)
  echo "$(awk -v a="$now" -v b="$start" 'BEGIN {printf "%.1f", a - b}'),$rss,$anon,${heap:-},${heap_free:-},$fds,${cache:-},$load" >> "$csv"
done
wait "$loadgen_pid" || { cat "$work/loadgen.txt"; echo "tajir-loadgen failed" >&2; exit 1; }
loadgen_pid=""
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
cat "$work/loadgen.txt"

python3 - "$csv" "$out/soak.svg" "$warmup" "$minutes" <<'PY'
import csv, math, sys
path, svg_path, warmup, minutes = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
rows = [r for r in csv.DictReader(open(path))]
num = lambda r, k: float(r[k]) if r[k] not in ("", None) else None
t = [float(r["seconds"]) / 60 for r in rows]

def slope(xs, ys):  # least squares, per unit of x
    pts = [(x, y) for x, y in zip(xs, ys) if y is not None]
    n = len(pts)
    if n < 2: return 0.0
    mx, my = sum(x for x, _ in pts) / n, sum(y for _, y in pts) / n
    var = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / var if var else 0.0

warm = [r for r in rows if float(r["seconds"]) >= warmup]
if not warm:
    sys.exit("no sample after the warm-up")
wt = [float(r["seconds"]) / 60 for r in warm]
rss = [num(r, "rss_kib") / 1024 for r in warm]
anon = [num(r, "anon_kib") / 1024 for r in warm]
less_cache = [a - num(r, "cache_bytes") / 2**20 if r["cache_bytes"] else None for a, r in zip(anon, warm)]
heap = [num(r, "heap_kib") / 1024 if r.get("heap_kib") else None for r in warm]
heap_free = [num(r, "heap_free_kib") / 1024 if r.get("heap_free_kib") else None for r in warm]
fds = [num(r, "fds") for r in warm]
p99 = [num(r, "p99_ms") for r in warm]
print(f"\nonce warm ({len(warm)} samples from {warmup:.0f} s): resident memory {rss[0]:.1f} -> {rss[-1]:.1f} MiB "
      f"(max {max(rss):.1f}; trend {slope(wt, rss):+.2f} MiB/min); anonymous {anon[0]:.1f} -> {anon[-1]:.1f} MiB "
      f"(trend {slope(wt, anon):+.2f} MiB/min; less the cache's charge {slope(wt, less_cache):+.2f} MiB/min); heap in use trend {slope(wt, heap):+.2f} MiB/min, "
      f"free but kept {slope(wt, heap_free):+.2f} MiB/min; open descriptors {min(fds):.0f}..{max(fds):.0f} "
      f"(trend {slope(wt, fds):+.2f}/min); p99 latency of an interval {min(x for x in p99 if x is not None):.2f}.."
      f"{max(x for x in p99 if x is not None):.2f} ms (trend {slope(wt, p99):+.3f} ms/min)")

# The second half alone: what still grows once everything has filled (the first minutes fill
# the engine's tables, the page caches and malloc's arenas too, not only the cache).
half = [r for r in warm if float(r["seconds"]) >= float(rows[-1]["seconds"]) / 2]
ht = [float(r["seconds"]) / 60 for r in half]
col = lambda k: [num(r, k) / 1024 if r.get(k) else None for r in half]
print(f"second half ({len(half)} samples from {half[0]['seconds']} s): anonymous trend {slope(ht, col('anon_kib')):+.2f} MiB/min, "
      f"heap in use {slope(ht, col('heap_kib')):+.2f} MiB/min, free but kept {slope(ht, col('heap_free_kib')):+.2f} MiB/min, "
      f"descriptors {slope(ht, [num(r, 'fds') for r in half]):+.2f}/min")

# The plot: three panels over minutes, plain SVG (no plotting package needed).
W, H, L, R, T, GAP = 900, 620, 70, 20, 40, 30
ph = (H - T - 40 - 2 * GAP) / 3
def ticks(top):  # round steps (1, 2 or 5 times a power of ten) from 0 to past top
    raw = top / 5
    step = 10 ** math.floor(math.log10(raw))
    step *= next(f for f in (1, 2, 5, 10) if f * step >= raw)
    return [k * step for k in range(int(math.ceil(top / step)) + 1)]

x_ticks = ticks(max(t) if t and max(t) > 0 else 1)
x_max = x_ticks[-1]
def sx(m): return L + (W - L - R) * m / x_max
panels = [
    ("memory (MiB)", [("resident (VmRSS)", "rss_kib", 1 / 1024, "#1f77b4"), ("anonymous (RssAnon)", "anon_kib", 1 / 1024, "#17becf"),
                      ("heap in use", "heap_kib", 1 / 1024, "#8c564b"),
                      ("heap free, kept", "heap_free_kib", 1 / 1024, "#e377c2"), ("cache (/metrics)", "cache_bytes", 1 / 2**20, "#ff7f0e")]),
    ("open descriptors", [("fds", "fds", 1, "#2ca02c")]),
    ("latency of an interval (ms)", [("p50", "p50_ms", 1, "#9467bd"), ("p99", "p99_ms", 1, "#d62728")]),
]
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">tajir soak: {minutes} min of the POS day '
       f'(bench/soak.sh); warm-up shaded</text>']
for i, (title, series) in enumerate(panels):
    top = T + i * (ph + GAP)
    values = [v * s for _, k, s, _ in series for v in (num(r, k) for r in rows) if v is not None]
    y_ticks = ticks(max(values) if values and max(values) > 0 else 1)
    y_max = y_ticks[-1]
    sy = lambda v: top + ph - ph * v / y_max
    out.append(f'<rect x="{L}" y="{top}" width="{sx(min(warmup / 60, x_max)) - L}" height="{ph}" fill="#eee"/>')
    out.append(f'<rect x="{L}" y="{top}" width="{W - L - R}" height="{ph}" fill="none" stroke="#888"/>')
    for v in y_ticks:
        out.append(f'<text x="{L - 6}" y="{sy(v) + 4}" text-anchor="end">{v:g}</text>')
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{sy(v)}" y2="{sy(v)}" stroke="#ddd"/>')
    out.append(f'<text x="{L + 6}" y="{top + 14}" font-weight="bold">{title}</text>')
    for j, (label, key, scale, colour) in enumerate(series):
        pts = " ".join(f"{sx(m):.1f},{sy(num(r, key) * scale):.1f}" for m, r in zip(t, rows) if num(r, key) is not None)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        out.append(f'<text x="{W - R - 10}" y="{top + 14 + 14 * j}" text-anchor="end" fill="{colour}">{label}</text>')
bottom = T + 3 * ph + 2 * GAP
for m in x_ticks:
    out.append(f'<text x="{sx(m)}" y="{bottom + 16}" text-anchor="middle">{m:g}</text>')
out.append(f'<text x="{W / 2}" y="{bottom + 34}" text-anchor="middle">minutes</text>')
out.append("</svg>")
open(svg_path, "w").write("\n".join(out) + "\n")
print(f"wrote {path} and {svg_path}")
PY
