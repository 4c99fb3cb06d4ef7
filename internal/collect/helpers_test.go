package collect_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/trust"
	"github.com/modelgraph/modelgraph/internal/collect"
)

// quiet drops the runner's per-document log lines.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newPipeline opens a fresh bolt store and a pipeline verifying against pol.
func newPipeline(t *testing.T, pol *trust.Policy) (*ingest.Pipeline, *embedded.Store) {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)}, s
}

// recorder collects the runner's outcomes for assertions.
type recorder struct {
	mu  sync.Mutex
	out []collect.Outcome
	ch  chan collect.Outcome
}

func newRecorder() *recorder { return &recorder{ch: make(chan collect.Outcome, 1024)} }

func (r *recorder) add(o collect.Outcome) {
	r.mu.Lock()
	r.out = append(r.out, o)
	r.mu.Unlock()
	r.ch <- o
}

func (r *recorder) all() []collect.Outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.out)
}

// statement returns a small unsigned in-toto statement naming digest.
func statement(t *testing.T, name, digestHex, predicateType string, predicate any) []byte {
	t.Helper()
	return envelopetest.Statement(t, predicateType, predicate, envelopetest.Subject{Name: name, SHA256: digestHex})
}

// datasetStatement is a valid project dataset attestation.
func datasetStatement(t *testing.T, n int) []byte {
	t.Helper()
	return statement(t, fmt.Sprintf("dataset-%d.tar", n), fmt.Sprintf("%064x", n+1000),
		"https://modelgraph.dev/attestation/dataset/v1",
		map[string]any{"name": fmt.Sprintf("acme/dataset-%d", n), "version": "v1", "sensitiveData": map[string]bool{"pii": false, "phi": false}})
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// storedDocs returns which of the digests the store holds.
func storedDocs(t *testing.T, s graph.Reader, digests ...string) []graph.Document {
	t.Helper()
	docs, err := s.Documents(context.Background(), digests...)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func docCount(t *testing.T, s graph.Reader) int64 {
	t.Helper()
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Documents
}

// docDigest is the identity p records data under (for signed documents not
// the sha256 of the bytes: envelope.Opened.DocumentDigest).
func docDigest(t *testing.T, p *ingest.Pipeline, data []byte) string {
	t.Helper()
	ds, err := p.Parser.Digests(context.Background(), ingest.Input{Data: data})
	if err != nil || len(ds) != 1 {
		t.Fatalf("document digest: %v %v", ds, err)
	}
	return ds[0]
}
