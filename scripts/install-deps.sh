#!/usr/bin/env bash
# Installs what tajir needs to build, test and benchmark: the Debian 12 packages, then the npm
# packages of web/ (uPlot, embedded in the binary) and tests/e2e/ (playwright-core, which drives
# Debian's chromium; it downloads no browser).
# Idempotent: packages already installed are skipped, and when all are there it only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # toolchain
  build-essential cmake pkg-config clang clang-format libclang-rt-14-dev libfuzzer-14-dev
  # cache engine
  libabsl-dev liblz4-dev libzstd-dev libxxhash-dev
  # the POS server
  libboost-dev nlohmann-json3-dev libsqlite3-dev libpq-dev libsodium-dev libspdlog-dev
  libhowardhinnant-date-dev libtomlplusplus-dev tzdata
  # the Redis tier (hiredis 0.14, RESP2); its tests start redis-server (below)
  libhiredis-dev
  # tests and benchmarks: a real PostgreSQL the tests start themselves, wrk for load
  libgtest-dev libgmock-dev libbenchmark-dev python3 python3-pytest postgresql wrk curl
  nginx-light
  # scripts/cluster-demo.sh: redis-cli (also for its Redis Cluster), with the above
  redis-tools
  # the browser test of the cache page (tests/e2e), and a font for its screenshots
  chromium fonts-dejavu-core
  # the Flask + Redis peer of the HTTP benchmark (bench/peers/flask_redis)
  redis-server python3-flask python3-redis gunicorn
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm (web/, tests/e2e/): Debian's, unless the machine has its own already.
command -v node > /dev/null || missing+=(nodejs)
command -v npm > /dev/null || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm ci where node_modules does not match the lock file (a stamp of its hash, written after a
# successful install). --ignore-scripts: no package runs code at install.
for dir in web tests/e2e; do
  stamp="$dir/node_modules/.tajir-lock-sha256"
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "install-deps: npm ci in $dir"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
done
