#!/usr/bin/env bash
# Interoperability: standard client and validation libraries in Python and
# Node, unmodified, against a real tollgate and the sample API (client
# secrets, private_key_jwt, DPoP, introspection), the handbook's snippets
# for Authlib, openid-client and curl, then schemathesis with
# every check against the server's own /openapi.json. Installs its own
# dependencies.
#
#   tests/interop/run.sh [path/to/tollgate [path/to/api]]
#
# Defaults: target/debug/tollgate, and the sample API beside it,
# $(dirname TOLLGATE)/examples/api (`cargo build --examples`; `cargo test`
# builds it too).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-$root/target/debug/tollgate}"
api_bin="${2:-$(dirname "$bin")/examples/api}"
[[ -x "$bin" ]] || { echo "build tollgate first (cargo build)" >&2; exit 1; }
[[ -x "$api_bin" ]] || { echo "build the sample API first (cargo build --examples): no $api_bin" >&2; exit 1; }

venv="$root/target/interop-venv"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
(cd "$here" && npm ci --silent --no-audit --no-fund >/dev/null)

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Wait until URL answers HTTP at all (any status) while process PID lives.
wait_http() {
  local url="$1" pid="$2" log="$3"
  for _ in $(seq 1 100); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)" != 000 ]] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "no answer from $url" >&2; cat "$log" >&2; return 1
}

# A secret of unreserved characters (works with and without Basic encoding)
# and a client id with characters that only survive when encoded.
secret='AZaz09-._~secret'
plain_hash="$(printf '%s\n' "$secret" | "$bin" hash-secret)"
odd_hash="$(printf 'p:a%%s+s w\n' | "$bin" hash-secret)"
resource_secret='orders-AZaz09-._~secret'
resource_hash="$(printf '%s\n' "$resource_secret" | "$bin" hash-secret)"
# A person for the code flow, and the web client she signs in to.
alice_hash="$(printf 'alice-AZaz09\n' | "$bin" hash-secret)"
# Client "signed" has no secret: one key pair per algorithm `tollgate keys
# client` makes; the private keys stay here, the public JWKs it prints go
# into identity.toml.
client_jwk() {
  local jwk
  jwk="$("$bin" keys client --out "$work/signed-$1.pem" --algorithm "$1" |
    sed -n 's/^jwks = { keys = \[ \(.*\) \] }$/\1/p')"
  [[ -n "$jwk" ]] || { echo "keys client --algorithm $1 printed no jwks line" >&2; return 1; }
  printf '%s' "$jwk"
}
jwk_es256="$(client_jwk ES256)"
jwk_rs256="$(client_jwk RS256)"
jwk_eddsa="$(client_jwk EdDSA)"

port="$(free_port)"
api_port="$(free_port)"
issuer="http://127.0.0.1:$port"
api_url="http://127.0.0.1:$api_port/identity"
cat > "$work/identity.toml" <<TOML
issuer = "$issuer"
[server]
listen = "127.0.0.1:$port"
[[api_scopes]]
name = "api1"
[[api_scopes]]
name = "orders.read"
[[api_resources]]
name = "orders"
scopes = ["orders.read"]
[[api_resources.secrets]]
hash = "$resource_hash"
[[clients]]
client_id = "client"
allowed_scopes = ["api1", "orders.read"]
[[clients.secrets]]
hash = "$plain_hash"
[[clients]]
client_id = "odd:id %+"
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "$odd_hash"
[[clients]]
client_id = "signed"
allowed_scopes = ["api1"]
jwks = { keys = [ $jwk_es256, $jwk_rs256, $jwk_eddsa ] }
[[api_scopes]]
name = "inventory.read"
[[api_resources]]
name = "https://inventory.example.com"
scopes = ["inventory.read"]
[[clients]]
client_id = "orders-service"
allowed_grant_types = ["urn:ietf:params:oauth:grant-type:token-exchange"]
allowed_scopes = ["inventory.read"]
[[clients.secrets]]
hash = "$plain_hash"
[[clients.token_exchange]]
subject_issuer = "self"
subject_audience = "orders"
resources = ["https://inventory.example.com"]
[login]
title = "Interop sign-in"
[[users]]
username = "alice"
password_hash = "$alice_hash"
name = "Alice Smith"
email = "alice@example.com"
email_verified = true
[[clients]]
client_id = "web"
allowed_grant_types = ["authorization_code", "refresh_token"]
redirect_uris = ["http://127.0.0.1:8765/callback", "http://127.0.0.1:8766/callback"]
allowed_scopes = ["openid", "profile", "email", "offline_access", "api1"]
[[clients.secrets]]
hash = "$plain_hash"
TOML
"$bin" serve --config "$work/identity.toml" > "$work/server.log" 2>&1 &
pids+=($!)
wait_http "$issuer/healthz" "${pids[-1]}" "$work/server.log"
"$api_bin" --authority "$issuer" --listen "127.0.0.1:$api_port" --scope api1 > "$work/api.log" 2>&1 &
pids+=($!)
wait_http "$api_url" "${pids[-1]}" "$work/api.log"

passed=0
failed=0
check() {
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "interop: FAILED: ${*#"$here/"}" >&2
  fi
}
py="$venv/bin/python"
check "$py" "$here/python_check.py" "$issuer" client "$secret" api1
check node "$here/node_check.mjs" "$issuer" client "$secret" api1
check node "$here/node_check.mjs" "$issuer" 'odd:id %+' 'p:a%s+s w' api1
check "$py" "$here/python_private_key_jwt.py" "$issuer" signed api1 \
  "ES256=$work/signed-ES256.pem" "RS256=$work/signed-RS256.pem" "EdDSA=$work/signed-EdDSA.pem"
# openid-client signs with Ed25519 keys as alg "Ed25519" (RFC 9864), which
# tollgate does not accept yet: ES256 and RS256 only here.
check node "$here/node_bound_check.mjs" "$issuer" signed api1 "$api_url" \
  "ES256=$work/signed-ES256.pem" "RS256=$work/signed-RS256.pem"
check "$py" "$here/python_introspect.py" "$issuer" client "$secret" orders.read \
  orders "$resource_secret" api1
# The handbook's snippets (docs/src/*.md include these very files), run as
# a reader would run them, with the arguments the pages say.
check "$py" "$here/authlib_client_secret.py" "$issuer" client "$secret" api1
check "$py" "$here/authlib_private_key_jwt.py" "$issuer" signed "$work/signed-ES256.pem" api1
check node "$here/openid_client_dpop.mjs" "$issuer" client "$secret" api1 "$api_url"
check "$here/curl.sh" "$issuer" client "$secret" api1
check "$here/token_exchange.sh" "$issuer" client "$secret" orders-service "$secret" \
  orders.read https://inventory.example.com
# The authorization code flow, by two relying-party libraries that
# validate the id token by their own rules; a person signs in through
# tollgate's form.
check env PYTHONPATH="$here" "$py" "$here/authlib_code_flow.py" "$issuer" web "$secret" alice alice-AZaz09
check node "$here/openid_client_code_flow.mjs" "$issuer" web "$secret" alice alice-AZaz09
exchanged="$("$here/token_exchange.sh" "$issuer" client "$secret" orders-service "$secret" \
  orders.read https://inventory.example.com 2>&1 || true)"
check grep -q '"act":{"sub":"orders-service"}' <<<"$exchanged"
check grep -q '"sub":"client"' <<<"$exchanged"
echo "interop: $passed passed, $failed failed"
if ((failed > 0)); then
  echo "--- server log" >&2; cat "$work/server.log" >&2
  echo "--- API log" >&2; cat "$work/api.log" >&2
  exit 1
fi

# Property-based API testing from the OpenAPI document: every response must
# match its documented schema, status and headers (e.g. Allow on 405). The
# hooks teach the generator the token endpoint's cross-field rules the
# schema cannot express (see schemathesis_hooks.py).
# schemathesis.toml: the authorization endpoint's 400 is its answer to
# valid data too.
SCHEMATHESIS_HOOKS="$here/schemathesis_hooks.py" "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$issuer/openapi.json" --checks all \
  --max-examples 1000 --workers 4 --seed 20261125 --no-color
