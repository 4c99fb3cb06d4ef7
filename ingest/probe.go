package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/modelgraph/modelgraph/ingest/docerr"
	"github.com/modelgraph/modelgraph/ingest/inflate"
	"github.com/modelgraph/modelgraph/ingest/sbom"
)

// Probe checks a compressed document against the decode stage's size
// limits without holding it decompressed: it inflates data streaming
// into a scanner that keeps a few bytes of state (no output is kept), so
// its memory is data plus the decoder's window whatever the document
// inflates to. It refuses what the decode stage would refuse for its size:
// past the decompressed-size or ratio cap (inflate's message), or a
// CycloneDX or SPDX JSON document with more top-level components or
// packages+files than sbom.MaxComponents (the SBOM parser's message),
// stopping as soon as the limit is passed. It returns the decompressed
// size. contentType is the caller's hint, as for Detect; with a specific
// one the count is left to the parser.
//
// HTTP runs it for compressed bodies before taking an ingest slot
// (Budget.AcquireProbe, charged ProbeCost), so a bomb is refused in the time it takes to
// inflate up to its cap, not after waiting for a slot behind real
// documents. The pipeline still decodes the document in full once it
// holds its slot (the probe's output is not kept).
func (p *Pipeline) Probe(data []byte, source, contentType string) (int64, error) {
	l := Limits{MaxBytes: p.MaxBytes, MaxRatio: p.MaxRatio}.orDefault()
	in := Input{Source: source}
	if int64(len(data)) > l.MaxBytes {
		return 0, docerr.Errorf(name(in), docerr.TooLarge, "%w: %d bytes, limit %d", docerr.ErrTooLarge, len(data), l.MaxBytes)
	}
	sc := &topScanner{count: contentType == "", max: sbom.MaxComponents}
	n, err := inflate.Copy(sc, data, inflate.Limits{MaxBytes: l.MaxBytes, MaxRatio: l.MaxRatio})
	if errors.Is(err, errCounted) {
		return n, docerr.Errorf(name(in), docerr.TooLarge, "%w: %s: more than %d entries, the limit (counted before decoding)", sbom.ErrTooLarge, sc.field(), sc.max)
	}
	if err != nil {
		return n, bad(in, err)
	}
	return n, nil
}

// ProbeCost is what checking a compressed body may occupy, for the probe
// lane (Budget.AcquireProbe): the body (contentLength; the document size
// limit when it is not known, -1) and its decoder's window, from the
// body's first inflate.HeadBytes bytes.
func (p *Pipeline) ProbeCost(contentLength int64, head []byte) int64 {
	l := Limits{MaxBytes: p.MaxBytes, MaxRatio: p.MaxRatio}.orDefault()
	body := l.MaxBytes
	if contentLength >= 0 {
		body = min(contentLength, l.MaxBytes)
	}
	return body + inflate.WindowBound(head, inflate.Limits{MaxBytes: l.MaxBytes, MaxRatio: l.MaxRatio})
}

var errCounted = errors.New("count limit passed")

// topScanner is a streaming form of the SBOM parser's first scan
// (sbom's scanTop): over the first JSON value of a stream it counts the
// objects in the top-level arrays components, packages and files, and
// notes the top-level members Detect routes by. Write fails with
// errCounted as soon as the count passes max while the members seen so
// far make the document CycloneDX or SPDX for Detect (a member that would
// route it elsewhere, such as a statement's _type, is not waited for
// past that point: a document with that many top-level components is
// refused whatever follows), or when the first value closes past max and
// its members make it CycloneDX or SPDX.
type topScanner struct {
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

// scanned are the top-level members the scanner notes: the count's
// arrays and what Detect's CycloneDX and SPDX rules read.
var scanned = map[string]bool{"components": true, "packages": true, "files": true,
	"mediaType": true, "payloadType": true, "signatures": true, "_type": true,
	"bomFormat": true, "specVersion": true, "spdxVersion": true, "@context": true}

const maxScanned = 64 // longest member name or captured value kept

func (s *topScanner) Write(b []byte) (int, error) {
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

func (s *topScanner) keep(c byte) {
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
func (s *topScanner) decided() bool {
	f := s.format()
	return f != FormatCycloneDX && f != FormatSPDX && f != ""
}

// refuse: past the count, in a document the SBOM parser counts.
func (s *topScanner) refuse() bool {
	f := s.format()
	return s.items > s.max && (f == FormatCycloneDX || f == FormatSPDX)
}

// format applies Detect's rules, in Detect's order, as far as the CycloneDX
// and SPDX decisions go ("" when neither applies).
func (s *topScanner) format() Format {
	if s.dirty || s.fmt == "" && s.top == nil {
		s.fmt, s.dirty = s.detect(), false
	}
	return s.fmt
}

func (s *topScanner) detect() Format {
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

func (s *topScanner) field() string {
	if s.format() == FormatSPDX {
		return "packages+files"
	}
	return "components"
}
