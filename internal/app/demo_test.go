package app

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/config"
	"github.com/modelgraph/modelgraph/internal/demo"
)

// TestLoadDemo: --demo stores every demo document verified (or unsigned)
// without changing the configured parser, and a second start adds nothing.
func TestLoadDemo(t *testing.T) {
	c := config.Defaults()
	c.Store = filepath.Join(t.TempDir(), "g.db")
	ctx := context.Background()
	s, err := OpenStore(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := NewPipeline(c, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := p.Parser
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := LoadDemo(ctx, p, log, c.EmbeddedPath()); err != nil {
		t.Fatal(err)
	}
	if before.Trust != nil {
		t.Fatal("loadDemo changed the configured parser in place")
	}
	docs, err := demo.Documents()
	if err != nil {
		t.Fatal(err)
	}
	pol, err := demo.WithTrust(before.Trust)
	if err != nil {
		t.Fatal(err)
	}
	var digests []string
	for _, d := range docs {
		ds, err := ingest.NewParser(pol).Digests(ctx, d)
		if err != nil || len(ds) != 1 {
			t.Fatalf("%s: %v %v", d.Source, ds, err)
		}
		digests = append(digests, ds[0])
	}
	stored, err := s.Documents(ctx, digests...)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(docs) {
		t.Fatalf("%d of %d demo documents stored", len(stored), len(docs))
	}
	for _, d := range stored {
		if d.Status() != graph.StatusVerified && d.Status() != graph.StatusUnsigned {
			t.Errorf("%s: %s", d.Source, d.Status())
		}
	}
	// A second start finds the documents already there.
	if err := LoadDemo(ctx, p, log, c.EmbeddedPath()); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != int64(len(docs)) {
		t.Fatalf("%d documents after a second load", st.Documents)
	}
}
