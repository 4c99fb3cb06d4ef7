//go:build !linux

package perf

import "time"

// threadCPU is not available here: CPU figures are left out.
func threadCPU() (time.Duration, bool) { return 0, false }
