"""Get an access token from tollgate with Authlib and a client secret.

    pip install authlib requests
    python authlib_client_secret.py [ISSUER] [CLIENT_ID] [CLIENT_SECRET] [SCOPE]

Defaults: the quickstart's server and client (http://localhost:5001,
client, secret, api1).
"""
import sys

import requests
from authlib.integrations.requests_client import OAuth2Session

defaults = ["http://localhost:5001", "client", "secret", "api1"]
issuer, client_id, client_secret, scope = (sys.argv[1:] + defaults[len(sys.argv) - 1:])[:4]

# Discovery says where the token endpoint is.
meta = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()

# client_secret_basic (Authlib's default); token_endpoint_auth_method=
# "client_secret_post" sends the secret in the body instead.
session = OAuth2Session(client_id, client_secret, scope=scope)
token = session.fetch_token(meta["token_endpoint"], grant_type="client_credentials")

print(token["token_type"], token["scope"], token["expires_in"])
print(token["access_token"])
