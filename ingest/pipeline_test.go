package ingest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/trust"
	"github.com/modelgraph/modelgraph/internal/testserve"
)

func newPipeline(t *testing.T, pol *trust.Policy) (*ingest.Pipeline, *embedded.Store) {
	t.Helper()
	s := testserve.Embedded(t)
	return &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)}, s
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ingestOK(t *testing.T, p *ingest.Pipeline, in ingest.Input) []ingest.Result {
	t.Helper()
	rs, err := p.Ingest(context.Background(), in)
	if err != nil {
		t.Fatalf("ingest %s: %v", in.Source, err)
	}
	return rs
}

// signedByStatus returns the statuses on the SIGNED_BY edges of the document
// node with digest.
func signedByStatus(t *testing.T, s graph.Reader, digest string) []string {
	t.Helper()
	ns, err := s.Lookup(context.Background(), digest)
	if err != nil || len(ns) != 1 {
		t.Fatalf("document node %s: %v %v", digest, ns, err)
	}
	es, err := s.Edges(context.Background(), ns[0].ID, graph.Out, graph.SignedBy)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Attr("status"))
	}
	return out
}

// Signed attestations made offline: the trusted key verifies, an unknown key
// is unverifiable, a tampered payload fails, a bare statement is unsigned;
// each status lands on the document, its SIGNED_BY edge, and the evidence of
// the edges it asserts.
func TestSignedAttestationStatuses(t *testing.T) {
	trusted := envelopetest.NewKeySigner(t)
	stranger := envelopetest.NewKeySigner(t)
	pol := &trust.Policy{Rules: []trust.Rule{{Name: "ci", Keys: []trust.PublicKey{trusted.PublicKey(t)}}}}
	p, s := newPipeline(t, pol)
	raw := read(t, "intoto/dataset-raw.intoto.json")
	derived := read(t, "intoto/dataset-derived.intoto.json")
	training := read(t, "intoto/slsa-v1-training.intoto.json")

	tampered := trusted.DSSE(t, statement.PayloadType, derived)
	tampered = envelopetest.Mutate(t, tampered, func(m map[string]any) {
		m["payload"] = envelopetest.FlipB64(t, m["payload"].(string), 40)
	})
	cases := []struct {
		name string
		data []byte
		want graph.Status
	}{
		{"verified bundle", trusted.Bundle(t, statement.PayloadType, raw), graph.StatusVerified},
		{"verified dsse", trusted.DSSE(t, statement.PayloadType, training), graph.StatusVerified},
		{"wrong key", stranger.DSSE(t, statement.PayloadType, derived), graph.StatusFailed},
		{"tampered", tampered, graph.StatusFailed},
		{"bare statement", derived, graph.StatusUnsigned},
	}
	for _, tc := range cases {
		rs, err := p.Ingest(context.Background(), ingest.Input{Data: tc.data, Source: tc.name})
		if tc.want == graph.StatusFailed && err != nil {
			// A tampered payload may not even decode; then nothing is written.
			if !ingest.IsBadInput(err) {
				t.Fatalf("%s: error %v is not a bad-input error", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := rs[0].Receipt.Status; got != tc.want {
			t.Fatalf("%s: receipt status %s, want %s", tc.name, got, tc.want)
		}
		docs, err := s.Documents(context.Background(), rs[0].Receipt.Document)
		if err != nil || len(docs) != 1 || docs[0].Status() != tc.want {
			t.Fatalf("%s: stored document %+v, %v", tc.name, docs, err)
		}
		if tc.want != graph.StatusUnsigned {
			if got := signedByStatus(t, s, rs[0].Receipt.Document); len(got) != 1 || got[0] != string(tc.want) {
				t.Fatalf("%s: SIGNED_BY statuses %v, want [%s]", tc.name, got, tc.want)
			}
		}
		if tc.want == graph.StatusVerified && rs[0].Document.Signatures[0].Status != graph.StatusVerified {
			t.Fatalf("%s: result signatures %+v", tc.name, rs[0].Document.Signatures)
		}
	}
	// With no trust material at all, a signature is unverifiable, not failed.
	p2, _ := newPipeline(t, nil)
	rs, err := p2.Ingest(context.Background(), ingest.Input{Data: trusted.DSSE(t, statement.PayloadType, derived), Source: "no policy"})
	if err != nil || rs[0].Receipt.Status != graph.StatusUnverifiable {
		t.Fatalf("no policy: %+v, %v; want unverifiable", rs, err)
	}
	// The derived dataset's DERIVED_FROM edge is asserted by the wrong-key
	// envelope and the bare statement: neither is verified evidence.
	ds, err := s.Lookup(context.Background(), "name:acme/clinical-notes@v3")
	if err != nil || len(ds) == 0 {
		t.Fatalf("derived dataset not found: %v", err)
	}
	es, err := s.Edges(context.Background(), ds[0].ID, graph.Out, graph.DerivedFrom)
	if err != nil || len(es) == 0 {
		t.Fatalf("DERIVED_FROM of derived dataset: %v %v", es, err)
	}
	docs, err := s.Documents(context.Background(), es[0].Docs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if d.Status() == graph.StatusVerified {
			t.Fatalf("edge backed by %s which is verified; only unverifiable/unsigned evidence was given", d.Source)
		}
	}
}

func TestRealFixturesIngest(t *testing.T) {
	p, s := newPipeline(t, nil)
	for _, f := range []string{"intoto/guac-oci-dsse-att.json", "intoto/guac-oci-kubectl-linux-amd64-in-toto.json", "modelcard/llm-7b-chat-gguf.md", "modelcard/clinical-notes-dataset.md", "sbom/guac-alpine-spdx.json", "sbom/cdx-dropwizard-1.3.15.xml", "sbom/guac-busybox-cyclonedx.json.zst", "sbom/mg-mlbom-1.6.json", "sbom/guac-open-vex-affected.json"} {
		rs := ingestOK(t, p, ingest.Input{Data: read(t, f), Source: f})
		if rs[0].Receipt.NodesCreated == 0 {
			t.Fatalf("%s created nothing: %+v", f, rs[0])
		}
		if f == "intoto/guac-oci-dsse-att.json" && rs[0].Receipt.Status != graph.StatusUnverifiable {
			t.Fatalf("signed fixture with no trust policy is %s, want unverifiable", rs[0].Receipt.Status)
		}
	}
	rs := ingestOK(t, p, ingest.Input{Data: read(t, "sbom/guac-alpine-spdx.json"), Source: "again"})
	if !rs[0].Receipt.Duplicate {
		t.Fatal("same bytes again not reported as duplicate")
	}
	if st, _ := s.Stats(context.Background()); st.Documents != 9 {
		t.Fatalf("%d documents stored, want 9", st.Documents)
	}
}

func TestBadInputWritesNothing(t *testing.T) {
	p, s := newPipeline(t, nil)
	cases := map[string][]byte{
		"sbom/guac-invalid-cyclonedx.json":                    read(t, "sbom/guac-invalid-cyclonedx.json"),
		"sbom/guac-invalid-spdx.json":                         read(t, "sbom/guac-invalid-spdx.json"),
		"sbom/guac-distroless-cyclonedx-invalid-version.json": read(t, "sbom/guac-distroless-cyclonedx-invalid-version.json"),
		"not json":                  []byte("hello"),
		"empty":                     nil,
		"statement without subject": []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x","predicate":{}}`),
		"jsonl with a bad line":     []byte(string(read(t, "intoto/dataset-raw.intoto.json")) + "\n{\"_type\": 1}\n"),
	}
	for name, data := range cases {
		_, err := p.Ingest(context.Background(), ingest.Input{Data: data, Source: name})
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		if !ingest.IsBadInput(err) {
			t.Fatalf("%s: error %v is not classed as bad input", name, err)
		}
		if !strings.Contains(err.Error(), name) {
			t.Fatalf("%s: error %q does not name the document", name, err)
		}
	}
	if st, _ := s.Stats(context.Background()); st.Documents != 0 || st.Nodes != 0 {
		t.Fatalf("bad input left %+v", st)
	}
	big := make([]byte, 2048)
	p.MaxBytes = 1024
	if _, err := p.Ingest(context.Background(), ingest.Input{Data: big, Source: "big"}); !errors.Is(err, ingest.ErrTooLarge) {
		t.Fatalf("oversized: %v", err)
	}
}

func TestJSONLinesOneWriteForAll(t *testing.T) {
	p, s := newPipeline(t, nil)
	data := []byte(string(read(t, "intoto/dataset-raw.intoto.json")) + "\n" + string(read(t, "intoto/dataset-derived.intoto.json")) + "\n")
	// The fixtures are pretty-printed; compact them into lines.
	lines := compactLines(t, data)
	rs := ingestOK(t, p, ingest.Input{Data: lines, Source: "two.intoto.jsonl"})
	if len(rs) != 2 || rs[0].Receipt.Duplicate || rs[1].Receipt.Duplicate {
		t.Fatalf("results %+v", rs)
	}
	if st, _ := s.Stats(context.Background()); st.Documents != 2 {
		t.Fatalf("%d documents, want 2", st.Documents)
	}
}

func TestDetect(t *testing.T) {
	cases := map[string]ingest.Format{
		"intoto/dataset-raw.intoto.json":    ingest.FormatStatement,
		"intoto/guac-oci-dsse-att.json":     ingest.FormatDSSE,
		"oms/v1.1.0-elliptic-key/model.sig": ingest.FormatSigstoreBundle,
		"sbom/guac-alpine-spdx.json":        ingest.FormatSPDX,
		"sbom/cdx-juice-shop-11.1.2.json":   ingest.FormatCycloneDX,
		"sbom/guac-laravel-cyclonedx.xml":   ingest.FormatCycloneDX,
		"sbom/guac-open-vex-affected.json":  ingest.FormatOpenVEX,
		"sbom/guac-rhsa-csaf.json":          ingest.FormatCSAF,
		"modelcard/llm-7b-chat-gguf.md":     ingest.FormatModelCard,
	}
	for f, want := range cases {
		got, err := ingest.Detect(read(t, f), "")
		if err != nil || got != want {
			t.Errorf("%s: %s, %v; want %s", f, got, err, want)
		}
	}
}

// The real OMS fixtures through the pipeline: with the fixture key trusted,
// the elliptic-key signatures verify; with nothing trusted they are
// unverifiable; the model and its files land in the graph either way.
func TestOMSFixturesThroughPipeline(t *testing.T) {
	pub := read(t, "oms/keys/certificate/signing-key-pub.pem")
	key, err := trust.ParsePublicKey(pub, "signing-key-pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	trusted, s := newPipeline(t, &trust.Policy{Rules: []trust.Rule{{Name: "fixtures", Keys: []trust.PublicKey{key}}}})
	open, _ := newPipeline(t, nil)
	for _, dir := range []string{"v1.0.0-elliptic-key", "v1.0.1-elliptic-key", "v1.1.0-elliptic-key"} {
		sig := read(t, "oms/"+dir+"/model.sig")
		rs := ingestOK(t, trusted, ingest.Input{Data: sig, Source: dir})
		if rs[0].Receipt.Status != graph.StatusVerified || rs[0].Document.Type != "oms" {
			t.Fatalf("%s with its key trusted: %+v", dir, rs[0])
		}
		rs = ingestOK(t, open, ingest.Input{Data: sig, Source: dir})
		if rs[0].Receipt.Status != graph.StatusUnverifiable {
			t.Fatalf("%s with nothing trusted: %s, want unverifiable", dir, rs[0].Receipt.Status)
		}
	}
	st, err := s.Stats(context.Background())
	if err != nil || st.NodeKinds[graph.KindModel] == 0 || st.EdgeKinds[graph.Contains] == 0 {
		t.Fatalf("OMS signatures produced no model with files: %+v", st)
	}
}

// A message-signature bundle (cosign v3 images, blob signing) records who
// signed which artifact digest.
func TestMessageSignatureBundle(t *testing.T) {
	k := envelopetest.NewKeySigner(t)
	data := k.MessageBundle(t, []byte("model weights"))
	key := k.PublicKey(t)
	p, s := newPipeline(t, &trust.Policy{Rules: []trust.Rule{{Keys: []trust.PublicKey{key}}}})
	rs := ingestOK(t, p, ingest.Input{Data: data, Source: "blob.sigstore.json"})
	if rs[0].Receipt.Status != graph.StatusVerified || rs[0].Document.Type != "sigstore-message-signature" {
		t.Fatalf("receipt %+v", rs[0])
	}
	ns, err := s.Lookup(context.Background(), graph.SHA256Key([]byte("model weights")))
	if err != nil || len(ns) != 1 || ns[0].Kind != graph.KindFile {
		t.Fatalf("signed artifact: %v %v", ns, err)
	}
}
