#!/usr/bin/env bash
# Interoperability: standard client and validation libraries in Python and
# Node against a real tollgate, then schemathesis with every check against
# the server's own /openapi.json. Installs its own dependencies.
#
#   tests/interop/run.sh [path/to/tollgate]   (default: target/debug/tollgate)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-$root/target/debug/tollgate}"
[[ -x "$bin" ]] || { echo "build tollgate first (cargo build)" >&2; exit 1; }

venv="$root/target/interop-venv"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
(cd "$here" && npm ci --silent --no-audit --no-fund >/dev/null)

work="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# A secret of unreserved characters (works with and without Basic encoding)
# and a client id with characters that only survive when encoded.
plain_hash="$(printf 'AZaz09-._~secret\n' | "$bin" hash-secret)"
odd_hash="$(printf 'p:a%%s+s w\n' | "$bin" hash-secret)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
issuer="http://127.0.0.1:$port"
cat > "$work/identity.toml" <<TOML
issuer = "$issuer"
[server]
listen = "127.0.0.1:$port"
[[api_scopes]]
name = "api1"
[[clients]]
client_id = "client"
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "$plain_hash"
[[clients]]
client_id = "odd:id %+"
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "$odd_hash"
TOML
"$bin" serve --config "$work/identity.toml" > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "$issuer/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.1
done

"$venv/bin/python" "$here/python_check.py" "$issuer" client 'AZaz09-._~secret' api1
node "$here/node_check.mjs" "$issuer" client 'AZaz09-._~secret' api1
node "$here/node_check.mjs" "$issuer" 'odd:id %+' 'p:a%s+s w' api1
echo "interop: 4 passed, 0 failed"

# Property-based API testing from the OpenAPI document: every response must
# match its documented schema, status and headers (e.g. Allow on 405).
"$venv/bin/schemathesis" run "$issuer/openapi.json" --checks all \
  --max-examples 100 --seed 20261125 --no-color
