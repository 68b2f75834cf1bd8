#!/usr/bin/env bash
# HTTP figures of the POS API, uncached (--cache false: every read goes to the database) and
# cached, in the same run, and the cached products page against the same bytes served as a
# static file by nginx and from Redis by the original Python design (Flask under gunicorn,
# bench/peers/flask_redis). Seeds the default demo (3 shops, 2,000 products and 5,000 customers
# each, 100,000 bills) into SQLite and into a PostgreSQL this script starts, then runs wrk on
# loopback.
# Usage: bench/http_bench.sh [build-dir] [duration-seconds] [connections]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
secs=${2:-10}
conns=${3:-16}
here=$(cd "$(dirname "$0")" && pwd)
export TAJIR_WRK_DIR="$here/wrk"
work=$(mktemp -d)
chmod 755 "$work"  # the postgres user must reach its data directory
pg_pid_dir=""
cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "${gunicorn_pid:-}" ] && kill "$gunicorn_pid" 2>/dev/null || true
  [ -n "${redis_pid:-}" ] && kill "$redis_pid" 2>/dev/null || true
  if [ -n "$pg_pid_dir" ]; then runuser -u postgres -- "$pgbin/pg_ctl" -D "$pg_pid_dir/data" -m immediate stop >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_server() {  # $1: db url, rest: extra settings
  local port; port=$(free_port)
  local db=$1; shift
  "$build/tajir" serve --port "$port" --db "$db" --log-level off "$@" > "$work/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  base="http://127.0.0.1:$port"
}

login() {
  curl -sf -X POST -H 'Content-Type: application/json' \
    -d '{"username":"owner1","password":"tajir-demo-2026"}' "$base/api/auth/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

run_wrk() {  # $1 label, $2 connections, rest: wrk args
  local label=$1 c=$2; shift 2
  local line
  line=$(wrk -t2 -c"$c" -d"${secs}s" --latency "$@" | grep '^RESULT')
  last_rps=$(echo "$line" | sed -E 's/.*rps=([0-9.]+).*/\1/')
  last_p99=$(echo "$line" | sed -E 's/.*p99_us=([0-9]+).*/\1/')
  echo "| $backend | $label | $c | $(echo "$line" | sed -E 's/RESULT rps=([0-9.]+) p50_us=([0-9]+) p99_us=([0-9]+) errors=([0-9]+) non2xx=([0-9]+)/\1 | \2 | \3 | \4+\5/') |"
}

reads() {  # $1: label suffix
  run_wrk "GET /api/products (50 items)$1" "$conns" -s "$here/wrk/get.lua" "$base/api/products?per_page=50"
  run_wrk "GET /api/dashboard$1" "$conns" -s "$here/wrk/get.lua" "$base/api/dashboard"
  run_wrk "GET /api/customers (50 items)$1" "$conns" -s "$here/wrk/get.lua" "$base/api/customers?per_page=50"
}

ratio() { python3 -c "print(f'{$1 / $2:.2f}x')"; }

# The original Python design: Flask under gunicorn, the page cached in Redis. Redis is loaded
# with the bytes nginx serves and a session for $TAJIR_TOKEN, so wrk sends the same request.
bench_flask_redis() {
  local peer="$here/peers/flask_redis" rport gport shop
  rport=$(free_port); gport=$(free_port)
  redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    > "$work/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
  shop=$(curl -sf -H "Authorization: Bearer $TAJIR_TOKEN" "$base/api/shop" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  # Debian's interpreter: a python3 earlier on PATH (pyenv) would not see python3-redis.
  /usr/bin/python3 "$peer/load.py" --redis-port "$rport" --token "$TAJIR_TOKEN" --shop "$shop" \
    --key-query 'page=1&per_page=50' --file "$work/products.json" >/dev/null
  REDIS_PORT=$rport gunicorn -w "$(nproc)" -b "127.0.0.1:$gport" --chdir "$peer" app:app \
    > "$work/gunicorn.log" 2>&1 &
  gunicorn_pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$gport/api/products" && break; sleep 0.1; done
  if ! curl -sf -H "Authorization: Bearer $TAJIR_TOKEN" "http://127.0.0.1:$gport/api/products?per_page=50" \
    > "$work/peer.json" || ! cmp -s "$work/peer.json" "$work/products.json"; then
    echo "flask+redis peer: no answer, or not the bytes of products.json" >&2
    cat "$work/gunicorn.log" >&2; exit 1
  fi
  backend="flask+redis (gunicorn, $(nproc) sync workers)"
  run_wrk "GET /api/products (50 items), cached in Redis" 64 -s "$here/wrk/get.lua" \
    "http://127.0.0.1:$gport/api/products?per_page=50"
  kill "$gunicorn_pid" "$redis_pid"; wait "$gunicorn_pid" "$redis_pid" 2>/dev/null || true
  gunicorn_pid=""; redis_pid=""
}

ROUNDS=${ROUNDS:-3}
median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

start_nginx() {  # $1: worker_processes; serves $work on $nport, configured as one would for speed
  nport=$(free_port)
  mkdir -p "$work/nginx"
  cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes $1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  open_file_cache max=16;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  default_type application/json;
  server { listen 127.0.0.1:$nport; root $work; location / { } }
}
NGINX
  chmod 755 "$work" && chmod 644 "$work/products.json"
  nginx -c "$work/nginx/nginx.conf"
}
stop_nginx() {
  local pid; pid=$(cat "$work/nginx/nginx.pid")
  kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

# The hit path beside nginx: tajir's cached products page, then nginx with one worker, then with
# one per core, the order turned each round; every row a wrk run of its own.
bench_hit_path() {
  local t=() n1=() na=() tp=() n1p=() nap=() r order
  for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) -eq 1 ]; then order="tajir nginx1 nginxauto"; else order="nginxauto nginx1 tajir"; fi
    for who in $order; do
      case $who in
        tajir)
          backend="tajir (cached), round $r"
          run_wrk "GET /api/products (50 items), cached" 64 -s "$here/wrk/get.lua" "$base/api/products?per_page=50"
          t+=("$last_rps"); tp+=("$last_p99") ;;
        nginx1|nginxauto)
          if [ $who = nginx1 ]; then start_nginx 1; else start_nginx auto; fi
          backend="nginx ($([ $who = nginx1 ] && echo 1 worker || echo "$(nproc) workers"), static file, sendfile), round $r"
          run_wrk "GET /products.json (same bytes)" 64 -s "$here/wrk/get.lua" "http://127.0.0.1:$nport/products.json"
          if [ $who = nginx1 ]; then n1+=("$last_rps"); n1p+=("$last_p99"); else na+=("$last_rps"); nap+=("$last_p99"); fi
          stop_nginx ;;
      esac
    done
  done
  med_tajir=$(median "${t[@]}"); med_nginx1=$(median "${n1[@]}"); med_nginxauto=$(median "${na[@]}")
  med_tajir_p99=$(median "${tp[@]}"); med_nginx1_p99=$(median "${n1p[@]}"); med_nginxauto_p99=$(median "${nap[@]}")
}

bench_backend() {  # $1 backend name, $2 db url
  backend=$1
  "$build/tajir" seed --db "$2" > "$work/seed.log" 2>/dev/null
  start_server "$2" --cache false
  export TAJIR_TOKEN; TAJIR_TOKEN=$(login)
  local first
  first=$(curl -sf -H "Authorization: Bearer $TAJIR_TOKEN" "$base/api/products?per_page=1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  export TAJIR_FIRST_PRODUCT=$first TAJIR_PRODUCTS=1500
  reads ", uncached"
  run_wrk "POST /api/bills, uncached" "$conns" -s "$here/wrk/post_bill.lua" "$base"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

  start_server "$2"
  TAJIR_TOKEN=$(login)
  reads ", cached"
  run_wrk "POST /api/bills, cached (invalidates)" "$conns" -s "$here/wrk/post_bill.lua" "$base"
  if [ "$backend" = sqlite ]; then
    # The same bytes as a static file from nginx (one worker, and one per core), and the cached
    # page, all at 64 connections, alternating, $ROUNDS rounds: medians (bench_hit_path).
    curl -sf -H "Authorization: Bearer $TAJIR_TOKEN" "$base/api/products?per_page=50" > "$work/products.json"
    bench_hit_path
    local tajir_rps=$med_tajir nginx_rps=$med_nginx1
    bench_flask_redis
    backend=$1
    ratios="cached products page at 64 connections, medians of $ROUNDS alternating rounds, req/s:"
    ratios+=" tajir / nginx (1 worker) $(ratio "$tajir_rps" "$nginx_rps"),"
    ratios+=" tajir / nginx (auto) $(ratio "$tajir_rps" "$med_nginxauto"),"
    ratios+=" tajir / flask+redis $(ratio "$tajir_rps" "$last_rps");"
    ratios+=" p99 us: tajir $med_tajir_p99, nginx (1 worker) $med_nginx1_p99, nginx (auto) $med_nginxauto_p99"
  fi
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "wrk: 2 threads, $conns connections, ${secs}s per row; server: tajir serve (one io thread per core)"
echo
echo "| server | request | conns | req/s | p50 us | p99 us | errors+non-2xx |"
echo "|---|---|---:|---:|---:|---:|---:|"
bench_backend sqlite "sqlite:$work/bench.db"

pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pg_pid_dir="$work/pg"; mkdir -p "$pg_pid_dir"; chown postgres "$pg_pid_dir"
pgport=$(free_port)
runuser -u postgres -- "$pgbin/initdb" -D "$pg_pid_dir/data" -A trust -U tajir >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$pg_pid_dir/data" -l "$pg_pid_dir/log" -w \
  -o "-p $pgport -k $pg_pid_dir -c listen_addresses=127.0.0.1" start >/dev/null
runuser -u postgres -- "$pgbin/createdb" -h "$pg_pid_dir" -p "$pgport" -U tajir bench
bench_backend postgresql "postgresql://tajir@127.0.0.1:$pgport/bench"
echo
echo "$ratios"
