#!/usr/bin/env bash
# Regenerates the emulator's test-only TLS material: a CA valid for 100 years
# and a server certificate for 127.0.0.1, ::1 and localhost signed by it.
# The CA key is thrown away on purpose: nobody can mint more certificates
# that this committed, public CA would vouch for.
set -euo pipefail

cd "$(dirname "$0")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

days=36500

cat > "$work/ca.cnf" <<'CNF'
[req]
distinguished_name = dn
x509_extensions = v3_ca
prompt = no
[dn]
CN = vbem.enterprise_manager emulator test CA
O = vbem.enterprise_manager tests
[v3_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF

cat > "$work/server.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = localhost
O = vbem.enterprise_manager tests
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF

openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days "$days" \
    -keyout "$work/ca-key.pem" -out ca.pem -config "$work/ca.cnf"
openssl req -new -newkey rsa:2048 -nodes -sha256 \
    -keyout server-key.pem -out "$work/server.csr" -config "$work/server.cnf"
openssl x509 -req -sha256 -days "$days" -in "$work/server.csr" \
    -CA ca.pem -CAkey "$work/ca-key.pem" -set_serial "0x$(openssl rand -hex 16)" \
    -extfile "$work/server.cnf" -extensions v3_server -out server.pem
chmod 0644 ca.pem server.pem server-key.pem
openssl verify -x509_strict -CAfile ca.pem server.pem
