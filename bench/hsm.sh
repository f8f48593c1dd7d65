#!/usr/bin/env bash
# Tokens/s with the signing key in a PKCS#11 token (SoftHSM2) next to the
# same algorithm in a key file: the same config and load, only the
# [[keys.signing]] entry differs. Prints a markdown table. Skipped (a
# note, exit 0) where SoftHSM2 is not installed (apt-get install softhsm2).
#
#   bench/hsm.sh path/to/tollgate            # DURATION (10s), CONNECTIONS (64)
#   SERVER_CPU=0 LOADGEN_CPU=1 bench/hsm.sh  # pinned, as bench/run.sh runs it
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$root/target/release/tollgate}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64}"
SERVER_CPU="${SERVER_CPU:-}"
LOADGEN_CPU="${LOADGEN_CPU:-}"
port=5401
module=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*-linux-gnu/softhsm/libsofthsm2.so; do
  [[ -e "$m" ]] && { module="$m"; break; }
done
if [[ -z "$module" ]] || ! command -v softhsm2-util >/dev/null; then
  echo "SoftHSM2 is not installed: the hardware key row is skipped"; exit 0
fi
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
work="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

mkdir "$work/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" > "$work/softhsm2.conf"
export SOFTHSM2_CONF="$work/softhsm2.conf"
softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 123456 >/dev/null
(umask 077; echo 1234 > "$work/pin")
hsm_entry="$("$bin" keys generate --pkcs11 "$module" --token bench --label bench --pin-file "$work/pin" \
  --activate-at now | tail -n 3)"
file_entry="$("$bin" keys generate --out "$work/file.pem" --activate-at now | tail -n 3)"
hash="$(printf 'secret\n' | "$bin" hash-secret)"

pin_server=(); [[ -n "$SERVER_CPU" ]] && pin_server=(taskset -c "$SERVER_CPU")
pin_load=(); [[ -n "$LOADGEN_CPU" ]] && pin_load=(taskset -c "$LOADGEN_CPU")
measure() { # label entry
  printf '%s\n\n[[api_scopes]]\nname = "api1"\n\n[[clients]]\nclient_id = "client"\nallowed_scopes = ["api1"]\n[[clients.secrets]]\nhash = "%s"\n' \
    "$2" "$hash" > "$work/identity.toml"
  TOLLGATE_LOG=warn "${pin_server[@]}" "$bin" serve --config "$work/identity.toml" --listen "127.0.0.1:$port" \
    > "$work/server.log" 2>&1 &
  pid=$!
  wait_http "http://127.0.0.1:$port/readyz" "$pid"
  "${pin_load[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency -s "$root/bench/token.lua" \
    "http://127.0.0.1:$port/connect/token" > "$work/wrk.out" 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  python3 - "$1" "$work/wrk.out" <<'PY'
import json, sys
label, path = sys.argv[1], sys.argv[2]
line = next(l for l in open(path) if l.startswith("WRKJSON "))
r = json.loads(line[len("WRKJSON "):])
print(f"| {label} | {r['rps']:,.0f} | {r['lat_p99_us'] / 1000:.2f} ms | {r['non2xx'] + r['socket_errors']} |")
PY
}
echo "| ES256 signing key ($CONNECTIONS conns, $DURATION) | tokens/s | p99 | errors |"
echo "|---|---:|---:|---:|"
measure "file (aws-lc-rs, batch signer)" "$file_entry"
measure "SoftHSM2 token (PKCS#11, session pool)" "$hsm_entry"
