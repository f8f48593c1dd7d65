"""Authlib does the whole authorization code flow against tollgate: PKCE
S256, state and nonce, the code redeemed with client_secret_basic, the id
token validated by Authlib's own OpenID Connect rules (signature by the
JWKS, iss, aud, exp, nonce, at_hash), userinfo, a refresh-token rotation
(the old one refused after), and revocation (RFC 7009). A person signs
in through tollgate's own form (browser_form.py plays the browser)."""
import sys
from urllib.parse import parse_qs, urlparse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

from browser_form import sign_in

issuer, client_id, client_secret, username, password = sys.argv[1:6]
meta = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
assert "code" in meta["response_types_supported"], meta
assert meta["authorization_response_iss_parameter_supported"] is True, meta
redirect_uri = "http://127.0.0.1:8765/callback"

session = OAuth2Session(client_id, client_secret,
                        scope="openid profile email offline_access api1",
                        redirect_uri=redirect_uri,
                        code_challenge_method="S256",
                        token_endpoint_auth_method="client_secret_basic")
verifier = generate_token(64)
nonce = generate_token(20)
url, state = session.create_authorization_url(meta["authorization_endpoint"],
                                              code_verifier=verifier, nonce=nonce)
back = sign_in(url, username, password, redirect_uri)
query = parse_qs(urlparse(back).query)
assert query["state"] == [state], query
assert query["iss"] == [issuer], query  # RFC 9207
token = session.fetch_token(meta["token_endpoint"], authorization_response=back,
                            code_verifier=verifier)
assert token["token_type"].lower() == "bearer", token
assert "refresh_token" in token and "id_token" in token, sorted(token)

jwks = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
claims = jwt.decode(token["id_token"], jwks, claims_cls=CodeIDToken,
                    claims_options={"iss": {"values": [issuer]}, "aud": {"values": [client_id]}},
                    claims_params={"nonce": nonce, "client_id": client_id,
                                   "access_token": token["access_token"]})
claims.validate()  # exp, iat, auth_time, nonce, at_hash
assert claims["sub"] == username, claims
assert claims["preferred_username"] == username, claims
print(f"python: Authlib code flow ok, id token for {claims['sub']} ({claims.get('email')})")

info = session.get(meta["userinfo_endpoint"]).json()
assert info["sub"] == username and "email" in info, info

old_refresh = token["refresh_token"]
rotated = session.refresh_token(meta["token_endpoint"], refresh_token=old_refresh)
assert rotated["refresh_token"] != old_refresh, rotated
again = requests.post(meta["token_endpoint"], auth=(client_id, client_secret), timeout=10,
                      data={"grant_type": "refresh_token", "refresh_token": old_refresh})
assert again.status_code == 400 and again.json()["error"] == "invalid_grant", again.text
print("python: Authlib refresh rotation ok; a reused refresh token is invalid_grant")

revoked = session.revoke_token(meta["revocation_endpoint"], rotated["access_token"],
                               token_type_hint="access_token")
assert revoked.status_code == 200, revoked.text
print("python: Authlib revocation ok")
