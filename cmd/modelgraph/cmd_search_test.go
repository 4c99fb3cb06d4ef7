package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/internal/query"
)

// TestSearchAndListLocalAndRemoteAgree: `modelgraph search` and `list`
// give the same answers against the store and through --server.
func TestSearchAndListLocalAndRemoteAgree(t *testing.T) {
	dir := localStore(t)
	srv := serveAPI(t, nil)
	if out, _, err := runCLI(t, append([]string{"push", "--server", srv.url, "--token-file", tokenFile(t, cliWriteToken)}, docPaths()...)...); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	readTok := tokenFile(t, cliReadToken)
	for _, q := range [][]string{
		{"search", "acme/clinical-notes-raw"},
		{"search", "clincal", "notes", "--kind", "Dataset"},
		{"list", "Deployment", "--environment", "production"},
		{"list", "Model", "--status", "unverified"},
		{"list", "Model", "--reached", "true"},
	} {
		localOut, _, lerr := runCLI(t, append(q, "--data-dir", dir, "--output", "json")...)
		remoteOut, _, rerr := runCLI(t, append(q, "--server", srv.url, "--token-file", readTok, "--output", "json")...)
		if lerr != nil || rerr != nil {
			t.Fatalf("%v: local error %v, remote error %v\n%s\n%s", q, lerr, rerr, localOut, remoteOut)
		}
		var l, r any
		if err := json.Unmarshal([]byte(localOut), &l); err != nil {
			t.Fatalf("%v: %v", q, err)
		}
		if err := json.Unmarshal([]byte(remoteOut), &r); err != nil {
			t.Fatalf("%v: %v", q, err)
		}
		if !reflect.DeepEqual(strip(l), strip(r)) {
			t.Errorf("%v: local and remote differ\nlocal:  %s\nremote: %s", q, localOut, remoteOut)
		}
	}
	out, _, err := runCLI(t, "search", "acme/clinical-notes-raw", "--data-dir", dir, "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var a query.SearchAnswer
	if err := json.Unmarshal([]byte(out), &a); err != nil || len(a.Items) == 0 || a.Items[0].Ref != "name:acme/clinical-notes-raw@2024-01" {
		t.Errorf("search: %s %v", out, err)
	}
	// A reference that matches nothing says what it might have meant.
	out, _, err = runCLI(t, "query", "trace", "--ref", "acme/clinical-notes-raw", "--data-dir", dir)
	if err == nil || !strings.Contains(err.Error(), "did you mean name:acme/clinical-notes-raw@2024-01") {
		t.Errorf("trace of a fragment: %v\n%s", err, out)
	}
}
