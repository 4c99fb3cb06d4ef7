package modelcard

import (
	"fmt"
	"slices"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
	graphref "github.com/modelgraph/modelgraph/graph/ref"
	"gopkg.in/yaml.v3"
)

// HF's base_model_relation values; without one a single base model is a
// fine-tune and several are a merge.
var relations = []string{"adapter", "merge", "quantized", "finetune"}

type card struct {
	root   *yaml.Node
	off    int // file line of the first YAML line
	doc    string
	b      *graph.Batch
	isData bool
}

func (c *card) fail(sentinel error, field string, n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil && n.Line > 0 {
		line = n.Line + c.off - 1
	}
	return &FieldError{Doc: c.doc, Field: field, Line: line, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

// scalar returns a scalar field ("" when absent).
func (c *card) scalar(field string) (string, error) {
	n := get(c.root, field)
	if n == nil {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", c.fail(ErrField, field, n, "must be a string")
	}
	return strings.TrimSpace(n.Value), nil
}

// list returns a field that may be one string or a list of strings.
func (c *card) list(field string) ([]string, error) {
	n := get(c.root, field)
	if n == nil {
		return nil, nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if s := strings.TrimSpace(n.Value); s != "" {
			return []string{s}, nil
		}
		return nil, nil
	case yaml.SequenceNode:
		if len(n.Content) > MaxListItems {
			return nil, c.fail(ErrLimit, field, n, "%d items, limit %d", len(n.Content), MaxListItems)
		}
		out := make([]string, 0, len(n.Content))
		for i, it := range n.Content {
			if it.Kind != yaml.ScalarNode {
				return nil, c.fail(ErrField, fmt.Sprintf("%s[%d]", field, i), it, "must be a string")
			}
			if s := strings.TrimSpace(it.Value); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	}
	return nil, c.fail(ErrField, field, n, "must be a string or a list of strings")
}

func (c *card) setList(i int, attr, field string, sep string) error {
	vs, err := c.list(field)
	if err != nil {
		return err
	}
	c.b.Set(i, attr, strings.Join(vs, sep))
	return nil
}

// Parse maps a card to a batch. doc.Digest must be the digest of data;
// doc.Signatures, if any, must hold verified outcomes (cards are otherwise
// "unsigned"). At most one Options may be given.
func Parse(data []byte, doc graph.Document, opts ...Options) (*graph.Batch, error) {
	var o Options
	switch len(opts) {
	case 0:
	case 1:
		o = opts[0]
	default:
		return nil, fmt.Errorf("modelcard: %d Options given, want at most one", len(opts))
	}
	name := doc.Source
	if name == "" {
		name = doc.Digest
	}
	d, err := graph.NormalizeKey(doc.Digest)
	if err != nil || !graph.IsDigestKey(d) {
		return nil, &FieldError{Doc: name, Msg: fmt.Sprintf("doc.Digest %q is not a digest key", doc.Digest), Err: ErrInvalidCard}
	}
	doc.Digest = d
	wrap := func(err error) error { return &FieldError{Doc: name, Msg: "front matter", Err: err} }
	fm, off, err := frontMatter(data)
	if err != nil {
		return nil, wrap(err)
	}
	root, err := parseYAML(fm, off)
	if err != nil {
		return nil, wrap(err)
	}
	if !hasAny(root, modelFields) && !hasAny(root, datasetFields) && !hasAny(root, sharedFields) {
		return nil, wrap(fmt.Errorf("%w: the front matter has no model or dataset card field", ErrNoFrontMatter))
	}
	c := &card{root: root, off: off, doc: name}

	switch o.Kind {
	case KindModel, KindDataset:
		c.isData = o.Kind == KindDataset
	case KindAuto:
		if h, ok := graphref.ParseHF(o.Name); ok {
			c.isData = h.Dataset
		} else {
			c.isData = hasAny(root, datasetFields) && !hasAny(root, modelFields)
		}
	default:
		return nil, &FieldError{Doc: name, Msg: fmt.Sprintf("Options.Kind %q is not model or dataset", o.Kind), Err: ErrInvalidCard}
	}
	doc.Type = DocModelCard
	if c.isData {
		doc.Type = DocDatasetCard
	}
	doc.PredicateType = ""
	c.b = graph.NewBatch(doc)
	if c.isData {
		err = c.dataset(o)
	} else {
		err = c.model(o)
	}
	if err != nil {
		return nil, err
	}
	if err := c.b.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCard, err)
	}
	return c.b, nil
}

// subjectKeys finds the card's own identity.
func (c *card) subjectKeys(o Options, cardNames ...string) ([]string, error) {
	kind := KindModel
	if c.isData {
		kind = KindDataset
	}
	if o.Name != "" {
		keys, dataset, ok := resolveName(o.Name, kind, false)
		if !ok || dataset != c.isData {
			return nil, &FieldError{Doc: c.doc, Msg: fmt.Sprintf("Options.Name %q does not name a %s", o.Name, kind), Err: ErrInvalidCard}
		}
		return keys, nil
	}
	for _, n := range cardNames {
		if keys, _, ok := resolveName(n, kind, true); ok {
			return keys, nil
		}
	}
	return nil, &FieldError{Doc: c.doc, Msg: fmt.Sprintf("the card names no %s: pass Options.Name", kind), Err: ErrField}
}

func (c *card) model(o Options) error {
	modelName, err := c.scalar("model_name")
	if err != nil {
		return err
	}
	indexName := ""
	mi := get(c.root, "model-index")
	if mi != nil {
		if mi.Kind != yaml.SequenceNode {
			return c.fail(ErrField, "model-index", mi, "must be a list")
		}
		if len(mi.Content) > 0 {
			if n := get(mi.Content[0], "name"); n != nil && n.Kind == yaml.ScalarNode {
				indexName = n.Value
			}
		}
	}
	keys, err := c.subjectKeys(o, modelName, indexName)
	if err != nil {
		return err
	}
	m := c.b.Node(graph.KindModel, keys...)
	c.b.Describes(m)
	c.b.Set(m, "modelName", firstNonEmpty(modelName, indexName))
	for _, f := range []struct{ attr, field, sep string }{
		{"license", "license", ","}, {"licenseName", "license_name", ","},
		{"pipelineTag", "pipeline_tag", ","}, {"libraryName", "library_name", ","},
		{"language", "language", ","}, {"tags", "tags", ","},
	} {
		if err := c.setList(m, f.attr, f.field, f.sep); err != nil {
			return err
		}
	}
	if err := c.metrics(m, mi); err != nil {
		return err
	}

	bases, err := c.list("base_model")
	if err != nil {
		return err
	}
	rel, err := c.scalar("base_model_relation")
	if err != nil {
		return err
	}
	rel = strings.ToLower(rel)
	if rel != "" && !slices.Contains(relations, rel) {
		return c.fail(ErrField, "base_model_relation", get(c.root, "base_model_relation"), "%q is not adapter|merge|quantized|finetune", rel)
	}
	if rel == "" {
		rel = "finetune"
		if len(bases) > 1 {
			rel = "merge"
		}
	}
	for i, id := range bases {
		keys, ok := hubKeys(id, false)
		if !ok {
			return c.fail(ErrField, fmt.Sprintf("base_model[%d]", i), itemNode(get(c.root, "base_model"), i), "%q is not a Hugging Face model id", truncate(id, 80))
		}
		p := c.b.Node(graph.KindModel, keys...)
		c.b.Edge(m, graph.DerivedFrom, p, "relation", rel)
	}

	datasets, err := c.list("datasets")
	if err != nil {
		return err
	}
	for i, id := range datasets {
		keys, ok := hubKeys(id, true)
		if !ok {
			return c.fail(ErrField, fmt.Sprintf("datasets[%d]", i), itemNode(get(c.root, "datasets"), i), "%q is not a Hugging Face dataset id", truncate(id, 80))
		}
		c.b.Edge(m, graph.TrainedOn, c.b.Node(graph.KindDataset, keys...))
	}
	return nil
}

// metrics keeps model-index results as attributes
// "metric:<dataset>/<metric>" = value, plus the tasks evaluated.
func (c *card) metrics(m int, mi *yaml.Node) error {
	if mi == nil {
		return nil
	}
	kept, omitted := 0, 0
	var tasks []string
	for _, entry := range mi.Content {
		results := get(entry, "results")
		if results == nil {
			continue
		}
		if results.Kind != yaml.SequenceNode {
			return c.fail(ErrField, "model-index[].results", results, "must be a list")
		}
		for _, r := range results.Content {
			if t := scalarAt(get(r, "task"), "type"); t != "" && !slices.Contains(tasks, t) {
				tasks = append(tasks, t)
			}
			ds := firstNonEmpty(scalarAt(get(r, "dataset"), "type"), scalarAt(get(r, "dataset"), "name"))
			ms := get(r, "metrics")
			if ms == nil || ms.Kind != yaml.SequenceNode {
				continue
			}
			for _, mt := range ms.Content {
				typ := firstNonEmpty(scalarAt(mt, "type"), scalarAt(mt, "name"))
				val := scalarAt(mt, "value")
				if typ == "" || val == "" {
					continue
				}
				attr := "metric:" + ds + "/" + typ
				if kept == MaxMetrics || len(attr) > graph.MaxAttrNameLen || strings.ContainsAny(attr, "\x00\n") {
					omitted++
					continue
				}
				c.b.Set(m, attr, val)
				kept++
			}
		}
	}
	c.b.Set(m, "evalTasks", strings.Join(tasks, ","))
	if omitted > 0 {
		c.b.Set(m, "metricsOmitted", fmt.Sprint(omitted))
	}
	return nil
}

func (c *card) dataset(o Options) error {
	pretty, err := c.scalar("pretty_name")
	if err != nil {
		return err
	}
	keys, err := c.subjectKeys(o, pretty)
	if err != nil {
		return err
	}
	d := c.b.Node(graph.KindDataset, keys...)
	c.b.Describes(d)
	c.b.Set(d, "prettyName", pretty)
	for _, f := range []struct{ attr, field string }{
		{"license", "license"}, {"licenseName", "license_name"}, {"taskCategories", "task_categories"},
		{"language", "language"}, {"sizeCategories", "size_categories"}, {"tags", "tags"},
	} {
		if err := c.setList(d, f.attr, f.field, ","); err != nil {
			return err
		}
	}
	srcs, err := c.list("source_datasets")
	if err != nil {
		return err
	}
	var other []string
	for i, s := range srcs {
		id := strings.TrimPrefix(s, "extended|")
		switch {
		case id == "original":
			continue
		case strings.HasPrefix(id, "other"):
			other = append(other, id) // HF's free-text convention, not a hub id
			continue
		}
		keys, ok := hubKeys(id, true)
		if !ok {
			return c.fail(ErrField, fmt.Sprintf("source_datasets[%d]", i), itemNode(get(c.root, "source_datasets"), i), "%q is not a Hugging Face dataset id", truncate(s, 80))
		}
		c.b.Edge(d, graph.DerivedFrom, c.b.Node(graph.KindDataset, keys...))
	}
	c.b.Set(d, "sourceDatasetsOther", strings.Join(other, ","))
	return nil
}

// hubKeys keys a hub id (or hf:// / huggingface.co reference) of the given
// kind.
func hubKeys(id string, dataset bool) ([]string, bool) {
	if h, ok := graphref.ParseHF(id); ok {
		if h.Dataset && !dataset {
			return nil, false // a dataset where a model is expected
		}
		return graphref.HF{ID: h.ID, Dataset: dataset}.Keys(), true
	}
	if !graphref.ValidHFID(id) {
		return nil, false
	}
	return graphref.HF{ID: id, Dataset: dataset}.Keys(), true
}

func itemNode(n *yaml.Node, i int) *yaml.Node {
	if n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
		return n.Content[i]
	}
	return n
}

func scalarAt(m *yaml.Node, key string) string {
	n := get(m, key)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return strings.TrimSpace(n.Value)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
