#!/usr/bin/env bash
# The example programs against a live permidd: Examples/ClientExample (permid-client-example) uses
# PermIDClient as an app would and exits 0 only when every step did what it should.
# Usage: Tests/examples.sh PATH_TO_BUILD_DIRECTORY (holding permidd and permid-client-example)
set -euo pipefail
build=$(realpath "$1")
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

"$build/permidd" serve --database "$work/permid.sqlite" --listen 127.0.0.1:0 --log-format json 2>"$work/log" &
server=$!
address=""
for _ in $(seq 1 100); do
  address=$(grep -o '"address":"127.0.0.1:[0-9]*"' "$work/log" | head -1 | cut -d'"' -f4 || true)
  [ -n "$address" ] && break
  sleep 0.1
done
[ -n "$address" ] || { echo "examples: permidd did not start" >&2; cat "$work/log" >&2; exit 1; }

HOME="$work" XDG_CONFIG_HOME="$work/config" "$build/permid-client-example" "http://$address"
echo "examples: 1 passed, 0 failed"
