//go:build unix

package embedded

import "syscall"

// newChunk maps a slab chunk outside the Go heap: the collector does not
// scan it, and it does not count towards the heap goal (hundreds of MB
// at 1M nodes would otherwise let the heap grow twice as large).
func newChunk() ([]byte, error) {
	return syscall.Mmap(-1, 0, chunkSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
}

func freeChunk(c []byte) { _ = syscall.Munmap(c) }
