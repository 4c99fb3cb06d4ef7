package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func sum(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

func TestParseTokensFile(t *testing.T) {
	file := `tokens:
  - name: ci-training
    token_sha256: ` + sum("ci-secret-0123456789") + `
    scopes: [read, write]
  - name: responder
    token: responder-secret-0123
    scopes: [READ]
`
	tk, err := ParseTokensFile([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tk.Names(), []string{"ci-training", "responder"}) {
		t.Fatalf("names = %v", tk.Names())
	}
	ci, ok := tk.Authenticate("ci-secret-0123456789")
	if !ok || ci.Name != "ci-training" || !ci.Allows(ScopeWrite) || !ci.Allows(ScopeRead) {
		t.Errorf("ci token = %+v, %v", ci, ok)
	}
	r, ok := tk.Authenticate("responder-secret-0123")
	if !ok || r.Allows(ScopeWrite) || !r.Allows(ScopeRead) {
		t.Errorf("responder token = %+v, %v", r, ok)
	}
	for _, bad := range []string{"", "ci-secret-012345678", "responder-secret-01234", sum("ci-secret-0123456789")} {
		if _, ok := tk.Authenticate(bad); ok {
			t.Errorf("%q authenticated", bad)
		}
	}
	// A bare list works too, and write alone implies read.
	list, err := ParseTokensFile([]byte("- name: w\n  token: " + strings.Repeat("x", 16) + "\n  scopes: [write]\n"))
	if err != nil || list.Len() != 1 || !list.list[0].Allows(ScopeRead) {
		t.Errorf("bare list = %+v, %v", list, err)
	}
	empty, err := ParseTokensFile([]byte("tokens: []\n"))
	if err != nil || empty.Len() != 0 {
		t.Errorf("empty = %+v, %v", empty, err)
	}
}

func TestTokensErrorsNameTheField(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"tokens:\n  - token: " + strings.Repeat("x", 16) + "\n    scopes: [read]\n", "tokens[0] ().name: is empty"},
		{"tokens:\n  - name: a\n    scopes: [read]\n", "tokens[0] (a).token: missing"},
		{"tokens:\n  - name: a\n    token: short\n    scopes: [read]\n", "tokens[0] (a).token: is 5 bytes"},
		{"tokens:\n  - name: a\n    token_sha256: abc\n    scopes: [read]\n", "tokens[0] (a).token_sha256: is not 64 hex"},
		{"tokens:\n  - name: a\n    token: " + strings.Repeat("x", 16) + "\n    token_sha256: " + sum("x") + "\n    scopes: [read]\n", "not both"},
		{"tokens:\n  - name: a\n    token: " + strings.Repeat("x", 16) + "\n", "tokens[0] (a).scopes: is empty"},
		{"tokens:\n  - name: a\n    token: " + strings.Repeat("x", 16) + "\n    scopes: [admin]\n", `"admin" is not read or write`},
		{"tokens:\n  - name: a\n    token: " + strings.Repeat("x", 16) + "\n    scopes: [read]\n  - name: a\n    token: " + strings.Repeat("y", 16) + "\n    scopes: [read]\n", "tokens[1] (a).name: is used twice"},
		{"tokens:\n  - name: a\n    token: " + strings.Repeat("x", 16) + "\n    scopes: [read]\n  - name: b\n    token: " + strings.Repeat("x", 16) + "\n    scopes: [read]\n", "same secret"},
		{"tokens:\n  - name: a\n    tokn: x\n", "field tokn not found"},
		{"tokens: {", "yaml"},
	}
	for _, c := range cases {
		_, err := ParseTokensFile([]byte(c.yaml))
		if !errors.Is(err, ErrInvalidTokens) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.yaml, err, c.want)
		}
	}
	if _, err := ParseTokensFile(make([]byte, MaxTokensFileBytes+1)); !errors.Is(err, ErrInvalidTokens) {
		t.Errorf("oversized file: %v", err)
	}
}

func TestTokensEnvAndLoad(t *testing.T) {
	tk, err := ParseTokensEnv(" ci:read+write:" + strings.Repeat("c", 20) + ", viewer:read:" + strings.Repeat("v", 20) + ":with-colon ,")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := tk.Authenticate(strings.Repeat("v", 20) + ":with-colon"); !ok || v.Name != "viewer" {
		t.Errorf("viewer = %+v, %v", v, ok)
	}
	for _, bad := range []string{"ci:read", "ci:delete:" + strings.Repeat("c", 20), ":read:" + strings.Repeat("c", 20), "ci:read:short"} {
		if _, err := ParseTokensEnv(bad); !errors.Is(err, ErrInvalidTokens) {
			t.Errorf("ParseTokensEnv(%q) = %v", bad, err)
		}
	}
	path := filepath.Join(t.TempDir(), "tokens.yaml")
	if err := os.WriteFile(path, []byte("- name: file\n  token: "+strings.Repeat("f", 16)+"\n  scopes: [read]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	all, err := LoadTokens(path, "env:write:"+strings.Repeat("e", 16))
	if err != nil || !slices.Equal(all.Names(), []string{"file", "env"}) {
		t.Errorf("LoadTokens = %v, %v", all.Names(), err)
	}
	if _, err := LoadTokens(path, "file:read:"+strings.Repeat("g", 16)); !errors.Is(err, ErrInvalidTokens) {
		t.Errorf("name in both: %v", err)
	}
	if _, err := LoadTokens(filepath.Join(t.TempDir(), "missing.yaml"), ""); err == nil {
		t.Error("missing file loaded")
	}
	none, err := LoadTokens("", "")
	if err != nil || none.Len() != 0 {
		t.Errorf("no tokens = %v, %v", none, err)
	}
}

func TestBearer(t *testing.T) {
	for h, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "Basic abc": "", "Bearer": "", "Bearer ": "", "": ""} {
		got, ok := bearer(h)
		if got != want || ok != (want != "") {
			t.Errorf("bearer(%q) = %q, %v", h, got, ok)
		}
	}
}

// TestTokensFileReadableByOthers: a tokens file group- or world-readable
// loads, with a warning that New logs.
func TestTokensFileReadableByOthers(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tokens.yaml")
	body := "tokens:\n  - name: ci\n    token: " + writeSecret + "\n    scopes: [read, write]\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	tk, err := LoadTokens(p, "")
	if err != nil || tk.Len() != 1 {
		t.Fatalf("%v %d", err, tk.Len())
	}
	if w := tk.Warnings(); len(w) != 1 || !strings.Contains(w[0], "readable by others") || !strings.Contains(w[0], "0644") {
		t.Errorf("warnings = %q", w)
	}
	e := start(t, Options{Tokens: tk})
	if !strings.Contains(e.log.String(), "readable by others") {
		t.Errorf("no warning logged:\n%s", e.log.String())
	}
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if tk, err = LoadTokens(p, ""); err != nil || len(tk.Warnings()) != 0 {
		t.Errorf("mode 0600: %v %q", err, tk.Warnings())
	}
}
