#!/usr/bin/env bash
# Runs every Go fuzz target in the module for FUZZTIME each (default 3s; the
# test command uses a short pass, `make fuzz` a longer one). Seeds from
# testdata run in every plain `go test` too; this explores beyond them.
# New crashers land in the package's testdata/fuzz/ and fail the run.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
fuzztime="${FUZZTIME:-3s}"
total=0
start=$(date +%s)
while IFS= read -r file; do
  dir="./$(dirname "$file")"
  for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+).*/\1/'); do
    echo "fuzz: $dir $target for $fuzztime"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$dir" >/tmp/mg-fuzz.log 2>&1 || { cat /tmp/mg-fuzz.log; echo "fuzz: $dir $target FAILED"; exit 1; }
    total=$((total + 1))
  done
done < <(grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . | grep -v '/.cache/' | sort)
echo "fuzz: $total targets, ${fuzztime} each, $(( $(date +%s) - start ))s in all"
