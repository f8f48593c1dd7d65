#!/usr/bin/env bash
# Token-endpoint benchmark: tollgate against the node-oidc-provider peer, side
# by side on this machine, with the same load script. Not a test; CI does not
# run it. Prints markdown tables (tokens/s, latency, CPU, RSS, ratios).
#
#   bench/run.sh                  # defaults below
#   RUNS=5 DURATION=20s bench/run.sh
#
# Env: PEERS_DIR (default: ../shared/peers beside the repository), RUNS (3),
# DURATION (10s), CONNECTIONS ("16 64"), SERVER_CPU (0), LOADGEN_CPU (1),
# COLD_CLIENTS (2000), OUT_DIR, SCALE_CLIENTS (100000; 0 skips the scale
# measurements), PROFILES (1: bench/profiles.sh, three fresh builds, about
# 35 minutes; 0 skips them; KEEP_BUILDS=1 reuses them), QUIET_WAIT (20:
# seconds a run may wait for the machine to be quiet). tollgate runs with
# its default settings (log level info: the audit event of every token,
# written to a file); one more round at TOLLGATE_LOG=warn shows what the
# audit line costs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_DIR="${PEERS_DIR:-$root/../shared/peers}"
RUNS="${RUNS:-3}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-16 64}"
SERVER_CPU="${SERVER_CPU:-0}"
LOADGEN_CPU="${LOADGEN_CPU:-1}"
COLD_CLIENTS="${COLD_CLIENTS:-2000}"
SCALE_CLIENTS="${SCALE_CLIENTS:-100000}"
PROFILES="${PROFILES:-1}"
OUT_DIR="${OUT_DIR:-$root/bench-results-$(date +%Y%m%d-%H%M%S)}"
TG_PORT=5201
BARE_PORT=5202
TLS_PORT=5203
PEER_PORT=5101
load="$PEERS_DIR/bench-token-endpoint.sh"
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"

[[ -x "$load" ]] || { echo "no load script at $load (set PEERS_DIR)" >&2; exit 1; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
mkdir -p "$OUT_DIR"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

echo "# building tollgate and the ceiling probe (release: fat LTO, see bench/profiles.sh)" >&2
(cd "$root" && cargo build --release --quiet && cargo build --release --quiet --example ceiling --example mtls_load --example people_load)
bin="$root/target/release/tollgate"
ceiling="$root/target/release/examples/ceiling"
mtls_load="$root/target/release/examples/mtls_load"
people_load="$root/target/release/examples/people_load"

# Keys and tokens for the private_key_jwt, federated and DPoP rows.
venv="$root/target/bench-venv"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check 'pyjwt[crypto]==2.15.1'
py="$venv/bin/python"
"$py" "$PEERS_DIR/make-assertions.py" --client-id client-jwt --aud x --count 1 --out "$work/jwt.txt" >/dev/null
"$py" "$root/bench/platform-token.py" --aud "http://127.0.0.1:$TG_PORT" --jwks "$work/cluster.jwks.json" --token "$work/platform.jwt"

# The benchmark config: the quickstart client plus COLD_CLIENTS clients for
# the cold path (one shared hash: each id still misses the cache on its own),
# a private_key_jwt client and a federated one.
hash="$(printf 'secret\n' | "$bin" hash-secret)"
alice_hash="$(printf 'alice\n' | "$bin" hash-secret)"
cold_hash="$(printf 'cold-secret\n' | "$bin" hash-secret)"
python3 - "$work/identity.toml" "$hash" "$cold_hash" "$COLD_CLIENTS" "$alice_hash" <<'PY'
import sys
path, h, cold, n, alice = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
with open(path, "w") as f:
    f.write('[[trusted_issuers]]\nname = "cluster"\nissuer = "https://kubernetes.default.svc.cluster.local"\n'
            'jwks_file = "cluster.jwks.json"\n\n')
    # Throttling off: the cold path and the flood measure the Argon2 path
    # itself (with it on, one address's flood is answered by cheap 429s).
    f.write('[throttle]\nclient_failures = 0\naddress_failures = 0\n\n')
    f.write('[[api_scopes]]\nname = "api1"\n\n')
    # Token exchange: "frontend" gets a token for orders; "exchanger" trades
    # it for one to inventory, acting for the frontend.
    f.write('[[api_scopes]]\nname = "orders.read"\n[[api_scopes]]\nname = "inventory.read"\n'
            '[[api_resources]]\nname = "https://orders.example.com"\nscopes = ["orders.read"]\n'
            '[[api_resources]]\nname = "https://inventory.example.com"\nscopes = ["inventory.read"]\n\n')
    f.write(f'[[clients]]\nclient_id = "frontend"\nallowed_scopes = ["orders.read"]\n[[clients.secrets]]\nhash = "{h}"\n\n')
    f.write(f'[[clients]]\nclient_id = "exchanger"\nallowed_scopes = ["inventory.read"]\n'
            'allowed_grant_types = ["urn:ietf:params:oauth:grant-type:token-exchange"]\n'
            f'[[clients.secrets]]\nhash = "{h}"\n'
            '[[clients.token_exchange]]\nsubject_issuer = "self"\nsubject_audience = "https://orders.example.com"\n'
            'resources = ["https://inventory.example.com"]\n\n')
    f.write(f'[[clients]]\nclient_id = "client"\nallowed_scopes = ["api1"]\n[[clients.secrets]]\nhash = "{h}"\n\n')
    # People: alice signs in once per connection; the web client redeems
    # codes and rotates refresh tokens.
    f.write(f'[login]\n[[users]]\nusername = "alice"\npassword_hash = "{alice}"\nemail = "alice@example.com"\n\n')
    f.write(f'[[clients]]\nclient_id = "web"\nallowed_grant_types = ["authorization_code", "refresh_token"]\n'
            'redirect_uris = ["http://localhost:5002/signin-oidc"]\n'
            'allowed_scopes = ["openid", "profile", "email", "api1", "offline_access"]\n'
            f'[[clients.secrets]]\nhash = "{h}"\n\n')
    f.write('[[clients]]\nclient_id = "client-jwt"\nallowed_scopes = ["api1"]\njwks_file = "jwt.jwks.json"\n\n')
    f.write('[[clients]]\nclient_id = "worker"\nallowed_scopes = ["api1"]\n[[clients.federated]]\nissuer = "cluster"\n'
            'subject = "system:serviceaccount:billing:worker"\nclaims = { "/kubernetes.io/namespace" = "billing" }\n\n')
    for i in range(n):
        f.write(f'[[clients]]\nclient_id = "cold-{i:05d}"\nallowed_scopes = ["api1"]\n[[clients.secrets]]\nhash = "{cold}"\n\n')
PY

start_tollgate() { # cpus|"" port [log filter] -> pid in $tg_pid
  local pin=(); [[ -n "$1" ]] && pin=(taskset -c "$1")
  local log=(); [[ -n "${3:-}" ]] && log=(env "TOLLGATE_LOG=$3")
  "${log[@]}" "${pin[@]}" "$bin" serve --config "$work/identity.toml" --listen "127.0.0.1:$2" \
    > "$OUT_DIR/tollgate-$2${3:+-$3}.log" 2>&1 &
  tg_pid=$!; pids+=("$tg_pid")
  wait_http "http://127.0.0.1:$2/healthz" "$tg_pid"
}

start_peer() { # cpus|"" -> pid in $peer_pid (the node process itself)
  PKJWT_JWKS_FILE="$work/jwt.jwks.json" SERVER_CPUS="$1" PORT="$PEER_PORT" "$PEERS_DIR/oidc-provider/run.sh" > "$OUT_DIR/peer.log" 2>&1 &
  peer_pid=$!; pids+=("$peer_pid")
  wait_http "http://127.0.0.1:$PEER_PORT/.well-known/openid-configuration" "$peer_pid"
}

bench() { # name base_url token_path pid endpoints conns label
  SERVER_PID="$4" LOADGEN_CPUS="$LOADGEN_CPU" BASE_URL="$2" TOKEN_PATH="$3" \
    CLIENT_ID=client CLIENT_SECRET=secret SCOPE=api1 ENDPOINTS="$5" CONNECTIONS="$6" \
    DURATION="$DURATION" WARMUP=3s RUNS=1 QUIET_WAIT="${QUIET_WAIT:-20}" OUT_DIR="$OUT_DIR/$1-$7" "$load" > "$OUT_DIR/$1-$7.out" 2>&1 \
    || { cat "$OUT_DIR/$1-$7.out" >&2; return 1; }
}

record_rss() { # name pid: resident now (right after the load) and the peak
  awk '/VmRSS/{r=$2} /VmHWM/{h=$2} END{printf "%.1f MB (peak %.1f MB)\n", r/1024, h/1024}' \
    "/proc/$2/status" > "$OUT_DIR/rss-$1.txt"
}

echo "# pinned A/B: tollgate and the peer on CPU $SERVER_CPU, wrk on CPU $LOADGEN_CPU, $RUNS alternating rounds" >&2
start_tollgate "$SERVER_CPU" "$TG_PORT"; tg_pinned=$tg_pid
start_peer "$SERVER_CPU"; peer_node="$(pgrep -P "$peer_pid" -f server.mjs || echo "$peer_pid")"
for r in $(seq 1 "$RUNS"); do
  bench tollgate "http://127.0.0.1:$TG_PORT" /connect/token "$tg_pinned" token "$CONNECTIONS" "pinned-$r"
  bench peer "http://127.0.0.1:$PEER_PORT" /token "$peer_node" token "$CONNECTIONS" "pinned-$r"
  echo "  round $r done" >&2
done
record_rss tollgate-pinned "$tg_pinned"
record_rss peer-pinned "$peer_node"

wrk_json() { # out lua url [env...]: one pinned wrk run, its WRKJSON line kept
  local out="$1" lua="$2" url="$3"; shift 3
  (cd "$PEERS_DIR" && env "$@" taskset -c "$LOADGEN_CPU" wrk -t1 -c16 -d"$DURATION" --timeout 10s --latency \
    -s "$lua" "$url" > "$OUT_DIR/$out.json" 2>&1)
}
assertions() { # aud count out
  "$py" "$PEERS_DIR/make-assertions.py" --client-id client-jwt --aud "$1" --count "$2" --out "$3" \
    --key "$work/jwt.key.pem" --kid k1
}
echo "# private_key_jwt: a fresh assertion per request (16 conns, pinned), $RUNS alternating rounds" >&2
for r in $(seq 1 "$RUNS"); do
  assertions "http://127.0.0.1:$TG_PORT/connect/token" 400000 "$work/tg-assert.txt"
  wrk_json "pkjwt-tollgate-$r" "$PEERS_DIR/token-assertions.lua" "http://127.0.0.1:$TG_PORT/connect/token" \
    WRK_ASSERTIONS="$work/tg-assert.txt"
  assertions "http://127.0.0.1:$PEER_PORT/token" 30000 "$work/peer-assert.txt"
  wrk_json "pkjwt-peer-$r" "$PEERS_DIR/token-assertions.lua" "http://127.0.0.1:$PEER_PORT/token" \
    WRK_ASSERTIONS="$work/peer-assert.txt"
done
echo "# federated: the same platform token presented again and again; DPoP: a fresh proof per request" >&2
wrk_json federated "$PEERS_DIR/token-post.lua" "http://127.0.0.1:$TG_PORT/connect/token" \
  WRK_BODY="grant_type=client_credentials&scope=api1&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=$(cat "$work/platform.jwt")"
"$py" "$root/bench/make-proofs.py" --htu "http://127.0.0.1:$TG_PORT/connect/token" --count 400000 --out "$work/proofs.txt"
wrk_json dpop "$root/bench/dpop.lua" "http://127.0.0.1:$TG_PORT/connect/token" \
  WRK_PROOFS="$work/proofs.txt" WRK_AUTHZ="Basic $(printf 'client:secret' | base64 -w0)"
wrk_json plain "$PEERS_DIR/token-post.lua" "http://127.0.0.1:$TG_PORT/connect/token" \
  WRK_BODY="grant_type=client_credentials&scope=api1" WRK_AUTHZ="Basic $(printf 'client:secret' | base64 -w0)"
echo "# token exchange: one subject token exchanged again and again; the JWT bearer grant: a platform token as the grant" >&2
subject="$(curl -sS --fail -u frontend:secret -d grant_type=client_credentials "http://127.0.0.1:$TG_PORT/connect/token" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
wrk_json exchange "$PEERS_DIR/token-post.lua" "http://127.0.0.1:$TG_PORT/connect/token" \
  WRK_BODY="grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=$subject&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token" \
  WRK_AUTHZ="Basic $(printf 'exchanger:secret' | base64 -w0)"
wrk_json jwtbearer "$PEERS_DIR/token-post.lua" "http://127.0.0.1:$TG_PORT/connect/token" \
  WRK_BODY="grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&scope=api1&assertion=$(cat "$work/platform.jwt")"
echo "# people: authorization code (authorize with a session + redeem) and refresh-token rotation (16 conns, pinned)" >&2
for mode in code refresh; do
  taskset -c "$LOADGEN_CPU" "$people_load" "http://127.0.0.1:$TG_PORT" --mode "$mode" --connections 16 \
    --duration "${DURATION%s}" > "$OUT_DIR/people-$mode.json" 2>&1
done

# Mutual TLS: the handbook's openssl certificates (tests/certificates), the
# ledger client (tls_client_auth, subject DN through the client CA), over
# TLS on the same CPU. wrk presents no client certificate, so
# bench/tools/mtls_load.rs (built as the example mtls_load) makes these requests (16 connections, pinned); the
# secret client over the same TLS listener is wrk's. The peer serves no
# TLS (its server says TLS is out of scope for a loopback benchmark), so
# these rows have no peer beside them.
echo "# mutual TLS: a handshake per token, kept-alive connections, and a secret over TLS" >&2
"$root/tests/certificates/make-certs.sh" "$work/mtls" > "$OUT_DIR/make-certs.log" 2>&1
cp "$root/tests/certificates/identity.toml" "$work/mtls/identity.toml"
printf '\n[[clients]]\nclient_id = "client"\nallowed_scopes = ["api1"]\n[[clients.secrets]]\nhash = "%s"\n' "$hash" \
  >> "$work/mtls/identity.toml"
taskset -c "$SERVER_CPU" "$bin" serve --config "$work/mtls/identity.toml" --listen "127.0.0.1:$TLS_PORT" \
  > "$OUT_DIR/tollgate-tls.log" 2>&1 &
tls_pid=$!; pids+=("$tls_pid")
CURL_CA_BUNDLE="$work/mtls/server.pem" wait_http "https://127.0.0.1:$TLS_PORT/healthz" "$tls_pid"
for mode in handshake keepalive; do
  flag=(); [[ "$mode" == handshake ]] && flag=(--handshake-per-token)
  (cd "$work/mtls" && taskset -c "$LOADGEN_CPU" "$mtls_load" "https://127.0.0.1:$TLS_PORT" --ca server.pem \
    --cert ledger.pem --key ledger.key --client-id ledger --connections 16 \
    --duration "${DURATION%s}" "${flag[@]}" > "$OUT_DIR/mtls-$mode.json" 2>&1)
done
wrk_json tls-secret "$PEERS_DIR/token-post.lua" "https://127.0.0.1:$TLS_PORT/connect/token" \
  WRK_BODY="grant_type=client_credentials&scope=api1" WRK_AUTHZ="Basic $(printf 'client:secret' | base64 -w0)"
kill "$tls_pid"

echo "# the physical limit: a bare poem handler, one ES256 signature (CPU $SERVER_CPU)" >&2
taskset -c "$SERVER_CPU" "$ceiling" serve "127.0.0.1:$BARE_PORT" > "$OUT_DIR/bare.log" 2>&1 &
bare_pid=$!; pids+=("$bare_pid")
wait_http "http://127.0.0.1:$BARE_PORT/connect/token" "$bare_pid"
bench bare "http://127.0.0.1:$BARE_PORT" /connect/token "$bare_pid" token 64 pinned
kill "$bare_pid"
taskset -c "$SERVER_CPU" "$ceiling" sign > "$OUT_DIR/sign.json"

echo "# tollgate: static ceiling, cold path, wrong-secret flood" >&2
bench tollgate "http://127.0.0.1:$TG_PORT" /connect/token "$tg_pinned" "jwks discovery" 64 static
taskset -c "$LOADGEN_CPU" env COLD_CLIENTS="$COLD_CLIENTS" wrk -t1 -c16 -d"$DURATION" --timeout 10s --latency \
  -s "$root/bench/cold.lua" "http://127.0.0.1:$TG_PORT/connect/token" > "$OUT_DIR/cold.json" 2>&1
basic() { printf 'Basic %s' "$(printf '%s' "$1" | base64 -w0)"; }
(cd "$PEERS_DIR" && WRK_BODY="grant_type=client_credentials&scope=api1" WRK_AUTHZ="$(basic client:wrong)" \
  taskset -c "$LOADGEN_CPU" wrk -t1 -c64 -d"$DURATION" --timeout 30s --latency -s token-post.lua \
  "http://127.0.0.1:$TG_PORT/connect/token" > "$OUT_DIR/flood-bad.json" 2>&1) &
flood=$!
sleep 1
(cd "$PEERS_DIR" && WRK_BODY="grant_type=client_credentials&scope=api1" WRK_AUTHZ="$(basic client:secret)" \
  taskset -c "$LOADGEN_CPU" wrk -t1 -c4 -d5s --timeout 10s --latency -s token-post.lua \
  "http://127.0.0.1:$TG_PORT/connect/token" > "$OUT_DIR/flood-good.json" 2>&1)
wait "$flood" || true
kill "$tg_pinned" "$peer_pid" 2>/dev/null || true; pkill -f "oidc-provider-peer.*server.mjs" 2>/dev/null || true
sleep 1

echo "# tollgate at TOLLGATE_LOG=warn (no audit line), to see what the audit trail costs" >&2
start_tollgate "$SERVER_CPU" "$TG_PORT" warn
bench tollgate "http://127.0.0.1:$TG_PORT" /connect/token "$tg_pid" token "$CONNECTIONS" warn
kill "$tg_pid"; sleep 1

echo "# unpinned whole-machine figures" >&2
start_tollgate "" "$TG_PORT"
bench tollgate "http://127.0.0.1:$TG_PORT" /connect/token "$tg_pid" token 64 unpinned
kill "$tg_pid"
start_peer ""; peer_node="$(pgrep -P "$peer_pid" -f server.mjs || echo "$peer_pid")"
bench peer "http://127.0.0.1:$PEER_PORT" /token "$peer_node" token 64 unpinned
pkill -f "oidc-provider-peer.*server.mjs" 2>/dev/null || true

echo "# a signing key in a PKCS#11 token (SoftHSM2) next to a key file (CPU $SERVER_CPU)" >&2
SERVER_CPU="$SERVER_CPU" LOADGEN_CPU="$LOADGEN_CPU" DURATION="$DURATION" "$root/bench/hsm.sh" "$bin" > "$OUT_DIR/hsm.md"

if [[ "$PROFILES" != 0 ]]; then
  echo "# the first run: fresh builds with fat, thin and no LTO, and what each serves" >&2
  OUT_DIR="$OUT_DIR" RUNS="$RUNS" DURATION="$DURATION" SERVER_CPU="$SERVER_CPU" LOADGEN_CPU="$LOADGEN_CPU" \
    PEERS_DIR="$PEERS_DIR" "$root/bench/profiles.sh" > "$OUT_DIR/profiles.md"
fi

if [[ "$SCALE_CLIENTS" != 0 ]]; then
  echo "# scale: $SCALE_CLIENTS clients" >&2
  CLIENTS="$SCALE_CLIENTS" OUT_DIR="$OUT_DIR" "$root/bench/scale.sh" "$bin" > "$OUT_DIR/scale.md"
fi

{
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%Y-%m-%d)"
  echo
  python3 "$root/bench/summarize.py" "$OUT_DIR"
} | tee "$OUT_DIR/summary.md"
