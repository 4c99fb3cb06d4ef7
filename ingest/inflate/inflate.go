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
	"sync"

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
	if Codec(data) == "" {
		return data, nil
	}
	var out bytes.Buffer
	out.Grow(int(min(limit(len(data), l), 4*int64(len(data))+4096)))
	if _, err := Copy(&out, data, l); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// limit is the decompressed-size cap for n compressed bytes under l, and
// whether the ratio (not MaxBytes) set it.
func limitOf(n int, l Limits) (int64, bool) {
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	if r := max(l.MaxRatio*int64(n), Floor); r < l.MaxBytes {
		return r, true
	}
	return l.MaxBytes, false
}

func limit(n int, l Limits) int64 { c, _ := limitOf(n, l); return c }

type guarded struct {
	w   io.Writer
	err error
}

func (g *guarded) Write(p []byte) (int, error) {
	n, err := g.w.Write(p)
	if err != nil {
		g.err = err
	}
	return n, err
}

// zstdDecoders keeps decoders, with their history buffers, between
// streams whose cap is the size limit, not the ratio (large bodies: the
// probe's bombs), and whose first frame's window is at most roomyWindow
// (an idle one holds twice the largest window it decoded: 2 x 8 MiB unless
// a later frame declared more; larger windows get a decoder of their own,
// as do small bodies). It saves allocating and clearing the history each time
// (~1.7 ms of the 1M-package bomb's ~24 ms probe). A decoder is reused only
// under the limit it was made with: the library keeps a decoder's first
// limits in its frame decoder, whatever ResetWithOptions is given later.
var zstdDecoders sync.Pool

type pooledDecoder struct {
	d     *zstd.Decoder
	limit int64
}

// zstdDecoder returns a synchronous decoder of data under limit, and what
// to call when done with it (it goes back to the pool, or is closed).
func zstdDecoder(data []byte, limit int64, lowMem, byRatio bool) (*zstd.Decoder, func(), error) {
	newDecoder := func() (*zstd.Decoder, error) {
		return zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(lowMem),
			zstd.WithDecoderMaxMemory(uint64(limit)), zstd.WithDecoderMaxWindow(uint64(min(limit, 64<<20))))
	}
	if byRatio || lowMem {
		zr, err := newDecoder()
		if err == nil {
			err = zr.Reset(bytes.NewReader(data))
		}
		if err != nil {
			if zr != nil {
				zr.Close()
			}
			return nil, nil, err
		}
		return zr, zr.Close, nil
	}
	pd, _ := zstdDecoders.Get().(*pooledDecoder)
	if pd != nil && pd.limit != limit {
		pd.d.Close()
		pd = nil
	}
	if pd == nil {
		zr, err := newDecoder()
		if err != nil {
			return nil, nil, err
		}
		pd = &pooledDecoder{d: zr, limit: limit}
	}
	if err := pd.d.Reset(bytes.NewReader(data)); err != nil {
		pd.d.Close()
		return nil, nil, err
	}
	return pd.d, func() {
		_ = pd.d.Reset(nil) // (drops data)
		zstdDecoders.Put(pd)
	}, nil
}

var errCapped = errors.New("decompressed size cap reached")

// capped passes on at most left bytes to w and fails once it has (as
// io.LimitReader stops reading there).
type capped struct {
	w    io.Writer
	left int64
}

func (c *capped) Write(p []byte) (int, error) {
	full := int64(len(p)) >= c.left
	if full {
		p = p[:c.left]
	}
	n, err := c.w.Write(p)
	c.left -= int64(n)
	if err == nil && full {
		err = errCapped
	}
	return n, err
}

// Copy decompresses data into w, streaming (data itself when it is not
// compressed), under the same caps as Decode: it stops as soon as the
// output passes a cap, so it holds no more than the decoder's window
// whatever w keeps. It returns the decompressed size. An error from w
// (a scan that saw enough) is returned as is.
func Copy(w io.Writer, data []byte, l Limits) (int64, error) {
	codec := Codec(data)
	if codec == "" {
		n, err := w.Write(data)
		return int64(n), err
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	limit, byRatio := limitOf(len(data), l)
	var r io.Reader
	switch codec {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return 0, fmt.Errorf("%w: gzip: %w", ErrCorrupt, err)
		}
		r = zr
	case "bzip2":
		r = bzip2.NewReader(bytes.NewReader(data))
	case "zstd":
		w, _ := zstdWindow(data, Limits{MaxBytes: l.MaxBytes})
		zr, done, err := zstdDecoder(data, limit, w > roomyWindow, byRatio)
		if err != nil {
			return 0, fmt.Errorf("%w: zstd: %w", ErrCorrupt, err)
		}
		defer done()
		r = zr
	}
	tooLarge := func() error {
		if byRatio {
			return fmt.Errorf("%w: decompressed size exceeds %d bytes, the ratio limit (%dx the %d %s bytes received)", ErrTooLarge, limit, l.MaxRatio, len(data), codec)
		}
		return fmt.Errorf("%w: decompressed size exceeds the %d-byte limit (%s)", ErrTooLarge, limit, codec)
	}
	g := &guarded{w: w}
	var n int64
	var err error
	if wt, ok := r.(io.WriterTo); ok {
		// zstd hands over its decoded blocks as they are, without a copy
		// into a buffer; the writer stops at the cap as the reader did.
		n, err = wt.WriteTo(&capped{w: g, left: limit + 1})
		if errors.Is(err, errCapped) {
			err = nil // n is limit+1
		}
	} else {
		n, err = io.CopyBuffer(g, io.LimitReader(r, limit+1), make([]byte, 64<<10))
	}
	switch {
	case g.err != nil:
		return n, g.err
	case errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded):
		return n, tooLarge()
	case err != nil:
		return n, fmt.Errorf("%w: %s: %w", ErrCorrupt, codec, err)
	case n > limit:
		return n, tooLarge()
	}
	return n, nil
}

// HeadBytes is how many first bytes WindowBound looks at.
const HeadBytes = 18

// WindowBound is about the most memory decoding a stream that starts with
// head (its first HeadBytes bytes or fewer) takes under l, besides its
// output: gzip's 32 KiB window, bzip2's block (from its header), zstd's
// history buffer from its frame header's window (capped as Copy caps it;
// the cap when the header does not say): twice the window up to
// roomyWindow, the window and 1 MiB above. 0 when head is not compressed.
// A zstd stream of several frames is bounded by its first frame's window.
func WindowBound(head []byte, l Limits) int64 {
	const overhead = 256 << 10 // read buffers, tables
	switch Codec(head) {
	case "gzip":
		return 32<<10 + overhead
	case "bzip2":
		return int64(head[3]-'0')*100_000*5 + overhead // the block's bytes and its 4-byte transform table
	case "zstd":
		w, _ := zstdWindow(head, l)
		hist := w + 1<<20     // the decoder's low-memory history: the window and half its largest block
		if w <= roomyWindow { // (the decoder also takes twice the window below 2 MiB)
			hist = 2 * w
		}
		return hist + 2*128<<10 + overhead // the history and two blocks
	}
	return 0
}

// roomyWindow: Copy decodes zstd frames whose window is at most this with
// a history buffer of twice the window rather than the window and 1 MiB,
// so it moves the window down once per window of output rather than once
// per MiB (the probe of a 4 MiB-window SPDX bomb: ~4 ms of CPU less out of
// ~29; docs/reliability.md).
const roomyWindow = 8 << 20

// zstdWindow is the window data's zstd frame header declares, capped as
// Copy caps it (the cap when the header does not say; ok false then).
func zstdWindow(data []byte, l Limits) (int64, bool) {
	limit := min(l.MaxBytes, 64<<20)
	var h zstd.Header
	if h.Decode(data) != nil {
		return limit, false
	}
	w := int64(h.WindowSize)
	if h.SingleSegment {
		w = int64(h.FrameContentSize)
	}
	if w <= 0 || w > limit {
		return limit, false
	}
	return w, true
}
