#!/bin/sh
# tollgate's endpoints with curl: discovery, a token with a client secret
# (Basic, then in the body), the JWKS that validates it.
#
#   curl.sh [ISSUER] [CLIENT_ID] [CLIENT_SECRET] [SCOPE]
#
# Defaults: the quickstart's server and client.
set -eu
issuer="${1:-http://localhost:5001}"
client_id="${2:-client}"
client_secret="${3:-secret}"
scope="${4:-api1}"

# Discovery (RFC 8414 / OpenID Connect Discovery).
curl -sS --fail-with-body "$issuer/.well-known/openid-configuration"
echo

# client_secret_basic. curl -u sends id and secret as they are, which is
# right for ids and secrets of unreserved characters (what
# `tollgate hash-secret --generate` makes).
curl -sS --fail-with-body -u "$client_id:$client_secret" \
  -d grant_type=client_credentials -d "scope=$scope" \
  "$issuer/connect/token"
echo

# client_secret_post: the same, in the form body.
curl -sS --fail-with-body \
  -d grant_type=client_credentials -d "scope=$scope" \
  --data-urlencode "client_id=$client_id" --data-urlencode "client_secret=$client_secret" \
  "$issuer/connect/token"
echo

# The public keys any API uses to validate the tokens.
curl -sS --fail-with-body "$issuer/.well-known/jwks.json"
echo
