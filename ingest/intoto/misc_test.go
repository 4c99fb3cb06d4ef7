package intoto_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/intoto"
	"github.com/modelgraph/modelgraph/ingest/statement"
)

// Signature outcomes set by the caller appear on SIGNED_BY edges and in the
// Document node's status.
func TestSignatureStatuses(t *testing.T) {
	verified := graph.Signature{Method: "keyless", Identity: "ci@acme.example", Issuer: "https://token.actions.githubusercontent.com", Status: graph.StatusVerified, LogIndex: 7, IntegratedTime: time.Unix(1700000000, 0)}
	failed := graph.Signature{Method: "key", KeyID: "k1", Status: graph.StatusFailed, Reason: "signature does not match payload"}
	unverifiable := graph.Signature{Method: "key", KeyID: "k2", Status: graph.StatusUnverifiable, Reason: "unknown key"}
	tests := []struct {
		name  string
		sigs  []graph.Signature
		doc   string
		edges []string
	}{
		{"verified and failed", []graph.Signature{verified, failed}, "verified", []string{
			"Document -SIGNED_BY-> Identity(oidc:https://token.actions.githubusercontent.com|ci@acme.example) {method=keyless, status=verified}",
			"Document -SIGNED_BY-> Identity(key:k1) {method=key, reason=signature does not match payload, status=failed}",
		}},
		{"failed only", []graph.Signature{failed, unverifiable}, "failed", []string{
			"Document -SIGNED_BY-> Identity(key:k1) {method=key, reason=signature does not match payload, status=failed}",
			"Document -SIGNED_BY-> Identity(key:k2) {method=key, reason=unknown key, status=unverifiable}",
		}},
		{"unsigned", nil, "unsigned", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ingest(t, "dataset-raw.intoto.json", tt.sigs...)
			if got := b.Nodes[graph.DocNode].Attrs["status"]; got != tt.doc {
				t.Errorf("document status %q, want %q", got, tt.doc)
			}
			var got []string
			for _, e := range edges(b) {
				if strings.Contains(e, "SIGNED_BY") {
					got = append(got, e)
				}
			}
			sameLines(t, "SIGNED_BY edges", got, tt.edges)
		})
	}
}

func TestSplitJSONL(t *testing.T) {
	a := readFixture(t, "dataset-raw.intoto.json")
	b := readFixture(t, "guac-oci-dsse-att.json")
	line := func(x []byte) []byte { return bytes.Join(bytes.Fields(x), []byte(" ")) }
	data := bytes.Join([][]byte{line(a), nil, []byte("  \r"), line(b)}, []byte("\n"))
	docs, err := intoto.SplitJSONL(append(data, '\r', '\n'))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || !bytes.Equal(docs[0], line(a)) || !bytes.Equal(docs[1], line(b)) {
		t.Fatalf("got %d documents", len(docs))
	}
	for name, tc := range map[string]struct {
		in       string
		sentinel error
		msg      string
	}{
		"empty":        {"\n \n", intoto.ErrInvalidDocument, "no documents"},
		"broken line":  {"{}\n{\"a\":\n", intoto.ErrInvalidDocument, "line 2"},
		"two per line": {"{} {}\n", intoto.ErrInvalidDocument, "line 1"},
		"not object":   {"{}\n[1]\n", intoto.ErrInvalidDocument, "line 2: is not a JSON object"},
		"too many":     {strings.Repeat("{}\n", intoto.MaxJSONLLines+1), intoto.ErrLimit, "more than"},
		"long line":    {"{\"a\":\"" + strings.Repeat("x", intoto.MaxJSONLLineBytes) + "\"}", intoto.ErrLimit, "line 1"},
	} {
		_, err := intoto.SplitJSONL([]byte(tc.in))
		if !errors.Is(err, tc.sentinel) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// schema/predicates/ holds the same bytes as the embedded canonical copies.
func TestSchemaCopiesIdentical(t *testing.T) {
	for pt, name := range intoto.SchemaFiles {
		embedded, ok := intoto.Schema(pt)
		if !ok {
			t.Fatalf("no embedded schema for %s", pt)
		}
		copyBytes, err := os.ReadFile(filepath.Join("..", "..", "schema", "predicates", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(embedded, copyBytes) {
			t.Errorf("schema/predicates/%s differs from ingest/intoto/schemas/%s", name, name)
		}
	}
	entries, err := os.ReadDir(filepath.Join("..", "..", "schema", "predicates"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(intoto.SchemaFiles) {
		t.Errorf("schema/predicates has %d files, want %d", len(entries), len(intoto.SchemaFiles))
	}
}

// An advisory about a dataset digest makes no Model node: the subject
// takes the kind the advisory states for that digest.
func TestAdvisorySubjectTakesStatedKind(t *testing.T) {
	raw := []byte(`{"_type":"https://in-toto.io/Statement/v1",
 "subject":[{"name":"clinical-notes","digest":{"sha256":"` + strings.Repeat("2", 64) + `"}}],
 "predicateType":"https://aixv.org/attestation/advisory/v1",
 "predicate":{"advisory_id":"AIXV-2","severity":"high","status":"active",
  "affected":[{"digest":"sha256:` + strings.Repeat("2", 64) + `","artifact_type":"dataset"},{"digest":"sha256:` + strings.Repeat("3", 64) + `"}]}}`)
	st, err := statement.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := intoto.FromStatement(st, graph.Document{Digest: graph.SHA256Key(raw)})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]graph.NodeKind{}
	for _, n := range b.Nodes {
		for _, k := range n.Keys {
			if graph.IsDigestKey(k) && n.Kind != graph.KindDocument {
				kinds[k] = n.Kind
			}
		}
	}
	want := map[string]graph.NodeKind{
		"sha256:" + strings.Repeat("2", 64): graph.KindDataset, // stated
		"sha256:" + strings.Repeat("3", 64): graph.KindModel,   // AIXV's default
	}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("kinds = %v, want %v", kinds, want)
	}
}
