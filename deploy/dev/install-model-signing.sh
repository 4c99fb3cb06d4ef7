#!/usr/bin/env bash
# Installs the sigstore model_signing CLI into a private venv for the OMS
# interop tests and prints the venv's python. Safe to run repeatedly: when the
# pinned version is already there it only prints the path.
#
#   export MODELGRAPH_MODEL_SIGNING_PY="$(deploy/dev/install-model-signing.sh)"
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/venv.sh"

# Newest release that installs here (pip index versions model-signing).
MODEL_SIGNING_VERSION="${MODEL_SIGNING_VERSION:-1.1.1}"
PYOPENSSL_VERSION="${PYOPENSSL_VERSION:-26.4.0}"

CACHE="${MODELGRAPH_CACHE:-$(cd "$here/../.." && pwd)/.cache}"

# The CLI must start.
venv_check() { "$1" -m model_signing --help >/dev/null; }

# model-signing 1.1.1 imports OpenSSL (certificate verifier) without
# declaring pyOpenSSL as a dependency.
venv_install model-signing "$CACHE/model-signing-venv" \
	"model-signing==$MODEL_SIGNING_VERSION" "pyopenssl==$PYOPENSSL_VERSION"
