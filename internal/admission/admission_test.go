package admission

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/internal/query"
)

// The decisions over a full supply chain are tested with the incident
// world in internal/query (admission_test.go there); these are the rules
// that need no graph.

func TestSignerMatch(t *testing.T) {
	cert := query.Signer{Identity: "ci@acme.dev", Issuer: "https://token.actions.githubusercontent.com", Status: graph.StatusVerified}
	key := query.Signer{Method: "key", KeyID: "oms-key-1", Status: graph.StatusVerified}
	for _, c := range []struct {
		m    SignerMatch
		s    query.Signer
		want bool
	}{
		{SignerMatch{Identity: "ci@acme.dev"}, cert, true},
		{SignerMatch{Identity: "ci@acme.dev", Issuer: "https://token.actions.githubusercontent.com"}, cert, true},
		{SignerMatch{Identity: "ci@acme.dev", Issuer: "https://accounts.google.com"}, cert, false},
		{SignerMatch{Identity: "someone@acme.dev"}, cert, false},
		{SignerMatch{Identity: "oms-key-1"}, key, true},
		{SignerMatch{Identity: "oms-key-1", Issuer: "x"}, key, false},
	} {
		if got := c.m.matches(c.s); got != c.want {
			t.Errorf("%+v matches %+v = %v, want %v", c.m, c.s, got, c.want)
		}
	}
}

// Bad requests are the caller's error; a digest nothing names is denied,
// not an error.
func TestDecideInputAndUnknownDigest(t *testing.T) {
	s, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q, ctx := query.New(s), context.Background()
	digest := graph.SHA256Key([]byte("never seen"))
	neg := -1
	for _, c := range []struct {
		digest string
		p      Policy
	}{
		{"acme/llm-7b", DefaultPolicy()},
		{"", DefaultPolicy()},
		{"sha256:12", DefaultPolicy()},
		{digest, Policy{MaxUnsignedHops: &neg}},
		{digest, Policy{AllowedSigners: []SignerMatch{{Identity: " "}}}},
		{digest, Policy{Depth: query.MaxDepth + 1}},
	} {
		if _, err := Decide(ctx, q, c.digest, c.p); !errors.Is(err, query.ErrInvalidArgument) {
			t.Errorf("Decide(%q, %+v) error %v, want ErrInvalidArgument", c.digest, c.p, err)
		}
	}
	d, err := Decide(ctx, q, digest, DefaultPolicy())
	if err != nil || d.Allow || len(d.Checks) != 1 || d.Checks[0].Rule != "known" || d.Identity.Status != graph.StatusUnsigned {
		t.Errorf("unknown digest = %+v, %v", d, err)
	}
	// A policy checking nothing still denies what the graph does not know.
	if d, err := Decide(ctx, q, digest, Policy{}); err != nil || d.Allow {
		t.Errorf("unknown digest, empty policy = %+v, %v", d, err)
	}
}
