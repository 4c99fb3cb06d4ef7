package strictjson_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/strictjson"
)

// BenchmarkStatement compares decoding a large statement (10,000 subjects
// and a predicate of 10,000 resources, ~2 MB) with encoding/json alone and
// with the strict check first: the cost strictness adds per signed document.
func BenchmarkStatement(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"p","subject":[`)
	for i := range 10_000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"name":"file-%d","digest":{"sha256":"%064x"}}`, i, i)
	}
	sb.WriteString(`],"predicate":{"resources":[`)
	for i := range 10_000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"name":"file-%d","algorithm":"sha256","digest":"%064x"}`, i, i)
	}
	sb.WriteString(`]}}`)
	data := []byte(sb.String())
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var s statement.Statement
			if err := json.Unmarshal(data, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("strict", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var s statement.Statement
			if err := strictjson.Unmarshal(data, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
