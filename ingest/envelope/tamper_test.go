package envelope_test

import (
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// A signature whose key hint names a trusted key that does not verify it
// was altered after signing; a stranger's key is a different answer.
func TestTamperVersusWrongKey(t *testing.T) {
	trusted, stranger := envelopetest.NewKeySigner(t), envelopetest.NewKeySigner(t)
	pol := &trust.Policy{Rules: []trust.Rule{{Name: "ci", Keys: []trust.PublicKey{trusted.PublicKey(t)}}}}
	payload := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"acme/x","digest":{"sha256":"` + strings.Repeat("a", 64) + `"}}],"predicateType":"https://example.com/p","predicate":{}}`)
	altered := envelopetest.Mutate(t, trusted.DSSE(t, envelopetest.InTotoPayloadType, payload), func(m map[string]any) {
		m["payload"] = envelopetest.FlipB64(t, m["payload"].(string), strings.Index(string(payload), "acme/x")+1)
	})
	for name, c := range map[string]struct {
		doc  []byte
		want string
	}{
		"altered":  {altered, "signed by trusted key " + trusted.PublicKey(t).Hint + " (" + trusted.PublicKey(t).Source + "), but the payload or signature was altered after signing"},
		"stranger": {stranger.DSSE(t, envelopetest.InTotoPayloadType, payload), "signature does not verify with any of the 1 trusted keys"},
	} {
		o, err := envelope.Open(ctx, c.doc, pol)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s := o.Signatures[0]; s.Status != graph.StatusFailed || !strings.Contains(s.Reason, c.want) {
			t.Errorf("%s: signature %+v, want failed with %q", name, s, c.want)
		}
	}
}
