package graph

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/kinds.golden")

// TestKindCodesGolden pins every kind's compact code. The codes are in
// stored data (embedded keys and records, the index snapshot) and order
// the walk, so changing one corrupts every store and changes answers: a
// new kind appends a line with a new code (go test ./graph -run
// TestKindCodesGolden -update), an existing line never changes.
func TestKindCodesGolden(t *testing.T) {
	var b strings.Builder
	for _, k := range NodeKinds {
		fmt.Fprintf(&b, "node %-14s %2d\n", k, k.Code())
	}
	for _, k := range EdgeKinds {
		fmt.Fprintf(&b, "edge %-14s %2d\n", k, k.Code())
	}
	got := b.String()
	path := filepath.Join("testdata", "kinds.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Every golden line must still hold; new kinds may add lines.
	for _, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("kind code changed or removed: golden line %q is gone from\n%s", line, got)
		}
	}
	if got != string(want) {
		t.Errorf("kind codes differ from testdata/kinds.golden (a new kind? run with -update):\n%s", got)
	}
}

// TestKindCodesRoundTrip: every code is non-zero, unique and inverts; an
// unknown code is no kind.
func TestKindCodesRoundTrip(t *testing.T) {
	seen := map[uint8]bool{}
	for i, k := range NodeKinds {
		c := k.Code()
		if c == 0 || seen[c] || NodeKindFromCode(c) != k {
			t.Errorf("node kind %s: code %d (duplicate %v, inverts to %q)", k, c, seen[c], NodeKindFromCode(c))
		}
		if i > 0 && c <= NodeKinds[i-1].Code() {
			t.Errorf("NodeKinds is not in code order at %s", k)
		}
		seen[c] = true
	}
	clear(seen)
	for i, k := range EdgeKinds {
		c := k.Code()
		if c == 0 || c >= 32 || seen[c] || EdgeKindFromCode(c) != k {
			t.Errorf("edge kind %s: code %d (duplicate %v, inverts to %q); edge codes must stay below 32 (embedded kind masks)", k, c, seen[c], EdgeKindFromCode(c))
		}
		if i > 0 && c <= EdgeKinds[i-1].Code() {
			t.Errorf("EdgeKinds is not in code order at %s", k)
		}
		seen[c] = true
	}
	if NodeKindFromCode(0) != "" || NodeKindFromCode(200) != "" || EdgeKindFromCode(0) != "" || EdgeKindFromCode(200) != "" {
		t.Error("an unknown code names a kind")
	}
	if len(nodeKindCodes) != len(NodeKinds) || len(edgeKindCodes) != len(EdgeKinds) {
		t.Error("a kind lacks a code, or a code lacks its kind in the list")
	}
}
