package query

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

// seeds adds every line of a testdata file to the corpus.
func seeds(f *testing.F, name string) {
	f.Helper()
	file, err := os.Open("testdata/" + name)
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		f.Add(sc.Text())
	}
	if err := sc.Err(); err != nil {
		f.Fatal(err)
	}
}

func FuzzParseRef(f *testing.F) {
	seeds(f, "refs.txt")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRef(s)
		if err != nil {
			if !IsBadInput(err) {
				t.Fatalf("parseRef(%q): error %v is not a bad-input error", s, err)
			}
			return
		}
		if r.ID == "" && len(r.Keys) == 0 {
			t.Fatalf("parseRef(%q) = %+v: names nothing", s, r)
		}
		if r.ID != "" && !r.ID.Valid() {
			t.Fatalf("parseRef(%q): invalid id %q", s, r.ID)
		}
		for _, k := range r.Keys {
			if nk, err := graph.NormalizeKey(k); err != nil || nk != k {
				t.Fatalf("parseRef(%q): key %q is not normalised (%q, %v)", s, k, nk, err)
			}
		}
		again, err := parseRef(r.Raw)
		if err != nil || again.ID != r.ID || strings.Join(again.Keys, "\n") != strings.Join(r.Keys, "\n") {
			t.Fatalf("ParseRef is not stable on %q: %+v then %+v, %v", s, r, again, err)
		}
	})
}

func FuzzCursor(f *testing.F) {
	f.Add(offsetCursor(3))
	f.Add(idCursor(graph.KindModel, graph.NewNodeID(graph.KindModel, "name:x")))
	f.Add("")
	f.Add("bWcxOm86LTE")
	f.Fuzz(func(t *testing.T, s string) {
		_, err := decodeCursor(s)
		if err != nil && !IsBadInput(err) {
			t.Fatalf("decodeCursor(%q): %v is not a bad-input error", s, err)
		}
		if _, _, _, err := window(Page{First: 5, After: s}, 10); err != nil && !IsBadInput(err) {
			t.Fatalf("window(%q): %v", s, err)
		}
	})
}
