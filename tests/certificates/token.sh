#!/bin/sh
# Tokens over mutual TLS with curl: the client presents its certificate in
# the TLS handshake and names itself with client_id (RFC 8705 §2); no
# secret. DIR is the folder make-certs.sh filled (default: this one).
#
#   token.sh ISSUER [DIR]
set -eu
issuer="$1"
cd "${2:-.}"

# tls_client_auth through the company CA (the ledger client's subject DN).
curl -sS --fail-with-body --cacert server.pem --cert ledger.pem --key ledger.key \
  -d grant_type=client_credentials -d client_id=ledger \
  "$issuer/connect/token"
echo

# An X.509-SVID through its trust domain's bundle.
curl -sS --fail-with-body --cacert server.pem --cert svid.pem --key svid.key \
  -d grant_type=client_credentials -d client_id=payments \
  "$issuer/connect/token"
echo
