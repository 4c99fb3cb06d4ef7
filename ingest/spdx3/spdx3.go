// Package spdx3 turns one SPDX 3.0.1 JSON-LD document (Core, Software, AI,
// Dataset and Build profiles) into one graph.Batch: AI packages become
// Models, dataset packages Datasets, software packages Packages, files Files
// and builds TrainingRuns, and the relationships that state lineage
// (trainedOn, testedOn, dependsOn, ancestorOf, descendantOf, generates,
// hasInput/hasOutput, contains, hasDataFile, licences) become the graph's
// edges and attributes. See docs/mapping.md#spdx-30.
//
// The JSON-LD is read by the SPDX project's own Go bindings
// (github.com/spdx/tools-golang/spdx/v3/v3_0), which expand it against the
// SPDX 3.0.1 context they embed (no network) into typed structs. Size,
// nesting and count limits are checked on the raw JSON first.
package spdx3

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"github.com/modelgraph/modelgraph/ingest/docerr"
	"io"
	"regexp"
	"strings"
	"sync"

	v3 "github.com/spdx/tools-golang/spdx/v3/v3_0"

	"github.com/modelgraph/modelgraph/graph"
)

// Errors. Every error Parse returns for bad input wraps ErrInvalidDocument
// and names the document, and the element and field when there is one.
var (
	ErrInvalidDocument = docerr.Sentinel("invalid SPDX 3 document", docerr.ErrMalformed)
	// ErrTooLarge: an input limit was exceeded.
	ErrTooLarge = docerr.Sentinel("invalid SPDX 3 document: limit exceeded", ErrInvalidDocument, docerr.ErrTooLarge)
)

// Limits checked before the JSON-LD is expanded.
const (
	MaxDocumentBytes = docerr.MaxDocumentBytes
	MaxNesting       = 64
	MaxElements      = 100_000 // @graph entries (20,000 take ~8 s to expand)
	MaxRelTargets    = 1_000_000
	MaxDictEntries   = 64    // hyperparameters, metrics, sensors... kept per element
	MaxDictJSON      = 16384 // bytes of one kept dictionary (JSON)
	MaxTextAttr      = 4096  // bytes of one kept free-text attribute
)

// The limits in force; tests lower them.
var (
	maxDocumentBytes = MaxDocumentBytes
	maxNesting       = MaxNesting
	maxElements      = MaxElements
	maxRelTargets    = MaxRelTargets
)

// spdxContext is the SPDX 3.0.1 JSON-LD context (spdx/spdx-spec, v3.0.1,
// Community-Spec-1.0; testdata/spdx3-model/README.md), used to refuse
// properties and types it does not define: JSON-LD expansion would drop
// them silently, and a misspelt property must not vanish.
//
//go:embed spdx-context.jsonld
var spdxContext []byte

// vocabulary is what the context defines: its terms, and which of them
// are xsd:dateTimeStamp properties.
var vocabulary = sync.OnceValues(func() (map[string]bool, map[string]bool) {
	var c struct {
		Context map[string]json.RawMessage `json:"@context"`
	}
	if err := json.Unmarshal(spdxContext, &c); err != nil {
		panic("spdx3: embedded context: " + err.Error())
	}
	terms, times := map[string]bool{}, map[string]bool{}
	for k, v := range c.Context {
		terms[k] = true
		var d struct {
			Type string `json:"@type"`
		}
		if json.Unmarshal(v, &d) == nil && d.Type == "http://www.w3.org/2001/XMLSchema#dateTimeStamp" {
			times[k] = true
		}
	}
	return terms, times
})

// dateTimeStamp is SPDX 3's date-time form (UTC, seconds, Z).
var dateTimeStamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)

// Context is the JSON-LD context URL of SPDX 3.0.1 documents.
const Context = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"

// DocType is the graph.Document type of SPDX 3 documents.
const DocType = "spdx3"

// Detect reports whether data looks like an SPDX 3 JSON-LD document: a JSON
// object whose @context names an SPDX 3 context. Only the head is looked at.
func Detect(data []byte) bool {
	h := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(h) == 0 || h[0] != '{' {
		return false
	}
	if len(h) > 8192 {
		h = h[:8192]
	}
	return bytes.Contains(h, []byte(`"@context"`)) && bytes.Contains(h, []byte("spdx.org/rdf/3."))
}

// Parse reads one SPDX 3.0.1 JSON-LD document. doc.Digest defaults to the
// sha256 of data; doc.Type is set to "spdx3".
func Parse(data []byte, doc graph.Document) (*graph.Batch, error) {
	return ParseWithSubjects(data, doc, nil)
}

// ParseWithSubjects reads an SPDX 3 document that an in-toto statement
// carries as its predicate; subjects are the statement's subjects, each as
// its node keys (digests). With one subject and one described root element,
// the subject is that element (its keys join the element's node, as the
// image digest of an SBOM statement joins the SBOM's metadata component);
// otherwise each subject is a File the document DESCRIBES.
func ParseWithSubjects(data []byte, doc graph.Document, subjects [][]string) (*graph.Batch, error) {
	if doc.Digest == "" {
		doc.Digest = graph.SHA256Key(data)
	}
	if doc.Size == 0 {
		doc.Size = int64(len(data))
	}
	doc.Type = DocType
	p := &parser{name: docName(doc)}
	if err := p.precheck(data); err != nil {
		return nil, err
	}
	d := &v3.Document{}
	if err := d.FromJSON(bytes.NewReader(data)); err != nil {
		return nil, p.fail("", "", "SPDX 3.0.1 JSON-LD: %v", clipErr(err))
	}
	p.b = graph.NewBatch(doc)
	if err := p.mapDocument(d); err != nil {
		return nil, err
	}
	p.subjects(subjects)
	if err := p.b.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	return p.b, nil
}

func docName(d graph.Document) string {
	if d.Source != "" {
		return d.Source
	}
	return d.Digest
}

type parser struct {
	name string
	b    *graph.Batch
	// node index per element, -1 when the element is not a node
	nodes map[v3.AnyElement]int
	// relationship types seen but not mapped, with counts
	unmapped map[string]int
	// multi-valued edge attributes, in first-claimed order
	claims     map[graph.EdgeRef3]map[string][]string
	claimOrder []graph.EdgeRef3
}

// fail returns an error naming the document, the element and the field.
func (p *parser) fail(element, field, format string, args ...any) error {
	where := "document " + p.name
	if element != "" {
		where += ": element " + element
	}
	if field != "" {
		where += ": " + field
	}
	return fmt.Errorf("%w: %s: %s", ErrInvalidDocument, where, fmt.Sprintf(format, args...))
}

func (p *parser) tooLarge(what string, n, limit int) error {
	return fmt.Errorf("%w: document %s: %s: %d, limit %d", ErrTooLarge, p.name, what, n, limit)
}

func clipErr(err error) string {
	s := err.Error()
	if len(s) > 2000 {
		s = s[:2000] + "… (more errors)"
	}
	return s
}

// precheck enforces the size, nesting and count limits and the document's
// top-level shape (@context, @graph) with a streaming scan, before any
// expansion.
func (p *parser) precheck(data []byte) error {
	if len(data) > maxDocumentBytes {
		return p.tooLarge("bytes", len(data), maxDocumentBytes)
	}
	type frame struct {
		obj     bool
		wantKey bool
		key     string // the key whose value is being read (objects)
		parent  string // the key this container is the value of
	}
	terms, times := vocabulary()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []frame
	elements, targets := 0, 0
	sawContext, sawGraph := false, false
	top, err := dec.Token()
	if err != nil {
		return p.fail("", "", "not JSON: %v", err)
	}
	if d, ok := top.(json.Delim); !ok || d != '{' {
		return p.fail("", "", "not a JSON object: an SPDX 3 JSON-LD document is {\"@context\": ..., \"@graph\": [...]}")
	}
	stack = append(stack, frame{obj: true, wantKey: true})
	for len(stack) > 0 {
		tok, err := dec.Token()
		if err != nil {
			return p.fail("", "", "not JSON: %v", err)
		}
		f := &stack[len(stack)-1]
		inGraph := len(stack) >= 3 && stack[0].key == "@graph"
		if f.obj && f.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			f.key, _ = tok.(string)
			f.wantKey = false
			// Only what the SPDX 3 JSON-LD serialisation uses: context
			// terms, "@id" (blank nodes), full IRIs (extensions). Other
			// keywords (@context, @graph, @reverse...) would make the
			// expansion do work no SPDX document needs.
			if inGraph && !terms[f.key] && f.key != "@id" && !strings.Contains(f.key, "://") {
				return p.fail(fmt.Sprintf("@graph[%d]", elements-1), trunc(f.key, 80), "is not a property SPDX 3.0.1 defines")
			}
			if len(stack) == 1 && f.key != "@context" && f.key != "@graph" {
				return p.fail("", trunc(f.key, 80), "an SPDX 3 JSON-LD document has only @context and @graph at the top")
			}
			continue
		}
		// a value (or the end of an array)
		key := f.key
		if f.obj {
			f.wantKey = true
		} else {
			key = f.parent
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case ']', '}':
				stack = stack[:len(stack)-1]
				continue
			}
			if len(stack) == 2 && stack[0].key == "@graph" && !stack[1].obj && d == '{' {
				elements++
				if elements > maxElements {
					return p.tooLarge("@graph elements", elements, maxElements)
				}
			}
			if len(stack) == 1 && key == "@context" {
				return p.fail("", "@context", "must be the string %q", Context)
			}
			if len(stack) == 1 && key == "@graph" && d == '[' {
				sawGraph = true
			}
			stack = append(stack, frame{obj: d == '{', wantKey: d == '{', parent: key})
			if len(stack) > maxNesting {
				return p.tooLarge("JSON nesting depth", len(stack), maxNesting)
			}
			continue
		}
		if inGraph && f.obj {
			str, _ := tok.(string)
			switch {
			case key == "type" && !terms[str] && !strings.Contains(str, "://"):
				return p.fail(fmt.Sprintf("@graph[%d]", elements-1), "type", "%q is not a type SPDX 3.0.1 defines", trunc(str, 80))
			case times[key] && !dateTimeStamp.MatchString(str):
				return p.fail(fmt.Sprintf("@graph[%d]", elements-1), key, "%q is not an SPDX date-time (YYYY-MM-DDThh:mm:ssZ)", trunc(fmt.Sprint(tok), 80))
			}
		}
		if len(stack) == 1 && key == "@context" {
			sawContext = true
			if s, _ := tok.(string); s != Context {
				return p.fail("", "@context", "%q is not the SPDX 3.0.1 context %q", trunc(fmt.Sprint(tok), 120), Context)
			}
		}
		if len(stack) == 1 && key == "@graph" {
			return p.fail("", "@graph", "is not an array")
		}
		if !f.obj && f.parent == "to" {
			targets++
			if targets > maxRelTargets {
				return p.tooLarge("relationship targets", targets, maxRelTargets)
			}
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return p.fail("", "", "data after the top-level object")
	}
	if !sawContext {
		return p.fail("", "@context", "missing (want %q)", Context)
	}
	if !sawGraph {
		return p.fail("", "@graph", "missing: an SPDX 3 JSON-LD document lists its elements in @graph")
	}
	return nil
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// suffix returns the last path segment of a vocabulary IRI
// (".../RelationshipType/trainedOn" -> "trainedOn").
func suffix(iri string) string {
	if i := strings.LastIndexAny(iri, "/#"); i >= 0 {
		return iri[i+1:]
	}
	return iri
}

// subjects attaches a statement's subjects (see ParseWithSubjects).
func (p *parser) subjects(subjects [][]string) {
	b := p.b
	var roots []int
	for _, e := range b.Edges {
		if e.From == graph.DocNode && e.Kind == graph.Describes {
			roots = append(roots, e.To)
		}
	}
	if len(subjects) == 1 && len(roots) == 1 && len(subjects[0]) > 0 {
		r := roots[0]
		b.Node(b.Nodes[r].Kind, append([]string{b.Nodes[r].Keys[0]}, subjects[0]...)...)
		return
	}
	for _, keys := range subjects {
		if len(keys) > 0 {
			b.Describes(b.Node(graph.KindFile, keys...))
		}
	}
}
