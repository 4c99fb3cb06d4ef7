#!/usr/bin/env bash
# Generates a CA and a serving certificate for modelgraph's admission
# webhook (docs/admission.md), for tests and for a local cluster without
# cert-manager.
#
#   webhook-certs.sh DIR [SAN...]
#
# Writes DIR/ca.crt, DIR/ca.key, DIR/tls.crt, DIR/tls.key, DIR/ca.b64
# (the base64 CA bundle for the ValidatingWebhookConfiguration's
# caBundle) and DIR/client.crt, DIR/client.key (a client certificate for
# the API server when serve runs with --admission-client-ca DIR/ca.crt). The serving certificate names 127.0.0.1, localhost and the
# in-cluster service modelgraph-webhook.modelgraph.svc by default; extra
# arguments add DNS names or IP addresses. An existing CA in DIR is kept
# (so a caBundle already registered stays valid); the serving certificate
# is renewed on every run. Valid 365 days.
set -euo pipefail
dir="${1:?usage: webhook-certs.sh DIR [SAN...]}"
shift
mkdir -p "$dir"
cd "$dir"

sans="IP:127.0.0.1,DNS:localhost,DNS:modelgraph-webhook.modelgraph.svc,DNS:modelgraph-webhook.modelgraph.svc.cluster.local"
for s in "$@"; do
  if [[ "$s" =~ ^[0-9.]+$ || "$s" == *:*:* ]]; then sans="$sans,IP:$s"; else sans="$sans,DNS:$s"; fi
done

if [ ! -f ca.key ] || [ ! -f ca.crt ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -out ca.crt -days 3650 -subj "/CN=modelgraph-webhook-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout tls.key.new -out tls.csr -subj "/CN=modelgraph-webhook" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n' "$sans" > tls.ext
openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
  -out tls.crt.new -days 365 -extfile tls.ext 2>/dev/null
chmod 600 ca.key tls.key.new
# Key first, then certificate: a reader that sees the new certificate
# finds its key already in place.
mv tls.key.new tls.key
mv tls.crt.new tls.crt
# A client certificate for the API server, for serve --admission-client-ca
# (docs/admission.md, "Security notes").
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout client.key -out client.csr -subj "/CN=kube-apiserver-admission-client" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n' > client.ext
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
  -out client.crt -days 365 -extfile client.ext 2>/dev/null
chmod 600 client.key
rm -f tls.csr tls.ext client.csr client.ext ca.srl
base64 -w0 < ca.crt > ca.b64
echo "webhook-certs.sh: wrote $(pwd)/{ca.crt,tls.crt,tls.key,ca.b64,client.crt,client.key} for $sans" >&2
