package ingest_test

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/sbom"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

func signedPolicy(t *testing.T) *trust.Policy {
	t.Helper()
	k, err := trust.ParsePublicKey(read(t, "sbom/signed/key.pub"), "sbom-signer")
	if err != nil {
		t.Fatal(err)
	}
	return &trust.Policy{Rules: []trust.Rule{{Name: "ci", Keys: []trust.PublicKey{k}}}}
}

// encodings of a document: as stored (bzip2), plain, gzip and zstd.
func encodings(t *testing.T, bz []byte) map[string][]byte {
	t.Helper()
	plain, err := io.ReadAll(bzip2.NewReader(bytes.NewReader(bz)))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write(plain)
	_ = w.Close()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	zs := enc.EncodeAll(plain, nil)
	_ = enc.Close()
	return map[string][]byte{"bzip2": bz, "plain": plain, "gzip": gz.Bytes(), "zstd": zs}
}

// TestCompressedSignedSBOMVerifies: a signed SBOM (an in-toto statement
// in a DSSE envelope) verifies the same whether it arrives plain, gzip,
// bzip2 or zstd, through the parser alone (as verify and digest use it)
// and through the pipeline; it keeps one identity, and an SPDX one is
// labelled SPDX (before the decode stage, a compressed DSSE SBOM went to
// the SBOM package, which recorded every signature unverifiable and
// called it CycloneDX).
func TestCompressedSignedSBOMVerifies(t *testing.T) {
	pol := signedPolicy(t)
	for _, c := range []struct{ file, wantType string }{
		{"sbom/signed/spdx.dsse.json.bz2", sbom.TypeSPDX},
		{"sbom/signed/cyclonedx.dsse.json.bz2", sbom.TypeCycloneDX},
	} {
		var ids []string
		p, _ := newPipeline(t, pol)
		for enc, data := range encodings(t, read(t, c.file)) {
			ps, err := ingest.NewParser(pol).Parse(context.Background(), ingest.Input{Data: data, Source: enc})
			if err != nil {
				t.Fatalf("%s %s: %v", c.file, enc, err)
			}
			d := ps[0].Batch.Doc
			if ps[0].Format != ingest.FormatDSSE || d.Type != c.wantType {
				t.Errorf("%s %s: format %s type %s, want dsse %s", c.file, enc, ps[0].Format, d.Type, c.wantType)
			}
			if len(d.Signatures) != 1 || d.Signatures[0].Status != graph.StatusVerified || d.Role == "" {
				t.Errorf("%s %s: signatures %+v role %q, want one verified", c.file, enc, d.Signatures, d.Role)
			}
			ids = append(ids, d.Digest)
			rs := ingestOK(t, p, ingest.Input{Data: data, Source: enc})
			if rs[0].Receipt.Status != graph.StatusVerified || rs[0].Receipt.Document != d.Digest {
				t.Errorf("%s %s through the pipeline: %+v", c.file, enc, rs[0].Receipt)
			}
		}
		for _, id := range ids[1:] {
			if id != ids[0] {
				t.Errorf("%s: identities differ by encoding: %v", c.file, ids)
			}
		}
		// Without trust material the same document is unverifiable.
		ps, err := ingest.NewParser(nil).Parse(context.Background(), ingest.Input{Data: read(t, c.file)})
		if err != nil || ps[0].Batch.Doc.Signatures[0].Status != graph.StatusUnverifiable {
			t.Errorf("%s without a policy: %+v %v", c.file, ps, err)
		}
	}
}
