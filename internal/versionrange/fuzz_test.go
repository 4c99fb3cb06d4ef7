package versionrange

import (
	"bufio"
	"errors"
	"os"
	"testing"
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

func FuzzParseRange(f *testing.F) {
	seeds(f, "ranges.txt")
	versions := []string{"0", "1.0", "2.0.0rc1", "2.14.99", "1!1.0", "1.0.0-alpha.1", "3.1.post2", "2.1.0.dev3"}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q): error %v is not ErrInvalid", s, err)
			}
			return
		}
		again, err := Parse(r.String())
		if err != nil {
			t.Fatalf("Parse(%q) then Parse(%q): %v", s, r.String(), err)
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
