#!/usr/bin/env bash
# Checks the deployment files: the Dockerfile with hadolint, every
# Kubernetes manifest with kubernetes-validate --strict, and the
# identity.toml files they ship with `tollgate check`. Installs its linters
# into target/deploy-venv.
#
#   deploy/validate.sh [path/to/tollgate]   (default: target/debug/tollgate)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bin="${1:-$root/target/debug/tollgate}"
[[ -x "$bin" ]] || { echo "build tollgate first (cargo build)" >&2; exit 1; }

venv="$root/target/deploy-venv"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r deploy/requirements.txt

echo "== hadolint deploy/Dockerfile"
"$venv/bin/hadolint" deploy/Dockerfile

echo "== kubernetes-validate --strict deploy/kubernetes"
manifests=()
for f in deploy/kubernetes/*.yaml; do
  [[ "$(basename "$f")" == kustomization.yaml ]] || manifests+=("$f")
done
"$venv/bin/kubernetes-validate" --strict --quiet "${manifests[@]}"
# The kustomization has no Kubernetes schema: check that it lists exactly
# the manifests beside it.
listed="$(sed -n 's/^  - \(.*\.yaml\)$/\1/p' deploy/kubernetes/kustomization.yaml | sort)"
present="$(cd deploy/kubernetes && ls -1 *.yaml | grep -v '^kustomization.yaml$' | sort)"
[[ "$listed" == "$present" ]] || { echo "kustomization.yaml lists: $listed; present: $present" >&2; exit 1; }
echo "${#manifests[@]} manifests valid"

echo "== tollgate check on the shipped configurations"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin" check --config deploy/identity.toml
# The ConfigMap's file, with its key path pointed at a freshly made key.
"$venv/bin/python" - deploy/kubernetes/configmap.yaml "$work/identity.toml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
open(sys.argv[2], "w").write(doc["data"]["identity.toml"])
PY
"$bin" keys generate --out "$work/2026-11.pem" --activate-at now >/dev/null
sed -i "s#/etc/tollgate/keys/#$work/#" "$work/identity.toml"
"$bin" check --config "$work/identity.toml"
