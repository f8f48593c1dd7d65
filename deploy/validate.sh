#!/usr/bin/env bash
# Checks the deployment files: the Dockerfile with hadolint; every
# kustomization under deploy/kubernetes rendered with `kubectl kustomize`
# (with a fresh signing key, and a fresh JWK Set for the workload example);
# every manifest and every rendered object against the strict Kubernetes
# schemas (kubernetes-validate), the ServiceMonitor against the Prometheus
# Operator's CRD schema; and `tollgate check` on deploy/identity.toml and on
# the configuration each kustomization gives the pods, laid out from the
# rendered Deployment's volumes as the kubelet would (identity.toml, the
# teams' clients.d/ files, the keys). Installs its tools into
# target/deploy-venv (PyPI only; pip is skipped while
# deploy/requirements.txt is unchanged).
#
#   deploy/validate.sh [path/to/tollgate]   (default: target/debug/tollgate)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bin="${1:-$root/target/debug/tollgate}"
[[ -x "$bin" ]] || { echo "build tollgate first (cargo build)" >&2; exit 1; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

venv="$root/target/deploy-venv"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
stamp="$venv/.requirements.sha256"
if ! sha256sum --status -c "$stamp" 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r deploy/requirements.txt
  sha256sum deploy/requirements.txt >"$stamp"
fi
py="$venv/bin/python"
kubectl="$venv/bin/kubectl"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== hadolint deploy/Dockerfile"
"$venv/bin/hadolint" deploy/Dockerfile

# A copy of deploy/kubernetes with the files an operator makes first, made
# fresh: whatever keys or JWK Set lie in the work tree are neither used nor
# touched.
echo "== kubectl kustomize ($("$kubectl" version --client | sed -n 's/^Kustomize Version: //p'))"
tree="$work/kubernetes"
cp -r deploy/kubernetes "$tree"
rm -f "$tree"/keys/*.pem "$tree"/examples/workload/cluster-jwks.json
# The key files keys/kustomization.yaml names (signing-1.pem). Without them,
# rendering must stop and name the missing file.
mapfile -t key_files < <("$py" -c 'import sys, yaml
for g in yaml.safe_load(open(sys.argv[1]))["secretGenerator"]:
    print("\n".join(f.split("=", 1)[-1] for f in g["files"]))' "$tree/keys/kustomization.yaml")
if "$kubectl" kustomize "$tree" >/dev/null 2>"$work/nokey.err" \
  || ! grep -qF "keys/${key_files[0]}" "$work/nokey.err"; then
  echo "kubectl kustomize without keys/${key_files[0]} did not fail naming it:" >&2
  cat "$work/nokey.err" >&2
  exit 1
fi
for f in "${key_files[@]}"; do
  "$bin" keys generate --out "$tree/keys/$f" --activate-at now >/dev/null
done
# The cluster's JWK Set (kubectl get --raw /openid/v1/jwks) as an RSA key's.
"$bin" keys client --out "$work/cluster-sa.pem" --algorithm RS256 \
  | "$py" -c 'import json, sys, tomllib
line = next(l for l in sys.stdin if l.startswith("jwks = "))
print(json.dumps(tomllib.loads(line)["jwks"]))' >"$tree/examples/workload/cluster-jwks.json"

kustomizations=()
while IFS= read -r file; do
  dir="$(dirname "$file")"
  grep -q '^kind: Component$' "$file" || kustomizations+=("${dir#"$tree"}")
done < <(find "$tree" -name kustomization.yaml | sort)
mkdir -p "$work/rendered"
rendered=()
for k in "${kustomizations[@]}"; do
  out="$work/rendered/$(echo "deploy/kubernetes$k" | tr / _).yaml"
  "$kubectl" kustomize "$tree$k" >"$out"
  rendered+=("$out")
  echo "deploy/kubernetes$k: $(grep -c '^kind: ' "$out") objects"
done
# Every file beside a kustomization is one it names.
"$py" deploy/manifests.py listed $(find "$tree" -name kustomization.yaml -exec dirname {} \; | sort)

echo "== kubernetes-validate --strict (the ServiceMonitor: its CRD schema), sources and rendered"
manifests=()
while IFS= read -r f; do manifests+=("$f"); done \
  < <(find deploy/kubernetes -name '*.yaml' ! -name kustomization.yaml | sort)
"$py" deploy/manifests.py validate "${manifests[@]}" "${rendered[@]}"

echo "== tollgate check on the shipped configurations"
"$bin" check --config deploy/identity.toml
# What each kustomization's pods read: the rendered Deployment's volumes,
# laid out under a folder, paths in the TOML files pointed there.
failed=()
for i in "${!kustomizations[@]}"; do
  pod="$work/pod$i"
  name="deploy/kubernetes${kustomizations[$i]}"
  config="$("$py" deploy/manifests.py mount "${rendered[$i]}" "$pod")"
  echo "$name, as its pods read it: $(cd "$pod" && find . -type f | sort | sed 's#^\./#/#' | tr '\n' ' ')"
  "$bin" check --config "$config" || failed+=("$name")
done
if (( ${#failed[@]} )); then
  echo "tollgate check refused the configuration of: ${failed[*]}" >&2
  exit 1
fi
