#!/usr/bin/env bash
# Several tajir nodes on this machine with one command, to try them by hand: a PostgreSQL seeded
# once, Redis (a Redis Cluster of 3 masters with a replica each, or one redis-server), three
# `tajir serve` nodes on both, and nginx balancing them; all on 127.0.0.1, and all their state
# (data, logs, pids, ports, the admin token) in one directory.
#
# Usage: scripts/cluster-demo.sh up | status | down [--keep]
#   up      starts what is not running yet (nothing when all is), then prints the URLs, the demo
#           logins and the admin token; a failure stops what it started and exits non-zero
#   status  each process, each node's /healthz on its own port, Redis; exits 1 unless all is up
#   down    stops all it started and removes the directory (--keep: keeps it, to `up` again)
# Settings, from the environment:
#   TAJIR_DEMO_DIR          the state directory (/tmp/tajir-cluster-demo)
#   TAJIR_DEMO_PORT         nginx's port (8080)
#   TAJIR_DEMO_REDIS        cluster (6 redis-server, redis-cluster://) or single (redis://)
#   TAJIR_DEMO_NODE_PORTS   the three nodes' ports, comma-separated; TAJIR_DEMO_REDIS_PORTS
#                           (six, or one), TAJIR_DEMO_PG_PORT: free ports when not given
#   TAJIR_DEMO_SEED         arguments for `tajir seed` (none: its own demo sizes)
#   TAJIR_DEMO_NODE_ARGS    more arguments for every `tajir serve`
#   TAJIR_BIN               the binary (build/tajir; `make build` makes it when it is missing)
# The first `up` records the ports and the mode in the directory; later ones keep them.
# Needs what `bash scripts/install-deps.sh` installs (postgresql, redis-server, nginx-light).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/lib/postgres.sh"

dir=${TAJIR_DEMO_DIR:-/tmp/tajir-cluster-demo}
case $dir in /*) ;; *) dir=$(pwd)/$dir ;; esac
dir=${dir%/}
tajir=${TAJIR_BIN:-$root/build/tajir}
state=$dir/demo.env # the ports and the mode; also what marks the directory as this script's
run=$dir/run        # a pid file per process
logs=$dir/logs
started=()          # what this `up` started, for the clean-up of a failure

say() { echo "cluster-demo: $*"; }
die() {
  echo "cluster-demo: $*" >&2
  exit 1
}

# --- processes --------------------------------------------------------------------------------
# Each process runs in a session of its own (closing the terminal does not stop it), its output
# in a log, its pid in run/NAME.pid. Every one has the state directory in its command line (a
# path among its arguments), which is how a recorded pid is told from a reused one.

pid_of() { cat "$run/$1.pid" 2> /dev/null || true; }

alive() { # NAME
  local pid
  pid=$(pid_of "$1")
  [ -n "$pid" ] && running "$pid" &&
    tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -F "$dir/" > /dev/null
}

launch() { # NAME LOG CMD...
  local name=$1 log=$2
  shift 2
  rm -f "$run/$name.pid"
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$run/$name.pid" "$@" < /dev/null >> "$log" 2>&1 &
  for _ in $(seq 200); do
    [ -s "$run/$name.pid" ] && break
    sleep 0.01
  done
  [ -s "$run/$name.pid" ] || die "$name did not start"
  started+=("$name")
}

# Whether PID runs: a zombie (exited, waiting for init, whose child it became, to reap it) does not.
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2> /dev/null) || return 1
  [ "$(echo "${stat##*)}" | cut -d' ' -f2)" != Z ]
}

stop() { # NAME: SIGTERM, then SIGKILL after 10 s
  local pid
  if alive "$1"; then
    pid=$(pid_of "$1")
    kill "$pid" 2> /dev/null || true
    for _ in $(seq 200); do
      running "$pid" || break
      sleep 0.05
    done
    kill -KILL "$pid" 2> /dev/null || true
  fi
  rm -f "$run/$1.pid"
}

# await WHAT LOG NAME CMD...: until CMD succeeds (30 s at most); fails early when process NAME
# (if not -) has died, showing the end of its log.
await() {
  local what=$1 log=$2 name=$3
  shift 3
  for _ in $(seq 300); do
    "$@" > /dev/null 2>&1 && return 0
    if [ "$name" != - ] && ! alive "$name"; then
      die "$what: the process exited; the end of $log:
$(tail -n 15 "$log" 2> /dev/null)"
    fi
    sleep 0.1
  done
  die "$what: not ready after 30 s; the end of $log:
$(tail -n 15 "$log" 2> /dev/null)"
}

port_busy() { (: < "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

healthy() { curl -sf -m 2 -o /dev/null "http://127.0.0.1:$1/healthz"; }

redis_info() { # PORT: `cluster info` (or `ping` for a single Redis) without its \r
  if [ "$mode" = cluster ]; then
    redis-cli -p "$1" cluster info 2> /dev/null | tr -d '\r'
  else
    redis-cli -p "$1" ping 2> /dev/null | tr -d '\r'
  fi
}

redis_ready() { # PORT
  if [ "$mode" = cluster ]; then
    redis_info "$1" | grep -x cluster_state:ok > /dev/null
  else
    [ "$(redis_info "$1")" = PONG ]
  fi
}

# --- state ------------------------------------------------------------------------------------

# Ports a Redis Cluster node can have: its bus listens on the port + 10000.
free_redis_port() {
  local p
  for _ in $(seq 50); do
    p=$(free_port)
    if [ "$p" -le 55535 ] && ! port_busy $((p + 10000)); then
      echo "$p"
      return
    fi
  done
  die "found no free port for Redis below 55536"
}

# Sets $picked to a port from $1 (free_port or free_redis_port) that none chosen before has (nor,
# for Redis, its bus port): free ports are asked of the system one at a time, and nothing holds
# one, so it may hand the same one out twice.
chosen=""
pick() {
  local bus
  for _ in $(seq 50); do
    picked=$("$1")
    bus=$((picked + 10000))
    case " $chosen " in *" $picked "* | *" $bus "*) continue ;; esac
    chosen+=" $picked $bus"
    return
  done
  die "found no free port unlike the others"
}

# Reads demo.env, or makes it: the mode and every port.
load_state() {
  if [ -f "$state" ]; then
    source "$state"
    if [ -n "${TAJIR_DEMO_REDIS:-}" ] && [ "$TAJIR_DEMO_REDIS" != "$mode" ]; then
      die "$dir was set up with TAJIR_DEMO_REDIS=$mode; run down first to change it"
    fi
    if [ -n "${TAJIR_DEMO_PORT:-}" ] && [ "$TAJIR_DEMO_PORT" != "$nginx_port" ]; then
      die "$dir was set up with TAJIR_DEMO_PORT=$nginx_port; run down first to change it"
    fi
    return
  fi
  mode=${TAJIR_DEMO_REDIS:-cluster}
  case $mode in cluster | single) ;; *) die "TAJIR_DEMO_REDIS is cluster or single, not '$mode'" ;; esac
  nginx_port=${TAJIR_DEMO_PORT:-8080}
  chosen=" $nginx_port"
  if [ -n "${TAJIR_DEMO_PG_PORT:-}" ]; then
    pg_port=$TAJIR_DEMO_PG_PORT
  else
    pick free_port
    pg_port=$picked
  fi
  local want=1 p
  [ "$mode" = cluster ] && want=6
  if [ -n "${TAJIR_DEMO_REDIS_PORTS:-}" ]; then
    read -r -a redis_ports <<< "${TAJIR_DEMO_REDIS_PORTS//,/ }"
  else
    redis_ports=()
    for _ in $(seq $want); do
      pick free_redis_port
      redis_ports+=("$picked")
    done
  fi
  if [ -n "${TAJIR_DEMO_NODE_PORTS:-}" ]; then
    read -r -a node_ports <<< "${TAJIR_DEMO_NODE_PORTS//,/ }"
  else
    node_ports=()
    for _ in 1 2 3; do
      pick free_port
      node_ports+=("$picked")
    done
  fi
  [ ${#redis_ports[@]} -eq $want ] || die "TAJIR_DEMO_REDIS_PORTS: $mode wants $want ports"
  [ ${#node_ports[@]} -eq 3 ] || die "TAJIR_DEMO_NODE_PORTS: three ports"
  local all=("$nginx_port" "$pg_port" "${redis_ports[@]}" "${node_ports[@]}")
  [ "$(printf '%s\n' "${all[@]}" | sort -u | wc -l)" -eq ${#all[@]} ] ||
    die "the ports must differ: ${all[*]}"
  for p in "${all[@]}"; do
    [[ $p =~ ^[0-9]+$ ]] && [ "$p" -ge 1 ] && [ "$p" -le 65535 ] || die "not a port: '$p'"
    ! port_busy "$p" || die "port $p is taken (choose others: see the top of $0)"
  done
  cat > "$state" << EOF
mode=$mode
nginx_port=$nginx_port
pg_port=$pg_port
redis_ports=(${redis_ports[*]})
node_ports=(${node_ports[*]})
EOF
}

redis_url() {
  if [ "$mode" = cluster ]; then
    echo "redis-cluster://127.0.0.1:${redis_ports[0]},127.0.0.1:${redis_ports[1]},127.0.0.1:${redis_ports[2]}"
  else
    echo "redis://127.0.0.1:${redis_ports[0]}"
  fi
}

db_url() { echo "postgresql://tajir@127.0.0.1:$pg_port/tajir"; }

all_up() {
  pg_running "$dir/pg" || return 1
  local i
  for i in "${!redis_ports[@]}"; do alive "redis$((i + 1))" && redis_ready "${redis_ports[$i]}" || return 1; done
  for i in 1 2 3; do alive "node$i" && healthy "${node_ports[$((i - 1))]}" || return 1; done
  alive nginx && healthy "$nginx_port"
}

# --- up ---------------------------------------------------------------------------------------

# Whether tajir's list of settings (`tajir` alone, or `tajir serve --help`) mentions
# redis-cluster://; tests/integration/test_cluster_demo.py asks the same.
supports_cluster() {
  { timeout 5 "$tajir" || true; timeout 5 "$tajir" serve --help || true; } 2>&1 |
    grep -F redis-cluster > /dev/null
}

preflight() {
  local missing=() t
  for t in nginx redis-server redis-cli curl python3 setsid; do
    command -v "$t" > /dev/null || missing+=("$t")
  done
  [ -x "$pg_bin/initdb" ] || missing+=(postgresql)
  [ ${#missing[@]} -eq 0 ] || die "missing ${missing[*]}: run bash scripts/install-deps.sh"
  if [ ! -x "$tajir" ]; then
    [ -z "${TAJIR_BIN:-}" ] || die "TAJIR_BIN=$tajir is not an executable"
    say "building tajir (make build)"
    make -C "$root" build > /dev/null || die "make build failed"
  fi
}

start_postgres() {
  if ! pg_running "$dir/pg"; then
    say "PostgreSQL on 127.0.0.1:$pg_port"
    pg_start "$dir/pg" "$pg_port" -c fsync=off -c max_connections=200 ||
      die "PostgreSQL did not start; the end of $dir/pg/log:
$(tail -n 15 "$dir/pg/log" 2> /dev/null)"
    started+=(postgres)
  fi
  ln -sf ../pg/log "$logs/postgres.log"
  [ -f "$dir/seed.log" ] && grep -q '^seeded' "$dir/seed.log" && return
  say "seeding the database (once; the default sizes take about a minute)"
  local sock=(-h "$dir/pg" -p "$pg_port" -U tajir)
  as_pg "$pg_bin/dropdb" "${sock[@]}" --if-exists tajir 2> /dev/null
  as_pg "$pg_bin/createdb" "${sock[@]}" tajir
  # shellcheck disable=SC2086 # TAJIR_DEMO_SEED is a list of arguments
  "$tajir" seed --db "$(db_url)" ${TAJIR_DEMO_SEED:-} > "$dir/seed.tmp" 2> "$logs/seed.log" ||
    die "tajir seed failed; the end of $logs/seed.log:
$(tail -n 15 "$logs/seed.log" | tr '\r' '\n' | tail -n 15)"
  mv "$dir/seed.tmp" "$dir/seed.log"
}

start_redis() {
  local i p d
  for i in "${!redis_ports[@]}"; do
    p=${redis_ports[$i]}
    alive "redis$((i + 1))" && continue
    d=$dir/redis/$p
    mkdir -p "$d"
    {
      echo "port $p"
      echo "bind 127.0.0.1"
      echo "dir $d"
      echo 'save ""'
      echo "appendonly no"
      # The config file in the process title: the directory in its command line (see alive).
      echo 'proc-title-template "{title} {listen-addr} {server-mode} {config-file}"'
      if [ "$mode" = cluster ]; then
        echo "cluster-enabled yes"
        echo "cluster-config-file $d/nodes.conf"
        echo "cluster-node-timeout 5000"
      fi
    } > "$d/redis.conf"
    say "redis-server on 127.0.0.1:$p"
    launch "redis$((i + 1))" "$logs/redis$((i + 1)).log" redis-server "$d/redis.conf"
  done
  for i in "${!redis_ports[@]}"; do
    await "redis-server on port ${redis_ports[$i]}" "$logs/redis$((i + 1)).log" "redis$((i + 1))" \
      redis-cli -p "${redis_ports[$i]}" ping
  done
  [ "$mode" = cluster ] || return 0
  # A cluster is made once: its nodes keep it in their nodes.conf across restarts.
  if redis_info "${redis_ports[0]}" | grep -x cluster_slots_assigned:0 > /dev/null; then
    say "creating the Redis Cluster (3 masters, a replica each)"
    local addrs=()
    for p in "${redis_ports[@]}"; do addrs+=("127.0.0.1:$p"); done
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
      >> "$logs/redis-cluster-create.log" 2>&1 ||
      die "redis-cli --cluster create failed; the end of $logs/redis-cluster-create.log:
$(tail -n 15 "$logs/redis-cluster-create.log")"
  fi
  for i in "${!redis_ports[@]}"; do
    await "the Redis Cluster (cluster_state:ok on port ${redis_ports[$i]})" \
      "$logs/redis$((i + 1)).log" "redis$((i + 1))" redis_ready "${redis_ports[$i]}"
  done
}

start_nodes() {
  local i p args
  # shellcheck disable=SC2206 # TAJIR_DEMO_NODE_ARGS is a list of arguments
  args=(${TAJIR_DEMO_NODE_ARGS:-})
  for i in 1 2 3; do
    p=${node_ports[$((i - 1))]}
    alive "node$i" && continue
    say "tajir node$i on 127.0.0.1:$p"
    launch "node$i" "$logs/node$i.log" "$tajir" serve --address 127.0.0.1 --port "$p" \
      --node-id "node$i" --db "$(db_url)" --redis "$(redis_url)" \
      --admin-token "$(cat "$dir/admin-token")" --trusted-proxies 127.0.0.1 \
      --access-log "$logs/node$i-access.log" "${args[@]}"
  done
  for i in 1 2 3; do
    await "node$i (/healthz on port ${node_ports[$((i - 1))]})" "$logs/node$i.log" "node$i" \
      healthy "${node_ports[$((i - 1))]}"
  done
}

start_nginx() {
  local p conf=$dir/nginx/nginx.conf
  mkdir -p "$dir/nginx"
  {
    echo "# Made by scripts/cluster-demo.sh; rewritten at each up."
    echo "daemon off;"
    echo "worker_processes 2;"
    echo "pid $dir/nginx/nginx.pid;"
    echo "error_log $logs/nginx-error.log warn;"
    echo "events { worker_connections 1024; }"
    echo "http {"
    echo "  access_log $logs/nginx-access.log;"
    echo "  upstream tajir {"
    for p in "${node_ports[@]}"; do echo "    server 127.0.0.1:$p max_fails=1 fail_timeout=2s;"; done
    echo "    keepalive 32;"
    echo "  }"
    echo "  server {"
    echo "    listen 127.0.0.1:$nginx_port;"
    echo "    location / {"
    echo "      proxy_pass http://tajir;"
    echo "      proxy_http_version 1.1;"
    echo '      proxy_set_header Connection "";'
    echo '      proxy_set_header Host $host;'
    echo '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;'
    echo '      add_header X-Upstream $upstream_addr always;'
    echo "    }"
    echo "  }"
    echo "}"
  } > "$conf"
  alive nginx && return
  say "nginx on 127.0.0.1:$nginx_port"
  launch nginx "$logs/nginx.log" nginx -c "$conf" -p "$dir/nginx/" -e "$logs/nginx-error.log"
  await "nginx (/healthz on port $nginx_port)" "$logs/nginx-error.log" nginx healthy "$nginx_port"
}

summary() {
  local i
  echo
  echo "tajir, three nodes behind nginx:  http://127.0.0.1:$nginx_port"
  for i in 1 2 3; do echo "  node$i (its own port):          http://127.0.0.1:${node_ports[$((i - 1))]}"; done
  echo "PostgreSQL:  $(db_url)"
  if [ "$mode" = cluster ]; then
    echo "Redis Cluster: 127.0.0.1, ports ${redis_ports[*]} (3 masters, a replica each)"
    echo "             the nodes' --redis $(redis_url)"
  else
    echo "Redis:       $(redis_url)"
  fi
  sed -n '/^demo logins/,$p' "$dir/seed.log"
  echo "admin token (--admin-token of every node): $(cat "$dir/admin-token")"
  echo "  e.g. curl -H \"Authorization: Bearer \$(cat $dir/admin-token)\" http://127.0.0.1:$nginx_port/api/cache/stats"
  echo "logs:        $logs/"
  echo "status:      $0 status"
  echo "stop:        $0 down   (--keep keeps $dir)"
}

# On a failure of `up`: stop what it started, newest first.
made_dir=false # the directory did not exist
fresh=false    # it had no demo (it was empty)
undo() {
  local rc=$? i
  [ $rc -ne 0 ] || return 0
  trap - EXIT
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    if [ "${started[$i]}" = postgres ]; then pg_stop "$dir/pg"; else stop "${started[$i]}"; fi
  done
  # A first `up` leaves nothing; a later one keeps the data and logs it found.
  if $made_dir; then
    rm -rf "$dir"
  elif $fresh; then
    find "$dir" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  fi
  echo "cluster-demo: up failed; stopped what it had started${started[*]:+ (${started[*]})}" >&2
  exit $rc
}

up() {
  preflight
  if [ -e "$dir" ] && [ ! -f "$state" ] && [ -n "$(ls -A "$dir")" ]; then
    die "$dir is not empty and not a demo's directory; set TAJIR_DEMO_DIR to another"
  fi
  if [ -f "$state" ]; then
    load_state
    if all_up; then
      say "already up"
      summary
      return
    fi
  fi
  [ -d "$dir" ] || made_dir=true
  [ -f "$state" ] || fresh=true
  trap undo EXIT
  trap 'exit 130' INT TERM # through undo too
  mkdir -p "$dir" "$run" "$logs"
  chmod 755 "$dir"
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$dir"; then
    die "the postgres user cannot reach $dir (a parent directory closed to others?); set TAJIR_DEMO_DIR"
  fi
  load_state
  if [ "$mode" = cluster ] && ! supports_cluster; then
    die "$tajir does not take --redis redis-cluster:// (not merged yet?): TAJIR_DEMO_REDIS=single runs one redis-server instead"
  fi
  if [ ! -s "$dir/admin-token" ]; then
    (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/admin-token")
  fi
  start_postgres
  start_redis
  start_nodes
  start_nginx
  trap - EXIT
  say "up"
  summary
}

# --- status and down --------------------------------------------------------------------------

status() {
  [ -f "$state" ] || {
    say "not up ($dir has no demo)"
    return 1
  }
  load_state
  local ok=0 i p line
  show() { printf '  %-8s %-8s %s\n' "$1" "$2" "$3"; }
  if pg_running "$dir/pg"; then
    show postgres running "127.0.0.1:$pg_port pid $(head -n1 "$dir/pg/data/postmaster.pid")"
  else
    show postgres stopped "127.0.0.1:$pg_port"; ok=1
  fi
  for i in "${!redis_ports[@]}"; do
    p=${redis_ports[$i]}
    if alive "redis$((i + 1))"; then
      if [ "$mode" = cluster ]; then
        line="$(redis_info "$p" | grep -x 'cluster_state:.*'), $(redis-cli -p "$p" role 2> /dev/null | sed -n 1p)"
      else
        line="ping: $(redis_info "$p")"
      fi
      show "redis$((i + 1))" running "127.0.0.1:$p pid $(pid_of "redis$((i + 1))") $line"
      redis_ready "$p" || ok=1
    else
      show "redis$((i + 1))" stopped "127.0.0.1:$p"; ok=1
    fi
  done
  for i in 1 2 3; do
    p=${node_ports[$((i - 1))]}
    if alive "node$i"; then
      line=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/healthz" || true)
      show "node$i" running "http://127.0.0.1:$p pid $(pid_of "node$i") /healthz: $line"
      [ "$line" = 200 ] || ok=1
    else
      show "node$i" stopped "http://127.0.0.1:$p"; ok=1
    fi
  done
  if alive nginx; then
    line=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$nginx_port/healthz" || true)
    show nginx running "http://127.0.0.1:$nginx_port pid $(pid_of nginx) /healthz: $line"
    [ "$line" = 200 ] || ok=1
  else
    show nginx stopped "http://127.0.0.1:$nginx_port"; ok=1
  fi
  if [ $ok = 0 ]; then say "up (logs in $logs/)"; else say "not all up (logs in $logs/)"; fi
  return $ok
}

down() {
  local keep=false i
  [ "${1:-}" = --keep ] && keep=true
  if [ ! -f "$state" ]; then
    say "not up ($dir has no demo); nothing to stop"
    return
  fi
  load_state
  stop nginx
  for i in 3 2 1; do stop "node$i"; done
  for i in "${!redis_ports[@]}"; do stop "redis$((i + 1))"; done
  pg_stop "$dir/pg"
  if $keep; then
    say "stopped; kept $dir ('$0 up' starts it again)"
  else
    rm -rf "$dir"
    say "stopped; removed $dir"
  fi
}

case "${1:-}" in
  up) up ;;
  status) status ;;
  down)
    [ $# -le 2 ] && { [ -z "${2:-}" ] || [ "$2" = --keep ]; } || die "usage: $0 down [--keep]"
    down "${2:-}"
    ;;
  *) die "usage: $0 up | status | down [--keep]" ;;
esac
