package app

import (
	"os"
	"runtime"
	"runtime/pprof"
)

// StartCPUProfile writes a CPU profile to path ("": none) until stop.
func StartCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// StartAllocProfile samples every allocation from now on (path "" does
// nothing) and returns what writes the heap profile (go tool pprof
// -sample_index=alloc_space) to path.
func StartAllocProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	prev := runtime.MemProfileRate
	runtime.MemProfileRate = 64 << 10
	return func() {
		_ = pprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
		runtime.MemProfileRate = prev
	}, nil
}
