"""Authlib gets a token with client_secret_basic (it does NOT form-encode
the credentials) and with client_secret_post; PyJWT's PyJWKClient validates
both through the JWKS."""
import sys

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session

issuer, client_id, client_secret, scope = sys.argv[1:5]
meta = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
assert meta["issuer"] == issuer, meta

jwks = jwt.PyJWKClient(meta["jwks_uri"])
for method in ("client_secret_basic", "client_secret_post"):
    session = OAuth2Session(client_id, client_secret, scope=scope,
                            token_endpoint_auth_method=method)
    token = session.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    access = token["access_token"]
    header = jwt.get_unverified_header(access)
    assert header["typ"] == "at+jwt", header
    claims = jwt.decode(access, jwks.get_signing_key_from_jwt(access).key,
                        algorithms=["ES256"], issuer=issuer,
                        options={"verify_aud": False, "require": ["exp", "iat", "iss", "sub", "jti"]})
    assert claims["client_id"] == client_id and claims["scope"] == scope, claims
    print(f"python: Authlib ({method}) + PyJWT ok")
