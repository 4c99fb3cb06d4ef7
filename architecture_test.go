package modelgraph

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/modelgraph/modelgraph/"

// rule is one row of docs/architecture.md's package table: the packages it
// covers and the module packages they may import. Text outside backticks
// in the "may import" column names third-party code and is not checked.
// A row whose "holds" cell says "tests only" covers test support: only
// test files may import its packages.
type rule struct {
	line      int
	packages  []string // module-relative paths; a row also covers their subpackages not listed elsewhere
	allowed   []string // patterns: a path, "dir/*" (every package under dir), "*" (anything)
	testsOnly bool
}

var backticked = regexp.MustCompile("`([^`]+)`")

// parseTable reads the package table of docs/architecture.md.
func parseTable(doc []byte) ([]rule, error) {
	var rules []rule
	in := false
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "| package | holds | may import |") {
			in = true
			continue
		}
		if !in || strings.HasPrefix(line, "|---") {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			if len(rules) > 0 {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 {
			return nil, fmt.Errorf("docs/architecture.md:%d: want 3 cells, got %d", n, len(cells))
		}
		r := rule{line: n, testsOnly: strings.Contains(cells[1], "tests only")}
		for _, m := range backticked.FindAllStringSubmatch(cells[0], -1) {
			p := strings.TrimSuffix(m[1], "/")
			if strings.ContainsAny(p, ".") { // gqlgen.yml, gen.go: files, not packages
				continue
			}
			r.packages = append(r.packages, p)
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[2], -1) {
			r.allowed = append(r.allowed, m[1])
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("docs/architecture.md: no package table")
	}
	return rules, sc.Err()
}

// ruleFor is the row covering pkg: the row naming it, else the row naming
// its nearest ancestor.
func ruleFor(rules []rule, pkg string) (rule, bool) {
	for p := pkg; p != "." && p != ""; p = path.Dir(p) {
		for _, r := range rules {
			if slices.Contains(r.packages, p) {
				return r, true
			}
		}
	}
	return rule{}, false
}

func allowedBy(patterns []string, imp string) bool {
	for _, p := range patterns {
		switch {
		case p == "*" || p == imp:
			return true
		case strings.HasSuffix(p, "/*") && strings.HasPrefix(imp, strings.TrimSuffix(p, "*")):
			return true
		}
	}
	return false
}

// violations checks an import graph (module-relative package -> module
// packages it imports, test files left out) against the rules. A package
// may always import its own subpackages, and never test support unless it
// is test support itself.
func violations(rules []rule, imports map[string][]string) []string {
	var out []string
	for _, pkg := range slices.Sorted(maps.Keys(imports)) {
		if pkg == "" {
			continue
		}
		r, ok := ruleFor(rules, pkg)
		if !ok {
			out = append(out, fmt.Sprintf("%s: no row of docs/architecture.md's package table covers it", pkg))
			continue
		}
		for _, imp := range imports[pkg] {
			if ir, ok := ruleFor(rules, imp); ok && ir.testsOnly && !r.testsOnly {
				out = append(out, fmt.Sprintf("%s imports %s, which docs/architecture.md:%d marks as tests only", pkg, imp, ir.line))
				continue
			}
			if strings.HasPrefix(imp, pkg+"/") || allowedBy(r.allowed, imp) {
				continue
			}
			out = append(out, fmt.Sprintf("%s imports %s, which docs/architecture.md:%d does not allow (may import: %v)", pkg, imp, r.line, r.allowed))
		}
	}
	return out
}

// moduleImports lists every package of the module (non-test code) and the
// module packages it imports, with go list.
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}", "./...")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		p, imps, _ := strings.Cut(l, "|")
		p = strings.TrimPrefix(strings.TrimPrefix(p, module), strings.TrimSuffix(module, "/"))
		var own []string
		for _, i := range strings.Fields(imps) {
			if strings.HasPrefix(i, module) {
				own = append(own, strings.TrimPrefix(i, module))
			}
		}
		imports[p] = own
	}
	return imports
}

// TestArchitecture enforces docs/architecture.md's import table: every
// package is covered by a row, and imports only what its row allows.
func TestArchitecture(t *testing.T) {
	doc, err := os.ReadFile("docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := parseTable(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range violations(rules, moduleImports(t)) {
		t.Error(v)
	}
}

// The check fails when a forbidden import is added: graph importing ingest
// (the core must not know its callers), or the question layer importing
// the HTTP surface.
func TestArchitectureCatchesForbiddenImports(t *testing.T) {
	doc, err := os.ReadFile("docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := parseTable(doc)
	if err != nil {
		t.Fatal(err)
	}
	imports := moduleImports(t)
	base := violations(rules, imports)
	for _, c := range []struct{ pkg, imp string }{
		{"graph", "ingest"},
		{"internal/query", "internal/httpapi"},
		{"graph/embedded", "graph/neo4j"},
		{"aibom", "internal/query"},
		{"ingest/strictjson", "graph"},
		{"cmd/modelgraph", "internal/testserve"},    // its row allows internal/*, but test support is for tests
		{"internal/demo", "internal/demo/demotest"}, // not even its own test support
	} {
		bad := map[string][]string{}
		for k, v := range imports {
			bad[k] = slices.Clone(v)
		}
		bad[c.pkg] = append(bad[c.pkg], c.imp)
		v := slices.DeleteFunc(violations(rules, bad), func(s string) bool { return slices.Contains(base, s) })
		if len(v) != 1 || !strings.Contains(v[0], c.pkg+" imports "+c.imp) {
			t.Errorf("adding %s -> %s: new violations %v, want exactly that one", c.pkg, c.imp, v)
		}
	}
	// A package no row covers is reported too.
	bad := map[string][]string{"newtop/thing": nil}
	if v := violations(rules, bad); len(v) != 1 || !strings.Contains(v[0], "no row") {
		t.Errorf("an uncovered package: %v", v)
	}
}
