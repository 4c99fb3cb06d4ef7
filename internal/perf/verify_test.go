package perf_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/perf"
	"github.com/modelgraph/modelgraph/internal/synth"
)

// BenchmarkVerifiedIngestRatio: the signed documents of a 20k-node chain
// parsed and verified only (perf.VerifyAll), then ingested into an empty
// embedded store (perf.IngestAll), 64 callers each; it reports both rates
// and their ratio (issue 19's target: ingest at or above 0.8 of
// verification alone).
func BenchmarkVerifiedIngestRatio(b *testing.B) {
	ctx := context.Background()
	pl, err := synth.NewPlan(synth.ForNodes(20_000))
	if err != nil {
		b.Fatal(err)
	}
	signer, err := synth.NewSigner(1)
	if err != nil {
		b.Fatal(err)
	}
	pol, err := signer.Policy()
	if err != nil {
		b.Fatal(err)
	}
	docs, err := perf.Corpus(pl, signer)
	if err != nil {
		b.Fatal(err)
	}
	var signed []synth.Doc
	for _, d := range docs {
		if d.Signed {
			signed = append(signed, d)
		}
	}
	var verify, ingestRate float64
	for b.Loop() {
		v, err := perf.VerifyAll(ctx, ingest.NewParser(pol), signed, 64)
		if err != nil {
			b.Fatal(err)
		}
		s, err := embedded.Open(filepath.Join(b.TempDir(), "g.db"), embedded.Options{})
		if err != nil {
			b.Fatal(err)
		}
		in, err := perf.IngestAll(ctx, &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)}, signed, 64)
		if cerr := s.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.Fatal(err)
		}
		verify += v.DocsPerS
		ingestRate += in.DocsPerS
	}
	n := float64(b.N)
	b.ReportMetric(verify/n, "verified-docs/s")
	b.ReportMetric(ingestRate/n, "ingested-docs/s")
	b.ReportMetric(ingestRate/verify, "ingest/verify")
}
