package httpapi

import (
	"errors"
	"os"
	"testing"
)

func FuzzParseTokens(f *testing.F) {
	seed, err := os.ReadFile("testdata/tokens.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed))
	f.Add("- name: w\n  token: xxxxxxxxxxxxxxxx\n  scopes: [write]\n")
	f.Add("ci:read+write:0123456789abcdef0123,viewer:read:abcdefabcdefabcdef")
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (*Tokens, error){
			func(s string) (*Tokens, error) { return ParseTokensFile([]byte(s)) },
			ParseTokensEnv,
		} {
			tk, err := parse(s)
			if err != nil {
				if !errors.Is(err, ErrInvalidTokens) {
					t.Fatalf("%q: error %v does not wrap ErrInvalidTokens", s, err)
				}
				continue
			}
			for _, x := range tk.list {
				if x.Name == "" || len(x.Scopes) == 0 {
					t.Fatalf("%q: accepted token %+v", s, x)
				}
			}
		}
	})
}

func FuzzJSONSyntax(f *testing.F) {
	for _, name := range []string{"intoto/dataset-raw.intoto.json", "intoto/deployment-staging.intoto.json"} {
		b, err := os.ReadFile("../../testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte("{\"a\":1}\n{\"b\":"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, ok := jsonSyntax(b)
		if !ok && (e.Offset < 0 || e.Offset > int64(len(b)) || e.Line < 1 || e.Code != "malformed_json") {
			t.Fatalf("bad location %+v for %d bytes", e, len(b))
		}
	})
}
