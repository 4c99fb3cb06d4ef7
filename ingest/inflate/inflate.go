// Package inflate undoes the compression ingest accepts (gzip, bzip2,
// zstd) once, streaming, under a decompressed-size cap and a ratio cap, so
// a small bomb costs what its cap allows and no more. The pipeline calls
// it before anything parses; format parsers that are handed compressed
// bytes directly (sbom.Parse) call it too, with the same limits.
package inflate

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/modelgraph/modelgraph/ingest/docerr"
)

// Defaults.
const (
	// DefaultMaxRatio bounds decompressed/compressed size. JSON SBOMs
	// compress 10-40x; 200x leaves room for very repetitive ones.
	DefaultMaxRatio = 200
	// Floor: below this many decompressed bytes the ratio is not checked
	// (a 300-byte document may inflate to 1 MiB harmlessly).
	Floor = 1 << 20
)

// ErrTooLarge: the decompressed document passed a cap. The message names
// the cap.
var ErrTooLarge = docerr.Sentinel("decompressed document exceeds a limit", docerr.ErrTooLarge)

// ErrCorrupt: the compressed stream does not decompress.
var ErrCorrupt = docerr.Sentinel("compressed document is corrupt", docerr.ErrMalformed)

// Limits bound one decompression.
type Limits struct {
	MaxBytes int64 // decompressed size cap (required, > 0)
	MaxRatio int64 // decompressed/compressed cap above Floor (DefaultMaxRatio when 0)
}

// Codec names the compression data starts with ("gzip", "bzip2", "zstd"),
// or "" when it is not compressed.
func Codec(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		return "gzip"
	case bytes.HasPrefix(data, []byte("BZh")) && len(data) > 3 && data[3] >= '1' && data[3] <= '9':
		return "bzip2"
	case bytes.HasPrefix(data, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "zstd"
	}
	return ""
}

// Bound is the most a document of n bytes with codec ("" for none) can
// occupy once decoded under l.
func Bound(n int64, codec string, l Limits) int64 {
	if codec == "" {
		return n
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	return min(l.MaxBytes, max(l.MaxRatio*n, Floor))
}

// Decode returns data decompressed (data itself when it is not
// compressed). It reads the stream once and stops as soon as the output
// passes a cap, so memory stays within the cap.
func Decode(data []byte, l Limits) ([]byte, error) {
	codec := Codec(data)
	if codec == "" {
		return data, nil
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	limit, byRatio := l.MaxBytes, false
	if r := max(l.MaxRatio*int64(len(data)), Floor); r < limit {
		limit, byRatio = r, true
	}
	var r io.Reader
	switch codec {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %w", ErrCorrupt, err)
		}
		r = zr
	case "bzip2":
		r = bzip2.NewReader(bytes.NewReader(data))
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(uint64(limit)), zstd.WithDecoderMaxWindow(uint64(min(limit, 64<<20))))
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %w", ErrCorrupt, err)
		}
		defer zr.Close()
		r = zr
	}
	tooLarge := func() error {
		if byRatio {
			return fmt.Errorf("%w: decompressed size exceeds %d bytes, the ratio limit (%dx the %d %s bytes received)", ErrTooLarge, limit, l.MaxRatio, len(data), codec)
		}
		return fmt.Errorf("%w: decompressed size exceeds the %d-byte limit (%s)", ErrTooLarge, limit, codec)
	}
	var out bytes.Buffer
	out.Grow(int(min(limit, 4*int64(len(data))+4096)))
	n, err := out.ReadFrom(io.LimitReader(r, limit+1))
	switch {
	case errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded):
		return nil, tooLarge()
	case err != nil:
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, codec, err)
	case n > limit:
		return nil, tooLarge()
	}
	return out.Bytes(), nil
}
