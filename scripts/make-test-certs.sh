#!/usr/bin/env bash
# Makes a throw-away CA and certificates for local clusters and tests (never for production):
#
#   scripts/make-test-certs.sh DIR [NAME ...]
#
# DIR/ca.pem, ca.key          the CA (10-year, EC P-256)
# DIR/NAME.pem, NAME.key      one per NAME (default: n1 n2 n3): serverAuth and clientAuth, SAN 127.0.0.1, ::1 and
#                             localhost and DNS:NAME, for a node's Redis TLS port and (later) its gRPC mTLS
# DIR/admin.pem, admin.key    a client certificate with OU=admin (the admin role of DESIGN §11)
# DIR/client.pem, client.key  a client certificate without a role
# Keys are written mode 0600. Running it again over DIR replaces every file.
set -euo pipefail
dir="${1:?usage: make-test-certs.sh DIR [NAME ...]}"
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(n1 n2 n3)
mkdir -p "$dir"
umask 077
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

key ca
openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/O=elastickv test/CN=elastickv test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem

# issue NAME SUBJECT EXTENSIONS
issue() {
    key "$1"
    openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
    printf '%s\n' "$3" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days 825 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

for name in "${names[@]}"; do
    issue "$name" "/O=elastickv test/CN=$name" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:$name"
done
issue admin "/O=elastickv test/OU=admin/CN=admin" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
issue client "/O=elastickv test/CN=client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
rm -f ca.srl
chmod 644 ./*.pem
echo "make-test-certs: CA and certificates for ${names[*]} admin client in $dir"
