package scorecard_test

import (
	"errors"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/scorecard"
)

// FuzzParse: any input either parses into a valid batch or fails with an
// error wrapping ErrInvalid or ErrLimit; it never panics.
func FuzzParse(f *testing.F) {
	f.Add(real(f))
	f.Add([]byte(`{"date":"2024-01-02","repo":{"name":"github.com/a/b","commit":"0123456789abcdef0123456789abcdef01234567"},"scorecard":{},"score":5,"checks":[{"name":"X","score":-1}]}`))
	f.Add([]byte(`{"repo":null,"scorecard":1,"checks":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := scorecard.Parse(data, graph.Document{Digest: graph.SHA256Key(data), Source: "fuzz"})
		if err != nil {
			if !errors.Is(err, scorecard.ErrInvalid) && !errors.Is(err, scorecard.ErrLimit) && !errors.Is(err, graph.ErrInvalidBatch) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if err := b.Validate(); err != nil {
			t.Fatalf("parsed batch does not validate: %v", err)
		}
	})
}
