// Package advisory is the project's advisory document: an advisory (id,
// severity, status, summary, references) and the nodes it affects, named by
// kind and key. The GraphQL createAdvisory mutation builds one (Build) from
// its input and the nodes its references resolved to, and pushes it through
// ingest.Pipeline like any document: it gets a document digest (sha256 of
// its canonical bytes, so the same advisory naming the same nodes is one
// document), the advisory role, evidence on every claim, and the watcher
// sees it. Anyone may push one to POST /v1/ingest too; Parse maps it to its
// batch (docs/mapping.md).
//
// It is not an in-toto statement: a statement's subjects must be digests,
// and an advisory may affect a package by purl, a deployment, a source or a
// dataset known only by name. Signed advisories use the AIXV advisory
// predicate (ingest/intoto).
package advisory

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/docerr"
	"github.com/modelgraph/modelgraph/ingest/strictjson"
)

// Format is the value of an advisory document's "advisoryFormat" member,
// which is how the pipeline recognises one.
const Format = "https://modelgraph.dev/advisory/v1"

// DocType is the graph.Document type of an advisory document (role
// graph.RoleAdvisory).
const DocType = "advisory"

// KeyPrefix starts the key of the Advisory node: advisory:<id>.
const KeyPrefix = "advisory:"

// Limits of an advisory.
const (
	MaxIDLen        = 256
	MaxSummary      = 16 << 10
	MaxAffects      = 1000
	MaxReferences   = 100
	MaxReferenceLen = 2048
)

var (
	// Severities an advisory may state (or none).
	Severities = []string{"low", "medium", "high", "critical"}
	// Statuses an advisory may state; active when none is given.
	Statuses = []string{"active", "mitigated", "withdrawn", "resolved"}
	// AffectableKinds are the kinds of node an advisory may affect.
	AffectableKinds = []graph.NodeKind{graph.KindModel, graph.KindDataset, graph.KindFile, graph.KindPackage, graph.KindSource, graph.KindDeployment, graph.KindTrainingRun}
)

// ErrInvalid is the root of every error for an advisory input or document
// that breaks these rules (a malformed document, 400).
var ErrInvalid = docerr.Sentinel("invalid advisory", docerr.ErrMalformed)

// FieldError names the field of an advisory that is wrong.
type FieldError struct {
	Field string // the input's field name (affects[2]) or, in a document, its JSON pointer (/affects/2/key)
	Msg   string
}

func (e *FieldError) Error() string                      { return "advisory " + e.Field + ": " + e.Msg }
func (e *FieldError) Unwrap() error                      { return ErrInvalid }
func (e *FieldError) Location() (field string, line int) { return e.Field, 0 }

// Input is what createAdvisory takes: Affects are references (resolved by
// the caller to stored nodes, see Build).
type Input struct {
	ID         string   `json:"id"`
	Summary    string   `json:"summary,omitempty"`
	Severity   string   `json:"severity,omitempty"` // low | medium | high | critical
	Status     string   `json:"status,omitempty"`   // active (default) | mitigated | withdrawn | resolved
	Affects    []string `json:"affects"`
	References []string `json:"references,omitempty"`
}

// Target is one affected node: its kind and one of its keys.
type Target struct {
	Kind graph.NodeKind `json:"kind"`
	Key  string         `json:"key"`
}

// Document is the advisory document as it is encoded.
type Document struct {
	Format     string   `json:"advisoryFormat"`
	ID         string   `json:"id"`
	Severity   string   `json:"severity,omitempty"`
	Status     string   `json:"status"`
	Summary    string   `json:"summary,omitempty"`
	Affects    []Target `json:"affects"`
	References []string `json:"references,omitempty"`
}

// field names a field in an input (ptr false: "affects[2]") or a
// document (ptr true: "/affects/2").
func field(ptr bool, name string, i ...int) string {
	if ptr {
		s := "/" + name
		for _, n := range i {
			s += fmt.Sprintf("/%d", n)
		}
		return s
	}
	for _, n := range i {
		name += fmt.Sprintf("[%d]", n)
	}
	return name
}

func bad(f, format string, args ...any) error {
	return &FieldError{Field: f, Msg: fmt.Sprintf(format, args...)}
}

func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:80] + "…"
}

// header checks and normalises the advisory's own fields (not its
// affects): trimmed, severity and status lower-cased, status defaulting to
// active, references deduplicated and sorted.
func header(ptr bool, id, summary, severity, status string, refs []string) (Document, error) {
	d := Document{
		Format:   Format,
		ID:       strings.TrimSpace(id),
		Summary:  strings.TrimSpace(summary),
		Severity: strings.ToLower(strings.TrimSpace(severity)),
		Status:   strings.ToLower(strings.TrimSpace(status)),
	}
	switch {
	case d.ID == "":
		return d, bad(field(ptr, "id"), "is empty")
	case len(d.ID) > MaxIDLen:
		return d, bad(field(ptr, "id"), "is %d bytes, limit %d", len(d.ID), MaxIDLen)
	case strings.IndexFunc(d.ID, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return d, bad(field(ptr, "id"), "%q has spaces or control characters", clip(d.ID))
	case len(d.Summary) > MaxSummary:
		return d, bad(field(ptr, "summary"), "is %d bytes, limit %d", len(d.Summary), MaxSummary)
	case d.Severity != "" && !slices.Contains(Severities, d.Severity):
		return d, bad(field(ptr, "severity"), "%q is not low|medium|high|critical", clip(d.Severity))
	}
	if _, err := graph.NormalizeKey(KeyPrefix + d.ID); err != nil {
		return d, bad(field(ptr, "id"), "%v", err)
	}
	if d.Status == "" {
		d.Status = "active"
	}
	if !slices.Contains(Statuses, d.Status) {
		return d, bad(field(ptr, "status"), "%q is not active|mitigated|withdrawn|resolved", clip(d.Status))
	}
	if len(refs) > MaxReferences {
		return d, bad(field(ptr, "references"), "%d references, limit %d", len(refs), MaxReferences)
	}
	for i, r := range refs {
		r = strings.TrimSpace(r)
		if r == "" || len(r) > MaxReferenceLen {
			return d, bad(field(ptr, "references", i), "is empty or longer than %d bytes", MaxReferenceLen)
		}
		if !slices.Contains(d.References, r) {
			d.References = append(d.References, r)
		}
	}
	slices.Sort(d.References)
	return d, nil
}

// Normalize checks in and returns it in canonical form: fields trimmed,
// severity and status lower-cased, status defaulting to active, affects
// and references deduplicated and sorted. Whether each affects reference
// names stored nodes is the caller's question (Build takes the answer).
func (in Input) Normalize() (Input, error) {
	d, err := header(false, in.ID, in.Summary, in.Severity, in.Status, in.References)
	if err != nil {
		return Input{}, err
	}
	c := Input{ID: d.ID, Summary: d.Summary, Severity: d.Severity, Status: d.Status, References: d.References}
	if len(in.Affects) == 0 {
		return Input{}, bad("affects", "is empty: name at least one model, dataset, file or package")
	}
	if len(in.Affects) > MaxAffects {
		return Input{}, bad("affects", "%d references, limit %d", len(in.Affects), MaxAffects)
	}
	for i, r := range in.Affects {
		r = strings.TrimSpace(r)
		if r == "" {
			return Input{}, bad(field(false, "affects", i), "is empty")
		}
		if !slices.Contains(c.Affects, r) {
			c.Affects = append(c.Affects, r)
		}
	}
	slices.Sort(c.Affects)
	return c, nil
}

// targets checks and normalises affected nodes: kinds an advisory may
// affect, normalised keys, deduplicated and sorted by kind then key.
func targets(ptr bool, ts []Target) ([]Target, error) {
	if len(ts) == 0 {
		return nil, bad(field(ptr, "affects"), "is empty: name at least one affected node")
	}
	if len(ts) > MaxAffects {
		return nil, bad(field(ptr, "affects"), "%d nodes, limit %d", len(ts), MaxAffects)
	}
	out := make([]Target, 0, len(ts))
	for i, t := range ts {
		if !slices.Contains(AffectableKinds, t.Kind) {
			return nil, bad(field(ptr, "affects", i)+sub(ptr, "kind"), "%q is not a kind an advisory affects (%v)", clip(string(t.Kind)), AffectableKinds)
		}
		k, err := graph.NormalizeKey(t.Key)
		if err != nil {
			return nil, bad(field(ptr, "affects", i)+sub(ptr, "key"), "%v", err)
		}
		out = append(out, Target{Kind: t.Kind, Key: k})
	}
	slices.SortFunc(out, func(a, b Target) int { return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Key, b.Key)) })
	return slices.Compact(out), nil
}

func sub(ptr bool, name string) string {
	if ptr {
		return "/" + name
	}
	return "." + name
}

// Build is the advisory document for in whose affects references resolved
// to ts (every node each reference names). Its bytes are canonical JSON
// (in normalised, ts deduplicated and sorted), so the same advisory naming
// the same nodes is the same document. Changing an advisory (withdrawing
// it) is a new document with the new status: the newest claim wins.
func Build(in Input, ts []Target) ([]byte, error) {
	c, err := in.Normalize()
	if err != nil {
		return nil, err
	}
	d := Document{Format: Format, ID: c.ID, Severity: c.Severity, Status: c.Status, Summary: c.Summary, References: c.References}
	if d.Affects, err = targets(false, ts); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("advisory %s: encoding: %w", d.ID, err)
	}
	return raw, nil
}

// Resolver names the stored nodes a reference denotes, of the kinds an
// advisory may affect (internal/query's Service.Resolve with
// AffectableKinds); an error wrapping graph.ErrNotFound when there are none.
type Resolver func(ctx context.Context, ref string) ([]Target, error)

// FromInput is the document createAdvisory records: in normalised, each affects
// reference resolved (every node it names is affected), built (Build).
// A reference that names no stored node is an error naming the field
// (affects[i]) that also wraps resolve's error.
func FromInput(ctx context.Context, in Input, resolve Resolver) ([]byte, error) {
	c, err := in.Normalize()
	if err != nil {
		return nil, err
	}
	var ts []Target
	for i, ref := range c.Affects {
		t, err := resolve(ctx, ref)
		if errors.Is(err, graph.ErrNotFound) {
			return nil, fmt.Errorf("%w: %w", bad(field(false, "affects", i), "names no stored %v", AffectableKinds), err)
		}
		if err != nil {
			return nil, fmt.Errorf("advisory affects[%d]: %w", i, err)
		}
		ts = append(ts, t...)
	}
	return Build(c, ts)
}

// Detect reports whether a JSON document's top-level "advisoryFormat"
// member (its raw value) names this format.
func Detect(advisoryFormat json.RawMessage) bool {
	var s string
	return json.Unmarshal(advisoryFormat, &s) == nil && s == Format
}

// Parse maps an advisory document to the batch of doc (its digest and
// source set by the caller): an Advisory node (key advisory:<id>) with its
// id, severity, status, summary and references, described by the document,
// and an AFFECTS edge (with the status) to each affected node.
func Parse(data []byte, doc graph.Document) (*graph.Batch, error) {
	var d Document
	if err := strictjson.Unmarshal(data, &d, func(dec *json.Decoder) { dec.DisallowUnknownFields() }); err != nil {
		var se *strictjson.Error
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if d.Format != Format {
		return nil, bad("/advisoryFormat", "%q is not %s", clip(d.Format), Format)
	}
	h, err := header(true, d.ID, d.Summary, d.Severity, d.Status, d.References)
	if err != nil {
		return nil, err
	}
	if h.Affects, err = targets(true, d.Affects); err != nil {
		return nil, err
	}
	doc.Type = DocType
	b := graph.NewBatch(doc)
	ai := b.Node(graph.KindAdvisory, KeyPrefix+h.ID)
	b.Set(ai, "advisoryId", h.ID)
	b.Set(ai, "severity", h.Severity)
	b.Set(ai, "status", h.Status)
	b.Set(ai, "summary", h.Summary)
	if len(h.References) > 0 {
		refs, _ := json.Marshal(h.References)
		b.Set(ai, "references", string(refs))
	}
	b.Describes(ai)
	for _, t := range h.Affects {
		b.Edge(ai, graph.Affects, b.Node(t.Kind, t.Key), "status", h.Status)
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return b, nil
}
