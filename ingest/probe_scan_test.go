package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/ingest/inflate"
	"github.com/modelgraph/modelgraph/internal/reliability"
)

// scanBoth feeds data, cut where cuts say, to the scanner and to the
// reference (the byte-at-a-time scanner it replaced) as inflate.Copy
// does (each Write once, stopping at the first error), and fails unless
// every Write returns the same count and error and the two end in the
// same state: items, depth, string and escape state, the members noted,
// the format Detect would give, the refuse decision and the field named.
func scanBoth(t *testing.T, data []byte, max int, cuts []int) {
	t.Helper()
	s := &topScanner{count: true, max: max}
	r := &refScanner{count: true, max: max}
	off := 0
	for _, end := range append(cuts, len(data)) {
		if end < off || end > len(data) {
			continue
		}
		chunk := data[off:end]
		n1, err1 := s.Write(chunk)
		n2, err2 := r.Write(chunk)
		if n1 != n2 || !errors.Is(err1, err2) || (err1 == nil) != (err2 == nil) {
			t.Fatalf("chunk [%d:%d] of %q (max %d): scanner %d, %v; reference %d, %v", off, end, clip(data), max, n1, err1, n2, err2)
		}
		if err1 != nil {
			break
		}
		off = end
	}
	got := scanState(s.count, s.depth, s.inStr, s.esc, s.expectKey, s.inKey, s.key, s.member, s.capturing, s.val, s.items, s.done, s.notObj, s.top, s.format(), s.refuse(), s.decided(), s.field())
	want := scanState(r.count, r.depth, r.inStr, r.esc, r.expectKey, r.inKey, r.key, r.member, r.capturing, r.val, r.items, r.done, r.notObj, r.top, r.format(), r.refuse(), r.decided(), r.field())
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q (max %d, cuts %v):\nscanner   %v\nreference %v", clip(data), max, cuts, got, want)
	}
}

func scanState(v ...any) []any {
	for i, x := range v {
		if b, ok := x.([]byte); ok {
			v[i] = string(b)
		}
	}
	return v
}

func clip(b []byte) []byte {
	if len(b) > 300 {
		return append(b[:150:150], append([]byte(" ... "), b[len(b)-150:]...)...)
	}
	return b
}

// randomCuts cuts n bytes in chunks of 1-3 bytes, around the 64-byte
// block, up to a few hundred bytes, or large, mixed.
func randomCuts(rng *rand.Rand, n int) []int {
	var cuts []int
	for off := 0; off < n; {
		var size int
		switch rng.IntN(5) {
		case 0:
			size = 1 + rng.IntN(3)
		case 1:
			size = 60 + rng.IntN(10)
		case 2:
			size = 1 + rng.IntN(300)
		case 3:
			size = 64 * (1 + rng.IntN(4))
		default:
			size = 1 + rng.IntN(70_000)
		}
		off += size
		cuts = append(cuts, min(off, n))
	}
	return cuts
}

// scanSeeds: documents the scanner must read as the reference does: the
// SBOM shapes the count refuses or leaves alone, escapes (\" and runs of
// backslashes before quotes, at and across 64-byte blocks), unicode, deep
// nesting, pretty-printed input, and broken JSON.
func scanSeeds() []string {
	pkg := func(i int, name string) string {
		return fmt.Sprintf(`{"SPDXID":"SPDXRef-p%d","name":%q,"versionInfo":"1.0.%d","downloadLocation":"NOASSERTION"}`, i, name, i)
	}
	var pkgs, esc, pretty []string
	for i := range 12 {
		pkgs = append(pkgs, pkg(i, fmt.Sprint("p", i)))
		esc = append(esc, pkg(i, strings.Repeat(`\`, i)+`"x`+strings.Repeat(`\`, i%3)))
		pretty = append(pretty, fmt.Sprintf("\n    {\n      \"name\" : \"p%d\" ,\n\t\t\"deps\" : [ {  } , [ ] ]\r\n    }", i))
	}
	spdx := `{"spdxVersion":"SPDX-2.3","name":"x","packages":[` + strings.Join(pkgs, ",") + `],"files":[{"a":1},{"b":[{}]}]}`
	seeds := []string{
		spdx,
		`{"spdxVersion":"SPDX-2.3","packages":[` + strings.Join(esc, ",") + `]}`,
		`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[` + strings.Join(pretty, ",") + "\n  ]\n}",
		`{"specVersion":"1.6","components":[{},{},{},{}],"bomFormat":"CycloneDX"}`,
		`{"_type":"https://in-toto.io/Statement/v1","bomFormat":"CycloneDX","specVersion":"1.6","components":[{},{},{},{},{}]}`,
		`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","components":[{},{},{},{}]}`,
		`{"payloadType":"x","signatures":[],"packages":[{},{},{}]}`,
		`{"name":"x","packages":[{},{},{},{},{}],"spdxVersion":"SPDX-2.3"}`,
		`{"bomFormat":"Cyclone\u0044X","components":[{"name":"caf\u00e9 \ud83d\ude00 é 😀 ü"},{},{},{}]}`,
		`{"spdxVersion":"2","packages":[{"a":{"b":{"c":[[[[{"d":[{}]}]]]]}}},{},{"x":"]}\"]}"},{}]}`,
		`{"spdxVersion":"2","packages":[{"s":"\\\\\\\"}]"},{"t":"\\"},{"u":"\\\"\\"}]}`,
		`{"spdxVersion":"2","packages":[` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `,{},{},{}]}`,
		`{"spdxVersion":"2","packages":[{"k":"` + strings.Repeat("a", 200) + `\"` + strings.Repeat("b", 61) + `\\"},{},{},{}]}`,
		`{"spdxVersion":"2","packages":[{},\"{},{}"]},{},{}]}`,
		`{"spdxVersion":"2","packages":[{},{}]}}}]]{"packages":[{},{},{}]}`,
		`{"spdxVersion":"2","packages":[{} {} yY_` + "\x7f" + `{} ]} `,
		`[{"packages":[{},{},{}]}]`,
		`  {"a":"b"}`,
		`x{"packages":[]}`,
		`{"packages":{"a":{},"b":{},"c":{},"d":{}},"spdxVersion":"SPDX-2.3"}`,
		`{"bomFormat":"` + strings.Repeat("C", 70) + `","components":[{},{},{},{}]}`,
		`{"packages":[{},{},{},{}`,
		"{\"packages\":[{\"a\":\"\\",
		`{}`,
		``,
	}
	return seeds
}

// TestTopScannerMatchesReference: the word-at-a-time scanner reads every
// seed as the byte-at-a-time one did, whatever the chunking and limit,
// and so does it a real bomb (the soak's 300k-package SPDX, inflated by
// inflate.Copy in its own 64 KiB chunks and in random ones).
func TestTopScannerMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, seed := range scanSeeds() {
		data := []byte(seed)
		for max := range 6 {
			scanBoth(t, data, max, nil)
			for cut := range len(data) + 1 {
				scanBoth(t, data, max, []int{cut})
			}
			for range 50 {
				scanBoth(t, data, max, randomCuts(rng, len(data)))
			}
		}
	}
	bomb, err := inflate.Decode(reliability.SPDXPackages(300_000), inflate.Limits{MaxBytes: 256 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, max := range []int{0, 1000, 250_000, 299_999, 300_000} {
		scanBoth(t, bomb, max, nil)
		scanBoth(t, bomb, max, randomCuts(rng, len(bomb)))
	}
	// Through inflate.Copy, as Probe reads it: the same count of bytes
	// taken before the refusal.
	for _, max := range []int{1000, 250_000} {
		s, r := &topScanner{count: true, max: max}, &refScanner{count: true, max: max}
		n1, err1 := inflate.Copy(s, reliability.SPDXPackages(300_000), inflate.Limits{MaxBytes: 256 << 20})
		n2, err2 := inflate.Copy(r, reliability.SPDXPackages(300_000), inflate.Limits{MaxBytes: 256 << 20})
		if n1 != n2 || !errors.Is(err1, errCounted) || !errors.Is(err2, errCounted) || s.items != r.items {
			t.Errorf("max %d: scanner %d, %v, %d items; reference %d, %v, %d items", max, n1, err1, s.items, n2, err2, r.items)
		}
	}
}

// FuzzTopScanner: on any bytes, cut anywhere, with any limit, the
// scanner and the reference agree (counts, members, format, refusal, the
// index and error each Write returns).
func FuzzTopScanner(f *testing.F) {
	for i, seed := range scanSeeds() {
		f.Add([]byte(seed), uint8(i%6), uint64(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, max uint8, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 7))
		scanBoth(t, data, int(max%8), randomCuts(rng, len(data)))
		scanBoth(t, data, int(max%8), nil)
		// The same document pretty-printed and repeated past a block:
		// whitespace runs and strings across boundaries.
		long := bytes.Repeat(data, 1+200/(len(data)+1))
		scanBoth(t, long, int(max), randomCuts(rng, len(long)))
	})
}

// TestClassify: the word-at-a-time masks against a byte loop: quotes
// exactly, bracket candidates the bytes with bit 6 set (every bracket
// among them), brackets() and backslashes() every bracket and backslash.
func TestClassify(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const alphabet = "\"\\{}[]#$aZyY_\x7f\x00\x01\x22\x23\x80\xff ,:\n"
	for range 20_000 {
		var blk [64]byte
		for i := range blk {
			if rng.IntN(3) == 0 {
				blk[i] = byte(rng.IntN(256))
			} else {
				blk[i] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		quote, cand := classify(&blk)
		br, bs := brackets(&blk), backslashes(&blk)
		for k, c := range blk {
			bit := func(m uint64) bool { return m>>k&1 == 1 }
			isBracket := c == '{' || c == '}' || c == '[' || c == ']'
			if bit(quote) != (c == '"') || bit(cand) != (c&0x40 != 0) || bit(bs) != (c == '\\') || isBracket && !bit(br) {
				t.Fatalf("byte %d (%q) of %q: quote %v, cand %v, backslash %v, bracket %v", k, c, blk, bit(quote), bit(cand), bit(bs), bit(br))
			}
		}
	}
}
