# shellcheck shell=bash
# Sourced by scripts and benchmarks that start a PostgreSQL of their own on loopback: initdb
# (trust authentication, superuser tajir) and pg_ctl, run as the postgres user when the caller is
# root, since PostgreSQL refuses to run as root. tests/integration/conftest.py does the same in
# Python (class Postgres).
#   pg_start DIR PORT [SETTING...]  initdb into DIR/data unless it is there, then start it; its
#                                   socket in DIR, its log DIR/log; each SETTING a "-c name=value"
#   pg_stop DIR [MODE]              pg_ctl stop -m MODE (fast), quiet when it is not running
#   pg_running DIR                  whether its server runs
#   as_pg CMD...                    CMD as the user PostgreSQL's files belong to
#   free_port                       a loopback port nothing listens on now
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pg_start() {
  local dir=$1 port=$2
  shift 2
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$pg_bin/initdb" -D "$dir/data" -A trust -U tajir -E UTF8 --no-sync > /dev/null
  fi
  as_pg "$pg_bin/pg_ctl" -D "$dir/data" -w -l "$dir/log" \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $*" start > /dev/null
}

pg_stop() {
  as_pg "$pg_bin/pg_ctl" -D "$1/data" -m "${2:-fast}" -w stop > /dev/null 2>&1 || true
}

pg_running() {
  [ -f "$1/data/PG_VERSION" ] && as_pg "$pg_bin/pg_ctl" -D "$1/data" status > /dev/null 2>&1
}
