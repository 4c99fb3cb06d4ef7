package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/graph/neo4j"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/perf"
	"github.com/modelgraph/modelgraph/internal/synth"
)

func ingestCmd(fs *flag.FlagSet) func(context.Context) (any, error) {
	nodes := fs.Int("nodes", 50_000, "size of the supply chain whose documents are ingested")
	workers := fs.Int("workers", 64, "concurrent Pipeline.Ingest callers")
	uri := fs.String("uri", "", "ingest into this (empty) Neo4j server instead of the embedded store")
	reset := fs.Bool("reset", false, "with -uri: delete everything in the database first (a development server only)")
	dir := fs.String("dir", "", "directory for the embedded stores (default: a temporary one)")
	signedOnly := fs.Bool("signed-only", false, "skip the whole-corpus run")
	return func(ctx context.Context) (any, error) {
		pl, err := plan(*nodes)
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		signer, err := synth.NewSigner(1)
		if err != nil {
			return nil, err
		}
		pol, err := signer.Policy()
		if err != nil {
			return nil, err
		}
		docs, err := perf.Corpus(pl, signer)
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		backend := "embedded"
		if *uri != "" {
			backend = "neo4j"
		}
		if *dir == "" {
			d, err := os.MkdirTemp("", "mgbench-ingest-")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(d)
			*dir = d
		}
		// Two runs, each into an empty store: the signed documents alone,
		// then the whole corpus. On Neo4j the second run reuses the server:
		// its documents are new except the signed ones, which come out as
		// duplicates, so only the embedded store reports the whole corpus.
		open := func(name string) (graph.Store, error) {
			if *uri != "" {
				return neo4j.Open(ctx, neo4j.Config{URI: *uri})
			}
			return embedded.Open(filepath.Join(*dir, name), embedded.Options{})
		}
		var omsProbe *synth.Doc
		for i := range docs {
			if docs[i].Kind == synth.DocOMS {
				omsProbe = &docs[i]
				break
			}
		}
		if omsProbe == nil {
			return nil, errors.New("ingest: the corpus has no OMS bundle")
		}
		probeStore, err := open("probe.db")
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		mapped, err := perf.OMSMapped(ctx, &ingest.Pipeline{Store: probeStore, Parser: ingest.NewParser(pol)}, *omsProbe)
		_ = probeStore.Close()
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		res := perf.IngestResult{Workers: *workers, OMSMapped: mapped, Kinds: map[synth.DocKind]int{}}
		var all, signed []synth.Doc
		for _, d := range docs {
			if d.Kind == synth.DocOMS && !mapped {
				continue
			}
			all = append(all, d)
			res.Kinds[d.Kind]++
			res.Bytes += int64(len(d.Data))
			if d.Signed {
				signed = append(signed, d)
			}
		}
		if !mapped {
			logf("ingest: the pipeline does not map OMS bundles yet (ingest.ErrUnsupported); measuring the other signed documents")
		}
		run := func(name string, docs []synth.Doc) (perf.Throughput, error) {
			if *uri != "" && *reset {
				if err := neo4j.Reset(ctx, neo4j.Config{URI: *uri}); err != nil {
					return perf.Throughput{}, err
				}
			}
			s, err := open(name)
			if err != nil {
				return perf.Throughput{}, err
			}
			defer s.Close()
			if *uri != "" {
				if st, err := s.Stats(ctx); err != nil || st.Documents > 1 {
					return perf.Throughput{}, fmt.Errorf("neo4j holds %d documents (%v); measure on an empty server", st.Documents, err)
				}
			}
			return perf.IngestAll(ctx, &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)}, docs, *workers)
		}
		if res.Signed, err = run("signed.db", signed); err != nil {
			return nil, fmt.Errorf("ingest: signed: %w", err)
		}
		neo4j.DumpTimings()
		logf("ingest %s: %d signed documents, %.0f verified/s", backend, res.Signed.Documents, res.Signed.DocsPerS)
		if *uri == "" && !*signedOnly {
			if res.All, err = run("all.db", all); err != nil {
				return nil, fmt.Errorf("ingest: all: %w", err)
			}
			logf("ingest %s: %d documents (%d MiB), %.0f docs/s", backend, res.All.Documents, res.Bytes>>20, res.All.DocsPerS)
		}
		return perf.Record{Step: "ingest", Backend: backend, Size: *nodes, Ingest: &res, LoadAvg: perf.LoadAverage()}, nil
	}
}
