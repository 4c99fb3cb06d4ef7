// Command mgbench is modelgraph's performance harness driver (make bench).
// Each subcommand measures one thing and prints one JSON object on stdout,
// so deploy/dev/bench.sh can run the steps that need a fresh process (cold
// open, memory) separately and collect the results for `mgbench report`.
//
//	mgbench build  -db PATH -nodes N            build a synthetic graph in the embedded store
//	mgbench query  -db PATH -nodes N -n Q       cold open, Q impact and Q trace queries, RSS
//	mgbench neo4j  -uri URI -nodes N -n Q       the same graph and queries on Neo4j
//	mgbench ingest -models M [-uri URI]         signed documents end to end through ingest.Pipeline
//	mgbench report -results F -doc D [...]      render the table, update D between its markers
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cmd, args := os.Args[1], os.Args[2:]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	memprofile := fs.String("memprofile", "", "write a heap profile to this file at the end")
	var run func(context.Context) (any, error)
	switch cmd {
	case "build":
		run = buildCmd(fs)
	case "query":
		run = queryCmd(fs)
	case "neo4j":
		run = neo4jCmd(fs)
	case "ingest":
		run = ingestCmd(fs)
	case "report":
		run = reportCmd(fs)
	default:
		usage()
	}
	_ = fs.Parse(args)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	out, err := run(ctx)
	if err != nil {
		pprof.StopCPUProfile()
		fatal(err)
	}
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			fatal(err)
		}
		_ = f.Close()
	}
	if out != nil {
		enc := json.NewEncoder(os.Stdout)
		if err := enc.Encode(out); err != nil {
			fatal(err)
		}
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: mgbench build|query|neo4j|ingest|report [flags] (mgbench CMD -h for flags)")
	os.Exit(2)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "mgbench:", err)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "mgbench: "+format+"\n", args...)
}
