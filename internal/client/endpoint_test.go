package client

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEndpoint(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	if err := os.WriteFile(tok, []byte("  file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("x"), maxTokenFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "MODELGRAPH_TOKEN" {
				return v
			}
			return ""
		}
	}
	for _, c := range []struct {
		server, file, env       string
		base, token, err, warns string
	}{
		{server: "http://127.0.0.1:8080/", env: "env-token", base: "http://127.0.0.1:8080", token: "env-token"},
		{server: "https://mg.example/api/", file: tok, env: "env-token", base: "https://mg.example/api", token: "file-token"},
		{server: "http://localhost:1", file: tok, base: "http://localhost:1", token: "file-token"},
		{server: "http://mg.example", env: "t", base: "http://mg.example", token: "t", warns: "plain http to mg.example"},
		{server: "http://mg.example", base: "http://mg.example"}, // no token: nothing to warn about
		{server: "mg.example:8080", err: "want an http:// or https:// URL"},
		{server: "ftp://mg.example", err: "want an http:// or https:// URL"},
		{server: "http://", err: "want an http:// or https:// URL"},
		{server: "http://x", file: empty, err: "is empty"},
		{server: "http://x", file: big, err: "not a token file"},
		{server: "http://x", file: filepath.Join(dir, "missing"), err: "--token-file"},
	} {
		var warn bytes.Buffer
		base, token, err := Endpoint(c.server, c.file, env(c.env), &warn)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q %q: error %v, want %q", c.server, c.file, err, c.err)
			}
			continue
		}
		if err != nil || base != c.base || token != c.token {
			t.Errorf("%q %q: (%q, %q, %v), want (%q, %q)", c.server, c.file, base, token, err, c.base, c.token)
		}
		if got := warn.String(); (c.warns == "") != (got == "") || !strings.Contains(got, c.warns) {
			t.Errorf("%q: warning %q, want %q", c.server, got, c.warns)
		}
	}
}
