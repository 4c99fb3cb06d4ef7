#!/usr/bin/env bash
# The whole test run: setup, lint, a real Neo4j for the backend tests, every
# Go test (Neo4j tests included: they fail, not skip, in CI without it), a
# short fuzz pass, then Neo4j is stopped whatever happened.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

bash "$here/setup.sh"
make -s lint

port="${MODELGRAPH_TEST_NEO4J_PORT:-17687}"
export MODELGRAPH_NEO4J_STATE="${MODELGRAPH_NEO4J_STATE:-$repo/.cache/neo4j-test}"
neo="$repo/deploy/neo4j-dev/neo4j-dev.sh"
bash "$neo" stop >/dev/null 2>&1 || true
trap 'bash "$neo" stop >/dev/null 2>&1 || true' EXIT
bash "$neo" start "$port"
export MODELGRAPH_NEO4J_URI="bolt://127.0.0.1:$port"

venv_py="${MODELGRAPH_CACHE:-$repo/.cache}/model-signing-venv/bin/python"
if [ -x "$venv_py" ]; then
  export MODELGRAPH_MODEL_SIGNING_PY="$venv_py"
fi

spdx3_py="${MODELGRAPH_CACHE:-$repo/.cache}/spdx3-validate-venv/bin/python"
if [ -x "$spdx3_py" ]; then
  export MODELGRAPH_SPDX3_VALIDATE_PY="$spdx3_py"
fi

# The real kube-apiserver for internal/k8sadmit's end-to-end test (built
# by setup.sh; the test fails in CI without it).
kube_apiserver="$(bash "$here/kube-apiserver.sh" build)"
export MODELGRAPH_KUBE_APISERVER="$kube_apiserver"

# Packages run in parallel; graph/neo4j's suite resets the Neo4j database,
# so the tests on Neo4j that also reset it (HTTP end-to-end, demo order
# independence) run after, one package at a time.
neo4j_after='^(TestEndToEndNeo4j|TestDemoOrderIndependentNeo4j)$'
go test -count=1 -timeout 20m -skip "$neo4j_after" ./...
go test -count=1 -p 1 -timeout 10m -run "$neo4j_after" ./internal/httpapi/ ./internal/demo/

if [ -f "$here/fuzz.sh" ]; then
  FUZZTIME="${FUZZTIME:-3s}" bash "$here/fuzz.sh"
fi
