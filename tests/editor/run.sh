#!/usr/bin/env bash
# The editor's view of the config files: Taplo (the TOML engine of Even
# Better TOML and other editors, @taplo/cli pinned in package.json) checks
# them through their own `#:schema` lines, offline.
#
#   tests/editor/run.sh [FOLDER...]   (default: . examples clients.d deploy)
#
# 1. Every *.toml with a `#:schema` line in the folders (the repository
#    root alone, the others with their subfolders) has no diagnostic. Among
#    them must be identity.toml (`#:schema ./schemas/identity.schema.json`)
#    and at least one included file, i.e. a file whose `#:schema` line names
#    schemas/included.schema.json (e.g. examples/clients.d/*.toml with
#    `#:schema ../../schemas/included.schema.json`).
# 2. One mistake in a copy gives exactly one diagnostic, on its line:
#    `isuer = "x"` for `issuer` in identity.toml, `secret = "x"` in its
#    [[clients.secrets]], and `issuer = "x"` at the top of an included file
#    (a key only the main file may hold), `rotate_every = true` (a wrong
#    type: "is not of types", not "not valid under any of the schemas"),
#    `rotate_every = "1 hour"` and `algorithm = "ES257"` (the values that
#    are allowed). A misspelt key names the keys the table has
#    (`allowed_scope` → "… allowed_scopes …"); Taplo reports an array
#    value once per range of it, so that one is "on its line only".
#
# Offline: Taplo is run with --no-auto-config (no config file can switch on
# a schema catalog) and without --default-schema-catalogs (the CLI fetches
# no catalog unless asked); where `unshare -n` works it also runs with no
# network at all, so a `#:schema` URL that needs the network fails here.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
if [[ $# -gt 0 ]]; then folders=("$@"); else folders=(. examples clients.d deploy); fi

(cd "$here" && npm ci --silent --no-audit --no-fund >/dev/null)
taplo_bin="$here/node_modules/.bin/taplo"
offline=()
if unshare -n true 2>/dev/null; then offline=(unshare -n); fi
echo "taplo $("$taplo_bin" --version | awk '{print $2}')${offline:+, run with no network (unshare -n)}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# taplo lint FILE: sets $rc, $out, $count (diagnostics) and $lines (their
# line numbers, space-separated).
lint() {
  rc=0
  out="$("${offline[@]}" "$taplo_bin" lint --no-auto-config --colors never "$1" 2>&1)" || rc=$?
  count="$(grep -c '^error' <<<"$out" || true)"
  lines="$(sed -n 's/^ *┌─ .*:\([0-9][0-9]*\):[0-9][0-9]*$/\1/p' <<<"$out" | tr '\n' ' ')"
}

schema_line() { head -n 5 "$1" | grep -m1 '^#:schema ' | sed 's/^#:schema  *//' || true; }

# 1. The files as they are.
files=()
for dir in "${folders[@]}"; do
  [[ -d "$dir" ]] || continue
  depth=()
  [[ "$dir" == . ]] && depth=(-maxdepth 1)
  while IFS= read -r f; do
    [[ -n "$(schema_line "$f")" ]] && files+=("${f#./}")
  done < <(find "$dir" "${depth[@]}" -name '*.toml' -type f -not -path '*/node_modules/*' -not -path '*/target/*' | sort)
done
echo "files with a #:schema line in ${folders[*]}: ${files[*]:-(none)}"

included=()
main_seen=""
for f in "${files[@]}"; do
  schema="$(schema_line "$f")"
  [[ "$f" == identity.toml && "$schema" == ./schemas/identity.schema.json ]] && main_seen=1
  [[ "$schema" == *included.schema.json ]] && included+=("$f")
  lint "$f"
  if [[ $rc -eq 0 && $count -eq 0 ]]; then
    ok "$f is valid against $schema"
  else
    fail "$f against $schema: exit $rc, $count diagnostics"
    echo "$out" | head -n 40
  fi
done
if [[ -n "$main_seen" ]]; then
  ok "identity.toml names its schema: #:schema ./schemas/identity.schema.json"
else
  fail "identity.toml does not start with #:schema ./schemas/identity.schema.json"
fi
if [[ ! -f schemas/included.schema.json ]]; then
  fail "schemas/included.schema.json is missing (the schema of files named by include = [...])"
fi
if [[ ${#included[@]} -gt 0 ]]; then
  ok "included-file examples: ${included[*]}"
else
  fail "no included-file example: expected a *.toml in ${folders[*]} whose #:schema line names schemas/included.schema.json (e.g. examples/clients.d/billing.toml with #:schema ../../schemas/included.schema.json)"
fi

# 2. One mistake, one diagnostic. The copy keeps its path relative to
# schemas/, so its own #:schema line still resolves.
# expect_one NAME FILE LINE_OF_MISTAKE
expect_one() {
  lint "$2"
  if [[ $rc -ne 0 && $count -eq 1 && "$lines" == "$3 " ]]; then
    ok "$1: exactly one diagnostic, line $3: $(grep -m1 '^error' <<<"$out" | cut -c1-140)"
  else
    fail "$1: exit $rc, $count diagnostics (want 1, on line $3; lines: ${lines:-none})"
    grep '^error' <<<"$out" | sort | uniq -c | head -n 10 || true
  fi
}
mirror() { # mirror FILE -> prints the copy's path
  mkdir -p "$work/m/$(dirname "$1")"
  cp -r schemas "$work/m/" 2>/dev/null || true
  cp "$1" "$work/m/$1"
  echo "$work/m/$1"
}

copy="$(mirror identity.toml)"
n="$(grep -n '^issuer = ' "$copy" | head -n1 | cut -d: -f1)"
if [[ -n "$n" ]]; then
  sed -i "${n}s/.*/isuer = \"x\"/" "$copy"
  expect_one 'identity.toml with `isuer = "x"`' "$copy" "$n"
else
  fail "identity.toml has no top-level issuer line to misspell"
fi

copy="$(mirror identity.toml)"
n="$(grep -n '^\[\[clients.secrets\]\]' "$copy" | head -n1 | cut -d: -f1)"
if [[ -n "$n" ]]; then
  sed -i "${n}a secret = \"x\"" "$copy"
  expect_one 'identity.toml with `secret = "x"` in [[clients.secrets]]' "$copy" "$((n + 1))"
else
  fail "identity.toml has no [[clients.secrets]] to break"
fi

if [[ ${#included[@]} -gt 0 ]]; then
  copy="$(mirror "${included[0]}")"
  n="$(grep -n -m1 '^#:schema ' "$copy" | cut -d: -f1)"
  sed -i "${n}a issuer = \"x\"" "$copy"
  expect_one "${included[0]} with a top-level \`issuer = \"x\"\`" "$copy" "$((n + 1))"
else
  fail "included file with a top-level key: not run, no included-file example"
fi

# expect_text NAME PATTERN: the last lint's first diagnostic matches the
# extended regex PATTERN, and none says "anyOf"/"oneOf".
expect_text() {
  local first
  first="$(grep -m1 '^error' <<<"$out" || true)"
  if grep -Eq -- "$2" <<<"$first" && ! grep -q "of the schemas listed" <<<"$out"; then
    ok "$1: $(cut -c1-140 <<<"$first")"
  else
    fail "$1: want /$2/, got: ${first:-no diagnostic}"
  fi
}

# edit_line NAME REGEX REPLACEMENT: a copy of identity.toml with the first
# line matching REGEX replaced; sets $copy and $n (its line).
edit_line() {
  copy="$(mirror identity.toml)"
  n="$(grep -n -m1 -E "$2" "$copy" | cut -d: -f1)"
  if [[ -z "$n" ]]; then
    fail "$1: identity.toml has no line matching $2"
    return 1
  fi
  sed -i "${n}s/.*/$3/" "$copy"
}

if edit_line 'rotate_every = true' '^rotate_every = ' 'rotate_every = true'; then
  expect_one 'identity.toml with `rotate_every = true`' "$copy" "$n"
  expect_text 'a duration of the wrong type says which types' 'is not of types "integer", "string"'
fi
if edit_line 'rotate_every = "1 hour"' '^rotate_every = ' 'rotate_every = "1 hour"'; then
  expect_one 'identity.toml with `rotate_every = "1 hour"`' "$copy" "$n"
  expect_text 'a duration in words says the accepted pattern' 'does not match .*smhd'
fi
if edit_line 'algorithm = "ES257"' '^algorithm = ' 'algorithm = "ES257"'; then
  expect_one 'identity.toml with `algorithm = "ES257"`' "$copy" "$n"
  expect_text 'a wrong algorithm lists the algorithms' 'is not one of .*ES256.*EdDSA.*RS256'
fi
if edit_line 'allowed_scope' '^allowed_scopes = ' 'allowed_scope = ["api1"]'; then
  lint "$copy"
  if [[ $rc -ne 0 && $count -ge 1 && -z "$(tr ' ' '\n' <<<"$lines" | grep -v -x -e "$n" -e '' || true)" ]]; then
    ok "identity.toml with \`allowed_scope\`: $count diagnostic(s), on line $n only"
  else
    fail "identity.toml with \`allowed_scope\`: exit $rc, $count diagnostics, lines ${lines:-none} (want line $n only)"
  fi
  expect_text 'a misspelt key names the keys of its table' 'unknown key.*allowed_scopes'
fi

echo "editor: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
