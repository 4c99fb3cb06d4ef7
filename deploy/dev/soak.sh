#!/usr/bin/env bash
# Long modes of the reliability tests: 100 SIGKILL rounds, a 60 s load run
# with 200 clients (figures appended to .cache/load-report.md), the 60 s
# resource-budget soak (serve in a 2 GiB memory cgroup when the machine
# allows it, else GOMEMLIMIT + an RSS watchdog; 200 clients over a 10k-node
# graph with the hostile mix; figures appended to .cache/soak-report.md),
# and a longer fuzz pass. Loopback only; bounded in time and count.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
mkdir -p .cache
go test -v -count=1 -timeout 60m -run TestCrashConsistency ./internal/reliability/ -args -rounds=100 | tail -5
go test -v -count=1 -timeout 10m -run TestLoad ./internal/reliability/ -args -load-duration=60s -load-clients=200 -load-report="$repo/.cache/load-report.md" | tail -12
go test -v -count=1 -timeout 15m -run TestSoak ./internal/reliability/ -args -soak-duration=60s -soak-clients=200 -soak-nodes=10000 -soak-hostile-deadline=1s -soak-report="$repo/.cache/soak-report.md" | tail -25
FUZZTIME="${FUZZTIME:-60s}" bash deploy/dev/fuzz.sh
# Node identity at soak size: the same documents in hundreds of orders,
# ApplyAll groupings and concurrent writers give one graph, equal to the
# identity rule's model (graph/graphtest/identity.go). Neo4j too when a
# server is given (MODELGRAPH_NEO4J_URI).
MODELGRAPH_IDENTITY_PERMUTATIONS="${IDENTITY_PERMUTATIONS:-400}" go test -count=1 -timeout 30m -run 'TestContract/PermutationsGiveOneGraph' ./graph/embedded/ | tail -2
if [ -n "${MODELGRAPH_NEO4J_URI:-}" ]; then
	MODELGRAPH_IDENTITY_PERMUTATIONS="${IDENTITY_PERMUTATIONS_NEO4J:-120}" go test -count=1 -timeout 30m -run 'TestContract/PermutationsGiveOneGraph' ./graph/neo4j/ | tail -2
fi
