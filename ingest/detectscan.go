package ingest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
)

// topLevelFast is topLevel for the documents that are plainly valid JSON:
// a hand-written scan of the strict grammar (RFC 8259, any bytes >= 0x80
// in strings as jsontext.AllowInvalidUTF8 allows) that accepts a subset
// of what jsontext accepts and, when it accepts, gives what topLevel
// gives. Anything else (a syntax error, a top-level member name with an
// escape, a \u escape of a surrogate, nesting deeper than
// fastMaxDepth, anything but a '{' or the end after the first object)
// reports ok=false and topLevel's jsontext scan decides, so errors are
// jsontext's (TestTopLevelFastMatches, FuzzTopLevelFast). It takes
// about three quarters of jsontext's time on the bulk corpus and half
// on testdata's large SBOMs (docs/performance.md).
func topLevelFast(data []byte) (top map[string]json.RawMessage, more, ok bool) {
	s := fastScan{b: data}
	if len(data) == 0 || data[0] != '{' {
		return nil, false, false
	}
	s.i = 1
	top = map[string]json.RawMessage{}
	s.ws()
	if s.peek() == '}' {
		s.i++
	} else {
		for {
			if s.peek() != '"' {
				return nil, false, false
			}
			start := s.i + 1
			if !s.str() {
				return nil, false, false
			}
			name := data[start : s.i-1]
			if bytes.IndexByte(name, '\\') >= 0 {
				return nil, false, false // jsontext unescapes names: let it
			}
			s.ws()
			if s.peek() != ':' {
				return nil, false, false
			}
			s.i++
			s.ws()
			vstart := s.i
			if !s.value(1) {
				return nil, false, false
			}
			if presenceKeys[string(name)] {
				top[string(name)] = json.RawMessage("1")
			} else if detectKeys[string(name)] {
				top[string(name)] = json.RawMessage(bytes.Clone(data[vstart:s.i]))
			}
			s.ws()
			switch s.peek() {
			case ',':
				s.i++
				s.ws()
				continue
			case '}':
				s.i++
			default:
				return nil, false, false
			}
			break
		}
	}
	s.ws()
	switch {
	case s.i == len(data):
		return top, false, true
	case data[s.i] == '{':
		return top, true, true
	}
	return nil, false, false
}

// fastMaxDepth bounds topLevelFast's recursion, far below jsontext's
// own limit (10000); deeper documents take the jsontext path.
const fastMaxDepth = 512

type fastScan struct {
	b []byte
	i int
}

func (s *fastScan) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *fastScan) ws() {
	b, i := s.b, s.i
	// Indentation: eight spaces at a time.
	for i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:]) == 0x2020202020202020 {
		i += 8
	}
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			s.i = i
			return
		}
	}
	s.i = i
}

// strPlain marks the bytes a JSON string holds as they are: not the
// quote, not the backslash, not a control character.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str scans the string starting at the quote at s.i, leaving s.i after
// its closing quote.
func (s *fastScan) str() bool {
	b := s.b
	i := s.i + 1
	for {
		// Eight bytes at a time while none is a quote, a backslash or a
		// control character (the SWAR "has a byte less than n" and "has
		// a zero byte" tests: exact when they say none).
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			const lo, hi = 0x0101010101010101, 0x8080808080808080
			q, bs := x^(lo*'"'), x^(lo*'\\')
			if ((x-lo*0x20)&^x|(q-lo)&^q|(bs-lo)&^bs)&hi != 0 {
				break
			}
			i += 8
		}
		for i < len(b) && strPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case '"':
			s.i = i + 1
			return true
		case '\\':
			if i+1 >= len(b) {
				return false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return false
				}
				var v int
				for _, c := range b[i+2 : i+6] {
					switch {
					case c >= '0' && c <= '9':
						v = v<<4 | int(c-'0')
					case c >= 'a' && c <= 'f':
						v = v<<4 | int(c-'a'+10)
					case c >= 'A' && c <= 'F':
						v = v<<4 | int(c-'A'+10)
					default:
						return false
					}
				}
				if v >= 0xd800 && v <= 0xdfff {
					return false // surrogates: jsontext decides
				}
				i += 6
			default:
				return false
			}
		default:
			return false // a control character
		}
	}
}

func (s *fastScan) lit(w string) bool {
	if bytes.HasPrefix(s.b[s.i:], []byte(w)) {
		s.i += len(w)
		return true
	}
	return false
}

func (s *fastScan) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

func (s *fastScan) number() bool {
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case c >= '1' && c <= '9':
		s.digits()
	default:
		return false
	}
	if s.peek() == '.' {
		s.i++
		if s.digits() == 0 {
			return false
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

// value scans one value at s.i (no leading white space), at nesting depth.
func (s *fastScan) value(depth int) bool {
	switch c := s.peek(); c {
	case '"':
		return s.str()
	case '{', '[':
		if depth >= fastMaxDepth {
			return false
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		s.i++
		s.ws()
		if s.peek() == end {
			s.i++
			return true
		}
		for {
			if c == '{' {
				if s.peek() != '"' || !s.str() {
					return false
				}
				s.ws()
				if s.peek() != ':' {
					return false
				}
				s.i++
				s.ws()
			}
			if !s.value(depth + 1) {
				return false
			}
			s.ws()
			switch s.peek() {
			case ',':
				s.i++
				s.ws()
			case end:
				s.i++
				return true
			default:
				return false
			}
		}
	case 't':
		return s.lit("true")
	case 'f':
		return s.lit("false")
	case 'n':
		return s.lit("null")
	}
	return s.number()
}
