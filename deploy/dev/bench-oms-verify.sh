#!/usr/bin/env bash
# Times `modelgraph verify model` against the reference `model_signing verify`
# on the same key-signed models (signed by model_signing), warm page cache,
# best of N runs each. Prints a Markdown table for docs/performance.md.
#
#   deploy/dev/bench-oms-verify.sh [runs]   (MODELGRAPH_MODEL_SIGNING_PY, else install)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUNS="${1:-3}"
PY="${MODELGRAPH_MODEL_SIGNING_PY:-$("$REPO/deploy/dev/install-model-signing.sh")}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$REPO" && go build -o "$WORK/modelgraph" ./cmd/modelgraph)
MG="$WORK/modelgraph"
"$PY" - "$WORK/key.pem" "$WORK/key.pub" <<'PYEOF'
import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
k = ec.generate_private_key(ec.SECP256R1())
open(sys.argv[1], "wb").write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
open(sys.argv[2], "wb").write(k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
PYEOF

# make_model DIR FILES SIZE_MIB: FILES files of SIZE_MIB MiB of random data.
make_model() {
	mkdir -p "$1"
	for i in $(seq 1 "$2"); do
		head -c "$(($3 << 20))" /dev/urandom >"$1/shard-$i.bin"
	done
	echo '{"hidden_size": 64}' >"$1/config.json"
}

best() { # best wall seconds of RUNS runs of "$@"
	local b=""
	for _ in $(seq 1 "$RUNS"); do
		local s e
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; return 1; }
		e=$(date +%s.%N)
		b=$(echo "$s $e ${b:-999999}" | awk '{d=$2-$1; print (d<$3)?d:$3}')
	done
	printf '%.2f' "$b"
}

echo "| model | files | size | model_signing verify (s) | modelgraph verify model (s) | speed-up |"
echo "| --- | --- | --- | --- | --- | --- |"
for spec in "small 2 1" "medium 4 64" "large 8 128"; do
	set -- $spec
	dir="$WORK/$1"
	make_model "$dir" "$2" "$3"
	sig="$WORK/$1.sig"
	"$PY" -m model_signing sign key "$dir" --private_key "$WORK/key.pem" --signature "$sig" >/dev/null 2>&1
	cat "$dir"/* >/dev/null # warm the page cache
	ref=$(best "$PY" -m model_signing verify key "$dir" --signature "$sig" --public_key "$WORK/key.pub")
	ours=$(best "$MG" verify model "$dir" --signature "$sig" --public-key "$WORK/key.pub")
	echo "| $1 | $(($2 + 1)) | $(($2 * $3)) MiB | $ref | $ours | $(echo "$ref $ours" | awk '{printf "%.1f×", $1/$2}') |"
	rm -rf "$dir"
done
