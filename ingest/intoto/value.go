package intoto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/modelgraph/modelgraph/ingest/strictjson"
)

// value is a decoded JSON value that knows its JSON pointer, so that every
// accessor error names the exact field ("/predicate/materials/3/digest").
// Decoding into structs would lose array indices in error messages.
type value struct {
	v   any // nil when absent or null
	ptr string
	p   *parser
}

// decodePredicate decodes raw with numbers kept exact and checks size and
// depth limits.
func (p *parser) decodePredicate(raw json.RawMessage) (value, error) {
	root := value{ptr: "/predicate", p: p}
	if len(raw) > MaxPredicateBytes {
		return root, p.errf(ErrLimit, "/predicate", "predicate is %d bytes, limit %d", len(raw), MaxPredicateBytes)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return root, nil
	}
	if d := jsonDepth(raw); d > MaxDepth {
		return root, p.errf(ErrLimit, "/predicate", "predicate nests %d levels deep, limit %d", d, MaxDepth)
	}
	var v any
	if err := strictjson.Unmarshal(raw, &v, strictjson.UseNumber()); err != nil {
		var se *strictjson.Error
		if errors.As(err, &se) {
			return root, p.errf(ErrInvalidPredicate, "/predicate"+se.Pointer, "%s", se.Msg)
		}
		return root, p.errf(ErrInvalidPredicate, "/predicate", "not valid JSON: %v", err)
	}
	root.v = v
	return root, nil
}

// jsonDepth returns the maximum nesting of arrays and objects in raw
// (which is known to be JSON), without recursion.
func jsonDepth(raw []byte) int {
	depth, max := 0, 0
	inStr, esc := false, false
	for _, c := range raw {
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				max = depth
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return max
}

func (v value) present() bool { return v.v != nil }

func (v value) get(name string) value {
	child := value{ptr: v.ptr + "/" + pointerEscape(name), p: v.p}
	if m, ok := v.v.(map[string]any); ok {
		child.v = m[name]
	}
	return child
}

// first returns the first present field among names (spelling aliases).
func (v value) first(names ...string) value {
	for _, n := range names {
		if c := v.get(n); c.present() {
			return c
		}
	}
	return v.get(names[0])
}

func typeName(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", x)
}

func (v value) wrongType(want string) error {
	return v.p.errf(ErrInvalidPredicate, v.ptr, "must be %s, got %s", want, typeName(v.v))
}

// str returns the string value ("" when absent).
func (v value) str() (string, error) {
	if v.v == nil {
		return "", nil
	}
	s, ok := v.v.(string)
	if !ok {
		return "", v.wrongType("a string")
	}
	return s, nil
}

// object checks v is an object (or absent).
func (v value) object() error {
	if v.v == nil {
		return nil
	}
	if _, ok := v.v.(map[string]any); !ok {
		return v.wrongType("an object")
	}
	return nil
}

// items returns the elements of an array (nil when absent), bounded by
// MaxInputs.
func (v value) items() ([]value, error) {
	if v.v == nil {
		return nil, nil
	}
	a, ok := v.v.([]any)
	if !ok {
		return nil, v.wrongType("an array")
	}
	if len(a) > MaxInputs {
		return nil, v.p.errf(ErrLimit, v.ptr, "%d entries, limit %d", len(a), MaxInputs)
	}
	out := make([]value, len(a))
	for i, x := range a {
		out[i] = value{v: x, ptr: v.ptr + "/" + strconv.Itoa(i), p: v.p}
	}
	return out, nil
}

// stringMap returns an object of strings (DigestSet, annotations). Non-string
// values are an error when strict, skipped otherwise.
func (v value) stringMap(strict bool) (map[string]string, error) {
	if v.v == nil {
		return nil, nil
	}
	m, ok := v.v.(map[string]any)
	if !ok {
		return nil, v.wrongType("an object")
	}
	out := make(map[string]string, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		s, ok := m[k].(string)
		if !ok {
			if strict {
				return nil, v.get(k).wrongType("a string")
			}
			continue
		}
		out[k] = s
	}
	return out, nil
}

// compact renders v as compact JSON (object keys sorted by encoding/json).
func (v value) compact() string {
	if v.v == nil {
		return ""
	}
	b, err := json.Marshal(v.v)
	if err != nil {
		return ""
	}
	return string(b)
}
