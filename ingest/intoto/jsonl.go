package intoto

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// SplitJSONL splits an .intoto.jsonl file (the SLSA/in-toto bundle format:
// one JSON document per line) into its documents. Blank lines are skipped;
// each other line must be one JSON value. The slices alias data. Errors name
// the 1-based line and wrap ErrInvalidDocument (ErrLimit for the limits).
func SplitJSONL(data []byte) ([][]byte, error) {
	var out [][]byte
	line := 0
	for len(data) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		if len(l) > MaxJSONLLineBytes {
			return nil, &FieldError{Line: line, Msg: fmt.Sprintf("%d bytes, limit %d", len(l), MaxJSONLLineBytes), Err: ErrLimit}
		}
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		if len(out) == MaxJSONLLines {
			return nil, &FieldError{Line: line, Msg: fmt.Sprintf("more than %d documents", MaxJSONLLines), Err: ErrLimit}
		}
		if !json.Valid(l) {
			return nil, &FieldError{Line: line, Msg: "is not a single JSON value", Err: ErrInvalidDocument}
		}
		if l[0] != '{' {
			return nil, &FieldError{Line: line, Msg: "is not a JSON object", Err: ErrInvalidDocument}
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, &FieldError{Msg: "no documents", Err: ErrInvalidDocument}
	}
	return out, nil
}
