// Package intoto maps decoded in-toto attestations (SLSA provenance, AIXV
// training/advisory/deployment, and the project's dataset and deployment
// predicates) to one graph.Batch per document. Opening envelopes and
// verifying signatures happen before: callers hand over the decoded
// statement and a graph.Document whose Signatures already carry their final
// verification status. docs/mapping.md states the classification rules.
package intoto

import (
	"fmt"
	"maps"
	"slices"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/ref"
	"github.com/modelgraph/modelgraph/ingest/statement"
)

// Predicate types understood by FromStatement.
const (
	PredicateSLSAv01 = "https://slsa.dev/provenance/v0.1"
	PredicateSLSAv02 = "https://slsa.dev/provenance/v0.2"
	PredicateSLSAv1  = "https://slsa.dev/provenance/v1"

	PredicateAIXVTraining   = "https://aixv.org/attestation/training/v1"
	PredicateAIXVAdvisory   = "https://aixv.org/attestation/advisory/v1"
	PredicateAIXVDeployment = "https://aixv.org/attestation/deployment/v1"

	// The project's own predicates; see docs/predicates.md and
	// schema/predicates/.
	PredicateDataset    = "https://modelgraph.dev/attestation/dataset/v1"
	PredicateDeployment = "https://modelgraph.dev/attestation/deployment/v1"
)

// Document types (graph.Document.Type) set by FromStatement.
const (
	DocSLSAProvenance = "slsa-provenance"
	DocAIXVTraining   = "aixv-training"
	DocAIXVAdvisory   = "aixv-advisory"
	DocAIXVDeployment = "aixv-deployment"
	DocDataset        = "dataset-attestation"
	DocDeployment     = "deployment-record"
	DocInToto         = "in-toto" // any other predicate type
)

type handler struct {
	docType string
	parse   func(*parser, value) error
}

var handlers = map[string]handler{
	PredicateSLSAv01:        {DocSLSAProvenance, (*parser).slsa01},
	PredicateSLSAv02:        {DocSLSAProvenance, (*parser).slsa02},
	PredicateSLSAv1:         {DocSLSAProvenance, (*parser).slsa1},
	PredicateAIXVTraining:   {DocAIXVTraining, (*parser).aixvTraining},
	PredicateAIXVAdvisory:   {DocAIXVAdvisory, (*parser).aixvAdvisory},
	PredicateAIXVDeployment: {DocAIXVDeployment, (*parser).aixvDeployment},
	PredicateDataset:        {DocDataset, (*parser).dataset},
	PredicateDeployment:     {DocDeployment, (*parser).deployment},
}

// Supported reports whether FromStatement maps predicateType to more than
// the generic "document describes its subjects" batch.
func Supported(predicateType string) bool {
	_, ok := handlers[predicateType]
	return ok
}

// SupportedPredicateTypes lists the predicate types Supported accepts, sorted.
func SupportedPredicateTypes() []string { return slices.Sorted(maps.Keys(handlers)) }

// parser holds one document's state while it is mapped.
type parser struct {
	st       *statement.Statement
	doc      graph.Document
	b        *graph.Batch
	name     string     // document name for errors
	subjects [][]string // normalised digest keys per subject
}

func (p *parser) errf(sentinel error, ptr, format string, args ...any) error {
	return &FieldError{Doc: p.name, Field: ptr, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

// FromStatement maps one decoded statement to a batch. doc.Digest must be
// the document's identity (envelope.Opened.DocumentDigest); doc.Signatures must already hold the
// verification outcome (they become SIGNED_BY edges). doc.Type and
// doc.PredicateType are set here from the predicate type. Unknown predicate
// types are not an error: the batch records the document and its subjects.
func FromStatement(st *statement.Statement, doc graph.Document) (*graph.Batch, error) {
	p := &parser{st: st, doc: doc, name: docName(doc)}
	if st == nil {
		return nil, p.errf(ErrInvalidDocument, "", "statement is nil")
	}
	d, err := graph.NormalizeKey(doc.Digest)
	if err != nil || !graph.IsDigestKey(d) {
		return nil, p.errf(ErrInvalidDocument, "", "doc.Digest %q is not a digest key (want sha256:<hex>, the document's identity)", truncate(doc.Digest, 80))
	}
	doc.Digest = d
	if len(st.Subject) == 0 {
		return nil, p.errf(ErrInvalidDocument, "/subject", "is empty")
	}
	if len(st.Subject) > statement.MaxSubjects {
		return nil, p.errf(ErrLimit, "/subject", "%d subjects, limit %d", len(st.Subject), statement.MaxSubjects)
	}
	p.subjects = make([][]string, len(st.Subject))
	for i, s := range st.Subject {
		keys, err := s.Keys()
		if err != nil || len(keys) == 0 {
			msg := "is empty"
			if err != nil {
				msg = err.Error()
			}
			return nil, p.errf(ErrInvalidDocument, fmt.Sprintf("/subject/%d/digest", i), "%s", msg)
		}
		p.subjects[i] = keys
	}
	h, known := handlers[st.PredicateType]
	doc.Type = DocInToto
	if known {
		doc.Type = h.docType
	}
	doc.PredicateType = st.PredicateType
	p.doc = doc
	p.b = graph.NewBatch(doc)
	if known {
		pred, err := p.decodePredicate(st.Predicate)
		if err != nil {
			return nil, err
		}
		if err := h.parse(p, pred); err != nil {
			return nil, err
		}
	} else {
		p.generic()
	}
	if err := p.b.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	return p.b, nil
}

func docName(d graph.Document) string {
	switch {
	case d.Source != "" && d.Digest != "":
		return d.Source + " (" + truncate(d.Digest, 80) + ")"
	case d.Source != "":
		return d.Source
	}
	return truncate(d.Digest, 80)
}

// generic records an unknown predicate: the document describes each subject,
// a Model when its name says so, a File otherwise.
func (p *parser) generic() {
	for i := range p.st.Subject {
		kind := graph.KindFile
		if looksLikeModel(p.st.Subject[i].Name, false) || looksLikeModel(p.st.Subject[i].URI, false) {
			kind = graph.KindModel
		}
		p.b.Describes(p.subject(i, kind))
	}
}

// subject adds subject i as a node of kind: keyed by its digests, plus the
// name keys of a Hugging Face id or purl when its name or URI carries one.
func (p *parser) subject(i int, kind graph.NodeKind) int {
	s := p.st.Subject[i]
	keys := slices.Clone(p.subjects[i])
	attrs := map[string]string{"name": s.Name, "uri": ref.URI(s.URI)}
	if kind == graph.KindModel || kind == graph.KindDataset {
		for _, ref := range []string{s.URI, s.Name} {
			if a, ok := nameRef(ref, kind); ok {
				keys = append(keys, a.keys...)
				for k, v := range a.attrs {
					if attrs[k] == "" {
						attrs[k] = v
					}
				}
			}
		}
	}
	return p.node(artifact{kind: kind, keys: keys, attrs: attrs})
}

// node adds an artifact to the batch. When a document names one artifact
// twice (identical files under two paths), its first claims win.
func (p *parser) node(a artifact) int {
	i := p.b.Node(a.kind, a.keys...)
	for _, k := range slices.Sorted(maps.Keys(a.attrs)) {
		if _, taken := p.b.Nodes[i].Attrs[k]; !taken {
			p.b.Set(i, k, a.attrs[k])
		}
	}
	return i
}
