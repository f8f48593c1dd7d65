#!/usr/bin/env bash
# Scale: a file of CLIENTS clients (bench/gen-clients.py). Measures
# `tollgate check` (time, peak memory), start-up (to a ready /healthz),
# resident memory after start, a reload after appending one client (time
# until it is in force, with token requests running: their slowest), and
# memory across five such reloads. Prints a markdown table.
#
#   CLIENTS=100000 bench/scale.sh path/to/tollgate
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$root/target/release/tollgate}"
CLIENTS="${CLIENTS:-100000}"
PEERS_DIR="${PEERS_DIR:-$root/../shared/peers}"
OUT_DIR="${OUT_DIR:-$(mktemp -d)}"
port=5301
work="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

hash="$(printf 'secret\n' | "$bin" hash-secret)"
python3 "$root/bench/gen-clients.py" --clients "$CLIENTS" --hash "$hash" --out "$work/identity.toml" \
  --listen "127.0.0.1:$port"
size="$(du -h "$work/identity.toml" | cut -f1)"

# check: wall time and peak resident memory of the whole process.
/usr/bin/time -f "%e %M" -o "$work/check.time" "$bin" check --config "$work/identity.toml" >/dev/null 2>&1 || true
read -r check_s check_kb < "$work/check.time"

ms() { date +%s%3N; }
rss() { awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$1/status"; }
hwm() { awk '/VmHWM/{printf "%.1f", $2/1024}' "/proc/$1/status"; }
generation() { curl -fsS "http://127.0.0.1:$port/healthz" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["generation"])' 2>/dev/null || echo 0; }

t0="$(ms)"
"$bin" serve --config "$work/identity.toml" > "$OUT_DIR/scale-server.log" 2>&1 &
pid=$!
until curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || { cat "$OUT_DIR/scale-server.log" >&2; exit 1; }
  sleep 0.02
done
start_ms=$(( $(ms) - t0 ))
sleep 1
rss_start="$(rss "$pid")"

basic="Basic $(printf 'client:secret' | base64 -w0)"
curl -fsS -o /dev/null -H "Authorization: $basic" -d grant_type=client_credentials "http://127.0.0.1:$port/connect/token"
reload_ms=()
worst_us=()
for i in 1 2 3 4 5; do
  before="$(generation)"
  (cd "$PEERS_DIR" && WRK_BODY="grant_type=client_credentials" WRK_AUTHZ="$basic" \
    wrk -t1 -c4 -d6s --timeout 10s --latency -s token-post.lua "http://127.0.0.1:$port/connect/token" \
    > "$work/wrk-$i.out" 2>&1) &
  load=$!
  sleep 1
  printf '[[clients]]\nclient_id = "added-%d"\nallowed_scopes = ["api1"]\n[[clients.secrets]]\nhash = "%s"\n' \
    "$i" "$hash" >> "$work/identity.toml"
  t0="$(ms)"
  until [[ "$(generation)" -gt "$before" ]]; do sleep 0.02; done
  reload_ms+=( $(( $(ms) - t0 )) )
  wait "$load"
  worst_us+=( "$(sed -n 's/.*"lat_max_us":\([0-9]*\).*/\1/p' "$work/wrk-$i.out")" )
done
rss_after="$(rss "$pid")"
peak="$(hwm "$pid")"

echo "| $CLIENTS clients ($size file) | measured |"
echo "|---|---|"
echo "| tollgate check (whole process) | ${check_s} s, peak $(( check_kb / 1024 )) MB |"
echo "| start, to a ready /readyz | ${start_ms} ms |"
echo "| resident memory after start | ${rss_start} MB |"
echo "| reload after appending one client (file written until in force; includes the 250 ms settle) | ${reload_ms[*]} ms |"
echo "| slowest token request during each reload (4 conns) | $(printf '%s ' "${worst_us[@]}" | awk '{for(i=1;i<=NF;i++) printf "%.1f ms ", $i/1000}') |"
echo "| resident memory after the 5 reloads (peak) | ${rss_after} MB (${peak} MB) |"
