#!/usr/bin/env bash
# Checks docs/deploy/permidd.service with `systemd-analyze verify` (no running systemd needed): the
# unit is copied to a temporary directory with ExecStart pointing at BIN_DIR/permidd (default
# .build/debug), since verify also checks that the command exists. Any message from
# systemd-analyze (an unknown key, a bad value) fails, not only a non-zero exit.
# Usage: Tests/docs/systemd_verify.sh [BIN_DIR]     Prints "N passed, M failed".
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bin_dir=$(cd "${1:-$root/.build/debug}" && pwd) || exit 1
# Debian's systemd (systemd-analyze) and nginx-light, installed when missing, as the Makefile does.
missing=""
command -v systemd-analyze >/dev/null || missing="$missing systemd"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$missing nginx-light"
if [ -n "$missing" ]; then
  echo "installing:$missing"
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  $sudo apt-get update && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y $missing || exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s#/usr/local/bin/permidd#$bin_dir/permidd#" "$root/docs/deploy/permidd.service" > "$work/permidd.service"
passed=0 failed=0
check() { if [ "$2" = ok ]; then passed=$((passed + 1)); echo "ok: $1"; else failed=$((failed + 1)); echo "FAILED: $1: $2"; fi; }
output=$(cd "$work" && systemd-analyze verify ./permidd.service 2>&1); status=$?
[ $status = 0 ] && [ -z "$output" ] && check "systemd-analyze verify permidd.service" ok \
  || check "systemd-analyze verify permidd.service" "exit $status: $output"
unit="$work/permidd.service"
exec_start=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$unit")
grace=$(grep -o -- '--shutdown-grace [0-9]*' <<<"$exec_start" | awk '{print $2}')
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$unit")
[ -n "$grace" ] && [ -n "$stop" ] && [ "$stop" -gt $((grace + 5)) ] && check "TimeoutStopSec ($stop) > --shutdown-grace ($grace) + 5" ok \
  || check "TimeoutStopSec > --shutdown-grace + 5" "TimeoutStopSec=$stop, grace $grace"
connections=$(grep -o -- '--connection-limit [0-9]*' <<<"$exec_start" | awk '{print $2}')
files=$(sed -n 's/^LimitNOFILE=\([0-9]*\)$/\1/p' "$unit")
[ -n "$connections" ] && [ -n "$files" ] && [ "$files" -ge $((2 * connections)) ] && check "LimitNOFILE ($files) >= 2 x --connection-limit ($connections)" ok \
  || check "LimitNOFILE >= 2 x --connection-limit" "LimitNOFILE=$files, connection limit $connections"
# The unit's flags must be ones permidd accepts (--help would skip validation): start it with them
# on a throwaway database and port 0, then stop it with SIGTERM as systemd would.
flags=$(grep -o -- '--[a-z-]* [^ \\]*' <<<"$exec_start" \
  | sed -e 's#--listen [^ ]*#--listen 127.0.0.1:0#' -e "s#--database [^ ]*#--database $work/db/permid.sqlite#")
"$bin_dir/permidd" serve $flags --log-level error & pid=$!
sleep 2
if kill -0 $pid 2>/dev/null; then kill -TERM $pid; wait $pid; status=$?; else wait $pid; status="exited early with $?"; fi
[ "$status" = 0 ] && check "permidd starts and stops with the unit's flags" ok || check "permidd starts and stops with the unit's flags" "$status"
# docs/deploy/nginx.conf is an http-block include: wrap it in a minimal main configuration.
nginx=$(command -v nginx || echo /usr/sbin/nginx)
if [ -x "$nginx" ]; then
  mkdir -p "$work/nginx/logs"
  printf 'pid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n    access_log off;\n    include %s;\n}\n' \
    "$work/nginx" "$work/nginx" "$root/docs/deploy/nginx.conf" > "$work/nginx/nginx.conf"
  output=$("$nginx" -t -q -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>&1); status=$?
  [ $status = 0 ] && check "nginx -t docs/deploy/nginx.conf" ok || check "nginx -t docs/deploy/nginx.conf" "exit $status: $output"
  timeout=$(sed -n 's/^ *proxy_read_timeout \([0-9]*\)s;$/\1/p' "$root/docs/deploy/nginx.conf")
  wait=$(grep -o -- '--max-wait [0-9]*' <<<"$exec_start" | awk '{print $2}')
  [ -n "$timeout" ] && [ -n "$wait" ] && [ "$timeout" -gt "$wait" ] && check "proxy_read_timeout ($timeout) > --max-wait ($wait)" ok \
    || check "proxy_read_timeout > --max-wait" "proxy_read_timeout $timeout, --max-wait $wait"
else
  check "nginx -t docs/deploy/nginx.conf" "nginx not found"
fi
echo "$passed passed, $failed failed"
[ $failed = 0 ]
