#!/bin/sh
# Token exchange (RFC 8693) with curl: a client gets a token for the orders
# API; the orders service, acting for that client, exchanges it for a token
# to the inventory API, then shows who the new token is for and who acts.
#
#   token_exchange.sh ISSUER CLIENT_ID CLIENT_SECRET SERVICE_ID SERVICE_SECRET SCOPE RESOURCE
set -eu
issuer="$1"; client_id="$2"; client_secret="$3"
service_id="$4"; service_secret="$5"; scope="$6"; resource="$7"

# 1. The caller's token, for the orders API (its scope's resource).
subject_token="$(curl -sS --fail-with-body -u "$client_id:$client_secret" \
  -d grant_type=client_credentials -d "scope=$scope" "$issuer/connect/token" |
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"

# 2. The orders service exchanges it for a token to the inventory API.
response="$(curl -sS --fail-with-body -u "$service_id:$service_secret" \
  -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \
  -d "subject_token=$subject_token" \
  -d subject_token_type=urn:ietf:params:oauth:token-type:access_token \
  --data-urlencode "resource=$resource" \
  "$issuer/connect/token")"
echo "$response"

# 3. Its claims: sub is still the caller, act names the orders service.
echo "$response" | sed -n 's/.*"access_token":"[^.]*\.\([^.]*\)\..*/\1/p' |
  tr '_-' '/+' | { read -r p; printf '%s%s' "$p" "$(printf '%*s' $(((4 - ${#p} % 4) % 4)) '' | tr ' ' '=')"; } |
  base64 -d
echo
