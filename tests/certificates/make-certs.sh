#!/bin/sh
# Test certificates for mutual TLS with tollgate, made with openssl:
# the server's own HTTPS certificate; a company CA and a client certificate
# it signs (for tls_client_auth_subject_dn); a SPIFFE trust domain's CA and
# an X.509-SVID such as SPIRE issues (for tls_client_auth_san_uri).
#
#   make-certs.sh DIR
set -eu
mkdir -p "$1"
cd "$1"
ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"

# The server's HTTPS certificate (self-signed here; cert-manager's in
# production), not a CA, so that rustls clients accept it as a leaf.
openssl req -x509 $ec -days 30 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -addext "basicConstraints=critical,CA:FALSE" \
  -keyout server.key -out server.pem

# A company CA: [server.tls] client_ca = "clients-ca.pem".
openssl req -x509 $ec -days 365 -subj "/O=Acme/CN=Acme Clients CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout clients-ca.key -out clients-ca.pem

# A client certificate it signs, for the subject
# CN=ledger.acme.test,OU=Finance,O=Acme,C=US.
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' > client.ext
openssl req -new $ec -subj "/C=US/O=Acme/OU=Finance/CN=ledger.acme.test" \
  -keyout ledger.key -out ledger.csr
openssl x509 -req -in ledger.csr -CA clients-ca.pem -CAkey clients-ca.key \
  -days 30 -extfile client.ext -out ledger.pem

# A SPIFFE trust domain's CA: its bundle, [[trust_domains]] bundle_file.
openssl req -x509 $ec -days 365 -subj "/O=SPIFFE/CN=example.org" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectAltName=URI:spiffe://example.org" \
  -keyout example.org.key -out example.org.pem

# An X.509-SVID: exactly one URI SAN, the workload's SPIFFE ID.
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth,serverAuth\nsubjectAltName=URI:spiffe://example.org/ns/payments/sa/api\n' > svid.ext
openssl req -new $ec -subj "/O=SPIRE" -keyout svid.key -out svid.csr
openssl x509 -req -in svid.csr -CA example.org.pem -CAkey example.org.key \
  -days 1 -extfile svid.ext -out svid.pem
