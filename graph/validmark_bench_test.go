package graph

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkMark: the fingerprint Validate takes of an SBOM-sized batch
// (2,000 packages with two keys, a digest and four attributes, 2,000
// edges), which the parser's Validate and the store's each compute.
func BenchmarkMark(b *testing.B) {
	bt := NewBatch(Document{Digest: SHA256Key([]byte("m")), Type: "t"})
	for i := range 2000 {
		n := bt.Node(KindPackage, fmt.Sprintf("pkg:pypi/p%d", i), fmt.Sprintf("pkg:pypi/p%d@1.%d.0", i, i),
			"sha256:"+strings.Repeat(fmt.Sprintf("%02x", i%256), 32))
		bt.Set(n, "purlType", "pypi")
		bt.Set(n, "name", fmt.Sprintf("p%d", i))
		bt.Set(n, "version", fmt.Sprintf("1.%d.0", i))
		bt.Set(n, "namespace", "")
		bt.Edge(DocNode, DependsOn, n, "dependencyType", "direct")
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = bt.mark()
	}
}
