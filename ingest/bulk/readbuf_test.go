package bulk

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// TestParseKeepsNoInputBytes: what Pipeline.Parse returns for a document
// (its batches, and the rejection made from its error) holds no
// reference into the input bytes, which is what lets parse hand the read
// buffer to the next file. Every document in testdata goes through a
// pipeline trusting the fixtures' keys (so the verified paths run too);
// after parsing, its buffer is overwritten, and the result must still
// equal that of a parse of an untouched copy.
func TestParseKeepsNoInputBytes(t *testing.T) {
	var keys []trust.PublicKey
	for _, f := range []string{"../../testdata/oms/keys/certificate/signing-key-pub.pem", "../../testdata/sbom/signed/key.pub"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		k, err := trust.ParsePublicKey(raw, filepath.Base(f))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	p := &ingest.Pipeline{Parser: ingest.NewParser(&trust.Policy{Rules: []trust.Rule{{Name: "fixtures", Keys: keys}}})}
	ctx := context.Background()
	n, parsed := 0, 0
	err := filepath.WalkDir("../../testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".md") {
			return err
		}
		if strings.Contains(path, "schemas") || strings.Contains(path, "spdx3-model") {
			return nil // JSON schemas and the SPDX 3 model: not documents
		}
		raw, err := os.ReadFile(path)
		if err != nil || len(raw) > 4<<20 {
			return err
		}
		n++
		buf := bytes.Clone(raw)
		got, gerr := p.Parse(ctx, ingest.Input{Data: buf, Source: path})
		gmsg := ""
		if gerr != nil {
			gmsg = rejection(gerr).Message // as parse does, before the buffer goes back
		}
		for i := range buf {
			buf[i] = 'Z'
		}
		want, werr := p.Parse(ctx, ingest.Input{Data: bytes.Clone(raw), Source: path})
		wmsg := ""
		if werr != nil {
			wmsg = rejection(werr).Message
		}
		if gmsg != wmsg {
			t.Errorf("%s: error %q, then %q", path, gmsg, wmsg)
		}
		if gerr == nil {
			parsed++
		}
		if render(got) != render(want) {
			t.Errorf("%s: the parse result changed when its input buffer was overwritten", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 || parsed < 60 {
		t.Fatalf("%d files, %d parsed", n, parsed)
	}
	t.Logf("%d files, %d parsed", n, parsed)
}

// TestReadBufReuse: buffers come back by capacity class and are read
// into whole; a file that outgrows its Stat size still reads whole, and a
// too-large one is refused.
func TestReadBufReuse(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 4095, 4096, 4097, 100_000} {
		f := filepath.Join(dir, "f")
		want := bytes.Repeat([]byte{'a'}, size)
		if err := os.WriteFile(f, want, 0o600); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			got, err := readLimited(f, 1<<20)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("size %d: %d bytes, %v", size, len(got), err)
			}
			putReadBuf(got)
		}
		if size > 10 {
			if _, err := readLimited(f, int64(size-1)); err == nil {
				t.Fatalf("size %d read under a limit of %d", size, size-1)
			}
		}
	}
	for _, n := range []int{1, 4096, 4097, 1 << 20} {
		b := getReadBuf(n)
		if len(b) != 0 || cap(b) < n {
			t.Fatalf("getReadBuf(%d): len %d cap %d", n, len(b), cap(b))
		}
		putReadBuf(append(b, 'x'))
		if b2 := getReadBuf(n); cap(b2) < n || len(b2) != 0 {
			t.Fatalf("getReadBuf(%d) after put: len %d cap %d", n, len(b2), cap(b2))
		}
	}
}

// render writes everything parse results say, nodes and edges sorted
// (GUAC's parsers range over maps, so their order varies from run to
// run): as the SBOM package's renderBatch.
func render(ps []ingest.Parsed) string {
	var out strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&out, "format %v\n%s", p.Format, renderBatch(p.Batch))
	}
	return out.String()
}

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
	return fmt.Sprintf("doc %+v\n%d nodes\n%s\n%d edges\n%s\n", b.Doc,
		len(nodes), strings.Join(nodes, "\n"), len(edges), strings.Join(edges, "\n"))
}
