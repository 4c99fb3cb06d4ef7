package spdx3

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
)

const (
	aiExample      = "spdx-examples-ai-example01.spdx3.json"
	datasetExample = "spdx-examples-dataset-example01.spdx3.json"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "spdx3", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// store ingests the named fixtures into a fresh embedded store.
func store(t *testing.T, names ...string) graph.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, n := range names {
		b, err := Parse(fixture(t, n), graph.Document{Source: n})
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if _, err := st.Apply(context.Background(), b); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	return st
}

func one(t *testing.T, r graph.Reader, key string, kind graph.NodeKind) graph.Node {
	t.Helper()
	ns, err := r.Lookup(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	var out []graph.Node
	for _, n := range ns {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	if len(out) != 1 {
		t.Fatalf("%s names %d %s nodes, want 1", key, len(out), kind)
	}
	return out[0]
}

func out(t *testing.T, r graph.Reader, n graph.Node, kind graph.EdgeKind) map[graph.NodeID]graph.Edge {
	t.Helper()
	es, err := r.Edges(context.Background(), n.ID, graph.Out, kind)
	if err != nil {
		t.Fatal(err)
	}
	m := map[graph.NodeID]graph.Edge{}
	for _, e := range es {
		m[e.To] = e
	}
	return m
}

// TestAIExample: the SPDX AI profile example (SimpleHTR) ingests with the
// lineage its relationships state: both models trainedOn and testedOn the
// IAM dataset, the application dependsOn its seven PyPI packages, licences
// and the AI/Dataset profile fields as attributes.
func TestAIExample(t *testing.T) {
	ctx := context.Background()
	st := store(t, aiExample)
	iam := one(t, st, "https://my-first-aibom.com/IAMdataset", graph.KindDataset)
	for _, m := range []string{"word-model", "line-model"} {
		model := one(t, st, "https://my-first-aibom.com/"+m, graph.KindModel)
		trained := out(t, st, model, graph.TrainedOn)
		if len(trained) != 1 {
			t.Fatalf("%s: %d TRAINED_ON edges, want 1 (to IAMdataset)", m, len(trained))
		}
		e, ok := trained[iam.ID]
		if !ok {
			t.Fatalf("%s is not TRAINED_ON IAMdataset", m)
		}
		if got := e.Attr("split"); got != "test,train" {
			t.Errorf("%s -> IAMdataset split = %q, want test,train (trainedOn and testedOn)", m, got)
		}
		if got := e.Attr("spdxRelationship"); got != "testedOn,trainedOn" {
			t.Errorf("%s -> IAMdataset spdxRelationship = %q", m, got)
		}
		if got := model.Attr("license"); got != "MIT" {
			t.Errorf("%s license = %q, want MIT", m, got)
		}
		for name, want := range map[string]string{
			"safetyRiskAssessment": "low",
			"autonomyType":         "no",
			"spdxType":             "ai_AIPackage",
			"version":              "0.0",
			"supplier":             "Harald Scheidl",
		} {
			if got := model.Attr(name); got != want {
				t.Errorf("%s %s = %q, want %q", m, name, got, want)
			}
		}
		if !strings.Contains(model.Attr("typeOfModel"), "CTC loss") {
			t.Errorf("%s typeOfModel = %q", m, model.Attr("typeOfModel"))
		}
		if !strings.Contains(model.Attr("hyperparameters"), `"optimizer":"RMSprop"`) {
			t.Errorf("%s hyperparameters = %q", m, model.Attr("hyperparameters"))
		}
		if !strings.HasPrefix(model.Attr("metric:wordAccuracies"), "[ 0.06") {
			t.Errorf("%s metric:wordAccuracies = %q", m, trunc(model.Attr("metric:wordAccuracies"), 40))
		}
		// Upstream lineage from the model reaches the dataset.
		res, err := st.Traverse(ctx, graph.TraverseRequest{From: []graph.NodeID{model.ID}, Direction: graph.Upstream})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(res.Steps, func(s graph.Step) bool { return s.Node.ID == iam.ID }) {
			t.Errorf("upstream of %s does not reach IAMdataset", m)
		}
	}
	for name, want := range map[string]string{
		"datasetSize":         "4620000000",
		"datasetType":         "image",
		"datasetAvailability": "registration",
		"classification":      "clear",
		"sensors":             `{"printer":"HP Laserjet 4000TN","scanner":"HP-Scanjet 6100"}`,
	} {
		if got := iam.Attr(name); got != want {
			t.Errorf("IAMdataset %s = %q, want %q", name, got, want)
		}
	}

	app := one(t, st, "https://my-first-aibom.com/SimpleHTR", graph.KindPackage)
	deps := out(t, st, app, graph.DependsOn)
	if len(deps) != 7 {
		t.Errorf("SimpleHTR DEPENDS_ON %d packages, want 7", len(deps))
	}
	tf := one(t, st, "https://pypi.org/project/tensorflow/2.4.0/", graph.KindPackage)
	if _, ok := deps[tf.ID]; !ok {
		t.Error("SimpleHTR does not DEPEND_ON tensorflow 2.4.0")
	}
	if !slices.Contains(tf.Keys, "pkg:guac/pkg/tensorflow@2.4.0") {
		t.Errorf("tensorflow keys %v lack GUAC's purl for packages without one", tf.Keys)
	}
	// The word-model archive package contains its checkpoint files.
	zip := one(t, st, "https://github.com/githubharald/SimpleHTR/tree/master/model/word-model", graph.KindPackage)
	files := out(t, st, zip, graph.Contains)
	if len(files) != 6 {
		t.Errorf("word-model archive CONTAINS %d files, want 6", len(files))
	}
	// The document describes the SBOM's root: the application.
	docs, err := st.Edges(ctx, app.ID, graph.In, graph.Describes)
	if err != nil || len(docs) != 1 {
		t.Fatalf("SimpleHTR is described by %d documents (%v)", len(docs), err)
	}
}

// TestDatasetExample: the Dataset profile example: a dataset keyed by its
// hashes and download location, its two data files (contains), licence,
// sensitive-information flag.
func TestDatasetExample(t *testing.T) {
	st := store(t, datasetExample)
	ds := one(t, st, "sha256:434d75c84cf86456c16193dbc53beef31eb63f3387425882ddb2ef6acb9d472c", graph.KindDataset)
	for _, k := range []string{"sha1:32657f0d033fc07a7420be36a6af9083c6a63489", "https://github.com/owid/co2-data/"} {
		if !slices.Contains(ds.Keys, k) {
			t.Errorf("dataset keys %v lack %s", ds.Keys, k)
		}
	}
	files := out(t, st, ds, graph.Contains)
	var paths []string
	for _, e := range files {
		paths = append(paths, e.Attr("path"))
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"codebook.csv", "data.csv"}) {
		t.Errorf("dataset CONTAINS %v, want codebook.csv and data.csv", paths)
	}
	for name, want := range map[string]string{
		"license":     "CC-BY-4.0",
		"pii":         "false",
		"datasetType": "structured,timestamp",
		"version":     "2024-04-15",
		"datasetSize": "2689",
	} {
		if got := ds.Attr(name); got != want {
			t.Errorf("dataset %s = %q, want %q", name, got, want)
		}
	}
	if !strings.Contains(ds.Attr("preprocessing"), "built upon a number of datasets") {
		t.Errorf("preprocessing = %q", ds.Attr("preprocessing"))
	}
}

func TestDeterministic(t *testing.T) {
	data := fixture(t, aiExample)
	a, err := Parse(data, graph.Document{Source: "a"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b, err := Parse(data, graph.Document{Source: "a"})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a.Nodes, b.Nodes) || !reflect.DeepEqual(a.Edges, b.Edges) {
			t.Fatal("two parses of one document differ")
		}
	}
}

func TestDetect(t *testing.T) {
	for _, n := range []string{aiExample, datasetExample} {
		if !Detect(fixture(t, n)) {
			t.Errorf("%s not detected", n)
		}
	}
	for _, s := range []string{`{"spdxVersion":"SPDX-2.3"}`, `{"bomFormat":"CycloneDX"}`, `[]`, ``} {
		if Detect([]byte(s)) {
			t.Errorf("%s detected as SPDX 3", s)
		}
	}
}

// TestErrors: bad input fails with ErrInvalidDocument, naming the document
// and, where there is one, the element and the field.
func TestErrors(t *testing.T) {
	ds := string(fixture(t, datasetExample))
	cases := []struct {
		name, data string
		want       []string
		tooLarge   bool
	}{
		{"not json", "{", []string{"not JSON"}, false},
		{"array", "[]", []string{"not a JSON object"}, false},
		{"no context", `{"@graph": []}`, []string{"@context", "missing"}, false},
		{"other context", `{"@context": "https://spdx.org/rdf/3.0.0/spdx-context.jsonld", "@graph": []}`, []string{"@context", "not the SPDX 3.0.1 context"}, false},
		{"context list", `{"@context": ["https://spdx.org/rdf/3.0.1/spdx-context.jsonld"], "@graph": []}`, []string{"@context", "must be the string"}, false},
		{"no graph", `{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"}`, []string{"@graph", "missing"}, false},
		{"graph object", `{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": "x"}`, []string{"@graph", "not an array"}, false},
		{"trailing", ds + "{}", []string{"after the top-level object"}, false},
		{"bad hash", strings.Replace(ds, "434d75c84cf86456c16193dbc53beef31eb63f3387425882ddb2ef6acb9d472c", "434d", 1),
			[]string{"DatasetPackage1-035470d9", "dataset_DatasetPackage", "verifiedUsing[1]"}, false},
		{"unknown property", strings.Replace(ds, `"contentType": "text/csv;charset=UTF-8"`, `"contentTypo": "x"`, 1),
			[]string{"@graph[6]", "contentTypo", "not a property"}, false},
		{"unknown type", strings.Replace(ds, `"type": "software_File"`, `"type": "software_Fiel"`, 1),
			[]string{"@graph[6]", "software_Fiel", "not a type"}, false},
		{"bad date", strings.Replace(ds, `"2023-12-16T11:22:38Z"`, `"yesterday"`, 1),
			[]string{"@graph[5]", "builtTime", "yesterday"}, false},
		{"bad relationship type", strings.Replace(ds, `"relationshipType": "contains"`, `"relationshipType": "bogus"`, 1),
			[]string{"RelationshipType/bogus"}, false},
		{"bad size", strings.Replace(ds, `"dataset_datasetSize": 2689`, `"dataset_datasetSize": "big"`, 1),
			[]string{"DatasetSize", "big"}, false},
		{"dangling reference", strings.Replace(ds, `"https://spdx.org/spdxdocs/File2-caf55baf-cd02-406a-b7ec-838842ca869f"`+"\n      ]", `"https://nowhere.example/x"`+"\n      ]", 1),
			[]string{"https://nowhere.example/x"}, false},
		{"deep", `{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": [` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `]}`,
			[]string{"nesting depth"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.data), graph.Document{Source: "doc.spdx3.json"})
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrInvalidDocument) {
				t.Errorf("%v does not wrap ErrInvalidDocument", err)
			}
			if c.tooLarge != errors.Is(err, ErrTooLarge) {
				t.Errorf("ErrTooLarge = %v: %v", !c.tooLarge, err)
			}
			for _, w := range append(c.want, "doc.spdx3.json") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLimits(t *testing.T) {
	data := fixture(t, aiExample)
	defer func(a, b, c int) { maxDocumentBytes, maxElements, maxRelTargets = a, b, c }(maxDocumentBytes, maxElements, maxRelTargets)
	for _, c := range []struct {
		set  func()
		want string
	}{
		{func() { maxDocumentBytes = len(data) - 1 }, "bytes"},
		{func() { maxElements = 100 }, "@graph elements: 101, limit 100"},
		{func() { maxRelTargets = 10 }, "relationship targets"},
	} {
		maxDocumentBytes, maxElements, maxRelTargets = MaxDocumentBytes, MaxElements, MaxRelTargets
		c.set()
		_, err := Parse(data, graph.Document{Source: "x"})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want ErrTooLarge mentioning %q, got %v", c.want, err)
		}
	}
}

// With several subjects (or several roots) each subject is a File the
// document describes; with one subject and one root, the subject joins the
// root's node.
func TestParseWithSubjects(t *testing.T) {
	a := "sha256:" + strings.Repeat("a", 64)
	c := "sha256:" + strings.Repeat("c", 64)
	b, err := ParseWithSubjects(fixture(t, datasetExample), graph.Document{Source: "s"}, [][]string{{a}, {c}})
	if err != nil {
		t.Fatal(err)
	}
	described := 0
	for _, e := range b.Edges {
		if e.From == graph.DocNode && e.Kind == graph.Describes {
			described++
			n := b.Nodes[e.To]
			if n.Kind == graph.KindFile && !slices.Contains([]string{a, c}, n.Keys[0]) {
				t.Errorf("described file %v", n.Keys)
			}
		}
	}
	if described != 3 {
		t.Errorf("%d described nodes, want the dataset and two subject files", described)
	}
	b, err = ParseWithSubjects(fixture(t, datasetExample), graph.Document{Source: "s"}, [][]string{{a}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range b.Nodes {
		if slices.Contains(n.Keys, a) && n.Kind != graph.KindDataset {
			t.Errorf("the one subject is a %s, want the dataset", n.Kind)
		}
	}
}
