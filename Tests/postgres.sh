#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: `start` prints its connection URL, `stop` removes it.
#
#   Tests/postgres.sh start   initdb + pg_ctl start in $PERMID_PG_DIR (default /tmp/permid-test-postgres),
#                             listening on 127.0.0.1:$PERMID_PG_PORT (default 25432: below the ephemeral port range, so no outgoing connection holds it) and a Unix socket
#                             in that directory; prints postgresql://permid@127.0.0.1:PORT/postgres
#   Tests/postgres.sh halt    pg_ctl stop -m fast, keeping the data (`start` brings it back)
#   Tests/postgres.sh stop    pg_ctl stop -m fast, then deletes the directory
#
# The server binaries come from PATH, /usr/lib/postgresql/*/bin, or Debian's `postgresql` package,
# installed when none is found. As root (CI), the server runs as `nobody`: PostgreSQL refuses root.
# Durability is off (fsync, synchronous_commit): the data is thrown away, and tests run faster;
# PERMID_PG_DURABLE=1 keeps PostgreSQL's defaults (the benchmark measures durable commits).
set -euo pipefail
DIR=${PERMID_PG_DIR:-/tmp/permid-test-postgres}
PORT=${PERMID_PG_PORT:-25432}
FAST="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
[ "${PERMID_PG_DURABLE:-}" = 1 ] && FAST=""
URL="postgresql://permid@127.0.0.1:$PORT/postgres"

find_bin() {
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  local found; found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

as_server() {
  if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

BIN=$(find_bin || true)
if [ -z "$BIN" ]; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  echo "installing: postgresql" >&2
  $SUDO apt-get update >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y postgresql >&2
  BIN=$(find_bin)
fi

case "${1:-}" in
  start)
    if [ -f "$DIR/data/postmaster.pid" ] && as_server "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      echo "$URL"; exit 0
    fi
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      rm -rf "$DIR"
      mkdir -p "$DIR"
      if [ "$(id -u)" = 0 ]; then chown nobody "$DIR"; fi
      as_server "$BIN/initdb" -D "$DIR/data" -U permid -A trust -E UTF8 --no-sync >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; exit 1; }
    fi
    as_server "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
      -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 $FAST -c max_connections=400" \
      start >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
    echo "$URL"
    ;;
  halt)
    as_server "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
    ;;
  stop)
    if [ -d "$DIR/data" ]; then as_server "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: $0 start|halt|stop" >&2; exit 2
    ;;
esac
