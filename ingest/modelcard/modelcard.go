// Package modelcard maps Hugging Face model cards and dataset cards
// (README.md files with YAML front matter) to one graph.Batch per card.
// Cards are claims, not evidence: they are "unsigned" unless the caller
// supplies signatures it verified. docs/mapping.md states the rules.
package modelcard

import (
	"bytes"
	"fmt"
	"github.com/modelgraph/modelgraph/ingest/docerr"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
	graphref "github.com/modelgraph/modelgraph/graph/ref"
	"gopkg.in/yaml.v3"
)

// Errors; all wrap ErrInvalidCard.
var (
	ErrInvalidCard = docerr.Sentinel("invalid model card", docerr.ErrMalformed)
	// ErrNoFrontMatter: the file does not start with a --- delimited YAML
	// block holding card fields.
	ErrNoFrontMatter = fmt.Errorf("%w: no card front matter", ErrInvalidCard)
	// ErrYAML: the front matter is not YAML this package accepts (syntax,
	// aliases, nesting or node count).
	ErrYAML = fmt.Errorf("%w: rejected YAML", ErrInvalidCard)
	// ErrLimit: the card or a list in it is too large.
	ErrLimit = docerr.Sentinel("invalid model card: limit exceeded", ErrInvalidCard, docerr.ErrTooLarge)
	// ErrField: a card field has the wrong shape or value.
	ErrField = fmt.Errorf("%w: invalid field", ErrInvalidCard)
)

// Limits.
const (
	MaxCardBytes        = 16 << 20 // the whole README
	MaxFrontMatterBytes = 1 << 20
	MaxYAMLNodes        = 100_000
	MaxYAMLDepth        = 64
	MaxListItems        = 1_000 // base_model, datasets, source_datasets, tags
	MaxMetrics          = 64    // model-index metrics kept as attributes
)

// Document types.
const (
	DocModelCard   = "hf-model-card"
	DocDatasetCard = "hf-dataset-card"
)

// Kind says what a card describes.
type Kind string

const (
	KindAuto    Kind = ""        // decide from Options.Name and the card's fields
	KindModel   Kind = "model"   // a model card
	KindDataset Kind = "dataset" // a dataset card
)

// Options say which repository a card belongs to; cards rarely name their
// own repository.
type Options struct {
	// Name of the model or dataset: "hf://acme/llm-7b",
	// "hf://datasets/acme/notes", "https://huggingface.co/acme/llm-7b",
	// "name:acme/llm-7b" or a bare hub id "acme/llm-7b". Without it the
	// card's model_name or model-index[0].name is used (pretty_name for
	// dataset cards).
	Name string
	Kind Kind
}

// FieldError names the card, the field (a YAML path such as
// "base_model[1]") and its line in the file: the format packages' one
// located error, docerr.FieldError.
type FieldError = docerr.FieldError

// modelFields and datasetFields are the front matter keys that make a
// markdown file a card, and tell the two kinds apart.
var (
	modelFields = []string{"base_model", "base_model_relation", "model-index", "model_name",
		"library_name", "pipeline_tag", "inference", "widget"}
	datasetFields = []string{"source_datasets", "task_categories", "task_ids", "pretty_name",
		"size_categories", "dataset_info", "annotations_creators", "language_creators",
		"multilinguality", "configs", "paperswithcode_id"}
	sharedFields = []string{"license", "datasets", "tags", "language", "metrics", "license_name"}
)

// frontMatter returns the YAML between the leading "---" line and the next
// "---" (or "...") line, and the file line the YAML starts on.
func frontMatter(data []byte) ([]byte, int, error) {
	if len(data) > MaxCardBytes {
		return nil, 0, fmt.Errorf("%w: card is %d bytes, limit %d", ErrLimit, len(data), MaxCardBytes)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	first, rest, ok := bytes.Cut(data, []byte("\n"))
	if !ok || string(bytes.TrimRight(first, " \t\r")) != "---" {
		return nil, 0, fmt.Errorf("%w: the file does not start with a --- line", ErrNoFrontMatter)
	}
	off := 0
	for off <= len(rest) {
		line, _, more := bytes.Cut(rest[off:], []byte("\n"))
		if t := string(bytes.TrimRight(line, " \t\r")); t == "---" || t == "..." {
			if off > MaxFrontMatterBytes {
				break
			}
			return rest[:off], 2, nil
		}
		if !more {
			return nil, 0, fmt.Errorf("%w: no closing --- line", ErrNoFrontMatter)
		}
		off += len(line) + 1
		if off > MaxFrontMatterBytes+1 {
			break
		}
	}
	return nil, 0, fmt.Errorf("%w: front matter exceeds %d bytes", ErrLimit, MaxFrontMatterBytes)
}

// parseYAML decodes front matter into a node tree, refusing aliases (the
// "billion laughs" expansion needs them), deep nesting and huge node counts.
func parseYAML(src []byte, lineOffset int) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrYAML, err)
	}
	if doc.Kind == 0 { // empty front matter
		return &yaml.Node{Kind: yaml.MappingNode}, nil
	}
	count := 0
	var walk func(n *yaml.Node, depth int) error
	walk = func(n *yaml.Node, depth int) error {
		count++
		switch {
		case count > MaxYAMLNodes:
			return fmt.Errorf("%w: more than %d YAML nodes", ErrYAML, MaxYAMLNodes)
		case depth > MaxYAMLDepth:
			return fmt.Errorf("%w: line %d: nesting deeper than %d", ErrYAML, n.Line+lineOffset-1, MaxYAMLDepth)
		case n.Kind == yaml.AliasNode:
			return fmt.Errorf("%w: line %d: YAML aliases (*%s) are not accepted in card front matter", ErrYAML, n.Line+lineOffset-1, n.Value)
		}
		for _, c := range n.Content {
			if err := walk(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(&doc, 0); err != nil {
		return nil, err
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: front matter is not a mapping", ErrNoFrontMatter)
	}
	return root, nil
}

func hasAny(root *yaml.Node, keys []string) bool {
	for _, k := range keys {
		if get(root, k) != nil {
			return true
		}
	}
	return false
}

// Detect reports whether data is a Hugging Face model or dataset card: YAML
// front matter at the top of the file holding at least one card field.
func Detect(data []byte) bool {
	fm, off, err := frontMatter(data)
	if err != nil {
		return false
	}
	root, err := parseYAML(fm, off)
	if err != nil {
		return false
	}
	return hasAny(root, modelFields) || hasAny(root, datasetFields) || hasAny(root, sharedFields)
}

func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				return nil
			}
			return v
		}
	}
	return nil
}

// resolveName turns Options.Name, or a name found in the card, into keys.
// A caller's name is taken as a hub id; a card's own name is a hub id only
// in org/name form (model-index names are often display names).
func resolveName(name string, kind Kind, fromCard bool) (keys []string, dataset bool, ok bool) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, false, false
	}
	if h, ok := graphref.ParseHF(name); ok {
		return h.Keys(), h.Dataset, true
	}
	bare := strings.TrimPrefix(name, "name:")
	if graphref.ValidHFID(bare) && (!fromCard || strings.Contains(bare, "/")) {
		return graphref.HF{ID: bare, Dataset: kind == KindDataset}.Keys(), kind == KindDataset, true
	}
	if strings.Contains(name, "://") {
		return nil, false, false
	}
	return []string{graph.NameKey(bare)}, kind == KindDataset, true
}
