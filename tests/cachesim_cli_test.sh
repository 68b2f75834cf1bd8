#!/usr/bin/env bash
# CLI test of tajir-cachesim and tajir-tracegen: generates a small trace, simulates it, and
# checks the CSV (header, one row per capacity x policy, sane numbers, belady <= every policy),
# determinism of the generator, and that bad input fails with exit code 2.
# usage: tests/cachesim_cli_test.sh <tajir-cachesim> <tajir-tracegen>
set -euo pipefail

sim=${1:?usage: $0 <tajir-cachesim> <tajir-tracegen>}
gen=${2:?usage: $0 <tajir-cachesim> <tajir-tracegen>}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

"$gen" --kind mix --requests 50000 --keys 5000 --seed 3 --out "$tmp/mix.txt"
[[ $(wc -l < "$tmp/mix.txt") -eq 50000 ]] || fail "tracegen wrote the wrong number of lines"
"$gen" --kind mix --requests 50000 --keys 5000 --seed 3 > "$tmp/mix2.txt"
cmp -s "$tmp/mix.txt" "$tmp/mix2.txt" || fail "tracegen is not deterministic for a seed"

"$sim" --trace "$tmp/mix.txt" --capacity 1%,5%,100 > "$tmp/out.csv"
[[ $(head -1 "$tmp/out.csv") == "trace,policy,capacity,requests,misses,miss_ratio" ]] ||
  fail "bad header: $(head -1 "$tmp/out.csv")"
rows=$(($(wc -l < "$tmp/out.csv") - 1))
[[ $rows -eq 12 ]] || fail "expected 12 rows (3 capacities x 4 policies), got $rows"

awk -F, 'NR > 1 {
  if (NF != 6) { print "bad field count: " $0; bad = 1 }
  if ($1 != "mix.txt") { print "bad trace name: " $1; bad = 1 }
  if ($4 != 50000) { print "bad request count: " $0; bad = 1 }
  if ($5 < 1 || $5 > $4) { print "misses out of range: " $0; bad = 1 }
  if ($6 < 0 || $6 > 1 || ($6 - $5 / $4) > 1e-6 || ($5 / $4 - $6) > 1e-6) { print "bad ratio: " $0; bad = 1 }
  m[$3, $2] = $5; caps[$3] = 1
}
END {
  for (c in caps) {
    if (!((c, "tajir") in m) || !((c, "lru") in m) || !((c, "fifo") in m) || !((c, "belady") in m)) {
      print "missing policy at capacity " c; bad = 1; continue
    }
    if (m[c, "belady"] > m[c, "lru"] || m[c, "belady"] > m[c, "fifo"] || m[c, "belady"] > m[c, "tajir"]) {
      print "belady is not the minimum at capacity " c; bad = 1
    }
  }
  exit bad
}' "$tmp/out.csv" || fail "CSV sanity"
# Percentages are of the trace's unique keys (the scans add keys beyond --keys).
unique=$(sort -u "$tmp/mix.txt" | wc -l)
c1=$(( (unique + 50) / 100 ))
c5=$(( (unique * 5 + 50) / 100 ))
grep -q "^mix.txt,lru,$c1," "$tmp/out.csv" || fail "1% of $unique keys should be capacity $c1"

# A larger cache never misses more under the optimum.
b1=$(awk -F, -v c=$c1 '$2 == "belady" && $3 == c { print $5 }' "$tmp/out.csv")
b5=$(awk -F, -v c=$c5 '$2 == "belady" && $3 == c { print $5 }' "$tmp/out.csv")
[[ -n $b1 && -n $b5 ]] || fail "missing belady rows for capacities $c1 and $c5"
[[ $b5 -le $b1 ]] || fail "belady misses grew with capacity ($b1 -> $b5)"

# Sized traces with byte capacities.
"$gen" --kind zipf --requests 20000 --keys 2000 --sizes --out "$tmp/sized.txt"
grep -qE '^[0-9]+,[0-9]+$' "$tmp/sized.txt" || fail "--sizes should write key,size"
"$sim" --trace "$tmp/sized.txt" --bytes --capacity 5% --policies tajir,lru > "$tmp/bytes.csv" 2> /dev/null
[[ $(wc -l < "$tmp/bytes.csv") -eq 3 ]] || fail "expected 2 rows with --bytes"

# Errors: exit 2 and a message on stderr.
expect_usage_error() {
  local rc=0
  "$@" > /dev/null 2> "$tmp/err" || rc=$?
  [[ $rc -eq 2 ]] || fail "expected exit 2 from: $* (got $rc)"
  [[ -s "$tmp/err" ]] || fail "expected a message on stderr from: $*"
}
expect_usage_error "$sim"
expect_usage_error "$sim" --trace "$tmp/nonexistent.txt"
expect_usage_error "$sim" --trace "$tmp/mix.txt" --capacity 0
expect_usage_error "$sim" --trace "$tmp/mix.txt" --capacity abc
expect_usage_error "$sim" --trace "$tmp/mix.txt" --policies lru,nope
expect_usage_error "$sim" --trace "$tmp/mix.txt" --frobnicate
expect_usage_error "$gen" --kind nope
expect_usage_error "$gen" --requests many
expect_usage_error "$gen" --keys 0

echo "cachesim_cli: OK"
