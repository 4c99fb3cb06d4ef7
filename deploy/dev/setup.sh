#!/usr/bin/env bash
# Installs what modelgraph's tests need on a fresh Debian machine, once:
# Java 17 + Maven (the test Neo4j), libxml2-utils (xmllint for CycloneDX XML
# schema checks), the reference model-signing tool and spdx3-validate (Python
# venvs), staticcheck.
# Idempotent: a second run only checks.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
command -v python3 >/dev/null 2>&1 || need+=(python3 python3-venv)
python3 -c 'import ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} with apt-get" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ -x "$here/install-model-signing.sh" ] || [ -f "$here/install-model-signing.sh" ]; then
  bash "$here/install-model-signing.sh" >/dev/null
fi

# spdx3-validate (PyPI): the SPDX 3 export tests validate against it.
bash "$here/install-spdx3-validate.sh" >/dev/null

bash "$here/install-ui-test-deps.sh"

make -s -C "$repo" "$repo/.cache/bin/staticcheck" >/dev/null

# The admission end-to-end test's kube-apiserver (built once from the Go
# module proxy, cached in .cache/bin) and Debian's etcd-server.
bash "$here/kube-apiserver.sh" etcd >/dev/null
bash "$here/kube-apiserver.sh" build >/dev/null
