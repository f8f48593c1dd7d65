#!/usr/bin/env bash
# The docs page and the sign-in in a real browser: starts tollgate with
# the quickstart's client ("client" / "secret", scope "api1"), a public
# client of the code flow and the person alice on a free loopback port,
# and drives headless Chromium through /docs, through a sign-in and through
# a sign-in at an upstream provider
# (docs_check.py and signin_check.py say what they check; a docs failure
# leaves screenshots in target/browser-artifacts).
# Installs Debian's chromium and chromium-driver with apt when they are
# missing, and Selenium into target/browser-venv.
#
#   tests/browser/run.sh [path/to/tollgate]   (default: target/debug/tollgate)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-$root/target/debug/tollgate}"
[[ -x "$bin" ]] || { echo "build tollgate first (cargo build)" >&2; exit 1; }

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "installing chromium and chromium-driver (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
chromium --version 2>/dev/null | grep -v '^$' || true

venv="$root/target/browser-venv"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"

work="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

hash="$(printf 'secret\n' | "$bin" hash-secret)"
alice="$(printf 'alice\n' | "$bin" hash-secret)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
cat > "$work/identity.toml" <<TOML
issuer = "$base"
[server]
listen = "127.0.0.1:$port"
[[api_scopes]]
name = "api1"
display_name = "My API"
[[clients]]
client_id = "client"
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
access_token_lifetime = "1h"
[[clients.secrets]]
hash = "$hash"
# signin_check.py: a public client of the code flow on any loopback port,
# and a person.
[[clients]]
client_id = "browser-app"
public = true
allowed_grant_types = ["authorization_code"]
redirect_uris = ["http://127.0.0.1/cb"]
allowed_scopes = ["openid"]
[login]
title = "Browser check"
[[users]]
username = "alice"
password_hash = "$alice"
TOML
"$bin" serve --config "$work/identity.toml" > "$work/server.log" 2>&1 &
pid=$!
ready=""
for _ in $(seq 1 100); do
  if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$base/healthz" 2>/dev/null; then
    ready=1; break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$ready" ]] || { echo "tollgate did not start:" >&2; cat "$work/server.log" >&2; exit 1; }

status=0
rm -rf "$root/target/browser-artifacts"
ARTIFACTS="$root/target/browser-artifacts" "$venv/bin/python" "$here/docs_check.py" "$base" client secret || status=$?
"$venv/bin/python" "$here/signin_check.py" "$base" alice alice || status=$?
if [[ $status -ne 0 ]]; then
  echo "--- server log" >&2
  tail -n 20 "$work/server.log" >&2
  exit "$status"
fi

# People: alice signs in to the sample web app through tollgate's pages
# (webapp_check.py says what it checks). The web client asks for consent
# here, so both pages are seen. UPDATE_DOCS=1 refreshes the handbook's
# pictures of them.
examples="$(dirname "$bin")/examples"
for sample in api webapp; do
  [[ -x "$examples/$sample" ]] || { echo "build the samples first (cargo build --examples): no $examples/$sample" >&2; exit 1; }
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() {
  for _ in $(seq 1 100); do
    python3 -c 'import sys, urllib.request, urllib.error
try: urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError: pass' "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "$1 did not start:" >&2; cat "$3" >&2; return 1
}
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
pids=()
cleanup() { for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
port="$(free_port)"; api_port="$(free_port)"; app_port="$(free_port)"
base="http://127.0.0.1:$port"
alice="$(printf 'alice\n' | "$bin" hash-secret)"
mkdir -p "$work/people"
cat > "$work/people/identity.toml" <<TOML
issuer = "$base"
[server]
listen = "127.0.0.1:$port"
[login]
title = "Acme sign-in"
[[api_scopes]]
name = "api1"
display_name = "My API"
[[users]]
username = "alice"
password_hash = "$alice"
name = "Alice Smith"
email = "alice@example.com"
email_verified = true
[[clients]]
client_id = "web"
display_name = "Acme web app"
allowed_grant_types = ["authorization_code", "refresh_token"]
redirect_uris = ["http://localhost:5002/signin-oidc"]
post_logout_redirect_uris = ["http://localhost:5002/"]
allowed_scopes = ["openid", "profile", "email", "api1", "offline_access"]
require_consent = true
[[clients.secrets]]
hash = "$hash"
TOML
"$bin" serve --config "$work/people/identity.toml" > "$work/people/server.log" 2>&1 &
pids+=($!)
wait_up "$base/healthz" "${pids[-1]}" "$work/people/server.log"
"$examples/api" --authority "$base" --listen "127.0.0.1:$api_port" > "$work/people/api.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$api_port/identity" "${pids[-1]}" "$work/people/api.log"
"$examples/webapp" --authority "$base" --listen "127.0.0.1:$app_port" \
  --api "http://127.0.0.1:$api_port/identity" > "$work/people/webapp.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$app_port/" "${pids[-1]}" "$work/people/webapp.log"
shots=""
[[ "${UPDATE_DOCS:-}" == 1 ]] && shots="$root/docs/src/images"
SCREENSHOTS="$shots" ARTIFACTS="$root/target/browser-artifacts" \
  "$venv/bin/python" "$here/webapp_check.py" "http://localhost:$app_port" alice alice || status=$?
if [[ $status -ne 0 ]]; then
  for log in server webapp api; do echo "--- $log log" >&2; tail -n 20 "$work/people/$log.log" >&2; done
fi
# Sign-in through an upstream provider: node-oidc-provider on loopback
# (tests/upstream, `npm ci` there) and a tollgate whose only way in is
# "Sign in with Corp" (upstream_check.py says what it checks).
if [[ -d "$root/tests/upstream/node_modules/oidc-provider" ]]; then
  port="$(free_port)"; provider_port="$(free_port)"
  base="http://127.0.0.1:$port"
  mkdir -p "$work/upstream"
  printf 'upstream-secret\n' > "$work/upstream/corp.secret"
  cat > "$work/upstream/identity.toml" <<TOML
issuer = "$base"
[server]
listen = "127.0.0.1:$port"
[login]
title = "Upstream check"
[[login.providers]]
name = "corp"
display_name = "Corp"
issuer = "http://127.0.0.1:$provider_port"
client_id = "tollgate"
client_secret_file = "corp.secret"
scopes = ["openid", "email", "profile", "groups"]
allowed_email_domains = ["corp.example"]
[[clients]]
client_id = "browser-app"
public = true
allowed_grant_types = ["authorization_code"]
redirect_uris = ["http://127.0.0.1/cb"]
allowed_scopes = ["openid"]
TOML
  (cd "$root/tests/upstream" && exec node provider.mjs "$provider_port" \
    "$base/connect/authorize/upstream/callback" k1) > "$work/upstream/provider.log" 2>&1 &
  pids+=($!)
  wait_up "http://127.0.0.1:$provider_port/.well-known/openid-configuration" "${pids[-1]}" "$work/upstream/provider.log"
  "$bin" serve --config "$work/upstream/identity.toml" > "$work/upstream/server.log" 2>&1 &
  pids+=($!)
  wait_up "$base/healthz" "${pids[-1]}" "$work/upstream/server.log"
  "$venv/bin/python" "$here/upstream_check.py" "$base" || {
    status=1
    for log in server provider; do echo "--- upstream $log log" >&2; tail -n 20 "$work/upstream/$log.log" >&2; done
  }
else
  echo "note: the upstream sign-in check is skipped: run \`npm ci\` in tests/upstream" >&2
fi
exit "$status"
