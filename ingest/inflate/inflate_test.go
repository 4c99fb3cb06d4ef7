package inflate

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func zst(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := zstd.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func TestDecode(t *testing.T) {
	doc := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}`)
	for name, in := range map[string][]byte{"plain": doc, "gzip": gz(doc), "zstd": zst(doc)} {
		out, err := Decode(in, Limits{MaxBytes: 1 << 20})
		if err != nil || !bytes.Equal(out, doc) {
			t.Errorf("%s: %q, %v", name, out, err)
		}
	}
	bz, err := os.ReadFile("../../testdata/sbom/guac-busybox-cyclonedx.json.bz2")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := Decode(bz, Limits{MaxBytes: 1 << 20}); err != nil || !bytes.HasPrefix(bytes.TrimSpace(out), []byte("{")) {
		t.Errorf("bzip2: %.40q, %v", out, err)
	}
}

func TestCaps(t *testing.T) {
	big := bytes.Repeat([]byte(" "), 8<<20) // 8 MiB compressing ~1000x
	// The ratio cap stops it at max(200 x input, 1 MiB).
	_, err := Decode(zst(big), Limits{MaxBytes: 64 << 20})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "ratio limit") {
		t.Errorf("ratio: %v", err)
	}
	// The size cap, when lower, is named instead.
	_, err = Decode(gz(big), Limits{MaxBytes: 100_000})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "100000-byte limit") {
		t.Errorf("size: %v", err)
	}
	// A generous ratio lets it through up to the size cap.
	if out, err := Decode(gz(big), Limits{MaxBytes: 16 << 20, MaxRatio: 100_000}); err != nil || len(out) != len(big) {
		t.Errorf("within caps: %d bytes, %v", len(out), err)
	}
	// A corrupt stream is not "too large".
	bad := gz(big)[:200]
	if _, err := Decode(bad, Limits{MaxBytes: 1 << 20}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("corrupt: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(gz([]byte("{}")))
	f.Add(zst([]byte("{}")))
	f.Add([]byte("BZh91AY&SY"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Decode(data, Limits{MaxBytes: 1 << 20})
		if err == nil && Codec(data) != "" && len(out) > 1<<20 {
			t.Fatalf("%d bytes out past the cap", len(out))
		}
	})
}

// TestWindowBound: the decoder memory a stream's header allows, from
// its first bytes.
func TestWindowBound(t *testing.T) {
	doc := bytes.Repeat([]byte(`{"a":1}`), 1000)
	if n := WindowBound(gz(doc)[:HeadBytes], Limits{MaxBytes: 64 << 20}); n <= 32<<10 || n > 1<<20 {
		t.Errorf("gzip: %d", n)
	}
	if n := WindowBound(zst(doc)[:HeadBytes], Limits{MaxBytes: 64 << 20}); n <= 0 || n > 10<<20 {
		t.Errorf("zstd of 7 KB: %d", n)
	}
	bz, err := os.ReadFile("../../testdata/sbom/guac-busybox-cyclonedx.json.bz2")
	if err != nil {
		t.Fatal(err)
	}
	if n := WindowBound(bz[:HeadBytes], Limits{MaxBytes: 64 << 20}); n < 900_000 || n > 8<<20 {
		t.Errorf("bzip2 -9: %d", n)
	}
	if n := WindowBound([]byte(`{"a":1}`), Limits{MaxBytes: 64 << 20}); n != 0 {
		t.Errorf("plain: %d", n)
	}
	// A header that does not parse is charged the cap.
	if n := WindowBound([]byte{0x28, 0xb5, 0x2f, 0xfd}, Limits{MaxBytes: 8 << 20}); n < 8<<20 {
		t.Errorf("truncated zstd header: %d", n)
	}
}
