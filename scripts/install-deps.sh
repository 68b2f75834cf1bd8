#!/usr/bin/env bash
# Installs the Debian 12 packages tajir needs to build, test and benchmark.
# Idempotent: packages already installed are skipped, and when all are there it only checks.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config clang clang-format libclang-rt-14-dev libfuzzer-14-dev
  # cache engine
  libabsl-dev liblz4-dev libzstd-dev libxxhash-dev
  # the POS server
  libboost-dev nlohmann-json3-dev libsqlite3-dev libpq-dev libsodium-dev libspdlog-dev
  libhowardhinnant-date-dev libtomlplusplus-dev tzdata
  # tests and benchmarks: a real PostgreSQL the tests start themselves, wrk for load
  libgtest-dev libgmock-dev libbenchmark-dev python3 python3-pytest postgresql wrk curl
  nginx-light
  # the Flask + Redis peer of the HTTP benchmark (bench/peers/flask_redis)
  redis-server python3-flask python3-redis gunicorn
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
