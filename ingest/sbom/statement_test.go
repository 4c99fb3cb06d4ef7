package sbom

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/statement"
)

const imageDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

// An SPDX document that names no digest, given the serving image digest: the
// image is the described Package, GUAC's top-level package is that node, and
// the role is on the DESCRIBES edge.
func TestSubjectAndRole(t *testing.T) {
	b := parseFixture(t, "guac-alpine-spdx.json", Options{Subject: "SHA256:" + strings.ToUpper(imageDigest[7:]), Role: RoleServingImage})
	ds := described(b)
	if len(ds) != 1 {
		t.Fatalf("%d described nodes, want 1", len(ds))
	}
	s := ds[0]
	if b.Nodes[s].Kind != graph.KindPackage || b.Nodes[s].Keys[0] != imageDigest {
		t.Fatalf("described %s %v, want Package %s", b.Nodes[s].Kind, b.Nodes[s].Keys, imageDigest)
	}
	if got := edge(b, graph.DocNode, graph.Describes, s).Attrs["sbomRole"]; got != RoleServingImage {
		t.Errorf("sbomRole=%q", got)
	}
	if find(b, graph.KindPackage, "pkg:guac/spdx/alpine-latest") >= 0 {
		t.Error("GUAC's synthetic top-level package is a separate node; want it merged into the subject")
	}
	deps := 0
	for _, e := range b.Edges {
		if e.From == s && e.Kind == graph.DependsOn {
			deps++
		}
	}
	if deps != 14 || count(b, graph.KindPackage) != 15 {
		t.Errorf("subject depends on %d packages of %d, want 14 of 15", deps, count(b, graph.KindPackage))
	}
	if musl := find(b, graph.KindPackage, "pkg:alpine/musl@1.2.3-r0"); edge(b, s, graph.DependsOn, musl) == nil {
		t.Error("image does not depend on musl")
	}
}

// metadata.component's digest and the caller's subject name one node.
func TestSubjectMergesWithMetadata(t *testing.T) {
	b := parseFixture(t, "guac-alpine-cyclonedx.json", Options{Subject: imageDigest, Role: RoleTrainingEnvironment})
	ds := described(b)
	if len(ds) != 1 {
		t.Fatalf("%d described", len(ds))
	}
	keys := b.Nodes[ds[0]].Keys
	if keys[0] != imageDigest || !strings.Contains(strings.Join(keys, " "), "sha256:cbaa390ec61abd889dfa5146a411c11717c19ef9e5e18458dbdc06439076ffe7") {
		t.Errorf("described keys %v", keys)
	}
	if got := edge(b, graph.DocNode, graph.Describes, ds[0]).Attrs["sbomRole"]; got != RoleTrainingEnvironment {
		t.Errorf("sbomRole=%q", got)
	}
}

// A container SBOM naming its image by tag is accepted once the caller says
// which image it is.
func TestTagOnlyContainerWithSubject(t *testing.T) {
	b := parseFixture(t, "guac-distroless-cyclonedx-invalid-version.json", Options{Subject: imageDigest, Role: RoleServingImage})
	if ds := described(b); len(ds) != 1 || b.Nodes[ds[0]].Keys[0] != imageDigest {
		t.Fatalf("described %v", ds)
	}
	if count(b, graph.KindPackage) != 4 {
		t.Errorf("%d packages, want the image and 3 debs", count(b, graph.KindPackage))
	}
}

func TestOptionsErrors(t *testing.T) {
	data := fixture(t, "guac-alpine-spdx.json")
	for _, o := range []Options{{Role: "prod"}, {Subject: "not-a-key"}, {Subject: "sha256:abc"}, {Subject: "name:x"}} {
		b, err := Parse(t.Context(), data, graph.Document{Source: "opts"}, o)
		if b != nil || err == nil || !errors.Is(err, ErrInvalidDocument) || !strings.Contains(err.Error(), "opts") {
			t.Errorf("%+v: err = %v", o, err)
		}
	}
}

func statementJSON(t *testing.T, predicateType string, predicate []byte, subjects ...statement.Subject) []byte {
	t.Helper()
	// Built by hand so the predicate keeps its bytes: tools-golang accepts
	// guac-small-spdx.json's object-valued creators only when pretty-printed.
	subs, err := json.Marshal(subjects)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(`{"_type":"` + statement.TypeV1 + `","subject":` + string(subs) + `,"predicateType":"` + predicateType + `","predicate":` + string(predicate) + `}`)
}

func TestFromStatement(t *testing.T) {
	sub := statement.Subject{Name: "fraud-detector", Digest: map[string]string{"sha256": hFraud[7:]}}
	raw := statementJSON(t, "https://cyclonedx.org/bom", fixture(t, "mg-mlbom-1.6.json"), sub)
	st, err := statement.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := FromStatement(t.Context(), st, graph.Document{Digest: graph.SHA256Key(raw), Source: "mlbom.intoto.json"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Doc.PredicateType != "https://cyclonedx.org/bom" || b.Doc.Type != TypeCycloneDX {
		t.Errorf("doc %+v", b.Doc)
	}
	ds := described(b)
	if len(ds) != 1 || b.Nodes[ds[0]].Kind != graph.KindModel || b.Nodes[ds[0]].Keys[0] != hFraud {
		t.Fatalf("described %v", ds)
	}
	// Same graph as the bare ML-BOM.
	if got := count(b, graph.KindModel) + count(b, graph.KindDataset); got != 6 {
		t.Errorf("%d models and datasets, want 6", got)
	}

	// Two subjects: each is described and depends on the SPDX top level.
	subs := []statement.Subject{
		{Name: "img-amd64", Digest: map[string]string{"sha256": strings.Repeat("a", 64)}},
		{Name: "img-arm64", Digest: map[string]string{"sha256": strings.Repeat("b", 64)}},
	}
	raw = statementJSON(t, "https://spdx.dev/Document/v2.3", fixture(t, "guac-small-spdx.json"), subs...)
	st, err = statement.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	b, err = FromStatement(t.Context(), st, graph.Document{Digest: graph.SHA256Key(raw)}, Options{Role: RoleServingImage})
	if err != nil {
		t.Fatal(err)
	}
	ds = described(b)
	if len(ds) != 2 {
		t.Fatalf("described %v", ds)
	}
	for _, s := range ds {
		for _, p := range []string{"pkg:guac/pkg/golang.org/x/text", "pkg:guac/pkg/rsc.io/quote", "pkg:guac/pkg/rsc.io/sampler"} {
			if edge(b, s, graph.DependsOn, find(b, graph.KindPackage, p)) == nil {
				t.Errorf("%v does not depend on %s", b.Nodes[s].Keys, p)
			}
		}
	}

	// The predicate must be what the predicate type says.
	raw = statementJSON(t, "https://spdx.dev/Document", fixture(t, "mg-mlbom-1.6.json"), sub)
	st, _ = statement.Decode(raw)
	if _, err := FromStatement(t.Context(), st, graph.Document{Digest: graph.SHA256Key(raw), Source: "mismatch"}, Options{}); err == nil ||
		!contains(err, "mismatch", `predicateType "https://spdx.dev/Document" but the predicate is a CycloneDX document`) {
		t.Errorf("mismatch: %v", err)
	}
	raw = statementJSON(t, "https://slsa.dev/provenance/v1", []byte(`{}`), sub)
	st, _ = statement.Decode(raw)
	if _, err := FromStatement(t.Context(), st, graph.Document{Digest: graph.SHA256Key(raw)}, Options{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("slsa: %v", err)
	}
	if ft, ok := Detect(raw); ok {
		t.Errorf("Detect(SLSA statement) = %q", ft)
	}
}

// cosign's older custom-predicate wrapping carries the SBOM as a string.
func TestStatementDataWrapper(t *testing.T) {
	inner, _ := json.Marshal(map[string]any{"Data": string(fixture(t, "guac-small-spdx.json")), "Timestamp": "2024-01-01T00:00:00Z"})
	sub := statement.Subject{Name: "x", Digest: map[string]string{"sha256": strings.Repeat("c", 64)}}
	raw := statementJSON(t, "https://spdx.dev/Document", inner, sub)
	b, err := Parse(t.Context(), raw, graph.Document{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if count(b, graph.KindPackage) != 4 || b.Doc.Type != TypeSPDX {
		t.Errorf("%d packages, type %q", count(b, graph.KindPackage), b.Doc.Type)
	}
}

// A DSSE envelope is unwrapped; its signature is recorded, not trusted.
func TestDSSE(t *testing.T) {
	sub := statement.Subject{Name: "fraud-detector", Digest: map[string]string{"sha256": hFraud[7:]}}
	st := statementJSON(t, "https://cyclonedx.org/bom/v1.6", fixture(t, "mg-mlbom-1.6.json"), sub)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		env, _ := json.Marshal(map[string]any{
			"payloadType": statement.PayloadType,
			"payload":     enc.EncodeToString(st),
			"signatures":  []map[string]string{{"keyid": "ci-key", "sig": base64.StdEncoding.EncodeToString([]byte("sig"))}},
		})
		if ft, ok := Detect(env); !ok || ft != TypeCycloneDX {
			t.Errorf("Detect(DSSE) = %q %v", ft, ok)
		}
		b, err := Parse(t.Context(), env, graph.Document{Source: "mlbom.dsse.json"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if b.Doc.Digest != graph.SHA256Key(env) || b.Doc.Status() != graph.StatusUnverifiable {
			t.Errorf("doc digest %s status %s", b.Doc.Digest, b.Doc.Status())
		}
		id := find(b, graph.KindIdentity, "key:ci-key")
		if id < 0 || edge(b, graph.DocNode, graph.SignedBy, id).Attrs["status"] != string(graph.StatusUnverifiable) {
			t.Fatal("no unverifiable SIGNED_BY edge to key:ci-key")
		}
		if ds := described(b); len(ds) != 1 || b.Nodes[ds[0]].Keys[0] != hFraud {
			t.Errorf("described %v", ds)
		}
	}
	env, _ := json.Marshal(map[string]any{"payloadType": "text/plain", "payload": "aGk=", "signatures": []map[string]string{{"sig": "eA=="}}})
	if _, err := Parse(t.Context(), env, graph.Document{Source: "plain.dsse"}, Options{}); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "payloadType") {
		t.Errorf("plain payload: %v", err)
	}
}
