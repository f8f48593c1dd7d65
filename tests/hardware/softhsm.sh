#!/usr/bin/env bash
# Try a signing key that never leaves a token, with SoftHSM2 (Debian/Ubuntu:
# apt-get install softhsm2 opensc). Run in an empty folder:
#   bash softhsm.sh [path/to/tollgate]
# The handbook's "Keys in hardware" page shows this file; tests/it runs it.
set -euo pipefail
tollgate=${1:-tollgate}
module=${SOFTHSM2_MODULE:-/usr/lib/softhsm/libsofthsm2.so}

# 1. A token store of your own (SoftHSM2 reads SOFTHSM2_CONF at start).
mkdir -p tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\n' "$PWD" > softhsm2.conf
export SOFTHSM2_CONF=$PWD/softhsm2.conf

# 2. A token labelled "tollgate", with a user PIN and a security officer PIN.
softhsm2-util --init-token --free --label tollgate --pin 1234 --so-pin 123456

# 3. The PIN in a file only tollgate's user can read (a trailing newline is fine).
(umask 077; echo 1234 > hsm.pin)

# 4. The key pair, made inside the token: the private key is sensitive and
#    not extractable, and no key file is written. The [[keys.signing]]
#    entry is the last three lines.
"$tollgate" keys generate --pkcs11 "$module" --token tollgate --label 2026-12 \
  --pin-file hsm.pin --activate-at now | tee generated.txt
entry=$(tail -n 3 generated.txt)

# 5. identity.toml with that key, checked (this logs in to the token and
#    finds the key, as serve does).
cat > identity.toml <<TOML
$entry

[[api_scopes]]
name = "api1"
TOML
"$tollgate" check --config identity.toml

# 6. What is in the token: the private key's Access line says
#    "sensitive, always sensitive, never extractable, local".
pkcs11-tool --module "$module" --token-label tollgate --login --pin 1234 \
  --list-objects --type privkey

# 7. Serve it (Ctrl-C to stop); /.well-known/jwks.json publishes the key.
if [[ ${SERVE:-1} == 1 ]]; then
  "$tollgate" serve --config identity.toml
fi
