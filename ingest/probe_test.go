package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/docerr"
)

// bigBOM is a zstd JSON document: head, then n objects in the array
// member, then tail (which closes the object).
func bigDoc(head, member string, n int, tail string) []byte {
	var buf bytes.Buffer
	zw, _ := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedFastest))
	fmt.Fprintf(zw, `%s"%s":[`, head, member)
	for i := range n {
		if i > 0 {
			fmt.Fprint(zw, ",")
		}
		fmt.Fprintf(zw, `{"name":"p\"%d","version":"1.%d","purl":"pkg:npm/p%d@1"}`, i, i, i)
	}
	fmt.Fprint(zw, "]"+tail)
	_ = zw.Close()
	return buf.Bytes()
}

func gzipOf(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// TestProbe: the probe refuses what the decode stage refuses for its
// size (decompressed caps, component counts of CycloneDX and SPDX), with
// the same kind and message, and passes the rest with their decompressed
// size, keeping nothing.
func TestProbe(t *testing.T) {
	p, _ := newPipeline(t, nil)
	bom := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"metadata":{"component":{"type":"application","name":"app","version":"1"}},"components":[{"type":"library","name":"a","version":"1","purl":"pkg:npm/a@1"}]}`)
	for name, data := range map[string][]byte{"plain": bom, "gzip": gzipOf(bom)} {
		if n, err := p.Probe(data, name, ""); err != nil || n != int64(len(bom)) {
			t.Errorf("%s: %d, %v; want %d", name, n, err, len(bom))
		}
	}
	bomb := gzipOf(bytes.Repeat([]byte(" "), 8<<20))
	if _, err := p.Probe(bomb, "bomb", ""); docerr.KindOf(err) != docerr.TooLarge || !strings.Contains(err.Error(), "ratio limit") {
		t.Errorf("gzip bomb: %v", err)
	}
	corrupt := gzipOf(bom)[:40]
	if _, err := p.Probe(corrupt, "corrupt", ""); docerr.KindOf(err) != docerr.Malformed {
		t.Errorf("truncated gzip: %v", err)
	}

	// Counts: an SPDX document over the package limit is refused by the
	// probe with the SBOM parser's message, as the pipeline refuses it.
	spdx := bigDoc(`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"x",`, "packages", 250_001, `}`)
	_, err := p.Probe(spdx, "spdx", "")
	const want = "packages+files: more than 250000 entries"
	if docerr.KindOf(err) != docerr.TooLarge || !strings.Contains(err.Error(), want) {
		t.Errorf("SPDX with 250,001 packages: %v", err)
	}
	if _, err := p.Ingest(context.Background(), ingest.Input{Data: spdx, Source: "spdx"}); !errors.Is(err, ingest.ErrTooLarge) || !strings.Contains(err.Error(), want) {
		t.Errorf("the pipeline on the same document: %v", err)
	}
	// The count applies to what Detect hands the SBOM parser: the same
	// count in a document whose members make it an in-toto statement is
	// left to the parser, as are CycloneDX components at the limit and a
	// document with a specific content type.
	st := bigDoc(`{"_type":"https://in-toto.io/Statement/v1","bomFormat":"CycloneDX","specVersion":"1.6",`, "components", 250_001, `}`)
	if _, err := p.Probe(st, "statement", ""); err != nil {
		t.Errorf("statement-shaped document: %v", err)
	}
	if _, err := p.Probe(spdx, "typed", "application/spdx+json"); err != nil {
		t.Errorf("with a content type: %v", err)
	}
	cdx := bigDoc(`{"bomFormat":"CycloneDX","specVersion":"1.6",`, "components", 250_000, `}`)
	if _, err := p.Probe(cdx, "cdx", ""); err != nil {
		t.Errorf("CycloneDX at the limit: %v", err)
	}
	over := bigDoc(`{"specVersion":"1.6",`, "components", 250_001, `,"bomFormat":"CycloneDX"}`)
	if _, err := p.Probe(over, "cdx", ""); docerr.KindOf(err) != docerr.TooLarge || !strings.Contains(err.Error(), "components: more than 250000 entries") {
		t.Errorf("CycloneDX over the limit, bomFormat last: %v", err)
	}
	// Members that decide the format after the array: decided when the
	// object closes.
	late := bigDoc(`{"name":"x",`, "packages", 250_001, `,"spdxVersion":"SPDX-2.3"}`)
	if _, err := p.Probe(late, "late", ""); docerr.KindOf(err) != docerr.TooLarge || !strings.Contains(err.Error(), want) {
		t.Errorf("SPDX over the limit, spdxVersion last: %v", err)
	}
	// Stops at the count: a document whose packages go on past the
	// decompressed-size cap is refused for its count, having inflated a
	// fraction of it.
	huge := bigDoc(`{"spdxVersion":"SPDX-2.3",`, "packages", 1_000_000, `}`)
	small := *p
	small.MaxBytes = 32 << 20 // 1M packages are ~60 MB; 250,001 ~15 MB
	if _, err := small.Probe(huge, "huge", ""); docerr.KindOf(err) != docerr.TooLarge || !strings.Contains(err.Error(), want) {
		t.Errorf("SPDX with 1M packages: %v", err)
	}
}
