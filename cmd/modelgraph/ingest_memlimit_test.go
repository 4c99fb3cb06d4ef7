package main

import (
	"runtime/debug"
	"testing"
)

// TestIngestMemoryLimit: the ingest command's soft heap limit and GC
// percent are set for the run and restored after it; GOMEMLIMIT or 0
// leaves both alone, and GOGC keeps the percent.
func TestIngestMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	beforeGC := debug.SetGCPercent(-1)
	debug.SetGCPercent(beforeGC)
	restore := ingestMemoryLimit(192, "", "")
	if got := debug.SetMemoryLimit(-1); got != 192<<20 {
		t.Errorf("limit during the run = %d, want %d", got, 192<<20)
	}
	if got := debug.SetGCPercent(ingestGCPercent); got != ingestGCPercent {
		t.Errorf("GC percent during the run = %d, want %d", got, ingestGCPercent)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit after the run = %d, want %d", got, before)
	}
	if got := debug.SetGCPercent(beforeGC); got != beforeGC {
		t.Errorf("GC percent after the run = %d, want %d", got, beforeGC)
	}
	for _, c := range []struct {
		mib       int64
		env, gogc string
		limit     bool
	}{{192, "1GiB", "", false}, {0, "", "", false}, {192, "", "100", true}} {
		restore := ingestMemoryLimit(c.mib, c.env, c.gogc)
		got := debug.SetMemoryLimit(-1)
		if c.limit && got != c.mib<<20 {
			t.Errorf("ingestMemoryLimit(%d, %q, %q): limit %d, want %d", c.mib, c.env, c.gogc, got, c.mib<<20)
		}
		if !c.limit && got != before {
			t.Errorf("ingestMemoryLimit(%d, %q, %q) changed the limit to %d", c.mib, c.env, c.gogc, got)
		}
		if gc := debug.SetGCPercent(beforeGC); gc != beforeGC {
			t.Errorf("ingestMemoryLimit(%d, %q, %q) changed the GC percent to %d", c.mib, c.env, c.gogc, gc)
		}
		restore()
	}
}
