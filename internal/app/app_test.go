package app

import (
	"context"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/internal/config"
)

// TestOpenStoreLocked: opening a store another opener holds fails with a
// hint naming the cause and the way out.
func TestOpenStoreLocked(t *testing.T) {
	c := config.Defaults()
	c.DataDir = t.TempDir()
	s, err := OpenStore(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = OpenStore(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "another process holds the store's lock") || !strings.Contains(err.Error(), "modelgraph push") {
		t.Fatalf("second open: %v", err)
	}
}

func TestSetMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	t.Setenv("GOMEMLIMIT", "")
	os.Unsetenv("GOMEMLIMIT")
	n, from, err := SetMemoryLimit("1536MiB")
	if err != nil || n != 1536<<20 || from != "flag" || debug.SetMemoryLimit(-1) != 1536<<20 {
		t.Errorf("flag: %d %q %v", n, from, err)
	}
	if _, _, err := SetMemoryLimit("lots"); err == nil {
		t.Error("a bad size was accepted")
	}
	// auto: 80% of the cgroup's limit when there is one.
	debug.SetMemoryLimit(old)
	n, from, err = SetMemoryLimit("auto")
	cg, path := CgroupMemoryLimit()
	switch {
	case err != nil:
		t.Fatal(err)
	case cg > 0 && (n != int64(float64(cg)*MemoryLimitFraction) || !strings.Contains(from, path)):
		t.Errorf("cgroup limit %d (%s): set %d from %q", cg, path, n, from)
	case cg == 0 && n != 0:
		t.Errorf("no cgroup limit, yet set %d from %q", n, from)
	}
	for in, want := range map[string]int64{"2GiB": 2 << 30, "1.5GiB": 3 << 29, "500MB": 500e6, "4096": 4096} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v", in, got, err)
		}
	}
}
