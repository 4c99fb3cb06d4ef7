package query

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/modelgraph/modelgraph/graph"
)

// Ref is a parsed reference: what a responder types to name a node.
type Ref struct {
	Raw string
	// ID is set when the reference is a node id.
	ID graph.NodeID
	// Keys are the graph keys the reference may mean, most specific first.
	Keys []string
}

// ParseRef reads a reference. Accepted forms:
//
//	0123...(32 hex)                 a node id
//	sha256:<hex>, SHA-256:<HEX>     a digest (any algorithm graph keys know)
//	<64 hex>                        a bare sha256 digest
//	pkg:pypi/torch@2.1.0            a package URL
//	hf://org/name, hf://datasets/x  Hugging Face ids; https://huggingface.co/... too
//	s3://..., git+https://..., ...  any other URI
//	name:acme/llm-7b, deployment:prod/-/-/api, advisory:ID, vuln:CVE-..., oidc:..., key:...
//	                                any graph key with its scheme
//	acme/llm-7b, clinical-notes     a bare name: name:, hf://, advisory:, vuln:,
//	                                deployment: keys are tried in that order
//
// It does not touch the store; Resolve does.
func ParseRef(s string) (Ref, error) {
	raw := strings.TrimSpace(s)
	r := Ref{Raw: raw}
	if raw == "" {
		return r, fmt.Errorf("%w: empty", ErrInvalidReference)
	}
	if len(raw) > MaxRefLen {
		return r, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidReference, len(raw), MaxRefLen)
	}
	if i := strings.IndexFunc(raw, func(c rune) bool { return unicode.IsControl(c) || c == unicode.ReplacementChar }); i >= 0 {
		return r, fmt.Errorf("%w: %q has a control or invalid character at byte %d", ErrInvalidReference, clip(raw), i)
	}
	if id := graph.NodeID(strings.ToLower(raw)); id.Valid() {
		r.ID = id
		return r, nil
	}
	if len(raw) == 64 && isHex(raw) {
		r.Keys = []string{"sha256:" + strings.ToLower(raw)}
		return r, nil
	}
	add := func(k string) {
		nk, err := graph.NormalizeKey(k)
		if err == nil && !slices.Contains(r.Keys, nk) {
			r.Keys = append(r.Keys, nk)
		}
	}
	if i := strings.Index(raw, "://"); i > 0 && !strings.ContainsAny(raw[:i], " /:") {
		add(raw)
		if hf := hfFromWeb(raw); hf != "" {
			add(hf)
		}
		return r, nil
	}
	if i := strings.IndexByte(raw, ':'); i > 0 && !strings.ContainsAny(raw[:i], " /@") {
		scheme := strings.ToLower(raw[:i])
		if a := graph.NormalizeAlgorithm(scheme); isDigestAlgorithm(a) {
			k, err := graph.DigestKey(a, raw[i+1:])
			if err != nil {
				return r, fmt.Errorf("%w: %q: %w", ErrInvalidReference, clip(raw), err)
			}
			r.Keys = []string{k}
			return r, nil
		}
		add(raw)
		// "clinical-notes:v3" may be a name with a colon rather than a key.
		if !knownScheme[scheme] {
			add(graph.NameKey(raw))
		}
		if len(r.Keys) == 0 {
			return r, fmt.Errorf("%w: %q is not a graph key", ErrInvalidReference, clip(raw))
		}
		return r, nil
	}
	add(graph.NameKey(raw))
	add("hf://" + raw)
	upper := strings.ToUpper(raw)
	if strings.HasPrefix(upper, "CVE-") || strings.HasPrefix(upper, "GHSA-") || strings.HasPrefix(upper, "OSV-") || strings.HasPrefix(upper, "PYSEC-") {
		add("vuln:" + raw)
	}
	add("advisory:" + raw)
	add("deployment:" + raw)
	return r, nil
}

// knownScheme lists the key schemes the project writes; for these a colon is
// never part of a bare name.
var knownScheme = map[string]bool{
	"pkg": true, "name": true, "oidc": true, "key": true, "vuln": true, "advisory": true,
	"deployment": true, "run": true, "hf": true,
}

func isDigestAlgorithm(a string) bool {
	switch a {
	case "sha1", "sha224", "sha256", "sha384", "sha512", "sha3-256", "sha3-512", "blake2b", "blake2s", "blake3", "md5":
		return true
	}
	return false
}

// hfFromWeb maps https://huggingface.co/[datasets/]org/name[/...] to the
// hf:// key ingest writes for it.
func hfFromWeb(u string) string {
	lower := strings.ToLower(u)
	var rest string
	for _, p := range []string{"https://huggingface.co/", "https://hf.co/", "https://www.huggingface.co/"} {
		if strings.HasPrefix(lower, p) {
			rest = u[len(p):]
		}
	}
	if rest == "" {
		return ""
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	prefix := "hf://"
	if segs[0] == "datasets" {
		prefix += "datasets/"
		segs = segs[1:]
	}
	switch {
	case len(segs) == 0 || segs[0] == "":
		return ""
	case len(segs) == 1 || segs[1] == "tree" || segs[1] == "resolve" || segs[1] == "blob":
		return prefix + segs[0]
	}
	return prefix + segs[0] + "/" + segs[1]
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:80] + "…"
}

// Resolve finds the nodes a reference names, restricted to kinds when given.
// The reference's keys are tried in order and the first that matches wins.
// When Models are wanted and the reference names only Files (a weights or
// tokenizer digest found on a host), the models containing those files are
// returned. No match is ErrNotFound.
func (s *Service) Resolve(ctx context.Context, ref string, kinds ...graph.NodeKind) ([]Node, error) {
	ns, err := s.resolve(ctx, ref, kinds...)
	if err != nil {
		return nil, err
	}
	out := make([]Node, len(ns))
	for i, n := range ns {
		out[i] = toNode(n)
	}
	return out, nil
}

func (s *Service) resolve(ctx context.Context, ref string, kinds ...graph.NodeKind) ([]graph.Node, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	want := func(n graph.Node) bool { return len(kinds) == 0 || slices.Contains(kinds, n.Kind) }
	var found []graph.Node
	if r.ID != "" {
		n, err := s.r.Node(ctx, r.ID)
		switch {
		case err == nil:
			found = []graph.Node{n}
		case !isNotFound(err):
			return nil, fmt.Errorf("resolve %q: %w", clip(r.Raw), err)
		}
	}
	var files []graph.Node
	for _, k := range r.Keys {
		ns, err := s.r.Lookup(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("resolve %q: %w", clip(r.Raw), err)
		}
		for _, n := range ns {
			if n.Kind == graph.KindFile {
				files = append(files, n)
			}
		}
		ns = slices.DeleteFunc(ns, func(n graph.Node) bool { return !want(n) })
		if len(ns) > 0 {
			found = ns
			break
		}
	}
	found = slices.DeleteFunc(found, func(n graph.Node) bool { return !want(n) })
	if len(found) == 0 && len(files) > 0 && slices.Contains(kinds, graph.KindModel) {
		for _, f := range files {
			es, err := s.r.Edges(ctx, f.ID, graph.In, graph.Contains)
			if err != nil {
				return nil, fmt.Errorf("resolve %q: %w", clip(r.Raw), err)
			}
			for _, e := range es {
				n, err := s.r.Node(ctx, e.From)
				if err != nil {
					return nil, fmt.Errorf("resolve %q: %w", clip(r.Raw), err)
				}
				if n.Kind == graph.KindModel && !slices.ContainsFunc(found, func(x graph.Node) bool { return x.ID == n.ID }) {
					found = append(found, n)
				}
			}
		}
	}
	if len(found) == 0 {
		what := "node"
		if len(kinds) > 0 {
			what = joinKinds(kinds)
		}
		return nil, s.notFound(ctx, r.Raw, kinds, fmt.Sprintf("%v: no %s matches %q", ErrNotFound, what, clip(r.Raw)))
	}
	slices.SortFunc(found, func(a, b graph.Node) int {
		if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
			return c
		}
		return strings.Compare(string(a.ID), string(b.ID))
	})
	return found, nil
}

func joinKinds(kinds []graph.NodeKind) string {
	ss := make([]string, len(kinds))
	for i, k := range kinds {
		ss[i] = string(k)
	}
	return strings.Join(ss, " or ")
}

func ids(ns []graph.Node) []graph.NodeID {
	out := make([]graph.NodeID, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}
