package inflate

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// refCopy is Copy as it was before zstd wrote its blocks straight to w
// (commit d33a3b4: io.CopyBuffer from an io.LimitReader, the decoder in
// low-memory mode), the reference TestCopyMatchesReference compares Copy
// with.
func refCopy(w io.Writer, data []byte, l Limits) (int64, error) {
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
		zr, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(uint64(limit)), zstd.WithDecoderMaxWindow(uint64(min(limit, 64<<20))))
		if err != nil {
			return 0, fmt.Errorf("%w: zstd: %w", ErrCorrupt, err)
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
	g := &guarded{w: w}
	n, err := io.CopyBuffer(g, io.LimitReader(r, limit+1), make([]byte, 64<<10))
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

// failAfter takes k bytes and fails on the Write that passes them, as the
// probe's scanner does at its count (returning how many it took).
type failAfter struct {
	k, got int
}

var errEnough = errors.New("enough")

func (f *failAfter) Write(p []byte) (int, error) {
	if f.got+len(p) > f.k {
		n := f.k - f.got
		f.got = f.k
		return n, errEnough
	}
	f.got += len(p)
	return len(p), nil
}

// TestCopyMatchesReference: Copy returns what it returned when it read
// through io.LimitReader: the same size and the same error for streams
// ending below, at and just past the cap, writers that stop anywhere,
// streams of several frames, corrupt and truncated ones, gzip and plain.
func TestCopyMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	doc := make([]byte, 3<<20)
	for i := range doc {
		doc[i] = "{}[]\"ab, \n"[rng.IntN(10)]
	}
	enc := func(b []byte, opts ...zstd.EOption) []byte {
		var buf bytes.Buffer
		w, _ := zstd.NewWriter(&buf, opts...)
		_, _ = w.Write(b)
		_ = w.Close()
		return buf.Bytes()
	}
	small := enc(doc[:200_000], zstd.WithWindowSize(1<<17))
	big := enc(doc, zstd.WithWindowSize(16<<20))
	streams := map[string][]byte{
		"zstd":        enc(doc),
		"zstd small":  small,
		"zstd window": big,
		"zstd frames": append(append([]byte{}, small...), enc(doc[:1<<20])...),
		"zstd cut":    enc(doc)[:40_000],
		"zstd flip":   func() []byte { b := enc(doc); b[len(b)/2] ^= 0xff; return b }(),
		"zstd crc":    func() []byte { b := enc(doc); b[len(b)-1] ^= 1; return b }(),
		"gzip":        gz(doc),
		"plain":       doc,
	}
	for name, data := range streams {
		caps := []int64{1 << 20, 200_000 - 1, 200_000, 200_001, 1<<20 + 200_000, int64(len(doc)) - 1, int64(len(doc)), int64(len(doc)) + 1, 64 << 20}
		for _, c := range caps {
			for _, k := range []int{-1, 0, 1, 131_071, 131_072, 131_073, 1 << 20, rng.IntN(len(doc))} {
				l := Limits{MaxBytes: c, MaxRatio: 1 << 20}
				var w1, w2 io.Writer = io.Discard, io.Discard
				if k >= 0 {
					w1, w2 = &failAfter{k: k}, &failAfter{k: k}
				}
				n1, err1 := Copy(w1, data, l)
				n2, err2 := refCopy(w2, data, l)
				if n1 != n2 || fmt.Sprint(err1) != fmt.Sprint(err2) {
					t.Errorf("%s, cap %d, writer stops at %d: Copy %d, %v; reference %d, %v", name, c, k, n1, err1, n2, err2)
				}
			}
		}
	}
}

// TestCopyReusedDecoders: decoders kept between streams (same limit, small
// window) answer as fresh ones do, whatever the stream before them did
// (corrupt, refused by the writer, cut, several frames, or fine).
func TestCopyReusedDecoders(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	doc := make([]byte, 2<<20)
	for i := range doc {
		doc[i] = "{}[]\"ab, \n"[rng.IntN(10)]
	}
	enc := func(b []byte) []byte {
		var buf bytes.Buffer
		w, _ := zstd.NewWriter(&buf, zstd.WithWindowSize(1<<20))
		_, _ = w.Write(b)
		_ = w.Close()
		return buf.Bytes()
	}
	good := enc(doc)
	streams := [][]byte{good, good[:len(good)/2], append(append([]byte{}, good...), enc(doc[:1000])...),
		func() []byte { b := enc(doc); b[len(b)/3] ^= 0x55; return b }(),
		func() []byte { b := enc(doc); b[len(b)-2] ^= 1; return b }()}
	l := Limits{MaxBytes: 3 << 20, MaxRatio: 1 << 20} // the size limit caps: decoders are kept
	for range 60 {
		data := streams[rng.IntN(len(streams))]
		k := -1
		if rng.IntN(2) == 0 {
			k = rng.IntN(len(doc))
		}
		var w1, w2 io.Writer = io.Discard, io.Discard
		if k >= 0 {
			w1, w2 = &failAfter{k: k}, &failAfter{k: k}
		}
		n1, err1 := Copy(w1, data, l)
		n2, err2 := refCopy(w2, data, l)
		if n1 != n2 || fmt.Sprint(err1) != fmt.Sprint(err2) {
			t.Fatalf("%d bytes, writer stops at %d: Copy %d, %v; reference %d, %v", len(data), k, n1, err1, n2, err2)
		}
	}
}
