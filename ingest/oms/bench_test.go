package oms_test

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/oms"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

const benchModelSize = 256 << 20

// benchModel writes a 256 MiB model shaped like a real one: a few large
// weight files and some small ones.
func benchModel(b *testing.B) (string, map[string][]byte) {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "bench-model")
	files := map[string][]byte{}
	sizes := []int{96 << 20, 64 << 20, 48 << 20, 32 << 20, 16<<20 - 4096, 4096}
	total := 0
	for i, n := range sizes {
		buf := make([]byte, n)
		if _, err := rand.Read(buf); err != nil {
			b.Fatal(err)
		}
		files[fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(sizes))] = buf
		total += n
	}
	if total != benchModelSize {
		b.Fatalf("model is %d bytes", total)
	}
	writeFiles(b, dir, files)
	return dir, files
}

// sha256sumTime is the best of three runs of coreutils' sha256sum over the
// same files (warm page cache, like the benchmark loop).
func sha256sumTime(b *testing.B, dir string, files map[string][]byte) time.Duration {
	b.Helper()
	bin, err := exec.LookPath("sha256sum")
	if err != nil {
		b.Skip("sha256sum not installed")
	}
	var args []string
	for name := range files {
		args = append(args, filepath.Join(dir, name))
	}
	best := time.Duration(1 << 62)
	for range 3 {
		start := time.Now()
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			b.Fatalf("sha256sum: %v\n%s", err, out)
		}
		best = min(best, time.Since(start))
	}
	return best
}

// BenchmarkVerifyModelHash times VerifyModel over a 256 MiB model (the
// signature check is well under a millisecond of it) and compares it with
// sha256sum over the same files: "x-sha256sum" > 1 means faster.
func BenchmarkVerifyModelHash(b *testing.B) {
	dir, files := benchModel(b)
	base := sha256sumTime(b, dir, files)
	ks := envelopetest.NewKeySigner(b)
	pol := keyPolicy(ks.PublicKey(b))
	for _, spec := range []manifestSpec{
		{name: "bench-model", method: "files", hashType: "sha256"},
		{name: "bench-model", method: "shards", hashType: "sha256", shardSize: 16 << 20},
		{name: "bench-model", method: "files", hashType: "blake3"},
		{name: "bench-model", method: "files", hashType: "blake2b"},
	} {
		sig := ks.Bundle(b, statement.PayloadType, manifest(b, spec, files))
		b.Run(spec.method+"-"+spec.hashType, func(b *testing.B) {
			b.SetBytes(benchModelSize)
			for b.Loop() {
				r, err := oms.VerifyModel(ctx, dir, sig, pol, oms.VerifyOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if !r.Verified {
					b.Fatal(r.Problems())
				}
			}
			per := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(base)/float64(per), "x-sha256sum")
			b.ReportMetric(float64(base.Milliseconds()), "sha256sum-ms")
		})
	}
}

// BenchmarkOpenKeyBundle measures key-signed OMS bundles verified per
// second (parse, policy lookup, sigstore-go verification, statement decode).
func BenchmarkOpenKeyBundle(b *testing.B) {
	fixture, err := os.ReadFile(filepath.Join(fixtures, "v1.1.0-elliptic-key/model.sig"))
	if err != nil {
		b.Fatal(err)
	}
	ks := envelopetest.NewKeySigner(b)
	p256 := ks.Bundle(b, statement.PayloadType, manifest(b, manifestSpec{name: "m", method: "files", hashType: "sha256"}, generated))
	for _, c := range []struct {
		name string
		doc  []byte
		pol  *trust.Policy
	}{
		{"fixture-p384", fixture, fixturePolicy(b)},
		{"p256", p256, keyPolicy(ks.PublicKey(b))},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				o, err := envelope.Open(ctx, c.doc, c.pol)
				if err != nil {
					b.Fatal(err)
				}
				if !o.Verified() {
					b.Fatal(o.Signatures)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bundles/s")
		})
	}
}
