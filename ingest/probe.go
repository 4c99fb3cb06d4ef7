package ingest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
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
		if s.depth >= 2 {
			// Inside a member's value: only strings and brackets
			// matter, a word at a time.
			j, stop := s.deep(b, i)
			if stop {
				return j, errCounted
			}
			if i = j; i >= len(b) || !s.count {
				return len(b), nil
			}
		}
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

// deep is Write's loop while the scan is inside a top-level member's
// value (depth 2 and deeper), where the byte loop does nothing but follow
// strings (quotes, backslash escapes) and brackets, and count the objects
// that open depth 3 in a counted member. It reads b from i 64 bytes at a
// time (simdjson's stage 1, in plain Go words): it finds the block's
// quotes and bracket candidates eight bytes per uint64 (classify), marks
// what is inside strings with a prefix XOR of the quotes, and visits only
// the candidates outside strings. A block with a backslash (found with
// IndexByte, once per chunk) or an escape carried over is walked event by
// event instead, in the byte loop's order. It
// returns where the byte loop goes on: just past the bracket that brings
// the depth back to 1, or len(b) (also when the count is dropped); stop
// when the count refuses, at the object that passed it (Write returns that
// index and errCounted, as the byte loop did).
func (s *topScanner) deep(b []byte, i int) (int, bool) {
	counted := s.member == "components" || s.member == "packages" || s.member == "files"
	var pad [64]byte
	nextBS := -1 // the next backslash at or after i (len(b): none)
	for i < len(b) {
		blk, n := &pad, 64
		if len(b)-i >= 64 {
			blk = (*[64]byte)(b[i : i+64])
		} else {
			n = copy(pad[:], b[i:])
			clear(pad[n:])
		}
		if nextBS < i {
			if nextBS = bytes.IndexByte(b[i:], '\\'); nextBS < 0 {
				nextBS = len(b)
			} else {
				nextBS += i
			}
		}
		quote, cand := classify(blk)
		if nextBS >= i+n && !s.esc {
			in := prefixXOR(quote) // 1 from an opening quote to before its closing one
			if s.inStr {
				in = ^in
			}
			ev := cand &^ in
			if bits.OnesCount64(ev) > 8 {
				// Letters outside strings (true, false, null): the
				// brackets alone.
				ev = brackets(blk) &^ in
			}
			for ; ev != 0; ev &= ev - 1 {
				k := bits.TrailingZeros64(ev)
				switch c := blk[k]; c {
				case '{', '[':
					s.depth++
					if s.depth == 3 && c == '{' && counted {
						s.items++
						if s.items > s.max {
							s.inStr = false // (as it is at the bracket)
							if s.refuse() {
								return i + k, true
							}
							if s.decided() {
								s.count = false
								return len(b), false
							}
						}
					}
				case '}', ']':
					s.depth--
					if s.depth == 1 {
						s.inStr = false
						return i + k + 1, false
					}
				}
			}
			s.inStr = in>>(n-1)&1 == 1
			i += n
			continue
		}
		// Escapes: event by event. A backslash in a string escapes the
		// next byte, whatever it is; elsewhere it means nothing.
		ev := quote | backslashes(blk) | brackets(blk)
		if s.esc {
			ev &^= 1
			s.esc = false
		}
		for ; ev != 0; ev &= ev - 1 {
			k := bits.TrailingZeros64(ev)
			c := blk[k]
			if s.inStr {
				switch {
				case c == '"':
					s.inStr = false
				case c == '\\' && k+1 < n:
					ev &^= 1 << (k + 1)
				case c == '\\':
					s.esc = true
				}
				continue
			}
			switch c {
			case '"':
				s.inStr = true
			case '{', '[':
				s.depth++
				if s.depth == 3 && c == '{' && counted {
					s.items++
					if s.items > s.max {
						if s.refuse() {
							return i + k, true
						}
						if s.decided() {
							s.count = false
							return len(b), false
						}
					}
				}
			case '}', ']':
				s.depth--
				if s.depth == 1 {
					return i + k + 1, false
				}
			}
		}
		i += n
	}
	return len(b), false
}

const (
	lo7   = 0x7f7f7f7f7f7f7f7f
	hi8   = 0x8080808080808080
	ones8 = 0x0101010101010101
)

// classify returns the block's quotes and the candidates for brackets,
// one bit a byte (bit k: byte k). The candidates are the bytes with bit 6
// set: '[' ']' '{' '}', backslash and letters (which JSON has outside
// strings only in true, false and null); quote is exact.
func classify(blk *[64]byte) (quote, cand uint64) {
	// Each word's marks (bit 7 of its bytes for quotes, bit 6 for the
	// candidates) go to bit w of each byte; a transpose of the 8x8 bit
	// matrix then puts byte k of word w at bit 8w+k.
	le := binary.LittleEndian
	var q, c uint64
	x0 := le.Uint64(blk[0:8])
	q |= zeroBytes(x0^'"'*ones8) >> 7
	c |= x0 & (0x40 * ones8) >> 6
	x1 := le.Uint64(blk[8:16])
	q |= zeroBytes(x1^'"'*ones8) >> 6
	c |= x1 & (0x40 * ones8) >> 5
	x2 := le.Uint64(blk[16:24])
	q |= zeroBytes(x2^'"'*ones8) >> 5
	c |= x2 & (0x40 * ones8) >> 4
	x3 := le.Uint64(blk[24:32])
	q |= zeroBytes(x3^'"'*ones8) >> 4
	c |= x3 & (0x40 * ones8) >> 3
	x4 := le.Uint64(blk[32:40])
	q |= zeroBytes(x4^'"'*ones8) >> 3
	c |= x4 & (0x40 * ones8) >> 2
	x5 := le.Uint64(blk[40:48])
	q |= zeroBytes(x5^'"'*ones8) >> 2
	c |= x5 & (0x40 * ones8) >> 1
	x6 := le.Uint64(blk[48:56])
	q |= zeroBytes(x6^'"'*ones8) >> 1
	c |= x6 & (0x40 * ones8)
	x7 := le.Uint64(blk[56:64])
	q |= zeroBytes(x7 ^ '"'*ones8)
	c |= x7 & (0x40 * ones8) << 1
	return transpose8(q), transpose8(c)
}

// transpose8 transposes the 8x8 bit matrix x (bit 8r+c to bit 8c+r;
// Hacker's Delight 7-3).
func transpose8(x uint64) uint64 {
	t := (x ^ x>>7) & 0x00aa00aa00aa00aa
	x ^= t ^ t<<7
	t = (x ^ x>>14) & 0x0000cccc0000cccc
	x ^= t ^ t<<14
	t = (x ^ x>>28) & 0x00000000f0f0f0f0
	return x ^ t ^ t<<28
}

// brackets: the block's '[' ']' '{' '}' bytes, and maybe a few others
// ('X' 'Y' '_' DEL and a byte above one of them; the caller looks at the
// byte), one bit a byte.
func brackets(blk *[64]byte) uint64 {
	var m uint64
	for w := range 8 {
		// With bit 5 set and bits 1-2 cleared, the four brackets (and
		// the four others) are 0x79; the borrow test marks them.
		x := binary.LittleEndian.Uint64(blk[w*8:])
		br := (x|0x20*ones8)&^(0x06*ones8) ^ 0x79*ones8
		m |= gather((br-ones8)&^br) << (w * 8)
	}
	return m
}

// backslashes: the block's backslashes, one bit a byte.
func backslashes(blk *[64]byte) uint64 {
	var m uint64
	for w := range 8 {
		m |= gather(zeroBytes(binary.LittleEndian.Uint64(blk[w*8:])^'\\'*ones8)) << (w * 8)
	}
	return m
}

// zeroBytes has 0x80 in each byte of x that is zero, and nothing else
// (exact, unlike the borrow trick).
func zeroBytes(x uint64) uint64 {
	t := (x & lo7) + lo7
	return ^(t | x | lo7)
}

// gather packs the top bits of m's eight bytes into a byte (byte k's to
// bit k).
func gather(m uint64) uint64 {
	return (m & hi8 >> 7) * 0x0102040810204080 >> 56
}

// prefixXOR: bit k is the XOR of bits 0..k of x.
func prefixXOR(x uint64) uint64 {
	x ^= x << 1
	x ^= x << 2
	x ^= x << 4
	x ^= x << 8
	x ^= x << 16
	x ^= x << 32
	return x
}
