package ingest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

const ggufKey = "sha256:5555555555555555555555555555555555555555555555555555555555555555"

// deploymentRecord is the production deployment fixture, withdrawn when
// undeployedAt is given.
func deploymentRecord(t *testing.T, undeployedAt string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(read(t, "intoto/deployment-production.intoto.json"), &m); err != nil {
		t.Fatal(err)
	}
	if undeployedAt != "" {
		m["predicate"].(map[string]any)["undeployedAt"] = undeployedAt
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// graphState is everything a replay could change: counts, the deployment
// edges with their claims and evidence, and the documents' metadata.
type graphState struct {
	Stats graph.Stats
	Edges []graph.Edge
	Docs  []graph.Document
}

func snapshot(t *testing.T, s *embedded.Store, docs ...string) graphState {
	t.Helper()
	ctx := context.Background()
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := s.Lookup(ctx, ggufKey)
	if err != nil || len(ns) != 1 {
		t.Fatalf("model node: %v %v", ns, err)
	}
	es, err := s.Edges(ctx, ns[0].ID, graph.Out, graph.DeployedAs)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := s.Documents(ctx, docs...)
	if err != nil || len(ds) != len(docs) {
		t.Fatalf("documents: %v %v", ds, err)
	}
	return graphState{st, es, ds}
}

// A signed document is identified by what was signed and by whom, not by
// its bytes: an old signed "active" deployment record replayed after the
// signed "withdrawn" one, re-encoded or re-wrapped, is a duplicate of the
// original and changes nothing (issue 16).
func TestReplayedSignedRecordIsDuplicate(t *testing.T) {
	ci, stranger := envelopetest.NewKeySigner(t), envelopetest.NewKeySigner(t)
	p, s := newPipeline(t, &trust.Policy{Rules: []trust.Rule{{Name: "ci", Keys: []trust.PublicKey{ci.PublicKey(t)}}}})
	active := ci.DSSE(t, statement.PayloadType, deploymentRecord(t, ""))
	withdrawn := ci.DSSE(t, statement.PayloadType, deploymentRecord(t, "2024-07-01T00:00:00Z"))
	bundled := ci.Bundle(t, statement.PayloadType, deploymentRecord(t, "2024-08-01T00:00:00Z"))

	first := map[string]ingest.Result{}
	for name, doc := range map[string][]byte{"active": active, "withdrawn": withdrawn, "bundled": bundled} {
		rs := ingestOK(t, p, ingest.Input{Data: doc, Source: name})
		if len(rs) != 1 || rs[0].Receipt.Duplicate || rs[0].Receipt.Status != graph.StatusVerified {
			t.Fatalf("%s: %+v", name, rs)
		}
		if rs[0].Document.Digest == graph.SHA256Key(doc) {
			t.Errorf("%s: a signed document's digest is the sha256 of its bytes", name)
		}
		first[name] = rs[0]
	}
	time.Sleep(10 * time.Millisecond) // a new document would get a later ingestedAt
	before := snapshot(t, s, first["active"].Document.Digest, first["withdrawn"].Document.Digest, first["bundled"].Document.Digest)

	replays := []struct {
		name, of string
		data     []byte
	}{
		{"whitespace", "active", envelopetest.Indent(t, active)},
		{"base64 URL-safe unpadded", "active", envelopetest.ReencodeB64(t, active, base64.RawURLEncoding)},
		{"base64 standard unpadded", "active", envelopetest.ReencodeB64(t, active, base64.RawStdEncoding)},
		{"bare DSSE re-wrapped as a bundle", "active", envelopetest.WrapBundle(t, active)},
		{"re-wrapped bundle re-indented", "active", envelopetest.Indent(t, envelopetest.WrapBundle(t, active))},
		{"bundle unwrapped to bare DSSE", "bundled", envelopetest.UnwrapBundle(t, bundled)},
		{"key id changed (an unsigned hint)", "active", envelopetest.Mutate(t, active, func(m map[string]any) {
			m["signatures"].([]any)[0].(map[string]any)["keyid"] = "forged"
		})},
		{"an extra signature that does not verify", "active", envelopetest.JoinSignatures(t, active, stranger.DSSE(t, statement.PayloadType, deploymentRecord(t, "")))},
	}
	for _, r := range replays {
		t.Run(r.name, func(t *testing.T) {
			if string(r.data) == string(active) || string(r.data) == string(bundled) {
				t.Fatal("the replay is byte-identical to the original: it tests nothing")
			}
			rs := ingestOK(t, p, ingest.Input{Data: r.data, Source: "replay"})
			if len(rs) != 1 || !rs[0].Receipt.Duplicate || rs[0].Document.Digest != first[r.of].Document.Digest {
				t.Fatalf("replay of %s: %+v, want a duplicate of %s", r.of, rs, first[r.of].Document.Digest)
			}
			if rs[0].Receipt.NodesCreated+rs[0].Receipt.NodesTouched+rs[0].Receipt.EdgesCreated+rs[0].Receipt.EdgesTouched != 0 {
				t.Errorf("replay touched the graph: %+v", rs[0].Receipt)
			}
		})
	}
	// JSON Lines holding re-encodings of both records, versus each alone.
	jsonl := append(append(envelopetest.ReencodeB64(t, withdrawn, base64.URLEncoding), '\n'), envelopetest.Indent(t, active)...)
	jsonl = compactLines(t, jsonl)
	rs := ingestOK(t, p, ingest.Input{Data: jsonl, Source: "replay.intoto.jsonl"})
	if len(rs) != 2 || !rs[0].Receipt.Duplicate || !rs[1].Receipt.Duplicate ||
		rs[0].Document.Digest != first["withdrawn"].Document.Digest || rs[1].Document.Digest != first["active"].Document.Digest {
		t.Fatalf("JSON Lines replay: %+v", rs)
	}
	if after := snapshot(t, s, first["active"].Document.Digest, first["withdrawn"].Document.Digest, first["bundled"].Document.Digest); !reflect.DeepEqual(before, after) {
		t.Fatalf("replays changed the graph:\nbefore %+v\nafter  %+v", before, after)
	}
}

// The signer set is part of a signed document's identity: the same payload
// signed by K1 and by K1+K2 (both trusted) are two documents; an extra
// signature that does not verify is not a signer.
func TestSignerSetIsIdentity(t *testing.T) {
	k1, k2 := envelopetest.NewKeySigner(t), envelopetest.NewKeySigner(t)
	pol := &trust.Policy{Rules: []trust.Rule{{Keys: []trust.PublicKey{k1.PublicKey(t), k2.PublicKey(t)}}}}
	p, _ := newPipeline(t, pol)
	rec := deploymentRecord(t, "")
	by1, by2 := k1.DSSE(t, statement.PayloadType, rec), k2.DSSE(t, statement.PayloadType, rec)
	digest := func(doc []byte) (string, bool) {
		rs := ingestOK(t, p, ingest.Input{Data: doc, Source: "k"})
		return rs[0].Document.Digest, rs[0].Receipt.Duplicate
	}
	d1, dup1 := digest(by1)
	d2, dup2 := digest(by2)
	d12, dup12 := digest(envelopetest.JoinSignatures(t, by1, by2))
	d21, dup21 := digest(envelopetest.JoinSignatures(t, by2, by1))
	if dup1 || dup2 || dup12 || d1 == d2 || d12 == d1 || d12 == d2 {
		t.Fatalf("K1 %s %v, K2 %s %v, K1+K2 %s %v: want three documents", d1, dup1, d2, dup2, d12, dup12)
	}
	if d21 != d12 || !dup21 {
		t.Fatalf("K2+K1 is %s (duplicate %v), want the K1+K2 document %s", d21, dup21, d12)
	}
	// Unsigned: the bytes are the identity.
	rs := ingestOK(t, p, ingest.Input{Data: rec, Source: "unsigned"})
	if rs[0].Document.Digest != graph.SHA256Key(rec) || rs[0].Receipt.Status != graph.StatusUnsigned {
		t.Fatalf("unsigned statement: %+v", rs[0])
	}
}
