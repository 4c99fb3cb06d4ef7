//go:build !unix

package embedded

func newChunk() ([]byte, error) { return make([]byte, chunkSize), nil }

func freeChunk([]byte) {}
