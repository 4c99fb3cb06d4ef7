package sbom

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

const corpus = "../../testdata/sbom"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpus, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseFixture(t testing.TB, name string, opts Options) *graph.Batch {
	t.Helper()
	b, err := Parse(context.Background(), fixture(t, name), graph.Document{Source: name}, opts)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// find returns the index of the node of kind carrying key (-1 if none).
func find(b *graph.Batch, kind graph.NodeKind, key string) int {
	if k, err := graph.NormalizeKey(key); err == nil {
		key = k
	}
	for i, n := range b.Nodes {
		if n.Kind == kind && slices.Contains(n.Keys, key) {
			return i
		}
	}
	return -1
}

func edge(b *graph.Batch, from int, kind graph.EdgeKind, to int) *graph.EdgeSpec {
	for i, e := range b.Edges {
		if e.From == from && e.Kind == kind && e.To == to {
			return &b.Edges[i]
		}
	}
	return nil
}

func count(b *graph.Batch, kind graph.NodeKind) int {
	n := 0
	for _, s := range b.Nodes {
		if s.Kind == kind {
			n++
		}
	}
	return n
}

func described(b *graph.Batch) []int {
	var out []int
	for _, e := range b.Edges {
		if e.From == graph.DocNode && e.Kind == graph.Describes {
			out = append(out, e.To)
		}
	}
	return out
}

type corpusWant struct {
	typ       string
	packages  int      // Package nodes (how each was derived is noted)
	purls     []string // must name Package nodes
	described []string // keys of the described node(s)
	kind      graph.NodeKind
	parser    string // "guac", or "modelgraph" where GUAC rejects the document
	err       string // deliberately broken: the field or reason the error names
}

// Package counts are the distinct purls without qualifiers (jq:
// [.metadata.component.purl, (..|objects|select(has("purl") and
// has("type"))|.purl)] | map(sub("\\?.*";"")) | unique | length), plus the
// described node when the SBOM names it by digest or GUAC synthesises its
// purl, minus operating-system components (which GUAC skips).
var corpusTable = map[string]corpusWant{
	"cdx-dropwizard-1.3.15.xml": {typ: TypeCycloneDX, packages: 168, parser: "guac",
		purls:     []string{"pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10", "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10?type=jar"},
		described: []string{"pkg:maven/io.dropwizard/dropwizard-parent@1.3.15"}, kind: graph.KindPackage},
	"cdx-juice-shop-11.1.2.json": {typ: TypeCycloneDX, packages: 841, parser: "guac",
		purls: []string{"pkg:npm/express@4.17.1"}, described: []string{"pkg:npm/juice-shop@11.1.2"}, kind: graph.KindPackage},
	"cdx-keycloak-10.0.2.json": {typ: TypeCycloneDX, packages: 903, parser: "guac",
		purls:     []string{"pkg:maven/org.apache.logging.log4j/log4j-api@2.10.0", "pkg:maven/org.apache.logging.log4j/log4j-api@2.10.0?type=jar"},
		described: []string{"pkg:maven/org.keycloak/keycloak-parent@10.0.2"}, kind: graph.KindPackage},
	"guac-alpine-cyclonedx.json": {typ: TypeCycloneDX, packages: 15, parser: "guac",
		purls:     []string{"pkg:alpine/musl@1.2.3-r0", "pkg:alpine/musl@1.2.3-r0?arch=x86_64&distro=alpine-3.16.2&upstream=musl"},
		described: []string{"sha256:cbaa390ec61abd889dfa5146a411c11717c19ef9e5e18458dbdc06439076ffe7"}, kind: graph.KindPackage},
	"guac-alpine-spdx.json": {typ: TypeSPDX, packages: 15, parser: "guac",
		purls: []string{"pkg:alpine/musl@1.2.3-r0"}, described: []string{"pkg:guac/spdx/alpine-latest"}, kind: graph.KindPackage},
	"guac-big-mongo-cyclonedx.json": {typ: TypeCycloneDX, packages: 174, parser: "guac",
		purls:     []string{"pkg:deb/ubuntu/bash@5.0-6ubuntu1.2", "pkg:golang/github.com/golang/snappy@v0.0.1"},
		described: []string{"sha256:fd73df9425bd48f25d7e913422af8124a6eadbd5d99f67bbd4a8b121f59b1187"}, kind: graph.KindPackage},
	// busybox: one operating-system component (skipped), the container.
	"guac-busybox-cyclonedx.json.bz2": {typ: TypeCycloneDX, packages: 1, parser: "guac",
		described: []string{"sha256:bf5e28853a83134e949201fb5979927a9e5cc74cb747b7a080d96eaba1303411"}, kind: graph.KindPackage},
	"guac-busybox-cyclonedx.json.zst": {typ: TypeCycloneDX, packages: 1, parser: "guac",
		described: []string{"sha256:bf5e28853a83134e949201fb5979927a9e5cc74cb747b7a080d96eaba1303411"}, kind: graph.KindPackage},
	// GUAC rejects two license expressions on one component (CycloneDX < 1.5).
	"guac-cdx-v1.4.json": {typ: TypeCycloneDX, packages: 3, parser: "modelgraph",
		purls: []string{"pkg:guac/pkg/libunistring@0.9.10-4", "pkg:guac/pkg/PCRE2@10.40"}, described: []string{"pkg:guac/cdx/boxes@2.2.0"}, kind: graph.KindPackage},
	"guac-cyclonedx-1.7.json": {typ: TypeCycloneDX, packages: 2, parser: "guac",
		purls: []string{"pkg:golang/github.com/example/lib@2.3.4"}, described: []string{"pkg:golang/github.com/example/app@1.0.0"}, kind: graph.KindPackage},
	"guac-cyclonedx-components-nested.json": {typ: TypeCycloneDX, packages: 3, parser: "guac",
		purls:     []string{"pkg:rpm/redhat/abattis-cantarell-fonts@0.0.25-6.el8", "pkg:maven/compiler/compiler@23.1.4.0-1-redhat-00001"},
		described: []string{"sha256:41d92dafa5ccbf7f76fa81c5a0e7de83c51166f27bea9b98df018f644016bf04"}, kind: graph.KindPackage},
	// The product ABC and the two versions the VEX lists.
	"guac-cyclonedx-vex-affected.json": {typ: TypeCycloneDXVEX, packages: 3, parser: "guac",
		purls: []string{"pkg:guac/pkg/product-ABC@2.4", "pkg:guac/pkg/product-ABC@2.6"}, described: []string{"pkg:guac/cdx/ABC"}, kind: graph.KindPackage},
	// GUAC fails on a BOM-link target without versions.
	"guac-cyclonedx-vex.xml":                         {typ: TypeCycloneDXVEX, packages: 1, parser: "modelgraph"},
	"guac-distroless-cyclonedx-invalid-version.json": {err: `metadata.component.version: container "gcr.io/distroless/static" has version "nonroot", not an image digest`},
	"guac-invalid-cyclonedx.json":                    {err: `bomFormat: "CDX" is not "CycloneDX"`},
	"guac-invalid-spdx.json":                         {err: `spdxVersion: 2 is not a string`},
	"guac-laravel-cyclonedx.xml": {typ: TypeCycloneDX, packages: 63, parser: "guac",
		purls: []string{"pkg:composer/asm89/stack-cors@1.3.0"}, described: []string{"pkg:composer/cyclonedx/cyclonedx-php-composer-demo@dev-master"}, kind: graph.KindPackage},
	"guac-oci-spdx.json": {typ: TypeSPDX, packages: 16, parser: "guac",
		purls: []string{"pkg:alpine/busybox@1.35.0-r29"}, kind: graph.KindPackage,
		described: []string{"pkg:guac/spdx/ttl.sh/b46737a24c11fd47c240f357a558be31/example-sample-e26f2e514682726fa808a849c863e5feca71e0c3"}},
	"guac-open-vex-affected.json":     {typ: TypeOpenVEX, packages: 1, parser: "guac", purls: []string{"pkg:apk/wolfi/bash@1.0.0"}},
	"guac-open-vex-not-affected.json": {typ: TypeOpenVEX, packages: 1, parser: "guac", purls: []string{"pkg:oci/git@sha256%3A23a264e6e429852221a963e9f17338ba3f5796dc7086e46439a6f4482cf6e0cb"}},
	"guac-quarkus-deps-cyclonedx.json": {typ: TypeCycloneDX, packages: 95, parser: "guac",
		purls:     []string{"pkg:maven/io.smallrye.reactive/smallrye-mutiny-vertx-uri-template@2.27.0?type=jar"},
		described: []string{"pkg:maven/org.acme/getting-started@1.0.0-SNAPSHOT"}, kind: graph.KindPackage},
	// Two openssl builds and nginx named in the product tree.
	"guac-rhsa-csaf.json": {typ: TypeCSAF, packages: 3, parser: "guac",
		purls: []string{"pkg:rpm/redhat/openssl@1.1.1k-7.el8_6", "pkg:rpm/redhat/openssl@1.1.1k-8.el8_6"}},
	// GUAC fails on the empty package names ("packageName" is a 2.1-era field).
	"guac-small-spdx.json": {typ: TypeSPDX, packages: 3, parser: "modelgraph",
		purls:     []string{"pkg:guac/pkg/golang.org/x/text", "pkg:guac/pkg/rsc.io/quote", "pkg:guac/pkg/rsc.io/sampler"},
		described: []string{"pkg:guac/pkg/golang.org/x/text", "pkg:guac/pkg/rsc.io/quote", "pkg:guac/pkg/rsc.io/sampler"}, kind: graph.KindPackage},
	// Runtime ML-BOMs (k8s-aibom): deployment evidence, mapped directly
	// (runtime.go): the serving image is the one package.
	"k8s-aibom-vllm-deployment.cdx.json": {typ: TypeCycloneDX, packages: 1, parser: "modelgraph",
		purls: []string{"sha256:4f2b7b5a9e3cf0f04c5f1e0d6a2b9c8e7d6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b"}, described: []string{"deployment:-/-/prod-inference/vllm-llama3"}, kind: graph.KindDeployment},
	"k8s-aibom-kserve-1.7.cdx.json": {typ: TypeCycloneDX, packages: 1, parser: "modelgraph",
		purls: []string{"sha256:9c1f0e2d3b4a5968778695a4b3c2d1e0f9e8d7c6b5a4938271605f4e3d2c1b0a"}, described: []string{"deployment:-/-/fraud/fraud-scorer"}, kind: graph.KindDeployment},
	"mg-mlbom-1.7.json": {typ: TypeCycloneDX, packages: 2, parser: "guac", purls: []string{"pkg:pypi/torch@2.3.1"},
		described: []string{"sha256:b8a2c46e73c3ec2b38fe7a4087bafa7a93c6b5630238d22e5355325c9f53b367"}, kind: graph.KindModel},
	"owasp-aibom-zephyr-7b-beta.json": {typ: TypeCycloneDX, packages: 1, parser: "guac", purls: []string{"pkg:generic/HuggingFaceH4%2Fzephyr-7b-beta@892b3d7"},
		described: []string{"pkg:generic/HuggingFaceH4%2Fzephyr-7b-beta@892b3d7"}, kind: graph.KindPackage},
	"mg-mlbom-1.6.json": {typ: TypeCycloneDX, packages: 2, parser: "guac", purls: []string{"pkg:pypi/torch@2.3.1"},
		described: []string{"sha256:b8a2c46e73c3ec2b38fe7a4087bafa7a93c6b5630238d22e5355325c9f53b367"}, kind: graph.KindModel},
	"mg-mlbom-1.6.xml": {typ: TypeCycloneDX, packages: 2, parser: "guac", purls: []string{"pkg:pypi/torch@2.3.1"},
		described: []string{"sha256:b8a2c46e73c3ec2b38fe7a4087bafa7a93c6b5630238d22e5355325c9f53b367"}, kind: graph.KindModel},
}

func corpusFiles(t testing.TB) []string {
	t.Helper()
	es, err := os.ReadDir(corpus)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if e.Type().IsRegular() && e.Name() != "README.md" {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestCorpus(t *testing.T) {
	files := corpusFiles(t)
	for name := range corpusTable {
		if !slices.Contains(files, name) {
			t.Errorf("table names %s, which is not in %s", name, corpus)
		}
	}
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			w, ok := corpusTable[name]
			if !ok {
				t.Fatalf("%s has no expectation in corpusTable", name)
			}
			data := fixture(t, name)
			b, err := Parse(context.Background(), data, graph.Document{Source: name}, Options{})
			if w.err != "" {
				if err == nil || b != nil {
					t.Fatalf("want an error naming %q and no batch, got batch=%v err=%v", w.err, b != nil, err)
				}
				if !errors.Is(err, ErrInvalidDocument) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), w.err) {
					t.Fatalf("error %q: want ErrInvalidDocument naming %s and %q", err, name, w.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Validate(); err != nil {
				t.Fatal(err)
			}
			if got, _ := Detect(data); got != w.typ {
				t.Errorf("Detect = %q, want %q", got, w.typ)
			}
			if b.Doc.Type != w.typ || b.Nodes[graph.DocNode].Attrs["type"] != w.typ {
				t.Errorf("document type %q, want %q", b.Doc.Type, w.typ)
			}
			if got := b.Nodes[graph.DocNode].Attrs["parser"]; got != w.parser {
				t.Errorf("parser %q, want %q (guacError %q)", got, w.parser, b.Nodes[graph.DocNode].Attrs["guacError"])
			}
			if got := count(b, graph.KindPackage); got != w.packages {
				t.Errorf("%d packages, want %d", got, w.packages)
			}
			for _, p := range w.purls {
				if find(b, graph.KindPackage, p) < 0 {
					t.Errorf("no package %s", p)
				}
			}
			var got []string
			for _, i := range described(b) {
				if b.Nodes[i].Kind != w.kind {
					t.Errorf("described node %v is a %s, want %s", b.Nodes[i].Keys, b.Nodes[i].Kind, w.kind)
				}
				got = append(got, b.Nodes[i].Keys[0])
			}
			sort.Strings(got)
			want := slices.Sorted(slices.Values(w.described))
			if !slices.Equal(got, want) {
				t.Errorf("described %v, want %v", got, want)
			}
			// One node per package: no two Package nodes share a key.
			seen := map[string]bool{}
			for _, n := range b.Nodes {
				for _, k := range n.Keys {
					mk := string(n.Kind) + " " + k
					if seen[mk] {
						t.Errorf("key %s on two %s nodes", k, n.Kind)
					}
					seen[mk] = true
				}
			}
		})
	}
}

// GUAC's parsers iterate maps; the batch must not depend on that order.
func TestDeterministic(t *testing.T) {
	for _, name := range []string{"cdx-keycloak-10.0.2.json", "guac-alpine-spdx.json", "cdx-dropwizard-1.3.15.xml"} {
		first := canonical(parseFixture(t, name, Options{}))
		for range 3 {
			if got := canonical(parseFixture(t, name, Options{})); !slices.Equal(got, first) {
				t.Fatalf("%s: batch differs between runs", name)
			}
		}
	}
}

// canonical renders a batch independent of node order.
func canonical(b *graph.Batch) []string {
	id := func(i int) string { return string(b.Nodes[i].Kind) + ":" + strings.Join(b.Nodes[i].Keys, ",") }
	var out []string
	for i, n := range b.Nodes {
		var as []string
		for k, v := range n.Attrs {
			as = append(as, k+"="+v)
		}
		sort.Strings(as)
		out = append(out, "N "+id(i)+" "+strings.Join(as, "|"))
	}
	for _, e := range b.Edges {
		var as []string
		for k, v := range e.Attrs {
			as = append(as, k+"="+v)
		}
		sort.Strings(as)
		out = append(out, "E "+id(e.From)+" "+string(e.Kind)+" "+id(e.To)+" "+strings.Join(as, "|"))
	}
	sort.Strings(out)
	return out
}
