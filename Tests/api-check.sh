#!/usr/bin/env bash
# The API contract check: openapi.yaml is valid OpenAPI 3.1, and a live permidd answers as it says
# (schemathesis, every check). Usage: PYTHON=.build/venv/bin/python Tests/api-check.sh PATH_TO_PERMIDD [MAX_EXAMPLES] [DATABASE]
# PYTHON is the virtual environment `make pyenv` makes (Tests/requirements.txt); `make api-check` sets it.
# DATABASE is what permidd serves from (any --database value, e.g. an empty PostgreSQL database);
# by default a fresh SQLite file in a temp dir.
set -euo pipefail
python=${PYTHON:?set PYTHON to the Python of the virtual environment (make pyenv makes .build/venv)}
permidd=$(realpath "$1")
examples=${2:-30}
database=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
permid=$(dirname "$permidd")/permid
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

"$python" -m openapi_spec_validator "$root/openapi.yaml"

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$permidd" serve --database "${database:-$work/permid.sqlite}" --listen "127.0.0.1:$port" --rate-limit off --max-wait 1 --log-level warning &
server=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

# One stored record, so resolve, revalidation and lookup have something to find.
if [ -x "$permid" ]; then
  "$permid" keygen --out "$work/key.pem" >/dev/null 2>&1
  "$permid" announce --key "$work/key.pem" --port 6881 --server "http://127.0.0.1:$port" >/dev/null
fi

cd "$work"
"$python" -c 'import sys; from schemathesis.cli import schemathesis; sys.argv[0] = "schemathesis"; schemathesis()' \
  --config-file "$root/Tests/schemathesis.toml" --no-color run "$root/openapi.yaml" \
  --url "http://127.0.0.1:$port" --checks all --max-examples "$examples" --seed 1
kill -0 "$server" || { echo "permidd died during the API check" >&2; exit 1; }
echo "api-check${database:+ (on the given database)}: 1 passed, 0 failed"
