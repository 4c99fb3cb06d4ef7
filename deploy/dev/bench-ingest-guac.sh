#!/usr/bin/env bash
# Bulk ingest beside GUAC v1.1.0 on the 20x corpus (docs/performance.md, the
# "Bulk ingest vs GUAC" row): the shared SBOM and in-toto fixtures
# (../shared/fixtures/{sbom,intoto}, the deliberately invalid ones left out)
# copied 20 times with unique serial numbers, namespaces and @ids: 340
# documents, 91 MB. modelgraph runs through its CLI (`modelgraph ingest`,
# every core, into a fresh embedded store); GUAC through its own parsers,
# bulk assembler and in-memory keyvalue backend, in process, one document
# at a time (internal/perf/cmd/ingestbench guac). Each runs in its own
# process under `ingestbench time` (wall, CPU, peak RSS).
#
# Environment: BENCH_FIXTURES [../shared/fixtures], BENCH_COPIES [20],
# BENCH_DIR [.cache/bench-ingest].
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
fixtures="${BENCH_FIXTURES:-$repo/../shared/fixtures}"
copies="${BENCH_COPIES:-20}"
work="${BENCH_DIR:-$repo/.cache/bench-ingest}"
rm -rf "$work"
mkdir -p "$work"
go build -o "$work/modelgraph" ./cmd/modelgraph
go build -o "$work/ingestbench" ./internal/perf/cmd/ingestbench
"$work/ingestbench" corpus -src "$fixtures/sbom" -src "$fixtures/intoto" -out "$work/corpus" -copies "$copies" | tee "$work/corpus.json"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/ingestbench" time -- "$work/modelgraph" ingest --data-dir "$work/mg" --progress none -o json "$work/corpus" \
	2>"$work/modelgraph-receipts.json" | tee "$work/modelgraph.json"
"$work/ingestbench" time -- "$work/ingestbench" guac -dir "$work/corpus" 2>"$work/guac-result.json" | tee "$work/guac.json"
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
mg, gu = json.load(open(f"{w}/modelgraph.json")), json.load(open(f"{w}/guac.json"))
s = json.JSONDecoder().raw_decode(open(f"{w}/modelgraph-receipts.json").read())[0]["summary"]
g = json.loads(open(f"{w}/guac-result.json").read())
mb = s["bytes"] / 1e6
cpu = lambda r: r["userSeconds"] + r["sysSeconds"]
print(f"modelgraph: {mg['wallSeconds']:.1f} s wall, {cpu(mg):.1f} s CPU, {mg['maxRSSMiB']:.0f} MiB peak RSS; "
      f"{s['documents']} new + {s['duplicates']} duplicates, {s['rejected']} rejected; {mb/mg['wallSeconds']:.1f} MB/s")
print(f"guac:       {gu['wallSeconds']:.1f} s wall, {cpu(gu):.1f} s CPU, {gu['maxRSSMiB']:.0f} MiB peak RSS; "
      f"{g['accepted']} accepted, {g['rejected']} rejected")
print(f"ratio: {gu['wallSeconds']/mg['wallSeconds']:.1f}x by wall time, {cpu(gu)/cpu(mg):.1f}x by CPU, "
      f"{gu['maxRSSMiB']/mg['maxRSSMiB']:.1f}x less memory; load after: {mg['loadAfter']} / {gu['loadAfter']}")
PY
