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
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/venv.sh"

# Newest release (pip index versions spdx3-validate).
SPDX3_VALIDATE_VERSION="${SPDX3_VALIDATE_VERSION:-0.0.7}"

CACHE="${MODELGRAPH_CACHE:-$(cd "$here/../.." && pwd)/.cache}"

# The validator must start.
venv_check() { "$1" -c 'import spdx3_validate.main' >/dev/null; }

venv_install spdx3-validate "$CACHE/spdx3-validate-venv" "spdx3-validate==$SPDX3_VALIDATE_VERSION"
