#!/usr/bin/env python3
"""Writes an identity.toml with N clients (for the scale measurements):

  bench/gen-clients.py --clients 100000 --hash '$argon2id$...' --out FILE

Each client has two scopes, one secret (the same hash: each id still needs
its own verification) and half of them a token lifetime; a few API
resources group the scopes."""
import argparse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=100000)
    ap.add_argument("--hash", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--listen", default="127.0.0.1:5301")
    a = ap.parse_args()
    with open(a.out, "w") as f:
        f.write(f'issuer = "http://{a.listen}"\n[server]\nlisten = "{a.listen}"\n\n')
        f.write("[throttle]\nclient_failures = 0\naddress_failures = 0\n\n")
        for s in ("api1", "orders.read", "orders.write", "billing.read"):
            f.write(f'[[api_scopes]]\nname = "{s}"\n\n')
        f.write('[[api_resources]]\nname = "urn:orders"\nscopes = ["orders.read", "orders.write"]\n\n')
        f.write(f'[[clients]]\nclient_id = "client"\nallowed_scopes = ["api1"]\n[[clients.secrets]]\nhash = "{a.hash}"\n\n')
        for i in range(a.clients):
            f.write(f'[[clients]]\nclient_id = "team-{i:06d}"\nallowed_scopes = ["api1", "orders.read"]\n')
            if i % 2:
                f.write('access_token_lifetime = "15m"\n')
            f.write(f'[[clients.secrets]]\nhash = "{a.hash}"\n\n')


if __name__ == "__main__":
    main()
