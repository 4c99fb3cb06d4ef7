package ref

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/modelgraph/modelgraph/graph"
)

// ErrInvalid is wrapped by every error Parse returns.
var ErrInvalid = errors.New("invalid reference")

// MaxLen bounds a reference: the longest key the graph stores.
const MaxLen = graph.MaxKeyLen

// Error is a reference that cannot name a node, and why.
type Error struct {
	Ref    string // the reference, clipped to 80 bytes
	Reason string
}

func (e *Error) Error() string { return ErrInvalid.Error() + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

func invalid(raw, format string, args ...any) *Error {
	return &Error{Ref: clip(raw), Reason: fmt.Sprintf(format, args...)}
}

// Ref is a parsed reference: what a responder types to name a node.
type Ref struct {
	Raw string
	// ID is set when the reference is a node id.
	ID graph.NodeID
	// Keys are the graph keys the reference may mean, most specific first,
	// each normalised (graph.NormalizeKey).
	Keys []string
	// HF is set when the reference names a Hugging Face repository; its
	// Revision keeps a pinned revision the keys leave out.
	HF *HF
}

// Digest returns the reference's digest key when the reference is exactly
// one digest.
func (r Ref) Digest() (string, bool) {
	if len(r.Keys) == 1 && graph.IsDigestKey(r.Keys[0]) {
		return r.Keys[0], true
	}
	return "", false
}

// knownScheme lists the key schemes the project writes; for these a colon
// is never part of a bare name.
var knownScheme = map[string]bool{
	"pkg": true, "name": true, "oidc": true, "key": true, "vuln": true, "advisory": true,
	"deployment": true, "run": true, "hf": true,
}

// bareHexAlg gives the algorithm a bare hex digest of a length means. 32
// hex characters are a node id; 40 (sha1, a git commit) are too ambiguous
// to mean a digest without its algorithm.
var bareHexAlg = map[int]string{64: "sha256", 96: "sha384", 128: "sha512"}

// vulnPrefixes mark bare vulnerability ids.
var vulnPrefixes = []string{"CVE-", "GHSA-", "OSV-", "PYSEC-"}

// Parse reads a reference (the grammar is in the package documentation).
// It does not touch the store; Lookup does.
func Parse(s string) (Ref, error) {
	raw := strings.TrimSpace(s)
	r := Ref{Raw: raw}
	if raw == "" {
		return r, invalid(raw, "empty")
	}
	if len(raw) > MaxLen {
		return r, invalid(raw, "%d bytes, limit %d", len(raw), MaxLen)
	}
	if i := strings.IndexFunc(raw, func(c rune) bool { return unicode.IsControl(c) || c == unicode.ReplacementChar }); i >= 0 {
		return r, invalid(raw, "%q has a control or invalid character at byte %d", clip(raw), i)
	}
	if id := graph.NodeID(strings.ToLower(raw)); id.Valid() {
		r.ID = id
		return r, nil
	}
	if alg, ok := bareHexAlg[len(raw)]; ok && isHex(raw) {
		r.Keys = []string{alg + ":" + strings.ToLower(raw)}
		return r, nil
	}
	add := func(ks ...string) {
		for _, k := range ks {
			nk, err := graph.NormalizeKey(k)
			if err == nil && !slices.Contains(r.Keys, nk) {
				r.Keys = append(r.Keys, nk)
			}
		}
	}
	hub := func(h HF) {
		r.HF = &h
		add(h.Keys()...)
	}
	if IsURI(raw) {
		if h, ok := ParseHF(raw); ok {
			hub(h)
		}
		add(URI(raw))
		if img, ok := ParseImage(raw); ok && img.Digest != "" {
			add(img.Digest)
		}
		if len(r.Keys) == 0 {
			return r, invalid(raw, "%q is not a graph key", clip(raw))
		}
		return r, nil
	}
	if i := strings.IndexByte(raw, ':'); i > 0 && !strings.ContainsAny(raw[:i], " /@") {
		scheme := strings.ToLower(raw[:i])
		if a := graph.NormalizeAlgorithm(scheme); isDigestAlg(a) {
			k, err := Digest(a, raw[i+1:])
			if err != nil {
				return r, invalid(raw, "%q: %v", clip(raw), err)
			}
			r.Keys = []string{k}
			return r, nil
		}
		add(raw)
		if scheme == "pkg" {
			if h, ok := ParseHF(raw); ok {
				hub(h)
			}
		}
		// "clinical-notes:v3" may be a name with a colon rather than a key.
		if !knownScheme[scheme] {
			add(Name(raw))
		}
		if len(r.Keys) == 0 {
			return r, invalid(raw, "%q is not a graph key", clip(raw))
		}
		return r, nil
	}
	add(Name(raw))
	// A bare hub id, with an optional @revision and nothing after it.
	if h, ok := ParseHF(graph.SchemeHF + raw); ok && !h.Dataset && (raw == h.ID || raw == h.ID+"@"+h.Revision) {
		r.HF = &h
		add(h.Key())
	}
	upper := strings.ToUpper(raw)
	for _, p := range vulnPrefixes {
		if strings.HasPrefix(upper, p) {
			add(Vuln(raw))
			break
		}
	}
	add(Advisory(raw), graph.SchemeDeployment+raw)
	if len(r.Keys) == 0 {
		return r, invalid(raw, "%q is not a graph key", clip(raw))
	}
	return r, nil
}

// MustParse is Parse for references known to be valid (tests).
func MustParse(s string) Ref {
	r, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return r
}

// Lookup finds the nodes r names in rd: the node with r's id, else the
// nodes of the first of r's keys, in order, that names a node want accepts
// (want nil accepts every node). When want refuses the Files a key names
// (a weights or tokenizer digest found on a host) and nothing else
// matched, the Models containing those files that want accepts are found
// instead. Nodes the tried keys named that want refused are returned as
// others. Both lists are sorted by kind, then id. A reference naming
// nothing is two empty lists, not an error: the caller says what it looked
// for. The query service and the AI-BOM exporter both resolve through it.
func Lookup(ctx context.Context, rd graph.Reader, r Ref, want func(graph.Node) bool) (found, others []graph.Node, err error) {
	if want == nil {
		want = func(graph.Node) bool { return true }
	}
	if r.ID != "" {
		n, err := rd.Node(ctx, r.ID)
		switch {
		case err == nil && want(n):
			found = []graph.Node{n}
		case err == nil:
			others = []graph.Node{n}
		case !errors.Is(err, graph.ErrNotFound):
			return nil, nil, err
		}
	}
	for _, k := range r.Keys {
		if len(found) > 0 {
			break
		}
		ns, err := rd.Lookup(ctx, k)
		if err != nil {
			return nil, nil, err
		}
		for _, n := range ns {
			if want(n) {
				found = append(found, n)
			} else if !slices.ContainsFunc(others, func(o graph.Node) bool { return o.ID == n.ID }) {
				others = append(others, n)
			}
		}
	}
	if len(found) == 0 {
		for _, f := range others {
			if f.Kind != graph.KindFile {
				continue
			}
			es, err := rd.Edges(ctx, f.ID, graph.In, graph.Contains)
			if err != nil {
				return nil, nil, err
			}
			for _, e := range es {
				n, err := rd.Node(ctx, e.From)
				if err != nil {
					return nil, nil, err
				}
				if n.Kind == graph.KindModel && want(n) && !slices.ContainsFunc(found, func(x graph.Node) bool { return x.ID == n.ID }) {
					found = append(found, n)
				}
			}
		}
	}
	byKindID := func(a, b graph.Node) int { return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID)) }
	slices.SortFunc(found, byKindID)
	slices.SortFunc(others, byKindID)
	return found, others, nil
}

func isDigestAlg(a string) bool { return graph.IsDigestKey(a + ":") }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:80] + "…"
}
