package httpapi

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
)

// smallDisk mounts a 16 MiB tmpfs for the test when the machine allows it
// (root, mount permitted) and reports whether it did; else the test's
// temporary directory is used and "full" is the free-space threshold
// passing what the filesystem has.
func smallDisk(t *testing.T) (string, bool) {
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		return dir, false
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Logf("tmpfs not permitted (%v: %s): using the free-space threshold", err, out)
		return dir, false
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir, true
}

// fill writes to dir until the filesystem is full.
func fill(t *testing.T, dir string) string {
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return p
		}
	}
}

// TestReadyzStoreCannotWrite: /readyz fails while the store's disk is
// full (a real tmpfs filled up when the machine allows mounting one) and
// after a store write failed, and recovers when space and writes return.
func TestReadyzStoreCannotWrite(t *testing.T) {
	dir, tmpfs := smallDisk(t)
	s, err := embedded.Open(filepath.Join(dir, "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	h := NewWriteHealth(s, dir)
	h.MinFree = 1 << 20
	e := startOn(t, Options{Health: h}, nil, s)
	ready := func() (int, string) {
		h.mu.Lock()
		h.probeAt = time.Time{} // probe now
		h.mu.Unlock()
		resp, b := e.do(t, "GET", "/readyz", "", "", nil)
		return resp.StatusCode, string(b)
	}
	if code, b := ready(); code != 200 {
		t.Fatalf("empty disk: %d %s", code, b)
	}
	var filler string
	if tmpfs {
		filler = fill(t, dir)
	} else {
		h.MinFree = 1 << 62 // more than any disk has: "full"
	}
	if code, b := ready(); code != 503 || !strings.Contains(b, "bytes free") {
		t.Fatalf("full disk (tmpfs %v): %d %s", tmpfs, code, b)
	}
	if tmpfs { // a push now must not be acknowledged as stored
		resp, b := e.do(t, "POST", "/v1/ingest", writeSecret, "", fixture(t, "intoto/dataset-raw.intoto.json"))
		if resp.StatusCode != 507 || !strings.Contains(string(b), "disk is full") {
			t.Errorf("push on a full disk: %d %.300s, want 507", resp.StatusCode, b)
		}
		if code, body := ready(); code != 503 {
			t.Fatalf("after the failed push: %d %s", code, body)
		}
		_ = os.Remove(filler)
		// Space is back but the last write failed: unready until one
		// succeeds (or RecoverAfter passes).
		if code, body := ready(); code != 503 || !strings.Contains(body, "last store write failed") {
			t.Fatalf("space back, last write failed: %d %s", code, body)
		}
		if resp, b := e.do(t, "POST", "/v1/ingest", writeSecret, "", fixture(t, "intoto/dataset-raw.intoto.json")); resp.StatusCode != 201 {
			t.Fatalf("push with space back: %d %s", resp.StatusCode, b)
		}
	} else {
		h.MinFree = 1 << 20
	}
	if code, b := ready(); code != 200 {
		t.Fatalf("space back: %d %s", code, b)
	}
	// A store write failing (injected fault: the same path as ENOSPC or
	// EIO inside the write) makes the server unready until one succeeds.
	b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("x")), Source: "t", Type: "test"})
	b.Describes(b.Node(graph.KindDataset, "https://example.com/ds"))
	_, err = h.Apply(graph.WithFault(context.Background(), 0), b)
	if err == nil {
		t.Fatal("injected fault did not fail the write")
	}
	t.Logf("injected: %v", err)
	if code, body := ready(); code != 503 || !strings.Contains(body, "last store write failed") {
		t.Fatalf("after a failed write: %d %s", code, body)
	}
	p := &ingest.Pipeline{Store: h, Parser: ingest.NewParser(nil)}
	if _, err := p.Ingest(context.Background(), ingest.Input{Data: fixture(t, "intoto/dataset-derived.intoto.json"), Source: "t"}); err != nil {
		t.Fatal(err)
	}
	if code, body := ready(); code != 200 {
		t.Fatalf("after a good write: %d %s", code, body)
	}
}
