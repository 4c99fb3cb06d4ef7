package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/ingest"
)

// TestSkippedComponentsWarn: what a document held that was left out is a
// warning on its result, not silence.
func TestSkippedComponentsWarn(t *testing.T) {
	p, _ := newPipeline(t, nil)
	bom := `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[
	 {"type":"operating-system","name":"debian","version":"12"},
	 {"type":"library","name":"a","version":"1","purl":"pkg:npm/a@1"}]}`
	rs := ingestOK(t, p, ingest.Input{Data: []byte(bom), Source: "no-meta.json"})
	if len(rs) != 1 || len(rs[0].Warnings) != 1 || !strings.Contains(rs[0].Warnings[0], "1 operating-system") {
		t.Fatalf("results %+v", rs)
	}
}

// TestDecompressOnce: a compressed document is decompressed in the
// pipeline (its digest is the document's), and one past the caps is
// ErrTooLarge naming the cap.
func TestDecompressOnce(t *testing.T) {
	p, _ := newPipeline(t, nil)
	bom := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"metadata":{"component":{"type":"application","name":"app","version":"1"}},"components":[{"type":"library","name":"a","version":"1","purl":"pkg:npm/a@1"}]}`)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write(bom)
	_ = w.Close()
	plain := ingestOK(t, p, ingest.Input{Data: bom, Source: "plain"})
	packed := ingestOK(t, p, ingest.Input{Data: gz.Bytes(), Source: "gzip"})
	if plain[0].Receipt.Document != packed[0].Receipt.Document || !packed[0].Receipt.Duplicate {
		t.Errorf("gzip of the same BOM: %s duplicate=%v, plain %s", packed[0].Receipt.Document, packed[0].Receipt.Duplicate, plain[0].Receipt.Document)
	}
	p.MaxBytes = 1 << 20
	var big bytes.Buffer
	w = gzip.NewWriter(&big)
	_, _ = w.Write(bytes.Repeat([]byte(" "), 4<<20))
	_ = w.Close()
	_, err := p.Ingest(context.Background(), ingest.Input{Data: big.Bytes(), Source: "bomb"})
	if !errors.Is(err, ingest.ErrTooLarge) || !strings.Contains(err.Error(), "1048576-byte limit") {
		t.Errorf("bomb: %v", err)
	}
}

// TestBudget: past its slots an ingest waits for the budget's wait and
// fails with ErrBusy; under a context that already holds a slot it does
// not take a second one.
func TestBudget(t *testing.T) {
	p, _ := newPipeline(t, nil)
	p.Budget = ingest.NewBudget(1, 20*time.Millisecond)
	ctx, release, err := p.Budget.Acquire(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	doc := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"metadata":{"component":{"type":"application","name":"app","version":"1"}}}`)
	if _, err := p.Ingest(context.Background(), ingest.Input{Data: doc, Source: "x"}); !errors.Is(err, ingest.ErrBusy) {
		t.Errorf("full budget: %v", err)
	}
	if _, err := p.Ingest(ctx, ingest.Input{Data: doc, Source: "x"}); err != nil {
		t.Errorf("under the held slot: %v", err)
	}
	release()
}

// TestProbeLane: the probe lane is weighed in bytes: checks that fit run
// together, one that does not waits for the budget's wait and fails with
// ErrBusy naming the lane, and runs once enough is released; one larger
// than the whole lane runs alone.
func TestProbeLane(t *testing.T) {
	b := ingest.NewBudget(1, 50*time.Millisecond) // 32 MiB of probes
	ctx := context.Background()
	r1, err := b.AcquireProbe(ctx, 20<<20)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := b.AcquireProbe(ctx, 10<<20)
	if err != nil {
		t.Fatalf("a check that fits beside another: %v", err)
	}
	if _, err := b.AcquireProbe(ctx, 10<<20); !errors.Is(err, ingest.ErrBusy) || !strings.Contains(err.Error(), "compressed documents being checked") {
		t.Errorf("past the lane: %v", err)
	}
	r1()
	r1() // idempotent
	r3, err := b.AcquireProbe(ctx, 10<<20)
	if err != nil {
		t.Fatalf("after a release: %v", err)
	}
	r2()
	r3()
	big, err := b.AcquireProbe(ctx, 100<<20)
	if err != nil {
		t.Fatalf("larger than the lane, alone: %v", err)
	}
	big()
}
