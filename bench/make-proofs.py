#!/usr/bin/env python3
"""Pre-signs DPoP proofs (RFC 9449) for a load test: one a line, each with
its own jti, all with one P-256 key, for POST to --htu.

  bench/make-proofs.py --htu http://127.0.0.1:5201/connect/token --count 300000 --out proofs.txt

The proofs' iat is now: use them within a minute. Needs PyJWT with
cryptography."""
import argparse
import base64
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import ec


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--htu", required=True)
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    key = ec.generate_private_key(ec.SECP256R1())
    n = key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "x": b64u(n.x.to_bytes(32, "big")), "y": b64u(n.y.to_bytes(32, "big"))}
    now = int(time.time())
    with open(a.out, "w") as f:
        for _ in range(a.count):
            claims = {"htm": "POST", "htu": a.htu, "iat": now, "jti": uuid.uuid4().hex}
            f.write(jwt.encode(claims, key, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": jwk}) + "\n")


if __name__ == "__main__":
    main()
