package oms_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/oms"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

func batchOf(t *testing.T, sig []byte, pol *trust.Policy) *graph.Batch {
	t.Helper()
	o, err := envelope.Open(ctx, sig, pol)
	if err != nil {
		t.Fatal(err)
	}
	b, err := oms.FromOpened(o, graph.Document{Digest: graph.SHA256Key(sig), Source: "model.sig", Size: int64(len(sig))})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func nodesOf(b *graph.Batch, kind graph.NodeKind) []int {
	var out []int
	for i, n := range b.Nodes {
		if n.Kind == kind {
			out = append(out, i)
		}
	}
	return out
}

func edge(b *graph.Batch, from int, kind graph.EdgeKind, to int) *graph.EdgeSpec {
	for i, e := range b.Edges {
		if e.From == from && e.Kind == kind && e.To == to {
			return &b.Edges[i]
		}
	}
	return nil
}

func TestFromOpenedFixture(t *testing.T) {
	sig := read(t, filepath.Join(fixtures, "v1.1.0-elliptic-key/model.sig"))
	b := batchOf(t, sig, fixturePolicy(t))
	if b.Doc.Type != oms.DocumentType || b.Doc.PredicateType != oms.PredicateType || b.Doc.Status() != graph.StatusVerified {
		t.Fatalf("doc = %+v", b.Doc)
	}
	models := nodesOf(b, graph.KindModel)
	if len(models) != 1 {
		t.Fatalf("models = %v", models)
	}
	m := b.Nodes[models[0]]
	wantKeys := []string{"sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4", "name:v1.1.0-elliptic-key"}
	if !slices.Equal(m.Keys, wantKeys) || m.Attrs["omsSerialization"] != "files" || m.Attrs["omsHashType"] != "sha256" {
		t.Fatalf("model = %+v", m)
	}
	if edge(b, graph.DocNode, graph.Describes, models[0]) == nil {
		t.Fatal("document does not describe the model")
	}
	files := nodesOf(b, graph.KindFile)
	want := map[string]string{
		"signme-1": "sha256:bc9a717db6064a32cbe9eae6fc40651dd6d36ef1757183f590eff2b1765d7ebc",
		"signme-2": "sha256:32dcb1f8e1ae52d5963e56a6ba06ab58b424c15ed2a6b70d2feca1d089370028",
	}
	if len(files) != 2 {
		t.Fatalf("files = %v", files)
	}
	for _, f := range files {
		n := b.Nodes[f]
		e := edge(b, models[0], graph.Contains, f)
		if e == nil || want[e.Attrs["path"]] != n.Keys[0] || n.Attrs["path"] != e.Attrs["path"] || n.Attrs["algorithm"] != "sha256" {
			t.Fatalf("file %+v edge %+v", n, e)
		}
	}
	ids := nodesOf(b, graph.KindIdentity)
	if len(ids) != 1 || b.Nodes[ids[0]].Keys[0] != "key:"+fixtureKey(t).Hint {
		t.Fatalf("identity = %+v", ids)
	}
	if e := edge(b, graph.DocNode, graph.SignedBy, ids[0]); e == nil || e.Attrs["status"] != "verified" || e.Attrs["method"] != "key" {
		t.Fatalf("signed by = %+v", e)
	}
}

func TestFromOpenedAllFixturesValidate(t *testing.T) {
	pol := fixturePolicy(t)
	for _, dir := range fixtureDirs(t) {
		b := batchOf(t, read(t, filepath.Join(dir, "model.sig")), pol)
		if err := b.Validate(); err != nil {
			t.Errorf("%s: %v", filepath.Base(dir), err)
		}
		legacy := strings.HasPrefix(filepath.Base(dir), "v0.2.")
		wantStatus := graph.StatusVerified // legacy v0.2 too, with its compatibility encoding
		if b.Doc.Status() != wantStatus {
			t.Errorf("%s: status %s, want %s", filepath.Base(dir), b.Doc.Status(), wantStatus)
		}
		if legacy {
			files := nodesOf(b, graph.KindFile)
			if len(nodesOf(b, graph.KindModel)) != 0 || len(files) != 2 || edge(b, graph.DocNode, graph.Describes, files[0]) == nil {
				t.Errorf("legacy batch: %+v", b.Nodes)
			}
		}
	}
}

func TestFromOpenedRootMismatchFailsSignatures(t *testing.T) {
	ks := envelopetest.NewKeySigner(t)
	stmt := manifest(t, manifestSpec{name: "gen", method: "files", hashType: "sha256"}, generated)
	var st map[string]any
	mustJSON(t, stmt, &st)
	st["subject"].([]any)[0].(map[string]any)["digest"] = map[string]any{"sha256": strings.Repeat("cd", 32)}
	b := batchOf(t, ks.Bundle(t, statement.PayloadType, toJSON(t, st)), keyPolicy(ks.PublicKey(t)))
	if b.Doc.Status() != graph.StatusFailed || b.Doc.Signatures[0].Reason != oms.ReasonRootMismatch {
		t.Fatalf("doc = %+v", b.Doc)
	}
	ids := nodesOf(b, graph.KindIdentity)
	if e := edge(b, graph.DocNode, graph.SignedBy, ids[0]); e == nil || e.Attrs["status"] != "failed" || e.Attrs["reason"] != oms.ReasonRootMismatch {
		t.Fatalf("signed by = %+v", e)
	}
}

func TestFromOpenedShardsAndDuplicates(t *testing.T) {
	ks := envelopetest.NewKeySigner(t)
	stmt := manifest(t, manifestSpec{name: "acme/llm", method: "shards", hashType: "sha256", shardSize: 1000}, generated)
	b := batchOf(t, ks.Bundle(t, statement.PayloadType, stmt), keyPolicy(ks.PublicKey(t)))
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	model := nodesOf(b, graph.KindModel)[0]
	byPath := map[string]graph.NodeSpec{}
	for _, e := range b.Edges {
		if e.Kind == graph.Contains && e.From == model {
			byPath[e.Attrs["path"]] = b.Nodes[e.To]
			if e.Attrs["path"] == "config.json" && e.Attrs["alsoAt"] != "same-as-config.json" {
				t.Errorf("identical files: edge %+v", e)
			}
		}
	}
	// A file that is one shard from 0 is also keyed by its sha256.
	cfg := byPath["config.json"]
	if cfg.Keys[0] != graph.SHA256Key(generated["config.json"]) || !strings.HasPrefix(cfg.Keys[1], "sha256-sharded-1000:") {
		t.Fatalf("config.json keys = %v", cfg.Keys)
	}
	one := byPath["weights/layer-1.bin"]
	if one.Keys[0] != graph.SHA256Key(generated["weights/layer-1.bin"]) || one.Attrs["start"] != "0" || one.Attrs["end"] != "1000" {
		t.Fatalf("single-shard file = %+v", one)
	}
	// Shards of a multi-shard file are keyed by the shard algorithm only.
	n := 0
	for _, f := range nodesOf(b, graph.KindFile) {
		if b.Nodes[f].Attrs["path"] == "weights/layer-0.bin" {
			n++
			if len(b.Nodes[f].Keys) != 1 || !strings.HasPrefix(b.Nodes[f].Keys[0], "sha256-sharded-1000:") {
				t.Errorf("shard keys = %v", b.Nodes[f].Keys)
			}
		}
	}
	// Three shards, but 0:1000 and 1000:2000 hold the same bytes (period 5):
	// one content, one node.
	if n != 2 {
		t.Fatalf("layer-0 shard nodes = %d, want 2", n)
	}
	if _, ok := byPath["empty"]; ok {
		t.Fatal("an empty file has no shard")
	}
	if m := b.Nodes[model]; !slices.Contains(m.Keys, "name:acme/llm") || m.Attrs["omsShardSize"] != "1000" {
		t.Fatalf("model = %+v", m)
	}
}

func TestFromOpenedErrors(t *testing.T) {
	ks := envelopetest.NewKeySigner(t)
	doc := graph.Document{Digest: graph.SHA256Key([]byte("x")), Source: "bad.sig"}
	notOMS := ks.Bundle(t, statement.PayloadType, bytes.ReplaceAll(manifest(t, manifestSpec{name: "g", method: "files", hashType: "sha256"}, generated), []byte("model_signing/signature/v1.0"), []byte("slsa.dev/provenance/v1")))
	o, err := envelope.Open(ctx, notOMS, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oms.FromOpened(o, doc); !errors.Is(err, oms.ErrInvalidDocument) || !strings.Contains(err.Error(), "bad.sig") || !strings.Contains(err.Error(), "predicateType") {
		t.Fatalf("not OMS: %v", err)
	}
	if _, err := oms.FromOpened(&envelope.Opened{}, doc); !errors.Is(err, oms.ErrInvalidDocument) {
		t.Fatalf("no statement: %v", err)
	}
}

func TestParseStatementErrors(t *testing.T) {
	good := manifest(t, manifestSpec{name: "g", method: "shards", hashType: "sha256", shardSize: 1000}, map[string][]byte{"a": []byte("abc")})
	edit := func(f func(st map[string]any)) []byte {
		var st map[string]any
		mustJSON(t, good, &st)
		f(st)
		return toJSON(t, st)
	}
	ser := func(st map[string]any) map[string]any {
		return st["predicate"].(map[string]any)["serialization"].(map[string]any)
	}
	res0 := func(st map[string]any) map[string]any {
		return st["predicate"].(map[string]any)["resources"].([]any)[0].(map[string]any)
	}
	cases := map[string]struct {
		doc   []byte
		field string
	}{
		"two subjects": {edit(func(st map[string]any) {
			st["subject"] = append(st["subject"].([]any), st["subject"].([]any)[0])
		}), "subject has 2 entries"},
		"no sha256 subject": {edit(func(st map[string]any) {
			st["subject"].([]any)[0].(map[string]any)["digest"] = map[string]any{"sha512": strings.Repeat("0", 128)}
		}), "subject[0].digest.sha256"},
		"no serialization":         {edit(func(st map[string]any) { delete(st["predicate"].(map[string]any), "serialization") }), "predicate.serialization is missing"},
		"bad method":               {edit(func(st map[string]any) { ser(st)["method"] = "tar" }), "serialization.method"},
		"no hash type":             {edit(func(st map[string]any) { delete(ser(st), "hash_type") }), "hash_type"},
		"fractional shard":         {edit(func(st map[string]any) { ser(st)["shard_size"] = 1000.5 }), "shard_size"},
		"negative shard":           {edit(func(st map[string]any) { ser(st)["shard_size"] = -1 }), "shard_size"},
		"no shard size":            {edit(func(st map[string]any) { delete(ser(st), "shard_size") }), "shard_size"},
		"shard not path:start:end": {edit(func(st map[string]any) { res0(st)["name"] = "a" }), "resources[0].name"},
		"shard range":              {edit(func(st map[string]any) { res0(st)["name"] = "a:0:2000" }), "resources[0].name"},
		"shard start":              {edit(func(st map[string]any) { res0(st)["name"] = "a:5:10" }), "resources[0].name"},
		"digest not hex":           {edit(func(st map[string]any) { res0(st)["digest"] = "zz" }), "resources[0].digest"},
		"digest length":            {edit(func(st map[string]any) { res0(st)["digest"] = "abcd" }), "resources[0].digest has 2 bytes"},
		"no algorithm":             {edit(func(st map[string]any) { delete(res0(st), "algorithm") }), "resources[0].algorithm"},
		"predicate not object":     {edit(func(st map[string]any) { st["predicate"] = []any{1} }), "predicate"},
		"duplicate": {edit(func(st map[string]any) {
			p := st["predicate"].(map[string]any)
			p["resources"] = append(p["resources"].([]any), p["resources"].([]any)[0])
		}), "repeats resources[0]"},
		"dot beside files": {edit(func(st map[string]any) {
			ser(st)["method"] = "files"
			delete(ser(st), "shard_size")
			p := st["predicate"].(map[string]any)
			r := res0(st)
			r["name"], r["algorithm"] = ".", "sha256"
			p["resources"] = append(p["resources"].([]any), map[string]any{"name": "b", "algorithm": "sha256", "digest": r["digest"]})
		}), "single-file model"},
		"other predicate": {bytes.ReplaceAll(good, []byte("signature/v1.0"), []byte("signature/v9")), "predicateType"},
		// OMS spec v1.0 MUSTs (docs/oms.md, "Spec conformance").
		"statement v0.1":        {edit(func(st map[string]any) { st["_type"] = statement.TypeV01 }), "_type"},
		"legacy statement v0.1": {bytes.ReplaceAll(bytes.ReplaceAll(good, []byte("signature/v1.0"), []byte("Digests/v0.1")), []byte(statement.TypeV1), []byte(statement.TypeV01)), "_type"},
		"empty subject name":    {edit(func(st map[string]any) { st["subject"].([]any)[0].(map[string]any)["name"] = "" }), "subject[0].name"},
		"uppercase root digest": {edit(func(st map[string]any) {
			d := st["subject"].([]any)[0].(map[string]any)["digest"].(map[string]any)
			d["sha256"] = strings.ToUpper(d["sha256"].(string))
		}), "subject[0].digest.sha256"},
		"hash type not in registry": {edit(func(st map[string]any) { ser(st)["hash_type"] = "sha3" }), "hash_type \"sha3\" is not in the OMS algorithm registry"},
		"no allow_symlinks":         {edit(func(st map[string]any) { delete(ser(st), "allow_symlinks") }), "allow_symlinks is missing"},
		"allow_symlinks string":     {edit(func(st map[string]any) { ser(st)["allow_symlinks"] = "false" }), "allow_symlinks is not a boolean"},
		"shard_size with files": {edit(func(st map[string]any) {
			ser(st)["method"] = "files"
			res0(st)["name"], res0(st)["algorithm"] = "a", "sha256"
		}), "shard_size must be absent"},
		"empty resources":         {edit(func(st map[string]any) { st["predicate"].(map[string]any)["resources"] = []any{} }), "predicate.resources is empty"},
		"algorithm not hash type": {edit(func(st map[string]any) { res0(st)["algorithm"] = "blake3" }), "does not match serialization.hash_type"},
		"uppercase digest":        {edit(func(st map[string]any) { res0(st)["digest"] = strings.ToUpper(res0(st)["digest"].(string)) }), "resources[0].digest"},
		"empty ignore path":       {edit(func(st map[string]any) { ser(st)["ignore_paths"] = []any{"x", ""} }), "ignore_paths[1] is empty"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			st, err := statement.Decode(c.doc)
			if err != nil {
				t.Fatal(err)
			}
			_, err = oms.ParseStatement(st)
			if !errors.Is(err, oms.ErrInvalidDocument) || !errors.Is(err, envelope.ErrInvalidDocument) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("err = %v, want one naming %q", err, c.field)
			}
		})
	}
	// Limits.
	many := edit(func(st map[string]any) {
		p := st["predicate"].(map[string]any)
		r := res0(st)
		rs := make([]any, oms.MaxResources+1)
		for i := range rs {
			rs[i] = r
		}
		p["resources"] = rs
	})
	st, err := statement.Decode(many)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oms.ParseStatement(st); !errors.Is(err, oms.ErrInvalidDocument) || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("too many resources: %v", err)
	}
	if _, err := oms.ParseStatement(nil); !errors.Is(err, oms.ErrInvalidDocument) {
		t.Fatalf("nil statement: %v", err)
	}
}

func TestParseStatementAccepts(t *testing.T) {
	doc := manifest(t, manifestSpec{name: "g", method: "shards", hashType: "sha256", shardSize: 1e9, ignorePaths: []string{"x"}}, map[string][]byte{"./dir//a": []byte("abc")})
	var st map[string]any
	mustJSON(t, doc, &st)
	st["predicate"].(map[string]any)["future_field"] = map[string]any{"ignored": true}
	s, err := statement.Decode(toJSON(t, st))
	if err != nil {
		t.Fatal(err)
	}
	m, err := oms.ParseStatement(s)
	if err != nil {
		t.Fatal(err)
	}
	r := m.Resources[0]
	if m.Serialization.ShardSize != 1_000_000_000 || r.Path != "dir/a" || !r.Sharded || r.End != 3 || !m.RootMatches || m.Serialization.ResourceAlgorithm() != "sha256-sharded-1000000000" {
		t.Fatalf("manifest = %+v", m)
	}
}
