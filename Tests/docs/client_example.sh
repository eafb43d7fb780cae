#!/usr/bin/env bash
# Runs docs/client/sign_and_verify.py (docs/client.md): against the vectors, then against a debug
# permidd started on a free loopback port with a throwaway database, stopped when it ends.
# Usage: Tests/docs/client_example.sh BIN_DIR PYTHON     Prints "N passed, M failed".
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bin_dir=$1 python=$2
work=$(mktemp -d)
"$bin_dir/permidd" serve --listen 127.0.0.1:0 --database "$work/permid.sqlite" 2>"$work/log" & pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do address=$(grep -o 'address=127[^ ]*' "$work/log" | head -1 | cut -d= -f2); [ -n "$address" ] && break; sleep 0.1; done
passed=0 failed=0
run() { if "$python" "$root/docs/client/sign_and_verify.py" "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: sign_and_verify.py $*"; fi; }
run --vectors "$root/Tests/Vectors/records.json"
if [ -n "${address:-}" ]; then run --server "http://$address"; else failed=$((failed + 1)); echo "FAILED: permidd did not start:"; cat "$work/log"; fi
echo "$passed passed, $failed failed"
[ $failed = 0 ]
