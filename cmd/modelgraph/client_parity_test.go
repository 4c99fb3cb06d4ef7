package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/cli"
	"github.com/modelgraph/modelgraph/internal/demo"
	"github.com/modelgraph/modelgraph/internal/httpapi"
)

// parityStores builds one store (the signed demo chain and the lineage
// documents), copies it, serves the copy over HTTP (the real API with
// tokens) and returns the original's data dir and the server's URL. The
// two stores hold the same bytes, so every answer must be the same.
func parityStores(t *testing.T) (dataDir, url string) {
	t.Helper()
	ctx := context.Background()
	dataDir = t.TempDir()
	s, err := embedded.Open(filepath.Join(dataDir, "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := demo.WithTrust(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCLI(t, append([]string{"ingest", "--data-dir", dataDir}, docPaths()...)...); err != nil {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	served := filepath.Join(t.TempDir(), "graph.db")
	copyFile(t, filepath.Join(dataDir, "graph.db"), served)
	s2, err := embedded.Open(served, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	tokens, err := httpapi.ParseTokensEnv("responder:read:" + cliReadToken)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Store: s2, Tokens: tokens}))
	t.Cleanup(srv.Close)
	return dataDir, srv.URL
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLocalAndServerPrintTheSameBytes runs every question of the CLI
// against the local store (in-process GraphQL) and against a server over
// the same data, in every output format, and compares stdout byte for
// byte, and the exit status.
func TestLocalAndServerPrintTheSameBytes(t *testing.T) {
	dir, url := parityStores(t)
	tok := tokenFile(t, cliReadToken)

	// A signer of the demo chain, for the signatures question.
	out, _, err := runCLI(t, "query", "--data-dir", dir, "--graphql", `{ trace(ref: "acme/llm-7b-chat") { signers { signer { keyId identity } } } }`)
	if err != nil {
		t.Fatalf("raw trace: %v\n%s", err, out)
	}
	var signers struct {
		Data struct {
			Trace struct {
				Signers []struct {
					Signer struct{ KeyID, Identity string }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &signers); err != nil || len(signers.Data.Trace.Signers) == 0 {
		t.Fatalf("no signer upstream of acme/llm-7b-chat: %v\n%s", err, out)
	}
	signer := signers.Data.Trace.Signers[0].Signer.KeyID
	if signer == "" {
		signer = signers.Data.Trace.Signers[0].Signer.Identity
	}

	const sha3 = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	const dep = "deployment:production/us-east-1/ml-serving/chat-api"
	questions := [][]string{
		{"query", "trace", "--model", "acme/llm-7b-chat"},
		{"query", "trace", "--model", sha3, "--files", "--depth", "2"},
		{"query", "impact", "--dataset", "s3://acme-data/datasets/clinical-notes-raw/2024-01/", "--kind", "model,Deployment"},
		{"query", "deployed-trained-on", "--dataset", "s3://acme-data/datasets/clinical-notes-raw/2024-01/"},
		{"query", "deployed-trained-on", "--dataset", "acme/clinical-notes-raw@2024-01", "--active", "--at", "2030-01-01"},
		{"query", "explain", "--from", dep, "--to", "acme/clinical-notes-raw@2024-01"},
		{"query", "signatures", "--identity", signer},
		{"query", "unverified"},
		{"query", "unverified", "--kind", "Dataset"},
		{"query", "affected-by-package", "--purl", "pkg:pypi/transformers", "--range", "<4.36.0"},
		{"query", "affected-by-package", "--purl", "pkg:pypi/torch", "--range", ">=2.0,<3"},
		{"query", "advisories"},
		{"query", "advisories", "--active"},
		{"query", "affected-by-advisory", "--advisory", demo.AdvisoryID},
		{"query", "rollback", "--deployment", "deployment:production/eu-west-1/ml-serving/clinical-chat"},
		{"query", "rollback", "--deployment", dep},
		{"query", "admission", "--digest", sha3},
		{"query", "admission", "--digest", sha3, "--allow-unsigned", "--ignore-advisories", "--max-unsigned-hops", "20"},
		{"query", "lookup", "--ref", "acme/clinical-notes@v3"},
		{"query", "stats"},
		{"query", "trace", "--model", "no-such-model"},
		{"search", "clincal", "notes"},
		{"search", "acme/llm-7b", "--kind", "Model", "--first", "3"},
		{"list", "Model"},
		{"list", "Deployment", "--environment", "production"},
		{"list", "Model", "--reached", "true", "--since", "2000-01-01"},
		{"posture"},
		{"posture", "--kind", "Deployment", "--sort", "name", "--descending"},
		{"posture", "deployment:production/eu-west-1/ml-serving/clinical-chat"},
		{"posture", dep, "--min-level", "1"},
	}
	formats := map[string][]string{"posture": {"table", "json", "csv"}}
	seen := map[string]bool{}
	for _, q := range questions {
		fs := formats[q[0]]
		if fs == nil {
			fs = []string{"table", "json"}
		}
		for _, f := range fs {
			args := append(append([]string{}, q...), "-o", f)
			lout, _, lerr := runCLI(t, append(args, "--data-dir", dir)...)
			rout, _, rerr := runCLI(t, append(args, "--server", url, "--token-file", tok)...)
			compare(t, args, lout, rout, lerr, rerr)
			seen[lout] = true
		}
	}
	for _, format := range []string{"cyclonedx-json", "cyclonedx-xml", "spdx3"} {
		for _, ref := range [][]string{{"--model", "acme/llm-7b-chat"}, {"--deployment", dep}, {"--environment", "production"}} {
			args := append([]string{"export", "aibom", "--format", format}, ref...)
			lout, _, lerr := runCLI(t, append(args, "--data-dir", dir)...)
			rout, _, rerr := runCLI(t, append(args, "--server", url, "--token-file", tok)...)
			compare(t, args, lout, rout, lerr, rerr)
			seen[lout] = true
		}
	}
	// The answers are answers, not one repeated error or nothing.
	if len(seen) < len(questions)*2 {
		t.Errorf("only %d distinct outputs for %d questions", len(seen), len(questions))
	}
}

func compare(t *testing.T, args []string, lout, rout string, lerr, rerr error) {
	t.Helper()
	if (lerr == nil) != (rerr == nil) || exitCode(lerr) != exitCode(rerr) {
		t.Errorf("%v: local error %v (exit %d), server error %v (exit %d)", args, lerr, exitCode(lerr), rerr, exitCode(rerr))
		return
	}
	if lerr != nil && lerr.Error() != rerr.Error() {
		t.Errorf("%v: errors differ\nlocal:  %v\nserver: %v", args, lerr, rerr)
	}
	if lout != rout {
		t.Errorf("%v: local and server outputs differ\nlocal:\n%s\nserver:\n%s", args, lout, rout)
	}
	if lerr == nil && strings.TrimSpace(lout) == "" {
		t.Errorf("%v: empty output", args)
	}
}

// TestPagedAnswersAreWhole: with pages of 2 items, the paged questions
// print, locally and from a server, what one page of 200 prints.
func TestPagedAnswersAreWhole(t *testing.T) {
	dir, url := parityStores(t)
	tok := tokenFile(t, cliReadToken)
	paged := [][]string{
		{"query", "trace", "--model", "acme/llm-7b-chat"},
		{"query", "impact", "--dataset", "s3://acme-data/datasets/clinical-notes-raw/2024-01/"},
		{"query", "deployed-trained-on", "--dataset", "s3://acme-data/datasets/clinical-notes-raw/2024-01/"},
		{"query", "unverified"},
		{"query", "affected-by-package", "--purl", "pkg:pypi/transformers"},
		{"query", "advisories"},
		{"query", "affected-by-advisory", "--advisory", demo.AdvisoryID},
		{"list", "Package"},
		{"posture"},
	}
	for _, q := range paged {
		for _, f := range []string{"table", "json"} {
			args := append(append([]string{}, q...), "-o", f)
			whole, _, err := runCLI(t, append(args, "--data-dir", dir)...)
			if err != nil {
				t.Fatalf("%v: %v", args, err)
			}
			cli.PageSize = 2
			lout, _, lerr := runCLI(t, append(args, "--data-dir", dir)...)
			rout, _, rerr := runCLI(t, append(args, "--server", url, "--token-file", tok)...)
			cli.PageSize = 200
			compare(t, args, lout, rout, lerr, rerr)
			if lerr == nil && lout != whole {
				t.Errorf("%v: pages of 2 give\n%s\none page gives\n%s", args, lout, whole)
			}
		}
	}
}
