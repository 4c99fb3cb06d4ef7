package sbom

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

var updateBatches = flag.Bool("update-batches", false, "rewrite testdata/batches.golden from the current parser")

// renderBatch writes everything a batch says: the document, every node
// (kind, keys in order — the first names a new node's id —, attributes
// sorted), every edge (the renderings of its ends, kind, attributes
// sorted). Nodes and edges are sorted: GUAC's parsers range over maps, so
// the order of a batch's nodes varies from run to run, while what the
// batch says does not. Two renderings are equal exactly when the batches
// say the same.
func renderBatch(b *graph.Batch) string {
	attrs := func(m map[string]string) string {
		var s strings.Builder
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(&s, " %q=%q", k, m[k])
		}
		return s.String()
	}
	name := make([]string, len(b.Nodes))
	var nodes, edges []string
	for i, n := range b.Nodes {
		name[i] = fmt.Sprintf("%s%q", n.Kind, n.Keys)
		nodes = append(nodes, name[i]+attrs(n.Attrs))
	}
	for _, e := range b.Edges {
		edges = append(edges, fmt.Sprintf("%s -%s-> %s%s", name[e.From], e.Kind, name[e.To], attrs(e.Attrs)))
	}
	slices.Sort(nodes)
	slices.Sort(edges)
	return fmt.Sprintf("doc %q %q %q %q %d %q sigs=%v\n%d nodes\n%s\n%d edges\n%s\n",
		b.Doc.Digest, b.Doc.Type, b.Doc.PredicateType, b.Doc.Source, b.Doc.Size, b.Doc.Role, b.Doc.Signatures,
		len(nodes), strings.Join(nodes, "\n"), len(edges), strings.Join(edges, "\n"))
}

// batchCases are every SBOM, VEX and CSAF document in testdata (plain,
// compressed and signed), each parsed bare, with an image subject and the
// serving-image role, and with a file subject and the training-environment
// role.
func batchCases(t *testing.T) (names []string, data [][]byte, opts []Options) {
	t.Helper()
	var files []string
	for _, g := range []string{"../../testdata/sbom/*", "../../testdata/sbom/signed/*", "testdata/*"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	if extra := os.Getenv("MG_BATCH_EXTRA"); extra != "" {
		m, _ := filepath.Glob(extra)
		files = append(files, m...)
	}
	slices.Sort(files)
	variants := []struct {
		tag string
		o   Options
	}{
		{"", Options{}},
		{"+image", Options{Subject: "sha256:" + strings.Repeat("ab", 32), Role: RoleServingImage}},
		{"+training", Options{Subject: "sha256:" + strings.Repeat("cd", 32), Role: RoleTrainingEnvironment}},
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".golden") || strings.HasSuffix(f, ".md") || strings.HasSuffix(f, ".pub") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue // directories
		}
		for _, v := range variants {
			names = append(names, strings.TrimPrefix(f, "../../")+v.tag)
			data = append(data, b)
			opts = append(opts, v.o)
		}
	}
	return names, data, opts
}

func batchDigest(b *graph.Batch, err error) string {
	var r string
	if err != nil {
		r = "error: " + err.Error()
	} else {
		r = renderBatch(b)
	}
	s := sha256.Sum256([]byte(r))
	return hex.EncodeToString(s[:16])
}

// TestBatchesUnchanged: every testdata document gives the batch (or the
// error) recorded in testdata/batches.golden, node for node and edge for
// edge (renderBatch). The golden file was written by the parser
// before the decode and translation were made faster (go test
// -run TestBatchesUnchanged -update-batches rewrites it after a deliberate
// change of the mapping); MG_BATCH_DUMP=dir writes each rendering there to
// compare two versions with diff, and MG_BATCH_EXTRA=glob adds documents
// (they are reported as missing from the golden file, but dumped).
func TestBatchesUnchanged(t *testing.T) {
	names, data, opts := batchCases(t)
	got := map[string]string{}
	dump := os.Getenv("MG_BATCH_DUMP")
	for i, name := range names {
		b, err := Parse(t.Context(), data[i], graph.Document{Source: "golden"}, opts[i])
		got[name] = batchDigest(b, err)
		if dump != "" {
			r := ""
			if err != nil {
				r = "error: " + err.Error()
			} else {
				r = renderBatch(b)
			}
			if werr := os.WriteFile(filepath.Join(dump, strings.ReplaceAll(name, "/", "_")), []byte(r), 0o644); werr != nil {
				t.Fatal(werr)
			}
		}
	}
	const golden = "testdata/batches.golden"
	if *updateBatches {
		var s strings.Builder
		for _, n := range slices.Sorted(maps.Keys(got)) {
			fmt.Fprintf(&s, "%s %s\n", got[n], n)
		}
		if err := os.WriteFile(golden, []byte(s.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		h, n, _ := strings.Cut(sc.Text(), " ")
		want[n] = h
	}
	if len(want) < 90 {
		t.Fatalf("golden file has %d cases", len(want))
	}
	for n, h := range want {
		g, ok := got[n]
		switch {
		case !ok:
			t.Errorf("%s: in the golden file, not in testdata", n)
		case g != h:
			t.Errorf("%s: batch differs from the golden one (%s, want %s)", n, g, h)
		}
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			t.Errorf("%s: not in the golden file (rewrite it with -update-batches)", n)
		}
	}
}
