package ingest

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// topLevelCases: every JSON object document in testdata, truncations and
// byte changes of each, and hand-made edge cases of the grammar.
func topLevelCases(t testing.TB) (valid, all [][]byte) {
	err := filepath.WalkDir("../testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") && !strings.HasSuffix(p, ".jsonl") {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && len(b) > 0 && b[0] == '{' {
			valid = append(valid, b)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(valid) < 20 {
		t.Fatalf("only %d JSON documents in testdata", len(valid))
	}
	all = [][]byte{
		[]byte(`{}`), []byte(`{} `), []byte(`{}{}`), []byte("{}\n{}"), []byte("{}\n{"), []byte(`{} x`), []byte(`{}[]`), []byte(`{} 1`),
		[]byte(`{`), []byte(`{"a"`), []byte(`{"a":}`), []byte(`{,}`), []byte(`{"a":1,}`), []byte(`{"a":[1,]}`), []byte(`{"a":[,1]}`),
		[]byte(`{"a":1,"a":2}`), []byte(`{"bomFormat":"CycloneDX","bomFormat":"x"}`), []byte(`{"a":[1,2,}`),
		[]byte("{\"a\":\"\xff\xfe\"}"), []byte("{\"\xff\":1}"), []byte(`{"a":"\ud800"}`), []byte(`{"a":"\ud83d\ude00"}`), []byte(`{"a":"\u00e9\u0000"}`),
		[]byte(`{"a":"\x"}`), []byte(`{"a":"\u12"}`), []byte(`{"a":"\u12G4"}`), []byte("{\"a\":\"\x01\"}"), []byte("{\"a\":\"\x7f\"}"),
		[]byte(`{"a":01}`), []byte(`{"a":-}`), []byte(`{"a":-0.5e+3}`), []byte(`{"a":1.}`), []byte(`{"a":.5}`), []byte(`{"a":1e}`), []byte(`{"a":1E-9}`),
		[]byte(`{"a":tru}`), []byte(`{"a":truex}`), []byte(`{"a":nul}`), []byte(`{"a":null,"b":false,"c":true}`), []byte(`{"a":1}]`),
		[]byte(`{"spdx\u0056ersion":"SPDX-2.3"}`), []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle\u002bjson"}`),
		[]byte("{\t\r\n\"_type\" :\n[ ] }\n"), []byte(`{"a":{"b":{"c":[[[{}]]]}}}`), []byte("{\"a\":1}\v"), []byte("{\"a\":1}\u00a0"),
		[]byte(`{"x":` + strings.Repeat(`[`, 600) + strings.Repeat(`]`, 600) + `}`),
		[]byte(`{"x":` + strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001) + `}`),
		[]byte(`{"payloadType":"x","signatures":[` + strings.Repeat(`{"sig":"`+strings.Repeat("A", 5000)+`"},`, 3) + `{}]}`),
	}
	r := rand.New(rand.NewPCG(21, 2))
	const junk = "{}[]\",:\\ x0eE.-+u\xff\x01\n"
	for _, d := range valid {
		all = append(all, d)
		for range 8 {
			all = append(all, d[:r.IntN(len(d)+1)])
			m := bytes.Clone(d)
			m[r.IntN(len(m))] = junk[r.IntN(len(junk))]
			all = append(all, m)
		}
	}
	return valid, all
}

func showTop(top any, more bool, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("%v %v", top, more)
}

// TestTopLevelFastMatches: topLevel (the hand-written scan, jsontext when
// it does not accept) gives what jsontext alone gives: the same members,
// JSON Lines answer and error text, for every case; and the scan accepts
// every valid document of testdata (else it would gain nothing).
func TestTopLevelFastMatches(t *testing.T) {
	valid, all := topLevelCases(t)
	for i, d := range valid {
		if _, _, ok := topLevelFast(d); !ok {
			t.Errorf("valid document %d (%d bytes) not taken by the fast scan", i, len(d))
		}
	}
	errs, fast := 0, 0
	for i, c := range all {
		gt, gm, ge := topLevel(c)
		wt, wm, we := topLevelJSONText(c)
		if showTop(gt, gm, ge) != showTop(wt, wm, we) || !reflect.DeepEqual(gt, wt) {
			t.Errorf("case %d (%d bytes) %.80q:\nfast+jsontext %s\njsontext      %.300s", i, len(c), c, showTop(gt, gm, ge), showTop(wt, wm, we))
		}
		if we != nil {
			errs++
			if _, _, ok := topLevelFast(c); ok {
				t.Errorf("case %d: fast scan accepted what jsontext rejects: %v", i, we)
			}
		}
		if _, _, ok := topLevelFast(c); ok {
			fast++
		}
	}
	if errs < len(all)/10 || fast < len(all)/10 {
		t.Fatalf("%d of %d cases were errors, %d took the fast scan: the cases do not exercise both paths", errs, len(all), fast)
	}
	t.Logf("%d cases, %d errors, %d taken by the fast scan", len(all), errs, fast)
}

// FuzzTopLevelFast: on any input starting with '{' (what Detect passes),
// the fast scan either declines or agrees with jsontext.
func FuzzTopLevelFast(f *testing.F) {
	_, all := topLevelCases(f)
	for _, c := range all {
		if len(c) < 4096 {
			f.Add(c)
		}
	}
	f.Fuzz(func(t *testing.T, c []byte) {
		if len(c) == 0 || c[0] != '{' {
			return
		}
		top, more, ok := topLevelFast(c)
		if !ok {
			return
		}
		wt, wm, we := topLevelJSONText(c)
		if we != nil || more != wm || !reflect.DeepEqual(top, wt) {
			t.Fatalf("fast %s\njsontext %s", showTop(top, more, nil), showTop(wt, wm, we))
		}
	})
}

// BenchmarkTopLevel: Detect's scan of the JSON documents over 64 KiB in
// testdata/sbom, by the fast scan and by jsontext.
func BenchmarkTopLevel(b *testing.B) {
	var docs [][]byte
	size := 0
	paths, _ := filepath.Glob("../testdata/sbom/*.json")
	for _, p := range paths {
		d, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		if len(d) > 64<<10 {
			docs, size = append(docs, d), size+len(d)
		}
	}
	if len(docs) == 0 {
		b.Fatal("no JSON over 64 KiB in testdata/sbom")
	}
	for _, mode := range []string{"fast", "jsontext"} {
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				for _, d := range docs {
					var err error
					if mode == "fast" {
						_, _, err = topLevel(d)
					} else {
						_, _, err = topLevelJSONText(d)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
