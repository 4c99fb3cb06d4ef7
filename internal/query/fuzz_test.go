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

func FuzzParseRange(f *testing.F) {
	seeds(f, "ranges.txt")
	versions := []string{"0", "1.0", "2.0.0rc1", "2.14.99", "1!1.0", "1.0.0-alpha.1", "3.1.post2", "2.1.0.dev3"}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			if !IsBadInput(err) {
				t.Fatalf("ParseRange(%q): error %v is not a bad-input error", s, err)
			}
			return
		}
		again, err := ParseRange(r.String())
		if err != nil {
			t.Fatalf("ParseRange(%q) then ParseRange(%q): %v", s, r.String(), err)
		}
		for _, v := range append(versions, s) {
			if r.Match(v) != again.Match(v) {
				t.Fatalf("range %q and its re-parse disagree on %q", s, v)
			}
		}
		// Versions parse and order consistently.
		if v, err := ParseVersion(s); err == nil {
			for _, w := range versions {
				o := mustParse(t, w)
				if Compare(v, o) != -Compare(o, v) {
					t.Fatalf("Compare(%q, %q) is not antisymmetric", s, w)
				}
			}
			if Compare(v, v) != 0 {
				t.Fatalf("Compare(%q, itself) != 0", s)
			}
		}
	})
}

func mustParse(t *testing.T, s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		t.Fatalf("ParseVersion(%q): %v", s, err)
	}
	return v
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
