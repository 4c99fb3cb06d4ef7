#!/usr/bin/env bash
# Installs the sigstore model_signing CLI into a private venv for the OMS
# interop tests and prints the venv's python. Safe to run repeatedly: when the
# pinned version is already there it only prints the path.
#
#   export MODELGRAPH_MODEL_SIGNING_PY="$(deploy/dev/install-model-signing.sh)"
set -euo pipefail

# Newest release that installs here (pip index versions model-signing).
MODEL_SIGNING_VERSION="${MODEL_SIGNING_VERSION:-1.1.1}"
PYOPENSSL_VERSION="${PYOPENSSL_VERSION:-26.4.0}"

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${MODELGRAPH_CACHE:-$REPO/.cache}"
VENV="$CACHE/model-signing-venv"
PY="$VENV/bin/python"

installed_versions() {
	"$PY" - <<'PY' 2>/dev/null
from importlib.metadata import version
print(version("model-signing"), version("pyopenssl"))
PY
}

if [[ -x "$PY" ]] && [[ "$(installed_versions || true)" == "$MODEL_SIGNING_VERSION $PYOPENSSL_VERSION" ]]; then
	echo "$PY"
	exit 0
fi

PYTHON="${PYTHON:-$(command -v python3 || true)}"
if [[ -z "$PYTHON" ]]; then
	echo "install-model-signing: python3 not found" >&2
	exit 1
fi
mkdir -p "$CACHE"
if [[ ! -x "$PY" ]]; then
	"$PYTHON" -m venv "$VENV" >&2
fi
# model-signing 1.1.1 imports OpenSSL (certificate verifier) without
# declaring pyOpenSSL as a dependency.
"$PY" -m pip install --quiet --disable-pip-version-check \
	"model-signing==$MODEL_SIGNING_VERSION" "pyopenssl==$PYOPENSSL_VERSION" >&2
# Fail here, not in a test, when the CLI cannot start.
"$PY" -m model_signing --help >/dev/null
echo "$PY"
