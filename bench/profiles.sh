#!/usr/bin/env bash
# The first run: how long a fresh release build takes on this machine, and
# what it serves, for three link-time optimization settings of the release
# profile: fat LTO with one codegen unit (what Cargo.toml sets), thin LTO
# and none (both with Cargo's default of 16 units).
# Each is built into an empty target folder of its own, so its time is the
# whole build a newcomer waits for (every dependency included); then the
# three binaries serve the same file in turn, pinned to one core, RUNS
# alternating rounds of wrk at 16 connections. Prints a markdown table.
#
#   bench/profiles.sh            # needs wrk; about 35 minutes on 2 cores
#   RUNS=5 bench/profiles.sh
#
# Env: PEERS_DIR (../shared/peers: its load script), RUNS (3), DURATION
# (10s), SERVER_CPU (0), LOADGEN_CPU (1), OUT_DIR, KEEP_BUILDS=1 reuses
# earlier builds in target/profile-* (their build time is then not
# measured again but read from the file the first build wrote).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_DIR="${PEERS_DIR:-$root/../shared/peers}"
RUNS="${RUNS:-3}"
DURATION="${DURATION:-10s}"
SERVER_CPU="${SERVER_CPU:-0}"
LOADGEN_CPU="${LOADGEN_CPU:-1}"
OUT_DIR="${OUT_DIR:-$(mktemp -d)}"
port=5401
load="$PEERS_DIR/bench-token-endpoint.sh"
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
[[ -x "$load" ]] || { echo "no load script at $load (set PEERS_DIR)" >&2; exit 1; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
work="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# name -> the overrides of the release profile (Cargo reads them from env).
variants=(fat thin off)
declare -A lto=([fat]=fat [thin]=thin [off]=false)
declare -A units=([fat]=1 [thin]=16 [off]=16)

for v in "${variants[@]}"; do
  dir="$root/target/profile-$v"
  if [[ "${KEEP_BUILDS:-0}" == 1 && -x "$dir/release/tollgate" && -s "$dir/build-seconds" ]]; then
    continue
  fi
  rm -rf "$dir"
  echo "# building with lto=${lto[$v]}, codegen-units=${units[$v]} into an empty folder" >&2
  t0="$(date +%s)"
  (cd "$root" && CARGO_TARGET_DIR="$dir" CARGO_PROFILE_RELEASE_LTO="${lto[$v]}" \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS="${units[$v]}" cargo build --release --locked --quiet --bin tollgate)
  echo $(( $(date +%s) - t0 )) > "$dir/build-seconds"
done

bin="$root/target/profile-fat/release/tollgate"
hash="$(printf 'secret\n' | "$bin" hash-secret)"
cat > "$work/identity.toml" <<EOF
[[api_scopes]]
name = "api1"

[[clients]]
client_id = "client"
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "$hash"
EOF

for r in $(seq 1 "$RUNS"); do
  for v in "${variants[@]}"; do
    taskset -c "$SERVER_CPU" "$root/target/profile-$v/release/tollgate" serve --config "$work/identity.toml" \
      --listen "127.0.0.1:$port" > "$OUT_DIR/profile-$v.log" 2>&1 &
    pid=$!
    wait_http "http://127.0.0.1:$port/readyz" "$pid"
    SERVER_PID="$pid" LOADGEN_CPUS="$LOADGEN_CPU" BASE_URL="http://127.0.0.1:$port" TOKEN_PATH=/connect/token \
      CLIENT_ID=client CLIENT_SECRET=secret SCOPE=api1 ENDPOINTS=token CONNECTIONS=16 \
      DURATION="$DURATION" WARMUP=3s RUNS=1 OUT_DIR="$OUT_DIR/profile-$v-$r" "$load" > "$OUT_DIR/profile-$v-$r.out" 2>&1
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  done
done

echo "| release profile | fresh build | binary | tokens/s, one core, 16 conns (median) | runs | p99 ms |"
echo "|---|---|---|---|---|---|"
for v in "${variants[@]}"; do
  dir="$root/target/profile-$v"
  size="$(du -m "$dir/release/tollgate" | cut -f1)"
  python3 - "$OUT_DIR" "$v" "lto=${lto[$v]}, codegen-units=${units[$v]}" "$(cat "$dir/build-seconds")" "$size" <<'PY'
import csv, glob, os, sys
out, v, label, secs, size = sys.argv[1:]
rs = []
for p in sorted(glob.glob(os.path.join(out, f"profile-{v}-*", "results.tsv"))):
    with open(p) as f:
        rs.extend(csv.DictReader(f, delimiter="\t"))
rs.sort(key=lambda r: float(r["rps"]))
m = rs[len(rs) // 2]
secs = int(secs)
runs = ", ".join(r["rps"] for r in rs)
print(f"| {label} | {secs // 60} min {secs % 60:02d} s | {size} MB | {m['rps']} | {runs} | {m['p99_ms']} |")
PY
done
