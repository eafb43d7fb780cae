#!/usr/bin/env bash
# Clients generated from openapi.yaml by the mainstream generators, used against a live permidd as an
# app would (page through the listing by next_cursor, open and sealed records alike, read stored_seq
# from a 409 to a sealed replay, read a typed invalid-permid problem): Apple's swift-openapi-generator (Examples/GeneratedClient) and
# openapi-python-client (Examples/GeneratedPythonClient). Any generator warning fails the check, and so
# does any compiler warning in the Swift example.
# Usage: PYTHON=.build/venv/bin/python Tests/generated-clients.sh PATH_TO_PERMIDD
# PYTHON is the virtual environment `make pyenv` makes (Tests/requirements.txt); `make generated-clients`
# sets it. PATH_TO_PERMIDD's folder must also hold the `permid` CLI, which stores the records.
set -euo pipefail
python=${PYTHON:?set PYTHON to the Python of the virtual environment (make pyenv makes .build/venv)}
permidd=$(realpath "$1")
permid=$(dirname "$permidd")/permid
root=$(cd "$(dirname "$0")/.." && pwd)
swift_example=$root/Examples/GeneratedClient
python_example=$root/Examples/GeneratedPythonClient
records=3
work=$(mktemp -d)
server=
trap '[ -z "$server" ] || kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

# Fails if LOG (a generator's or compiler's output) has a warning. Dependencies' own are not ours,
# a compiler warning's source excerpt (lines starting "  |") repeats its first line, and build progress
# lines ("[105/196] Compiling OpenAPIRuntime WarningSuppressingAnnotations.swift") name files.
no_warnings() {
  local name=$1 log=$2
  if grep -i 'warning' "$log" | grep -v '/\.build/checkouts/' | grep -Ev '^ *[0-9]* *\|' \
       | grep -Ev '^\[[0-9]+/[0-9]+\] ' >"$work/warnings"; then
    echo "generated-clients: $name printed warnings:" >&2
    cat "$work/warnings" >&2
    exit 1
  fi
}

# Swift: the generator's own command first, so its warnings are seen even when the build plugin's
# output is up to date, then the example, generated again by the plugin as an app builds it.
swift build --package-path "$swift_example" --product swift-openapi-generator >"$work/swift-tool.log" 2>&1 ||
  { cat "$work/swift-tool.log" >&2; exit 1; }
"$swift_example/.build/debug/swift-openapi-generator" generate \
  --config "$swift_example/Sources/permid-generated-client/openapi-generator-config.yaml" \
  --output-directory "$work/swift-generated" "$root/openapi.yaml" >"$work/swift-generate.log" 2>&1 ||
  { cat "$work/swift-generate.log" >&2; exit 1; }
no_warnings swift-openapi-generator "$work/swift-generate.log"
swift build --package-path "$swift_example" --product permid-generated-client >"$work/swift-build.log" 2>&1 ||
  { cat "$work/swift-build.log" >&2; exit 1; }
no_warnings "the Swift example's build" "$work/swift-build.log"

# Python: generated into a temporary folder, fresh each run.
"$(dirname "$python")/openapi-python-client" generate --path "$root/openapi.yaml" --meta none \
  --config "$python_example/openapi-python-client.yaml" --output-path "$work/python/permid_client" \
  --fail-on-warning >"$work/python-generate.log" 2>&1 ||
  { cat "$work/python-generate.log" >&2; exit 1; }
no_warnings openapi-python-client "$work/python-generate.log"

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
"$permidd" serve --database "$work/permid.sqlite" --listen "127.0.0.1:$port" --rate-limit off --max-wait 1 --log-level warning &
server=$!
for _ in $(seq 1 100); do curl -fs "$url/healthz" >/dev/null && break; sleep 0.1; done

for i in $(seq 1 "$records"); do
  permids[i]=$("$permid" keygen --out "$work/key$i.pem" 2>/dev/null)
  "$permid" announce --key "$work/key$i.pem" --port 6881 --server "$url" >/dev/null
done
# One more record, sealed for key 2 under key 1's blinded PermID (FRIENDS-v1).
"$permid" announce --key "$work/key1.pem" --friends-only --friend "${permids[2]}" --port 6881 --server "$url" >/dev/null

"$swift_example/.build/debug/permid-generated-client" "$url" "$((records + 1))"
"$python" "$python_example/check.py" "$work/python" "$url" "$((records + 1))"
kill -0 "$server" || { echo "permidd died during the generated-clients check" >&2; exit 1; }
echo "generated-clients: 2 passed, 0 failed"
