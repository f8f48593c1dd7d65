"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by run.sh).

POST /connect/token has cross-field rules that the OpenAPI document states
only in the fields' descriptions, its schema declaring every field as an
independent string: `client_assertion` and `client_assertion_type` go
together, the type has one value (RFC 7521 §4.2), and an assertion plus a
`client_secret` is two authentication methods. Such a request is 400
invalid_request, which schemathesis counts as a schema-valid request
rejected. So a generated body that carries either assertion field carries
both, the type being the jwt-bearer URN, and no `client_secret`: it still
reaches client authentication with an arbitrary assertion (401
invalid_client), and every check still runs on every operation.

The JWT bearer grant (RFC 7523 §2.1) answers every assertion that proves no
client with the grant's own 400 invalid_grant, never 401, so a generated
one (a random `assertion`) is always "rejected" in schemathesis' terms. Such
bodies are sent as client_credentials without the `assertion` field; the
grant itself is tested in tests/it/assertion_grant.rs.
"""
import schemathesis

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def teach(body):
    """The token endpoint's cross-field rules, applied to a generated body."""
    if isinstance(body, dict) and body.get("grant_type") == JWT_BEARER_GRANT:
        body["grant_type"] = "client_credentials"
        body.pop("assertion", None)
    if isinstance(body, dict) and (body.get("client_assertion") or body.get("client_assertion_type")):
        body["client_assertion_type"] = JWT_BEARER
        if not isinstance(body.get("client_assertion"), str) or not body["client_assertion"]:
            body["client_assertion"] = "not-a-jwt"
        body.pop("client_secret", None)
    return body


@schemathesis.hook.apply_to(path="/connect/token", method="POST")
def map_body(ctx, body):
    return teach(body)


# The coverage phase builds its cases without map_body: the same rules,
# just before each request.
@schemathesis.hook
def before_call(ctx, case, kwargs):
    if case.operation.path == "/connect/token" and case.method.upper() == "POST":
        teach(case.body)
