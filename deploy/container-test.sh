#!/usr/bin/env bash
# Builds the container image's runtime stage (deploy/Dockerfile from
# `FROM scratch` on) around a static binary built here, runs it the way the
# Kubernetes manifests do (read-only root, uid 65532, no capabilities, no
# privilege escalation), and checks discovery, a token, the JWKS and the
# in-image health check from outside the container. Cleans up after itself.
#
# Needs podman (with buildah) and runc: apt-get install podman buildah runc.
# No base image is pulled: the build stage's Rust image is replaced by the
# host's toolchain, which is the one part of the Dockerfile not exercised.
#
#   deploy/container-test.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

for tool in podman runc curl python3 readelf; do
  command -v "$tool" >/dev/null || { echo "container-test: $tool is not installed" >&2; exit 2; }
done

target=x86_64-unknown-linux-gnu
echo "== static binary ($target, glibc +crt-static, the container profile)"
RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR="$root/target/static" \
  cargo build --profile container --locked --target "$target" --bin tollgate
bin="$root/target/static/$target/container/tollgate"
# A dynamically linked program names its loader (PT_INTERP); static-pie does not.
if readelf -l "$bin" | grep INTERP >/dev/null; then
  echo "container-test: $bin is dynamically linked" >&2; exit 1
fi

work="$(mktemp -d)"
image="localhost/tollgate-container-test:$$"
name="tollgate-container-test-$$"
volume="tollgate-container-test-keys-$$"
podman=(podman --runtime runc)
cleanup() {
  "${podman[@]}" rm -f "$name" >/dev/null 2>&1 || true
  "${podman[@]}" rmi -f "$image" >/dev/null 2>&1 || true
  "${podman[@]}" volume rm -f "$volume" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== image (the runtime stage of deploy/Dockerfile)"
ctx="$work/context"
mkdir -p "$ctx/out/usr/bin" "$ctx/out/var/lib/tollgate/keys" "$ctx/deploy"
cp "$bin" "$ctx/out/usr/bin/tollgate"
chmod 0700 "$ctx/out/var/lib/tollgate" "$ctx/out/var/lib/tollgate/keys"
cp deploy/identity.toml "$ctx/deploy/identity.toml"
# The build stage's output, /out, is the context's out/ here.
sed -n '/^FROM scratch/,$p' deploy/Dockerfile | sed -e 's#--from=build ##' -e 's# /out/# out/#' > "$ctx/Containerfile"
if grep -q -- '--from=' "$ctx/Containerfile"; then
  echo "container-test: the runtime stage copies from a stage other than /out" >&2; exit 1
fi
"${podman[@]}" build --quiet --format docker -t "$image" -f "$ctx/Containerfile" "$ctx" >/dev/null
size="$("${podman[@]}" image inspect "$image" --format '{{.Size}}')"
mb="$(python3 -c "print(f'{$size / 1e6:.1f} MB')")"
echo "image size: $size bytes ($mb)"

echo "== run (read-only, uid 65532, no capabilities, host network)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
secret="container-test-secret"
hash="$(printf '%s\n' "$secret" | "$bin" hash-secret)"
mkdir -p "$work/etc"
cat > "$work/etc/identity.toml" <<TOML
issuer = "http://127.0.0.1:$port"
[keys]
dir = "/var/lib/tollgate/keys"
[[api_scopes]]
name = "api1"
[[clients]]
client_id = "client"
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "$hash"
TOML
chmod -R a+rX "$work/etc"
healthcheck="$("${podman[@]}" image inspect "$image" --format '{{.Config.Healthcheck.Test}}')"
[[ "$healthcheck" == *"/usr/bin/tollgate healthcheck"* ]] || { echo "container-test: HEALTHCHECK is $healthcheck" >&2; exit 1; }
# Podman would schedule the HEALTHCHECK with systemd timers, absent here;
# the check is run by hand below instead.
"${podman[@]}" run -d --name "$name" --no-healthcheck \
  --network host --read-only --cap-drop ALL --security-opt no-new-privileges \
  --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
  -e TOLLGATE_SERVER__LISTEN="127.0.0.1:$port" \
  -v "$work/etc:/etc/tollgate:ro" \
  -v "$volume:/var/lib/tollgate" \
  "$image" >/dev/null

base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$base/healthz" >/dev/null || { "${podman[@]}" logs "$name" >&2; echo "container-test: not healthy" >&2; exit 1; }

user="$("${podman[@]}" inspect "$name" --format '{{.Config.User}}')"
[[ "$user" == "65532:65532" ]] || { echo "container-test: runs as $user" >&2; exit 1; }

discovery="$(curl -fsS "$base/.well-known/openid-configuration")"
token="$(curl -fsS -u "client:$secret" -d grant_type=client_credentials "$base/connect/token")"
jwks="$(curl -fsS "$base/.well-known/jwks.json")"
DISCOVERY="$discovery" TOKEN="$token" JWKS="$jwks" ISSUER="$base" python3 - <<'PY'
import base64, json, os
d = json.loads(os.environ["DISCOVERY"])
assert d["issuer"] == os.environ["ISSUER"], d
assert d["token_endpoint"] == os.environ["ISSUER"] + "/connect/token", d
t = json.loads(os.environ["TOKEN"])
assert t["token_type"] == "Bearer" and t["scope"] == "api1", t
part = lambda s: json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
header, claims = (part(p) for p in t["access_token"].split(".")[:2])
kids = [k["kid"] for k in json.loads(os.environ["JWKS"])["keys"]]
assert header["typ"] == "at+jwt" and header["kid"] in kids, (header, kids)
assert claims["iss"] == os.environ["ISSUER"] and claims["client_id"] == "client", claims
print("discovery, token and JWKS: ok (kid %s)" % header["kid"])
PY
wrong="$(curl -s -o /dev/null -w '%{http_code}' -u "client:wrong" -d grant_type=client_credentials "$base/connect/token")"
[[ "$wrong" == 401 ]] || { echo "container-test: wrong secret answered $wrong" >&2; exit 1; }

"${podman[@]}" exec "$name" /usr/bin/tollgate healthcheck --url "$base/healthz"
echo "in-image health check: ok"
if "${podman[@]}" exec "$name" /usr/bin/tollgate keys generate --out /etc/tollgate/x.pem >/dev/null 2>&1; then
  echo "container-test: the config mount is writable" >&2; exit 1
fi
if "${podman[@]}" exec "$name" /usr/bin/tollgate keys generate --out /usr/bin/x.pem >/dev/null 2>&1; then
  echo "container-test: the root filesystem is writable" >&2; exit 1
fi
echo "read-only root: ok"
# Read the logs whole first: `grep -q` stopping early would make podman
# die of SIGPIPE, and pipefail would count that as a failure.
logs="$("${podman[@]}" logs "$name" 2>&1)"
if ! grep -q "signing key created" <<<"$logs"; then
  echo "container-test: no key was created in the volume; logs:" >&2
  echo "$logs" >&2
  exit 1
fi
echo "container-test: passed (image $mb)"
