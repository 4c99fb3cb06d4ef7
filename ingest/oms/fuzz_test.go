package oms_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/ingest/oms"
	"github.com/modelgraph/modelgraph/ingest/statement"
)

// FuzzParseStatement feeds the fixtures' signed statements (every version,
// the legacy one included) to the predicate parser: it must not panic, and
// whatever it accepts must only name paths inside the model.
func FuzzParseStatement(f *testing.F) {
	sigs, err := filepath.Glob(filepath.Join(fixtures, "*", "model.sig"))
	if err != nil || len(sigs) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, s := range sigs {
		f.Add(payloadOf(f, read(f, s)))
	}
	f.Add(manifest(f, manifestSpec{name: "m", method: "shards", hashType: "blake2b", shardSize: 4.0}, map[string][]byte{"a/b": []byte("0123456789")}))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := statement.Decode(data)
		if err != nil {
			return
		}
		m, err := oms.ParseStatement(st)
		if err != nil {
			return
		}
		if len(m.Resources) > oms.MaxResources {
			t.Fatalf("%d resources", len(m.Resources))
		}
		for _, r := range m.Resources {
			p := r.Path
			if p == "" || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\x00\\") || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") {
				t.Fatalf("accepted path %q", p)
			}
			if r.Sharded && (r.Start < 0 || r.End <= r.Start || r.End-r.Start > m.Serialization.ShardSize) {
				t.Fatalf("accepted shard %+v", r)
			}
		}
		if !m.Legacy && len(m.RootDigest) != 32 {
			t.Fatalf("root digest %x", m.RootDigest)
		}
	})
}

// FuzzOCIFiles feeds arbitrary manifests to the OCI reader: it must not
// panic, and every file it returns has a clean relative name and a sha256.
func FuzzOCIFiles(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"config":{"digest":"sha256:` + strings.Repeat("a", 64) + `"},"layers":[{"digest":"sha256:` + strings.Repeat("b", 64) + `","annotations":{"org.opencontainers.image.title":"w/0.bin"}}]}`))
	f.Add([]byte(`{"schemaVersion":2,"layers":[{"digest":"sha256:00"}]}`))
	f.Add([]byte(`{"schemaVersion":2,"manifests":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := oms.OCIFiles(data)
		if err != nil {
			return
		}
		for _, fl := range files {
			if fl.Name == "" || strings.HasPrefix(fl.Name, "/") || strings.Contains("/"+fl.Name+"/", "/../") || len(fl.Digest) != 64 {
				t.Fatalf("bad file %+v", fl)
			}
		}
	})
}
