#!/usr/bin/env bash
# Long modes of the reliability tests: 100 SIGKILL rounds, a 60 s load run
# with 200 clients (figures appended to .cache/load-report.md), and a longer
# fuzz pass. Loopback only; bounded in time and count.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
mkdir -p .cache
go test -v -count=1 -timeout 60m -run TestCrashConsistency ./internal/reliability/ -args -rounds=100 | tail -5
go test -v -count=1 -timeout 10m -run TestLoad ./internal/reliability/ -args -load-duration=60s -load-clients=200 -load-report="$repo/.cache/load-report.md" | tail -12
FUZZTIME="${FUZZTIME:-60s}" bash deploy/dev/fuzz.sh
