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

# 5. identity.toml with that key and a client ("client", secret "secret"),
#    on port 5003 beside the quickstart's 5001; checked (this logs in to
#    the token and finds the key, as serve does).
hash=$(echo secret | "$tollgate" hash-secret)
cat > identity.toml <<TOML
issuer = "http://localhost:5003"

[server]
listen = "127.0.0.1:5003"

$entry

[[api_scopes]]
name = "api1"

[[clients]]
client_id = "client"
allowed_scopes = ["api1"]

[[clients.secrets]]
hash = "$hash"
TOML
"$tollgate" check --config identity.toml

# 6. What is in the token: the private key's Access line says
#    "sensitive, always sensitive, never extractable, local".
pkcs11-tool --module "$module" --token-label tollgate --login --pin 1234 \
  --list-objects --type privkey

# 7. Serve it (Ctrl-C to stop); /.well-known/jwks.json publishes the key.
#    A token, in another terminal:
#      curl -s -u client:secret -d grant_type=client_credentials localhost:5003/connect/token
#    Serving again later, from a new shell, in this folder: SoftHSM2 finds
#    the token only through the same configuration file, so
#      export SOFTHSM2_CONF=$PWD/softhsm2.conf
#    before `tollgate serve --config identity.toml`.
if [[ ${SERVE:-1} == 1 ]]; then
  "$tollgate" serve --config identity.toml
fi
