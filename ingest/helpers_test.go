package ingest_test

import (
	"bytes"
	"encoding/json"
	"testing"
)

// compactLines re-encodes a stream of JSON values one per line.
func compactLines(t *testing.T, data []byte) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	var out bytes.Buffer
	for dec.More() {
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if err := json.Compact(&out, v); err != nil {
			t.Fatal(err)
		}
		out.WriteByte('\n')
	}
	return out.Bytes()
}
