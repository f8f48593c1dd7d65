"""Authlib's token introspection client (RFC 7662, OAuth2Session.introspect_token)
authenticated as an API resource, with client_secret_basic and
client_secret_post: a fresh token granted one of the resource's scopes is
active (its aud holds the resource's name), a token for another audience
and a garbage token are {"active": false}, a wrong resource secret is 401
invalid_client.

    python_introspect.py ISSUER CLIENT_ID CLIENT_SECRET SCOPE RESOURCE RESOURCE_SECRET OTHER_SCOPE
"""
import sys
import time

import requests
from authlib.integrations.requests_client import OAuth2Session

issuer, client_id, client_secret, scope, resource, resource_secret, other_scope = sys.argv[1:8]
meta = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
url = meta["introspection_endpoint"]
assert url == f"{issuer}/connect/introspect", meta


def token_for(wanted):
    session = OAuth2Session(client_id, client_secret, scope=wanted,
                            token_endpoint_auth_method="client_secret_post")
    return session.fetch_token(meta["token_endpoint"], grant_type="client_credentials")


fresh = token_for(scope)["access_token"]
other = token_for(other_scope)["access_token"]
for method in ("client_secret_basic", "client_secret_post"):
    api = OAuth2Session(resource, resource_secret, token_endpoint_auth_method=method)

    answer = api.introspect_token(url, token=fresh)
    assert answer.status_code == 200, (answer.status_code, answer.text)
    info = answer.json()
    assert info["active"] is True, info
    aud = info["aud"] if isinstance(info["aud"], list) else [info["aud"]]
    assert resource in aud, info
    assert info["client_id"] == info["sub"] == client_id, info
    assert info["scope"] == scope and info["iss"] == issuer, info
    assert info["token_type"] == "Bearer", info
    assert info["iat"] <= time.time() + 30 < info["exp"] + 30, info

    for name, token in (("another audience's token", other), ("garbage", "not-a-token")):
        answer = api.introspect_token(url, token=token)
        assert answer.status_code == 200 and answer.json() == {"active": False}, \
            (name, answer.status_code, answer.text)
    print(f"python: Authlib introspect_token ({method}) as resource {resource!r} ok")

wrong = OAuth2Session(resource, resource_secret + "x").introspect_token(url, token=fresh)
assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client", \
    (wrong.status_code, wrong.text)
print("python: introspection with a wrong resource secret is invalid_client")
