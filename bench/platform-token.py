#!/usr/bin/env python3
"""A Kubernetes-shaped service-account token and the platform's JWKS (for
the federated row of the benchmark):

  bench/platform-token.py --aud http://127.0.0.1:5201 --jwks OUT.json --token OUT.jwt

Needs PyJWT with cryptography."""
import argparse
import base64
import json
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aud", required=True)
    ap.add_argument("--jwks", required=True)
    ap.add_argument("--token", required=True)
    a = ap.parse_args()
    key = ec.generate_private_key(ec.SECP256R1())
    n = key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "kid": "cluster-1", "alg": "ES256",
           "x": b64u(n.x.to_bytes(32, "big")), "y": b64u(n.y.to_bytes(32, "big"))}
    json.dump({"keys": [jwk]}, open(a.jwks, "w"))
    now = int(time.time())
    claims = {"iss": "https://kubernetes.default.svc.cluster.local", "aud": [a.aud],
              "sub": "system:serviceaccount:billing:worker", "iat": now, "nbf": now, "exp": now + 3600,
              "kubernetes.io": {"namespace": "billing", "serviceaccount": {"name": "worker"}}}
    open(a.token, "w").write(jwt.encode(claims, key, algorithm="ES256", headers={"kid": "cluster-1"}))


if __name__ == "__main__":
    main()
