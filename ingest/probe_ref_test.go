package ingest

import (
	"bytes"
	"encoding/json"
	"strings"
)

// refScanner is topScanner as it was before the word-at-a-time pass
// (commit d33a3b4, byte at a time), kept as the reference the
// differential test and FuzzTopScanner compare the scanner with. Only the
// type's name changed.
type refScanner struct {
	count bool // false: size only
	max   int

	depth        int
	inStr, esc   bool
	expectKey    bool
	inKey        bool
	key          []byte // the member name being read (depth 1), bounded
	member       string // the member whose value is being read, when Detect or the count looks at it
	capturing    bool   // capturing member's string value (depth 1)
	val          []byte // bounded
	items        int
	done, notObj bool
	top          map[string]json.RawMessage
	fmt          Format // format() of top, while !dirty
	dirty        bool
}

func (s *refScanner) Write(b []byte) (int, error) {
	if !s.count || s.done || s.notObj {
		return len(b), nil
	}
	if s.top == nil {
		s.top = map[string]json.RawMessage{}
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if s.inStr {
			if !s.esc && !s.inKey && !s.capturing {
				// Skip the string's body: to its closing quote unless a
				// backslash comes first.
				rest := b[i:]
				q := bytes.IndexByte(rest, '"')
				if q < 0 {
					q = len(rest)
				}
				if k := bytes.IndexByte(rest[:q], '\\'); k >= 0 {
					q = k
				}
				if i += q; i >= len(b) {
					break
				}
				c = b[i]
			}
			switch {
			case s.esc:
				s.esc = false
				s.keep(c)
			case c == '\\':
				s.esc = true
				s.keep(c)
			case c == '"':
				s.inStr = false
				if s.inKey {
					s.inKey = false
					if k := string(s.key); scanned[k] {
						s.member = k
						s.top[k] = json.RawMessage("1")
						s.dirty = true
					}
				} else if s.capturing {
					s.capturing = false
					if len(s.val) <= maxScanned {
						s.top[s.member] = json.RawMessage(`"` + string(s.val) + `"`) // Detect's reading unescapes it
						s.dirty = true
					}
				}
			default:
				s.keep(c)
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n':
		case '"':
			s.inStr = true
			if s.depth == 1 && s.expectKey {
				s.inKey, s.expectKey, s.key = true, false, s.key[:0]
			} else if s.depth == 1 && (s.member == "bomFormat" || s.member == "mediaType") {
				s.capturing, s.val = true, s.val[:0]
			}
		case ',':
			if s.depth == 1 {
				s.member, s.expectKey = "", true
			}
		case '{', '[':
			s.depth++
			if s.depth == 1 {
				if c != '{' {
					s.notObj = true
					return len(b), nil
				}
				s.expectKey = true
			}
			if s.depth == 3 && c == '{' && (s.member == "components" || s.member == "packages" || s.member == "files") {
				s.items++
			}
		case '}', ']':
			s.depth--
			if s.depth == 0 {
				s.done = true
				if s.refuse() {
					return i, errCounted
				}
				return len(b), nil
			}
		default:
			if s.depth == 0 {
				s.notObj = true
				return len(b), nil
			}
		}
		if s.items > s.max {
			if s.refuse() {
				return i, errCounted
			}
			if s.decided() {
				s.count = false // not an SBOM the parser counts: nothing more to learn
				return len(b), nil
			}
		}
	}
	return len(b), nil
}

func (s *refScanner) keep(c byte) {
	switch {
	case s.inKey && len(s.key) <= maxScanned:
		s.key = append(s.key, c)
	case s.capturing && len(s.val) <= maxScanned:
		s.val = append(s.val, c)
	}
}

// decided: the document is known not to go to the SBOM parser before its
// object closes, because a member that routes it elsewhere first (a
// bundle's mediaType, DSSE, a statement) has been seen.
func (s *refScanner) decided() bool {
	f := s.format()
	return f != FormatCycloneDX && f != FormatSPDX && f != ""
}

// refuse: past the count, in a document the SBOM parser counts.
func (s *refScanner) refuse() bool {
	f := s.format()
	return s.items > s.max && (f == FormatCycloneDX || f == FormatSPDX)
}

// format applies Detect's rules, in Detect's order, as far as the CycloneDX
// and SPDX decisions go ("" when neither applies).
func (s *refScanner) format() Format {
	if s.dirty || s.fmt == "" && s.top == nil {
		s.fmt, s.dirty = s.detect(), false
	}
	return s.fmt
}

func (s *refScanner) detect() Format {
	top := s.top
	str := func(k string) string {
		var v string
		_ = json.Unmarshal(top[k], &v)
		return v
	}
	switch {
	case strings.HasPrefix(str("mediaType"), "application/vnd.dev.sigstore.bundle"):
		return FormatSigstoreBundle
	case top["payloadType"] != nil && top["signatures"] != nil:
		return FormatDSSE
	case top["_type"] != nil:
		return FormatStatement
	case str("bomFormat") == "CycloneDX" || (top["bomFormat"] == nil && top["specVersion"] != nil && top["spdxVersion"] == nil && top["@context"] == nil):
		return FormatCycloneDX
	case top["spdxVersion"] != nil:
		return FormatSPDX
	}
	return ""
}

func (s *refScanner) field() string {
	if s.format() == FormatSPDX {
		return "packages+files"
	}
	return "components"
}
