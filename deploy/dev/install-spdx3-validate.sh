#!/usr/bin/env bash
# Installs spdx3-validate (PyPI: SPDX 3 JSON schema + SHACL validation, by
# the SPDX project) into a private venv for the SPDX 3 export tests and
# prints the venv's python. The tests run it offline through
# testdata/spdx3-model/spdx3-validate-offline.py, which serves the SPDX 3.0.1
# context, SHACL model and JSON schema from testdata. Safe to run
# repeatedly: when the pinned version is already there it only prints the
# path.
#
#   export MODELGRAPH_SPDX3_VALIDATE_PY="$(deploy/dev/install-spdx3-validate.sh)"
set -euo pipefail

# Newest release (pip index versions spdx3-validate).
SPDX3_VALIDATE_VERSION="${SPDX3_VALIDATE_VERSION:-0.0.7}"

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${MODELGRAPH_CACHE:-$REPO/.cache}"
VENV="$CACHE/spdx3-validate-venv"
PY="$VENV/bin/python"

installed_version() {
	"$PY" - <<'PY' 2>/dev/null
from importlib.metadata import version
print(version("spdx3-validate"))
PY
}

if [[ -x "$PY" ]] && [[ "$(installed_version || true)" == "$SPDX3_VALIDATE_VERSION" ]]; then
	echo "$PY"
	exit 0
fi

PYTHON="${PYTHON:-$(command -v python3 || true)}"
if [[ -z "$PYTHON" ]]; then
	echo "install-spdx3-validate: python3 not found" >&2
	exit 1
fi
mkdir -p "$CACHE"
if [[ ! -x "$PY" ]]; then
	"$PYTHON" -m venv "$VENV" >&2
fi
"$PY" -m pip install --quiet --disable-pip-version-check "spdx3-validate==$SPDX3_VALIDATE_VERSION" >&2
# Fail here, not in a test, when the validator cannot start.
"$PY" -c 'import spdx3_validate.main' >/dev/null
echo "$PY"
