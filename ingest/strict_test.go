package ingest_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// Signed JSON that readers could see differently (duplicate keys, keys that
// differ only in case) is refused as an invalid document naming the
// document and the JSON path, with a signature that would verify; nothing
// is written.
func TestAmbiguousSignedJSONRefused(t *testing.T) {
	k := envelopetest.NewKeySigner(t)
	p, s := newPipeline(t, &trust.Policy{Rules: []trust.Rule{{Keys: []trust.PublicKey{k.PublicKey(t)}}}})
	good := string(deploymentRecord(t, ""))
	const head = `{"_type":"https://in-toto.io/Statement/v1",`
	if !strings.HasPrefix(good, head) {
		t.Fatalf("fixture does not start with _type: %.60s", good)
	}
	// The same record with a prefix spliced in before "subject".
	splice := func(extra string) []byte {
		return []byte(head + extra + good[len(head):])
	}
	other := `[{"name":"other.gguf","digest":{"sha256":"` + strings.Repeat("7", 64) + `"}}]`
	signed := func(payload []byte) []byte { return k.DSSE(t, statement.PayloadType, payload) }
	dsse := string(signed([]byte(good)))
	omsStmt := func(serialization string) []byte {
		return []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"m","digest":{"sha256":"` + strings.Repeat("a", 64) + `"}}],` +
			`"predicateType":"https://model_signing/signature/v1.0","predicate":{"serialization":` + serialization + `,"resources":[]}}`)
	}
	cases := []struct {
		name string
		doc  []byte
		want []string // in the error message
	}{
		{"payload statement: duplicate subject", signed(splice(`"subject":` + other + `,`)), []string{"dsse.payload", "/subject", `duplicate key "subject"`}},
		{"payload statement: SUBJECT case variant", signed(splice(`"SUBJECT":` + other + `,`)), []string{"dsse.payload", "/SUBJECT", `matches the field "subject" only case-insensitively`}},
		{"payload statement: _Type case variant", signed([]byte(`{"_Type":"https://in-toto.io/Statement/v1"` + good[len(head)-1:])), []string{"/_Type", `matches the field "_type"`}},
		{"payload statement: duplicate digest in subject", signed([]byte(strings.Replace(good, `"digest":{"sha256":"5555`, `"digest":{"sha256":"`+strings.Repeat("7", 64)+`","sha256":"5555`, 1))), []string{"/subject/0/digest/sha256", "duplicate key"}},
		{"payload statement: duplicate in predicate", signed([]byte(strings.Replace(good, `"environment":`, `"environment":"staging","environment":`, 1))), []string{"/predicate/environment", "duplicate key"}},
		{"OMS predicate: case variant", signed(omsStmt(`{"method":"files","HASH_TYPE":"sha256"}`)), []string{"/serialization/HASH_TYPE", `matches the field "hash_type"`}},
		{"envelope: duplicate payload", []byte(`{"payload":"` + base64.StdEncoding.EncodeToString([]byte(good)) + `",` + dsse[1:]), []string{"/payload", `duplicate key "payload"`}},
		{"envelope: case variant", []byte(`{"PayloadType":"text/plain",` + dsse[1:]), []string{"/payloadType", `keys "PayloadType" and "payloadType" differ only in case`}},
		{"envelope: signature case variant", []byte(strings.Replace(dsse, `"sig":`, `"SIG":"AAAA","sig":`, 1)), []string{"/signatures/0/sig", "differ only in case"}},
		{"bundle: duplicate mediaType", []byte(`{"mediaType":"x",` + string(envelopetest.WrapBundle(t, []byte(dsse)))[1:]), []string{"/mediaType", "duplicate key"}},
		{"bundle: case variant", []byte(`{"MediaType":"x",` + string(envelopetest.WrapBundle(t, []byte(dsse)))[1:]), []string{"/mediaType", `keys "MediaType" and "mediaType" differ only in case`}},
		{"unsigned statement: duplicate subject", splice(`"subject":` + other + `,`), []string{"/subject", "duplicate key"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := p.Ingest(context.Background(), ingest.Input{Data: c.doc, Source: "ambiguous.json"})
			if err == nil || !ingest.IsBadInput(err) || !errors.Is(err, ingest.ErrInvalidDocument) {
				t.Fatalf("err = %v, want an invalid document", err)
			}
			for _, w := range append(c.want, "ambiguous.json") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if st, err := s.Stats(context.Background()); err != nil || st.Documents != 0 {
		t.Fatalf("store holds %d documents (%v)", st.Documents, err)
	}
	// The unspliced record is fine.
	if rs := ingestOK(t, p, ingest.Input{Data: []byte(dsse), Source: "good"}); rs[0].Receipt.Status != "verified" {
		t.Fatalf("good record: %+v", rs[0])
	}
}
