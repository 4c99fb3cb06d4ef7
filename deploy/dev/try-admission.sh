#!/usr/bin/env bash
# Try modelgraph's Kubernetes admission webhook in one command, on a local
# control plane: a real kube-apiserver + etcd on 127.0.0.1 (no nodes, so
# nothing is scheduled; admission is all the API server's), modelgraph
# `serve --demo` with the webhook, the shipped webhook configuration, and
# a few workloads created against the demo supply chain.
#
#   bash deploy/dev/try-admission.sh         start, register, show decisions
#   bash deploy/dev/try-admission.sh stop    stop everything it started
#
# State in .cache/try-admission (kubeconfig there for kubectl, if you have
# one). The first run builds kube-apiserver (minutes; cached).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
state="${MODELGRAPH_CACHE:-$repo/.cache}/try-admission"

stop() {
  bash "$here/kube-apiserver.sh" stop "$state/kube" || true
  if [ -f "$state/modelgraph.pid" ]; then kill "$(cat "$state/modelgraph.pid")" 2>/dev/null || true; rm -f "$state/modelgraph.pid"; fi
}
if [ "${1:-}" = stop ]; then stop; exit 0; fi
stop
mkdir -p "$state"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

bash "$here/webhook-certs.sh" "$state/certs" 2>/dev/null
# The API server authenticates to the webhook with a client certificate.
KUBE_WEBHOOK_CLIENT_CERT="$state/certs/client.crt" KUBE_WEBHOOK_CLIENT_KEY="$state/certs/client.key" \
  bash "$here/kube-apiserver.sh" start "$state/kube"
# shellcheck disable=SC1091
. "$state/kube/env"

(cd "$repo" && CGO_ENABLED=0 go build -o "$state/modelgraph" ./cmd/modelgraph)
api_port="$(free_port)"; wh_port="$(free_port)"
rm -rf "$state/data"
"$state/modelgraph" serve --demo --data-dir "$state/data" --listen "127.0.0.1:$api_port" \
  --admission-listen "127.0.0.1:$wh_port" \
  --admission-tls-cert "$state/certs/tls.crt" --admission-tls-key "$state/certs/tls.key" \
  --admission-client-ca "$state/certs/ca.crt" \
  >"$state/modelgraph.log" 2>&1 &
echo $! >"$state/modelgraph.pid"
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$api_port/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done

k() { # method path [json]
  curl -sS --cacert "$KUBE_CA" -H "Authorization: Bearer $KUBE_TOKEN" -H 'Content-Type: application/json' \
    -X "$1" "$KUBE_URL$2" ${3:+-d "$3"} -D "$state/last-headers" -o "$state/last-body" -w '%{http_code}'
}

# The shipped configuration (deploy/k8s/admission/webhook.yaml) with a URL
# on 127.0.0.1 instead of the in-cluster Service.
ca="$(cat "$state/certs/ca.b64")"
hooks=""
for mode in enforce warn audit; do
  failure=Ignore; [ "$mode" = enforce ] && failure=Fail
  hooks="$hooks${hooks:+,}{\"name\":\"$mode.admission.modelgraph.dev\",\"admissionReviewVersions\":[\"v1\"],\"sideEffects\":\"NoneOnDryRun\",\"failurePolicy\":\"$failure\",\"timeoutSeconds\":5,
   \"clientConfig\":{\"url\":\"https://127.0.0.1:$wh_port/validate/$mode\",\"caBundle\":\"$ca\"},
   \"namespaceSelector\":{\"matchExpressions\":[{\"key\":\"modelgraph.dev/admission\",\"operator\":\"In\",\"values\":[\"$mode\"]},{\"key\":\"kubernetes.io/metadata.name\",\"operator\":\"NotIn\",\"values\":[\"kube-system\",\"modelgraph\"]}]},
   \"rules\":[{\"apiGroups\":[\"\"],\"apiVersions\":[\"v1\"],\"operations\":[\"CREATE\",\"UPDATE\"],\"resources\":[\"pods\"]},
              {\"apiGroups\":[\"apps\"],\"apiVersions\":[\"v1\"],\"operations\":[\"CREATE\",\"UPDATE\"],\"resources\":[\"deployments\",\"statefulsets\",\"daemonsets\",\"replicasets\"]},
              {\"apiGroups\":[\"batch\"],\"apiVersions\":[\"v1\"],\"operations\":[\"CREATE\",\"UPDATE\"],\"resources\":[\"jobs\",\"cronjobs\"]}]}"
done
k POST /apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations \
  "{\"apiVersion\":\"admissionregistration.k8s.io/v1\",\"kind\":\"ValidatingWebhookConfiguration\",\"metadata\":{\"name\":\"modelgraph\"},\"webhooks\":[$hooks]}" >/dev/null
for ns in enforce warn; do
  k POST /api/v1/namespaces "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"demo-$ns\",\"labels\":{\"modelgraph.dev/admission\":\"$ns\"}}}" >/dev/null
done
sleep 2 # the API server loads webhook configurations asynchronously

deploy() { # namespace name model
  echo "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"$2\"},\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"$2\"}},
   \"template\":{\"metadata\":{\"labels\":{\"app\":\"$2\"}},\"spec\":{\"containers\":[{\"name\":\"vllm\",\"image\":\"vllm/vllm-openai:v0.9\",\"args\":[\"--model\",\"$3\"]}]}}}}"
}
show() { # namespace name model
  local code
  code="$(k POST "/apis/apps/v1/namespaces/$1/deployments" "$(deploy "$@")")"
  echo "== Deployment $2 in $1 running $3: HTTP $code"
  if [ "$code" = 201 ]; then echo "   created"; else python3 -c 'import json,sys; print("   " + json.load(open(sys.argv[1]))["message"])' "$state/last-body"; fi
  grep -i '^warning:' "$state/last-headers" | sed 's/^/   /' || true
}
show demo-enforce chat acme/llm-7b-chat-q4
show demo-enforce unknown hf://nobody/unknown-model
show demo-warn chat acme/llm-7b-chat-q4

cat >"$state/kubeconfig" <<KCFG
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "$KUBE_URL", certificate-authority: "$KUBE_CA"}}]
users: [{name: admin, user: {token: "$KUBE_TOKEN"}}]
contexts: [{name: local, context: {cluster: local, user: admin}}]
current-context: local
KCFG
cat <<MSG

API server:   $KUBE_URL   (KUBECONFIG=$state/kubeconfig)
modelgraph:   http://127.0.0.1:$api_port/ui   (the demo graph; decisions are recorded as deployment records)
webhook:      https://127.0.0.1:$wh_port/validate/{enforce,warn,audit}
stop with:    bash deploy/dev/try-admission.sh stop
MSG
