package perf

import (
	"syscall"
	"time"
	"unsafe"
)

// clockThreadCPUTime is Linux's CLOCK_THREAD_CPUTIME_ID.
const clockThreadCPUTime = 3

// threadCPU returns the CPU time the calling OS thread has used, with the
// scheduler's nanosecond accounting (clock_gettime, the clock getrusage's
// RUSAGE_THREAD reads at tick resolution). With the goroutine locked to its
// thread, the difference around an operation is the CPU it used, GC
// assists included, without the time it waited for a core: on a machine
// other processes load, that is the figure that says what the code costs.
func threadCPU() (time.Duration, bool) {
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
