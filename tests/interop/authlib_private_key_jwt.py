"""Get an access token from tollgate with Authlib and private_key_jwt: the
client signs a short JWT with its own key; identity.toml holds only the
public key. The key is the ES256 PEM file that

    tollgate keys client --out reports.pem

wrote (it prints the `jwks = ...` line for the client's [[clients]] entry).

    pip install authlib requests
    python authlib_private_key_jwt.py [ISSUER] [CLIENT_ID] [KEY.pem] [SCOPE]

Defaults: http://localhost:5001, reports, reports.pem, api1.
"""
import sys

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
# joserfc is Authlib's JOSE library, installed with it. PrivateKeyJWT given
# the PEM itself reads it as an RSA key and fails on an EC key
# (InvalidKeyTypeError): give it the imported key instead.
from joserfc.jwk import ECKey

defaults = ["http://localhost:5001", "reports", "reports.pem", "api1"]
issuer, client_id, key_file, scope = (sys.argv[1:] + defaults[len(sys.argv) - 1:])[:4]

meta = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
token_endpoint = meta["token_endpoint"]

with open(key_file, "rb") as f:
    key = ECKey.import_key(f.read())

# The assertion's aud is the token endpoint (Authlib's default); a fresh
# assertion, with a new jti, is signed for every token request.
session = OAuth2Session(
    client_id, key, scope=scope,
    token_endpoint_auth_method=PrivateKeyJWT(token_endpoint, alg="ES256"))
token = session.fetch_token(token_endpoint, grant_type="client_credentials")

print(token["token_type"], token["scope"], token["expires_in"])
print(token["access_token"])
