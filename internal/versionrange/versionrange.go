// Package versionrange reads version ranges (npm, PEP 440 and semver style)
// and compares versions: the one home of the rule "is this package version
// inside that range", used by the package questions of internal/query.
package versionrange

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is returned for a malformed range.
var ErrInvalid = errors.New("invalid version range")

func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:80] + "…"
}

// Version ranges
//
// A range is one or more alternatives separated by "||"; an alternative is
// one or more constraints separated by commas (or spaces) that must all
// hold:
//
//	>=2.0.0,<2.15.0       2.0.0 up to, not including, 2.15.0
//	>=1.0 <2 || >=3.1     npm-style spaces and alternatives
//	==2.1.*  or  2.1.*    any 2.1 release (prefix match, PEP 440 style)
//	!=2.3.1               anything but 2.3.1
//	~=2.2                 PEP 440 compatible release: >=2.2, ==2.*
//	~=1.4.5               >=1.4.5, ==1.4.*
//	2.1.0                 exactly 2.1.0 (same as ==2.1.0)
//	* or empty            any version
//
// Operators: < <= > >= == = != ~=. Versions compare like PEP 440 and semver
// together: an optional "v" and epoch ("1!"), numeric release segments
// compared as numbers with missing ones as zero (2.0 == 2.0.0), then
// pre-releases before the release (dev < a|alpha < b|beta < rc|c|pre, and
// semver "-x.y" identifiers), post-releases ("post", "rev", "r", "-1")
// after it; build metadata ("+...") is ignored. A package version that
// cannot be read as a version matches only "*" and exact string equality.

// MaxRangeLen bounds a range expression.
const MaxRangeLen = 1024

// Range is a parsed version range.
type Range struct {
	alts [][]constraint
	src  string
}

type constraint struct {
	op     string // < <= > >= == != and "=*" / "!*" for prefix matches
	v      Version
	raw    string
	prefix bool
}

// Parse parses a version range (see the syntax above).
func Parse(s string) (Range, error) {
	src := strings.TrimSpace(s)
	if len(src) > MaxRangeLen {
		return Range{}, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalid, len(src), MaxRangeLen)
	}
	r := Range{src: src}
	if src == "" || src == "*" {
		return r, nil
	}
	for _, alt := range strings.Split(src, "||") {
		cs, err := parseAlt(alt)
		if err != nil {
			return Range{}, fmt.Errorf("%w: %q: %w", ErrInvalid, clip(src), err)
		}
		r.alts = append(r.alts, cs)
	}
	return r, nil
}

// String returns the range as given (trimmed).
func (r Range) String() string { return r.src }

// Any reports whether the range accepts every version.
func (r Range) Any() bool { return len(r.alts) == 0 }

var ops = []string{"<=", ">=", "==", "!=", "~=", "<", ">", "="}

func parseAlt(alt string) ([]constraint, error) {
	// Split on commas and spaces, then glue an operator standing alone to
	// the version after it (">= 2.0").
	fields := strings.FieldsFunc(alt, func(c rune) bool { return c == ',' || c == ' ' || c == '\t' })
	var toks []string
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if isOp(f) && i+1 < len(fields) && !startsWithOp(fields[i+1]) {
			f += fields[i+1]
			i++
		}
		toks = append(toks, f)
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty alternative")
	}
	var out []constraint
	for _, t := range toks {
		cs, err := parseConstraint(t)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

func isOp(s string) bool {
	for _, o := range ops {
		if s == o {
			return true
		}
	}
	return false
}

func startsWithOp(s string) bool {
	for _, o := range ops {
		if strings.HasPrefix(s, o) {
			return true
		}
	}
	return false
}

func parseConstraint(t string) ([]constraint, error) {
	if t == "*" {
		return nil, nil
	}
	op := "=="
	for _, o := range ops {
		if strings.HasPrefix(t, o) {
			op = o
			t = t[len(o):]
			break
		}
	}
	if op == "=" {
		op = "=="
	}
	raw := strings.TrimSpace(t)
	if raw == "" {
		return nil, fmt.Errorf("operator %s has no version", op)
	}
	if strings.HasSuffix(raw, ".*") || strings.HasSuffix(raw, ".x") {
		if op != "==" && op != "!=" {
			return nil, fmt.Errorf("%s%s: a wildcard needs == or !=", op, raw)
		}
		v, err := ParseVersion(raw[:len(raw)-2])
		if err != nil {
			return nil, err
		}
		if v.pre != nil || v.post >= 0 || v.dev >= 0 {
			return nil, fmt.Errorf("%s: a wildcard applies to release numbers only", raw)
		}
		return []constraint{{op: op, v: v, raw: raw, prefix: true}}, nil
	}
	v, err := ParseVersion(raw)
	if err != nil {
		return nil, err
	}
	if op == "~=" {
		if len(v.release) < 2 {
			return nil, fmt.Errorf("~=%s: compatible release needs at least two release numbers", raw)
		}
		p := Version{epoch: v.epoch, release: v.release[:len(v.release)-1], post: -1, dev: -1}
		return []constraint{{op: ">=", v: v, raw: raw}, {op: "==", v: p, raw: raw, prefix: true}}, nil
	}
	return []constraint{{op: op, v: v, raw: raw}}, nil
}

// Match reports whether version is in the range. An unreadable version
// matches only a range that accepts anything, or an exact constraint
// spelled the same way.
func (r Range) Match(version string) bool {
	if r.Any() {
		return true
	}
	v, err := ParseVersion(version)
	for _, alt := range r.alts {
		ok := true
		for _, c := range alt {
			if err != nil {
				ok = ok && c.op == "==" && !c.prefix && c.raw == strings.TrimSpace(version)
				continue
			}
			ok = ok && c.match(v)
		}
		if ok {
			return true
		}
	}
	return false
}

func (c constraint) match(v Version) bool {
	if c.prefix {
		in := v.hasPrefix(c.v)
		if c.op == "!=" {
			return !in
		}
		return in
	}
	n := Compare(v, c.v)
	switch c.op {
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	case ">=":
		return n >= 0
	case "!=":
		return n != 0
	}
	return n == 0
}

// Version is a parsed version (see the range syntax).
type Version struct {
	epoch   string
	release []string // numeric segments without leading zeros
	pre     []string // pre-release identifiers encoded to compare as strings: phase "p<rank>", numbers "n<padded>", words "w<word>"
	post    int      // -1: not a post-release
	dev     int      // -1: not a dev release
}

// MaxVersionLen bounds a version string.
const MaxVersionLen = 256

// ParseVersion reads a semver or PEP 440 style version.
func ParseVersion(s string) (Version, error) {
	v := Version{post: -1, dev: -1}
	in := strings.ToLower(strings.TrimSpace(s))
	if len(in) > MaxVersionLen {
		return v, fmt.Errorf("version is %d bytes, limit %d", len(in), MaxVersionLen)
	}
	orig := in
	in = strings.TrimPrefix(in, "v")
	if i := strings.IndexByte(in, '+'); i >= 0 {
		in = in[:i]
	}
	if i := strings.IndexByte(in, '!'); i >= 0 {
		if !allDigits(in[:i]) {
			return v, fmt.Errorf("version %q: epoch is not a number", clip(orig))
		}
		v.epoch = trimZeros(in[:i])
		in = in[i+1:]
	}
	// Release: digits separated by dots.
	i := 0
	for {
		j := i
		for j < len(in) && in[j] >= '0' && in[j] <= '9' {
			j++
		}
		if j == i {
			break
		}
		v.release = append(v.release, trimZeros(in[i:j]))
		i = j
		if i+1 < len(in) && in[i] == '.' && in[i+1] >= '0' && in[i+1] <= '9' {
			i++
			continue
		}
		break
	}
	if len(v.release) == 0 {
		return v, fmt.Errorf("version %q does not start with a number", clip(orig))
	}
	rest := in[i:]
	if j := strings.IndexFunc(rest, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_')
	}); j >= 0 {
		return v, fmt.Errorf("version %q: unexpected %q", clip(orig), rest[j:j+1])
	}
	for rest != "" {
		rest = strings.TrimLeft(rest, ".-_")
		if rest == "" {
			break
		}
		word, num, after := splitWord(rest)
		switch word {
		case "dev":
			v.dev = atoiSat(num)
		case "post", "rev", "r":
			v.post = atoiSat(num)
		case "a", "alpha", "b", "beta", "c", "rc", "pre", "preview":
			if num == "" && len(after) > 1 && (after[0] == '.' || after[0] == '-') && after[1] >= '0' && after[1] <= '9' {
				// semver "rc.1" is PEP 440 "rc1"
				_, num, after = splitWord(after[1:])
			}
			if v.pre == nil {
				// PEP 440: a missing number is 0 ("1.0a" is "1.0a0").
				v.pre = []string{"p" + preRank(word), "n" + pad(trimZeros(orDefault(num, "0")))}
				break
			}
			v.pre = append(v.pre, "w"+word)
			if num != "" {
				v.pre = append(v.pre, "n"+pad(trimZeros(num)))
			}
		default:
			// Any other identifier ("-1", "-snapshot", "-x.7.z") makes a
			// semver pre-release, ordered identifier by identifier,
			// numbers before words.
			if v.pre == nil {
				v.pre = []string{"p0"}
			}
			if word != "" {
				v.pre = append(v.pre, "w"+word)
			}
			if num != "" {
				v.pre = append(v.pre, "n"+pad(trimZeros(num)))
			}
		}
		rest = after
		if len(v.pre) > 64 {
			return v, fmt.Errorf("version %q has too many identifiers", clip(orig))
		}
	}
	return v, nil
}

// splitWord splits a leading run of letters and the number after it.
func splitWord(s string) (word, num, rest string) {
	i := 0
	for i < len(s) && s[i] >= 'a' && s[i] <= 'z' {
		i++
	}
	word = s[:i]
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	num = s[i:j]
	return word, num, s[j:]
}

// preRank orders pre-release phases: alpha < beta < rc; other semver
// pre-releases ("p0") sort before alpha.
func preRank(w string) string {
	switch w {
	case "a", "alpha":
		return "1"
	case "b", "beta":
		return "2"
	}
	return "3" // c, rc, pre, preview
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func trimZeros(s string) string {
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return "0"
	}
	return s
}

// pad makes numeric identifiers compare as numbers under string order.
func pad(s string) string { return fmt.Sprintf("%03d:%s", len(s), s) }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func atoiSat(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if n > 1<<30 {
			return 1 << 30
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// cmpNum compares decimal strings without leading zeros.
func cmpNum(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Compare orders versions: -1, 0 or +1.
func Compare(a, b Version) int {
	if c := cmpNum(orDefault(a.epoch, "0"), orDefault(b.epoch, "0")); c != 0 {
		return c
	}
	for i := range max(len(a.release), len(b.release)) {
		x, y := "0", "0"
		if i < len(a.release) {
			x = a.release[i]
		}
		if i < len(b.release) {
			y = b.release[i]
		}
		if c := cmpNum(x, y); c != 0 {
			return c
		}
	}
	if c := cmpInt(a.phase(), b.phase()); c != 0 {
		return c
	}
	if a.pre != nil {
		for i := 0; i < len(a.pre) && i < len(b.pre); i++ {
			if c := strings.Compare(a.pre[i], b.pre[i]); c != 0 {
				return c
			}
		}
		if c := cmpInt(len(a.pre), len(b.pre)); c != 0 {
			return c
		}
	}
	if c := cmpInt(a.post, b.post); c != 0 {
		return c
	}
	// A dev release comes before the same version without "dev".
	return cmpInt(devKey(a.dev), devKey(b.dev))
}

func devKey(d int) int {
	if d < 0 {
		return 1 << 31
	}
	return d
}

// phase: a dev-only release sorts first, then pre-releases, then releases
// (and their post-releases).
func (v Version) phase() int {
	switch {
	case v.pre != nil:
		return -1
	case v.post < 0 && v.dev >= 0:
		return -2
	}
	return 0
}

// hasPrefix reports whether v's release starts with p's release (and the
// epochs agree): "2.1.3" has prefix "2.1".
func (v Version) hasPrefix(p Version) bool {
	if cmpNum(orDefault(v.epoch, "0"), orDefault(p.epoch, "0")) != 0 {
		return false
	}
	for i, seg := range p.release {
		x := "0"
		if i < len(v.release) {
			x = v.release[i]
		}
		if x != seg {
			return false
		}
	}
	return true
}
