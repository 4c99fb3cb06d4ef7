#!/usr/bin/env bash
# make bench: build the harness (internal/perf/cmd/mgbench), measure the
# embedded store at 10k, 100k and 1M nodes, Neo4j at the sizes below, signed
# document ingest, the SBOM-vs-GUAC and AI-BOM export benchmarks, and print
# one table, also written into docs/performance.md between its markers.
#
# Environment (defaults in brackets):
#   BENCH_SIZES         embedded graph sizes in nodes [10000 100000 1000000]
#   BENCH_NEO4J_SIZES   Neo4j graph sizes [100000; "100000 1000000" with the
#                       argument "large" (make bench-large)]; "" skips Neo4j.
#                       Loading is slow (see docs/performance.md).
#   NEO4J_DEV_JAVA_OPTS JVM options of the Neo4j server [-Xmx4g -Xms4g]
#   NEO4J_DEV_PAGECACHE_MB  its page cache in MiB, off-heap [1536]: heap and
#                       page cache together stay under 6 GiB
#   BENCH_QUERIES       queries of each kind per size [2000]
#   BENCH_INGEST_NODES  size of the supply chain whose documents are ingested [50000]
#   BENCH_DIR           work directory [.cache/bench]; stores are rebuilt each run
#   BENCH_DOC           document to update [docs/performance.md]; "" prints only
#   MODELGRAPH_BENCH_NEO4J_PORT [17689], MODELGRAPH_BENCH_NEO4J_STATE [.cache/neo4j-bench]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

sizes="${BENCH_SIZES:-10000 100000 1000000}"
# bench.sh large: the same rows with Neo4j also at 1M nodes (make bench-large).
neo_default=100000
if [ "${1:-}" = large ]; then
	neo_default="100000 1000000"
fi
neo_sizes="${BENCH_NEO4J_SIZES-$neo_default}"
export NEO4J_DEV_JAVA_OPTS="${NEO4J_DEV_JAVA_OPTS:--Xmx4g -Xms4g}"
export NEO4J_DEV_PAGECACHE_MB="${NEO4J_DEV_PAGECACHE_MB:-1536}"
queries="${BENCH_QUERIES:-2000}"
ingest_nodes="${BENCH_INGEST_NODES:-50000}"
work="${BENCH_DIR:-$repo/.cache/bench}"
doc="${BENCH_DOC-$repo/docs/performance.md}"
port="${MODELGRAPH_BENCH_NEO4J_PORT:-17689}"
export MODELGRAPH_NEO4J_STATE="${MODELGRAPH_BENCH_NEO4J_STATE:-$repo/.cache/neo4j-bench}"
neo="$repo/deploy/neo4j-dev/neo4j-dev.sh"

started=$(date +%s)
load_start=$(cut -d' ' -f1 /proc/loadavg)
log() { printf 'bench [%4ss]: %s\n' "$(($(date +%s) - started))" "$*" >&2; }

rm -rf "$work"
mkdir -p "$work"
results="$work/results.jsonl"
: >"$results"
notes=()

neo_running=0
stop_neo() {
	if [ "$neo_running" = 1 ]; then
		bash "$neo" stop >/dev/null 2>&1 || true
		neo_running=0
	fi
}
trap 'stop_neo' EXIT

log "building the harness"
go build -trimpath -o "$work/mgbench" ./internal/perf/cmd/mgbench
mg="$work/mgbench"

for n in $sizes; do
	db="$work/graph-$n.db"
	# Bulk import, then compaction, as an operator would after an import
	# (bbolt files never shrink; docs/performance.md has the figures
	# without it).
	log "embedded $n: building the graph, then compacting it"
	"$mg" build -db "$db" -nodes "$n" -chunk 2000 -compact >>"$results"
	# A fresh process: the open is cold (index loaded from its snapshot) and
	# the memory is what a server holding this store would use.
	log "embedded $n: open and $queries impact + $queries trace queries"
	"$mg" query -db "$db" -nodes "$n" -n "$queries" >>"$results"
	if [ "$n" = 1000000 ]; then
		log "embedded $n: open without the index snapshot (crash recovery)"
		"$mg" query -db "$db" -nodes "$n" -n 0 -rebuild >>"$results"
	fi
	rm -f "$db" "$db.idx"
done

log "ingest: signed documents and the whole corpus through ingest.Pipeline (embedded)"
"$mg" ingest -nodes "$ingest_nodes" -dir "$work" >>"$results"

for n in $neo_sizes; do
	# Each size on a fresh server: the dev server keeps its data in a
	# temporary directory deleted when it stops.
	log "neo4j $n: starting a fresh server on port $port"
	bash "$neo" stop >/dev/null 2>&1 || true
	if ! bash "$neo" start "$port" >&2; then
		notes+=("-note" "Neo4j did not start for $n nodes; see $MODELGRAPH_NEO4J_STATE/neo4j-dev.log.")
		continue
	fi
	neo_running=1
	log "neo4j $n: loading the graph and running $((queries / 4)) queries of each kind"
	if ! "$mg" neo4j -uri "bolt://127.0.0.1:$port" -nodes "$n" -n "$((queries / 4))" >>"$results"; then
		notes+=("-note" "Neo4j at $n nodes failed; see the log above.")
	fi
	stop_neo
done
if [ -n "$neo_sizes" ]; then
	log "neo4j: signed document ingest"
	if bash "$neo" start "$port" >&2; then
		neo_running=1
		if ! "$mg" ingest -nodes 10000 -uri "bolt://127.0.0.1:$port" >>"$results"; then
			notes+=("-note" "Neo4j ingest failed; see the log above.")
		fi
		stop_neo
	else
		notes+=("-note" "Neo4j did not start for the ingest run.")
	fi
fi

log "SBOM ingest vs GUAC (internal/guacexport BenchmarkIngestVsGUAC)"
go test -run XXX -bench IngestVsGUAC -benchtime 3x -count 1 ./internal/guacexport/ >"$work/sbom.txt" 2>&1 || notes+=("-note" "BenchmarkIngestVsGUAC failed: see $work/sbom.txt")
log "AI-BOM export (aibom BenchmarkExport)"
go test -run XXX -bench 'Export$' -count 1 ./aibom/ >"$work/export.txt" 2>&1 || notes+=("-note" "aibom BenchmarkExport failed: see $work/export.txt")

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain 2>/dev/null | head -1)" ]; then
	commit="$commit (with uncommitted changes)"
fi
log "done in $(($(date +%s) - started)) s"
doc_args=()
if [ -n "$doc" ]; then
	doc_args=(-doc "$doc")
fi
"$mg" report -results "$results" -sbom "$work/sbom.txt" -export "$work/export.txt" \
	-commit "$commit" -load-start "$load_start" "${doc_args[@]}" ${notes[@]+"${notes[@]}"} \
	-note "Whole run: $(($(date +%s) - started)) s. Raw results: $results."
