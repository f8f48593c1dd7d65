#!/usr/bin/env bash
# Soak: hold token load for a while (wrk, loopback) while identity.toml is
# rewritten every RELOAD_EVERY seconds, then report failed requests (must
# be 0), reloads applied, and resident memory at the start and the end
# (must stay flat). Not a test; CI does not run it.
#
#   bench/soak.sh                      # 5 minutes
#   DURATION=20m bench/soak.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${DURATION:-5m}"
RELOAD_EVERY="${RELOAD_EVERY:-2}"
CONNECTIONS="${CONNECTIONS:-16}"
PORT="${PORT:-5202}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
(cd "$root" && cargo build --release --quiet)
bin="$root/target/release/tollgate"
work="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

hash="$(printf 'secret\n' | "$bin" hash-secret)"
write_config() { # generation
  cat > "$work/identity.toml.tmp" <<TOML
[[api_scopes]]
name = "api1"
[[clients]]
client_id = "client"
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "$hash"
[[clients]]
client_id = "rotating-$1"
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "$hash"
TOML
  mv "$work/identity.toml.tmp" "$work/identity.toml"
}
write_config 0
TOLLGATE_LOG=warn "$bin" serve --config "$work/identity.toml" --listen "127.0.0.1:$PORT" > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$pid/status"; }

# Warm up (the first request verifies the secret with Argon2), then measure.
wrk -t1 -c"$CONNECTIONS" -d5s -s "$root/bench/token.lua" "http://127.0.0.1:$PORT/connect/token" >/dev/null
rss_start="$(rss)"
wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --timeout 10s -s "$root/bench/token.lua" \
  "http://127.0.0.1:$PORT/connect/token" > "$work/wrk.txt" 2>&1 &
load=$!
rewrites=0
while kill -0 "$load" 2>/dev/null; do
  sleep "$RELOAD_EVERY"
  rewrites=$((rewrites + 1))
  write_config "$rewrites"
done
wait "$load" || true
rss_end="$(rss)"
summary="$(grep '^WRKJSON ' "$work/wrk.txt" | sed 's/^WRKJSON //')"
health="$(curl -fsS "http://127.0.0.1:$PORT/healthz")"
python3 - "$summary" "$health" "$rss_start" "$rss_end" "$rewrites" "$DURATION" <<'PY'
import json, sys
w, h = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rss0, rss1, rewrites, duration = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
failed = w["non2xx"] + w["socket_errors"]
print(f"soak {duration}: {w['requests']} token requests ({w['rps']:.0f}/s, p99 {w['lat_p99_us']/1000:.2f} ms), "
      f"{failed} failed; {rewrites} rewrites, config generation {h['config']['generation']}, "
      f"last_error {h['config'].get('last_error')}; RSS {rss0:.1f} MB -> {rss1:.1f} MB")
sys.exit(1 if failed or h["config"].get("last_error") else 0)
PY
