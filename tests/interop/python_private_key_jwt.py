"""Authlib's PrivateKeyJWT client authentication (RFC 7523 §2.2) gets tokens
for a client whose identity.toml entry holds only public keys (the `jwks`
line `tollgate keys client` prints), with each key `tollgate keys client`
can make, the assertion's aud being the token endpoint (Authlib's default)
or the issuer; PyJWT's PyJWKClient validates every token through the JWKS.
The assertion Authlib sent is single use: the same request again is
invalid_client.

    python_private_key_jwt.py ISSUER CLIENT_ID SCOPE ALG=KEY.pem...
"""
import sys
import warnings

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey, OKPKey

# joserfc warns on every EdDSA signature since RFC 9864 deprecated the name
# in favour of Ed25519; tollgate (like most servers) knows only EdDSA.
warnings.filterwarnings("ignore", message="EdDSA is deprecated")

issuer, client_id, scope, *keys = sys.argv[1:]
assert keys, "no ALG=KEY.pem given"
meta = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
assert "private_key_jwt" in meta["token_endpoint_auth_methods_supported"], meta
token_endpoint = meta["token_endpoint"]
jwks = jwt.PyJWKClient(meta["jwks_uri"])


def private_key(alg, pem):
    # Authlib's documented form is the PEM itself, which it reads as an RSA
    # key; EC and Ed25519 keys are passed as joserfc key objects (its JOSE
    # library), which PrivateKeyJWT also accepts.
    if alg == "RS256":
        return pem
    if alg == "ES256":
        return ECKey.import_key(pem)
    return OKPKey.import_key(pem)


sent = []
for spec in keys:
    alg, path = spec.split("=", 1)
    assert alg in meta["token_endpoint_auth_signing_alg_values_supported"], (alg, meta)
    with open(path, "rb") as f:
        pem = f.read()
    for aud, claims in (("token endpoint", None), ("issuer", {"aud": issuer})):
        session = OAuth2Session(
            client_id, private_key(alg, pem), scope=scope,
            token_endpoint_auth_method=PrivateKeyJWT(token_endpoint, claims=claims, alg=alg))
        session.hooks["response"].append(lambda r, *a, **k: sent.append(r.request))
        token = session.fetch_token(token_endpoint, grant_type="client_credentials")
        assert token["token_type"] == "Bearer", token
        access = token["access_token"]
        assert jwt.get_unverified_header(access)["typ"] == "at+jwt"
        decoded = jwt.decode(access, jwks.get_signing_key_from_jwt(access).key,
                             algorithms=["ES256"], issuer=issuer,
                             audience=f"{issuer}/resources",
                             options={"require": ["exp", "iat", "iss", "sub", "jti"]})
        assert decoded["client_id"] == decoded["sub"] == client_id, decoded
        assert decoded["scope"] == scope, decoded
        print(f"python: Authlib PrivateKeyJWT ({alg}, aud = {aud}) + PyJWT ok")

# Replay the last assertion Authlib sent, byte for byte.
last = sent[-1]
assert "client_assertion=" in last.body, last.body
again = requests.post(token_endpoint, data=last.body, timeout=10,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
assert again.status_code == 401 and again.json()["error"] == "invalid_client", \
    (again.status_code, again.text)
print("python: a replayed PrivateKeyJWT assertion is invalid_client")
