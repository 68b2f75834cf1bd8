#!/usr/bin/env bash
# Miss ratios of the default policy ("tajir") against LRU, FIFO and Bélády's optimum, on
# generated traces and the real traces, at 1%, 2%, 5% and 10% of each trace's unique keys.
# Prints a markdown table and a summary; the targets are tajir <= 1.02 x LRU on every row and
# a mean reduction of at least 10% against LRU.
#
# usage: bench/policy_miss_ratios.sh BUILD_DIR [TRACES_DIR]
#   BUILD_DIR   holds tajir-cachesim and tajir-tracegen
#   TRACES_DIR  real traces, one key per line, as NAME.txt or gzip-compressed NAME.txt.gz
#               (default: bench/traces, whose .gz files are decompressed into BUILD_DIR/traces)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: $0 BUILD_DIR [TRACES_DIR]}
traces=${2:-$repo/bench/traces}
sim=$build/tajir-cachesim
gen=$build/tajir-tracegen
[[ -x $sim && -x $gen ]] || { echo "no tajir-cachesim/tajir-tracegen in $build" >&2; exit 2; }
[[ -d $traces ]] || { echo "no traces directory $traces" >&2; exit 2; }
traces=$(cd "$traces" && pwd)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Generated traces: 1M requests over 100k keys each, fixed seeds.
"$gen" --kind zipf --alpha 0.8 --seed 1 --out "$tmp/gen_zipf_a0.8.txt"
"$gen" --kind zipf --alpha 1.0 --seed 2 --out "$tmp/gen_zipf_a1.0.txt"
"$gen" --kind scan --seed 3 --out "$tmp/gen_scan.txt"
"$gen" --kind loop --seed 4 --out "$tmp/gen_loop.txt"
"$gen" --kind drift --seed 5 --out "$tmp/gen_drift.txt"
"$gen" --kind mix --seed 6 --out "$tmp/gen_mix.txt"

# The real traces: plain ones as they are, compressed ones decompressed under their own names
# (the simulator names each trace after its file) and checked against SHA256SUMS when there is one.
real=$build/traces
mkdir -p "$real"
shopt -s nullglob
rm -f "$real"/*.txt
compressed=("$traces"/*.txt.gz)
for f in "${compressed[@]}"; do gzip -dc "$f" > "$real/$(basename "${f%.gz}")"; done
if [[ ${#compressed[@]} -gt 0 && -f $traces/SHA256SUMS ]]; then
  (cd "$real" && sha256sum --quiet -c "$traces/SHA256SUMS") ||
    { echo "the traces in $real differ from $traces/SHA256SUMS" >&2; exit 2; }
fi
args=()
for f in "$tmp"/gen_*.txt "$traces"/*.txt "$real"/*.txt; do args+=(--trace "$f"); done
shopt -u nullglob
"$sim" "${args[@]}" --capacity 1%,2%,5%,10% --policies tajir,lru,fifo,belady > "$tmp/out.csv"

awk -F, '
NR == 1 { next }
{
  row = $1 SUBSEP $3
  if (!(row in seen)) { seen[row] = 1; order[n++] = row; cap_pct[row] = pct[$1]++ }
  r[row, $2] = $6
}
END {
  split("1%,2%,5%,10%", pcts, ",")
  print "| trace | capacity | tajir | lru | fifo | belady | tajir / lru | tajir - belady |"
  print "|---|---:|---:|---:|---:|---:|---:|---:|"
  worst = 0; sum = 0; gap_sum = 0; over = 0
  for (i = 0; i < n; i++) {
    row = order[i]; split(row, kc, SUBSEP)
    t = r[row, "tajir"]; l = r[row, "lru"]; b = r[row, "belady"]
    q = (l > 0) ? t / l : 1
    sum += q; gap_sum += t - b
    if (q > worst) { worst = q; worst_row = kc[1] " @ " pcts[cap_pct[row] + 1] }
    if (q > 1.02) over++
    printf "| %s | %s (%s) | %.4f | %.4f | %.4f | %.4f | %.3f%s | %.4f |\n", kc[1], pcts[cap_pct[row] + 1],
           kc[2], t, l, r[row, "fifo"], b, q, (q > 1.02 ? " **over 1.02**" : ""), t - b
  }
  mean = sum / n
  printf "\nrows: %d; worst tajir/lru: %.4f (%s); rows over 1.02: %d; mean tajir/lru: %.4f " \
         "(mean reduction vs LRU: %.1f%%); mean gap to Belady: %.4f\n",
         n, worst, worst_row, over, mean, 100 * (1 - mean), gap_sum / n
  printf "targets: worst <= 1.02: %s; mean reduction >= 10%%: %s\n",
         (over == 0 ? "met" : "MISSED"), (mean <= 0.90 ? "met" : "MISSED")
}' "$tmp/out.csv"
