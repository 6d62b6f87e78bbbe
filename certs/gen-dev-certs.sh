#!/usr/bin/env bash
# Makes a development CA and a serving certificate for netpol-guard.
#
#   certs/gen-dev-certs.sh OUT_DIR [NAMESPACE] [SERVICE]
#
# Writes OUT_DIR/ca.crt, ca.key, tls.crt, tls.key. The serving certificate's SANs
# cover localhost, 127.0.0.1, ::1 and the in-cluster names the kube-apiserver dials
# (<service>.<namespace>.svc, reference: it verifies against that server name).
# Existing files are kept unless FORCE=1, so a running server is not disturbed.
# For production options see certs/README.md.
set -euo pipefail

out=${1:?usage: gen-dev-certs.sh OUT_DIR [NAMESPACE] [SERVICE]}
ns=${2:-netpol-guard}
svc=${3:-netpol-guard}
days=${DAYS:-365}

mkdir -p "$out"
if [[ -s "$out/tls.crt" && -s "$out/tls.key" && -s "$out/ca.crt" && "${FORCE:-0}" != 1 ]]; then
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A CA of our own: the apiserver trusts it through the webhook's caBundle.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$tmp/ca.key" -out "$tmp/ca.crt" -days "$days" \
  -subj "/O=k8s-security-pro/CN=netpol-guard development CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

cat > "$tmp/ext.cnf" <<CNF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1,DNS:${svc},DNS:${svc}.${ns},DNS:${svc}.${ns}.svc,DNS:${svc}.${ns}.svc.cluster.local
CNF

openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$tmp/tls.key" -out "$tmp/tls.csr" \
  -subj "/O=k8s-security-pro/CN=${svc}.${ns}.svc" 2>/dev/null
openssl x509 -req -in "$tmp/tls.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" \
  -CAcreateserial -days "$days" -extfile "$tmp/ext.cnf" -out "$tmp/tls.crt" 2>/dev/null

chmod 600 "$tmp/ca.key" "$tmp/tls.key"
# Move the key before the certificate: a server that reloads on change then
# never sees a new certificate beside an old key for longer than one rename.
for f in ca.key ca.crt tls.key tls.crt; do mv -f "$tmp/$f" "$out/$f"; done
echo "wrote $out/{ca.crt,ca.key,tls.crt,tls.key} (SANs: localhost, 127.0.0.1, ::1, ${svc}.${ns}.svc)"
