package main

import (
	"runtime/debug"
	"testing"
)

// TestIngestMemoryLimit: the ingest command's soft heap limit is set for
// the run and restored after it, and neither GOMEMLIMIT nor 0 is
// overridden.
func TestIngestMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	restore := ingestMemoryLimit(128, "")
	if got := debug.SetMemoryLimit(-1); got != 128<<20 {
		t.Errorf("limit during the run = %d, want %d", got, 128<<20)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit after the run = %d, want %d", got, before)
	}
	for _, c := range []struct {
		mib int64
		env string
	}{{128, "1GiB"}, {0, ""}} {
		restore := ingestMemoryLimit(c.mib, c.env)
		if got := debug.SetMemoryLimit(-1); got != before {
			t.Errorf("ingestMemoryLimit(%d, %q) changed the limit to %d", c.mib, c.env, got)
		}
		restore()
	}
}
