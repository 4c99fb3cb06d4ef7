package intoto_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/intoto"
	"github.com/modelgraph/modelgraph/ingest/statement"
)

func stmt(predicateType, predicate string) string {
	return `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"m.safetensors","digest":{"sha256":"` + h("a") +
		`"}}],"predicateType":"` + predicateType + `","predicate":` + predicate + `}`
}

const (
	v02   = `{"builder":{"id":"b"}, %s}`
	v1    = `{"buildDefinition":{"buildType":"t","externalParameters":{}, %s},"runDetails":{"builder":{"id":"b"}}}`
	train = `{"training_run":{}, %s}`
	adv   = `{"advisory_id":"A-1","severity":"low","status":"active","affected":[{"digest":"sha256:` + "aaaa" + `"}], %s}`
	t0    = "2024-01-01T00:00:00Z"
)

// Malformed predicates fail with the sentinel and the JSON pointer of the
// offending field.
func TestMalformed(t *testing.T) {
	advOK := `{"advisory_id":"A-1","severity":"low","status":"active","affected":[{"selector":"x"}]`
	tests := []struct {
		name, pt, pred string
		sentinel       error
		ptr, msg       string
	}{
		{"slsa02 no predicate", intoto.PredicateSLSAv02, `null`, intoto.ErrInvalidPredicate, "/predicate", "is missing"},
		{"slsa02 not object", intoto.PredicateSLSAv02, `[]`, intoto.ErrInvalidPredicate, "/predicate", "must be an object, got array"},
		{"slsa02 builder id", intoto.PredicateSLSAv02, `{"builder":{}}`, intoto.ErrInvalidPredicate, "/predicate/builder/id", "is required"},
		{"slsa02 builder id type", intoto.PredicateSLSAv02, `{"builder":{"id":7}}`, intoto.ErrInvalidPredicate, "/predicate/builder/id", "must be a string, got number"},
		{"slsa02 materials type", intoto.PredicateSLSAv02, fmt.Sprintf(v02, `"materials":{}`), intoto.ErrInvalidPredicate, "/predicate/materials", "must be an array"},
		{"slsa02 material uri", intoto.PredicateSLSAv02, fmt.Sprintf(v02, `"materials":[{"uri":"git+https://x/y"},{"uri":5}]`), intoto.ErrInvalidPredicate, "/predicate/materials/1/uri", "must be a string"},
		{"slsa02 material digest value", intoto.PredicateSLSAv02, fmt.Sprintf(v02, `"materials":[{"uri":"a","digest":{"sha256":1}}]`), intoto.ErrInvalidPredicate, "/predicate/materials/0/digest/sha256", "must be a string"},
		{"slsa02 material names nothing", intoto.PredicateSLSAv02, fmt.Sprintf(v02, `"materials":[{"uri":"no-scheme","digest":{"sha256":"zz"}}]`), intoto.ErrInvalidPredicate, "/predicate/materials/0", "names no artifact"},
		{"slsa02 started", intoto.PredicateSLSAv02, fmt.Sprintf(v02, `"metadata":{"buildStartedOn":"yesterday"}`), intoto.ErrInvalidPredicate, "/predicate/metadata/buildStartedOn", "not an RFC 3339 timestamp"},
		{"slsa1 build type", intoto.PredicateSLSAv1, `{"buildDefinition":{"externalParameters":{}},"runDetails":{"builder":{"id":"b"}}}`, intoto.ErrInvalidPredicate, "/predicate/buildDefinition/buildType", "is required"},
		{"slsa1 run details", intoto.PredicateSLSAv1, `{"buildDefinition":{"buildType":"t"}}`, intoto.ErrInvalidPredicate, "/predicate/runDetails", "is required"},
		{"slsa1 external parameters", intoto.PredicateSLSAv1, `{"buildDefinition":{"buildType":"t","externalParameters":"x"},"runDetails":{"builder":{"id":"b"}}}`, intoto.ErrInvalidPredicate, "/predicate/buildDefinition/externalParameters", "must be an object"},
		{"slsa1 relation", intoto.PredicateSLSAv1, fmt.Sprintf(v1, `"resolvedDependencies":[{"uri":"hf://a/b","annotations":{"relation":"cousin"}}]`), intoto.ErrInvalidPredicate, "/predicate/buildDefinition/resolvedDependencies/0/annotations/relation", `"cousin" is not`},
		{"aixv training run", intoto.PredicateAIXVTraining, `{}`, intoto.ErrInvalidPredicate, "/predicate/training_run", "is required"},
		{"aixv parent empty", intoto.PredicateAIXVTraining, fmt.Sprintf(train, `"parent_models":[{"relation":"finetune"}]`), intoto.ErrInvalidPredicate, "/predicate/parent_models/0", "needs a digest, a uri or a name"},
		{"aixv parent digest", intoto.PredicateAIXVTraining, fmt.Sprintf(train, `"parent_models":[{"digest":"sha256:abc"}]`), intoto.ErrInvalidPredicate, "/predicate/parent_models/0/digest", "is not a digest"},
		{"aixv parent relation", intoto.PredicateAIXVTraining, fmt.Sprintf(train, `"parent_models":[{"name":"base","relation":"cousin"}]`), intoto.ErrInvalidPredicate, "/predicate/parent_models/0/relation", "is not finetune"},
		{"aixv dataset split", intoto.PredicateAIXVTraining, fmt.Sprintf(train, `"datasets":[{"name":"d","split":3}]`), intoto.ErrInvalidPredicate, "/predicate/datasets/0/split", "must be a string"},
		{"aixv code digest", intoto.PredicateAIXVTraining, `{"training_run":{"code_digest":"md5:zz"}}`, intoto.ErrInvalidPredicate, "/predicate/training_run/code_digest", "is not a digest"},
		{"aixv digest set", intoto.PredicateAIXVTraining, fmt.Sprintf(train, `"datasets":[{"digest":{"sha256":"abcd"}}]`), intoto.ErrInvalidPredicate, "/predicate/datasets/0/digest/sha256", "hex characters"},
		{"aixv advisory id", intoto.PredicateAIXVAdvisory, `{"severity":"low","status":"active","affected":[{"selector":"x"}]}`, intoto.ErrInvalidPredicate, "/predicate/advisory_id", "is required"},
		{"aixv severity", intoto.PredicateAIXVAdvisory, `{"advisory_id":"A","severity":"urgent","status":"active","affected":[{"selector":"x"}]}`, intoto.ErrInvalidPredicate, "/predicate/severity", `"urgent" is not low|medium|high|critical`},
		{"aixv status", intoto.PredicateAIXVAdvisory, `{"advisory_id":"A","severity":"low","status":"gone","affected":[{"selector":"x"}]}`, intoto.ErrInvalidPredicate, "/predicate/status", "is not active|mitigated|withdrawn|resolved"},
		{"aixv affected empty", intoto.PredicateAIXVAdvisory, `{"advisory_id":"A","severity":"low","status":"active","affected":[]}`, intoto.ErrInvalidPredicate, "/predicate/affected", "must not be empty"},
		{"aixv affected entry", intoto.PredicateAIXVAdvisory, `{"advisory_id":"A","severity":"low","status":"active","affected":[{"selector":"x"},{}]}`, intoto.ErrInvalidPredicate, "/predicate/affected/1", "needs a digest or a selector"},
		{"aixv affected digest", intoto.PredicateAIXVAdvisory, fmt.Sprintf(adv, `"x":1`), intoto.ErrInvalidPredicate, "/predicate/affected/0/digest", "is not a digest"},
		{"aixv actions", intoto.PredicateAIXVAdvisory, advOK + `,"recommended_actions":["a",2]}`, intoto.ErrInvalidPredicate, "/predicate/recommended_actions/1", "must be a string"},
		{"aixv decision", intoto.PredicateAIXVDeployment, `{"policy_decision":"maybe"}`, intoto.ErrInvalidPredicate, "/predicate/policy_decision", `"maybe" is not allow|deny`},
		{"aixv deployment location", intoto.PredicateAIXVDeployment, `{"policy_decision":"allow"}`, intoto.ErrInvalidPredicate, "/predicate", "names no deployment"},
		{"aixv deployment slash", intoto.PredicateAIXVDeployment, `{"policy_decision":"allow","environment":"prod/eu","service":"s"}`, intoto.ErrInvalidPredicate, "/predicate/environment", "must not contain '/'"},
		{"aixv deployed at", intoto.PredicateAIXVDeployment, `{"policy_decision":"allow","policy_id":"p","deployed_at":"soon"}`, intoto.ErrInvalidPredicate, "/predicate/deployed_at", "not an RFC 3339"},
		// Project predicates: JSON Schema first, with the violation's pointer.
		{"dataset name missing", intoto.PredicateDataset, `{}`, intoto.ErrSchema, "/predicate", "missing property 'name'"},
		{"dataset pii type", intoto.PredicateDataset, `{"name":"d","sensitiveData":{"pii":"yes","phi":false}}`, intoto.ErrSchema, "/predicate/sensitiveData/pii", "want boolean"},
		{"dataset misspelt field", intoto.PredicateDataset, `{"name":"d","sensitivedata":{"pii":true}}`, intoto.ErrSchema, "/predicate", "sensitivedata"},
		{"dataset source digest", intoto.PredicateDataset, `{"name":"d","sourceDatasets":[{"name":"s"},{"digest":{"sha256":"zz"}}]}`, intoto.ErrSchema, "/predicate/sourceDatasets/1/digest/sha256", "does not match pattern"},
		{"dataset source empty", intoto.PredicateDataset, `{"name":"d","sourceDatasets":[{}]}`, intoto.ErrSchema, "/predicate/sourceDatasets/0", "missing property"},
		{"dataset name with at", intoto.PredicateDataset, `{"name":"d@1"}`, intoto.ErrSchema, "/predicate/name", "does not match pattern"},
		{"dataset uri", intoto.PredicateDataset, `{"name":"d","uri":"not a uri"}`, intoto.ErrSchema, "/predicate/uri", "is not valid uri"},
		{"dataset digest length", intoto.PredicateDataset, `{"name":"d","sourceDatasets":[{"digest":{"sha256":"` + strings.Repeat("a", 40) + `"}}]}`, intoto.ErrInvalidPredicate, "/predicate/sourceDatasets/0/digest/sha256", "want 64"},
		{"deployment environment", intoto.PredicateDeployment, `{"service":"s","deployedAt":"` + t0 + `"}`, intoto.ErrSchema, "/predicate", "missing property 'environment'"},
		{"deployment time", intoto.PredicateDeployment, `{"environment":"e","service":"s","deployedAt":"yesterday"}`, intoto.ErrSchema, "/predicate/deployedAt", "is not valid date-time"},
		{"deployment slash", intoto.PredicateDeployment, `{"environment":"prod/eu","service":"s","deployedAt":"` + t0 + `"}`, intoto.ErrSchema, "/predicate/environment", "does not match pattern"},
		{"deployment order", intoto.PredicateDeployment, `{"environment":"e","service":"s","deployedAt":"` + t0 + `","undeployedAt":"2023-01-01T00:00:00Z"}`, intoto.ErrInvalidPredicate, "/predicate/undeployedAt", "is before deployedAt"},
		{"deployment image digest", intoto.PredicateDeployment, `{"environment":"e","service":"s","deployedAt":"` + t0 + `","servingImage":{"name":"r/i@sha256:` + h("b") + `","digest":{"sha256":"` + h("c") + `"}}}`, intoto.ErrInvalidPredicate, "/predicate/servingImage/digest", "does not match the digest in name"},
		{"deployment image name", intoto.PredicateDeployment, `{"environment":"e","service":"s","deployedAt":"` + t0 + `","servingImage":{"name":"@"}}`, intoto.ErrInvalidPredicate, "/predicate/servingImage/name", "is not an image reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := mapStatement(t, stmt(tt.pt, tt.pred))
			if err == nil {
				t.Fatalf("no error; batch has %d nodes", len(b.Nodes))
			}
			if !errors.Is(err, tt.sentinel) || !errors.Is(err, intoto.ErrInvalidDocument) {
				t.Errorf("error %v does not wrap %v and ErrInvalidDocument", err, tt.sentinel)
			}
			var fe *intoto.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FieldError", err)
			}
			if fe.Field != tt.ptr {
				t.Errorf("pointer %q, want %q (%v)", fe.Field, tt.ptr, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.msg) || !strings.Contains(msg, tt.ptr) || !strings.Contains(msg, "inline.json") {
				t.Errorf("message %q lacks %q, the pointer or the document name", msg, tt.msg)
			}
		})
	}
}

// AIXV sees its digests with a 4-hex value in adv; make sure the template
// itself is otherwise valid so the failure above is the digest's.
func TestAdvisoryTemplateValid(t *testing.T) {
	ok := strings.Replace(fmt.Sprintf(adv, `"x":1`), "sha256:aaaa", "sha256:"+h("a"), 1)
	if _, err := mapStatement(t, stmt(intoto.PredicateAIXVAdvisory, ok)); err != nil {
		t.Fatal(err)
	}
}

func TestDocumentChecks(t *testing.T) {
	st, err := statement.Decode([]byte(stmt(intoto.PredicateSLSAv02, `{"builder":{"id":"b"}}`)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := intoto.FromStatement(nil, graph.Document{Digest: graph.SHA256Key(nil)}); !errors.Is(err, intoto.ErrInvalidDocument) {
		t.Errorf("nil statement: %v", err)
	}
	if _, err := intoto.FromStatement(st, graph.Document{}); !errors.Is(err, intoto.ErrInvalidDocument) || !strings.Contains(err.Error(), "doc.Digest") {
		t.Errorf("missing digest: %v", err)
	}
	// A digest in upper case is normalised, not rejected.
	b, err := intoto.FromStatement(st, graph.Document{Digest: "SHA256:" + strings.ToUpper(h("f"))})
	if err != nil || b.Doc.Digest != "sha256:"+h("f") {
		t.Errorf("upper-case digest: %v %q", err, b.Doc.Digest)
	}
	// Statements built by hand are re-checked.
	bad := *st
	bad.Subject = []statement.Subject{{Name: "x", Digest: map[string]string{"sha256": "zz"}}}
	var fe *intoto.FieldError
	if _, err := intoto.FromStatement(&bad, graph.Document{Digest: graph.SHA256Key(nil)}); !errors.As(err, &fe) || fe.Field != "/subject/0/digest" {
		t.Errorf("bad subject digest: %v", err)
	}
	bad.Subject = nil
	if _, err := intoto.FromStatement(&bad, graph.Document{Digest: graph.SHA256Key(nil)}); !errors.As(err, &fe) || fe.Field != "/subject" {
		t.Errorf("no subject: %v", err)
	}
}

func TestLimits(t *testing.T) {
	deep := strings.Repeat(`{"a":`, intoto.MaxDepth+1) + "1" + strings.Repeat("}", intoto.MaxDepth+1)
	_, err := mapStatement(t, stmt(intoto.PredicateSLSAv02, `{"builder":{"id":"b"},"x":`+deep+`}`))
	if !errors.Is(err, intoto.ErrLimit) || !strings.Contains(err.Error(), "levels deep") {
		t.Errorf("deep predicate: %v", err)
	}
	// Depth is counted outside strings only.
	_, err = mapStatement(t, stmt(intoto.PredicateSLSAv02, `{"builder":{"id":"b"},"x":"`+strings.Repeat("[{", 100)+`"}`))
	if err != nil {
		t.Errorf("brackets in a string: %v", err)
	}

	mats := strings.Repeat(`{"uri":"https://example.com/a"},`, intoto.MaxInputs) + `{"uri":"https://example.com/a"}`
	_, err = mapStatement(t, stmt(intoto.PredicateSLSAv02, `{"builder":{"id":"b"},"materials":[`+mats+`]}`))
	var fe *intoto.FieldError
	if !errors.Is(err, intoto.ErrLimit) || !errors.As(err, &fe) || fe.Field != "/predicate/materials" {
		t.Errorf("too many materials: %v", err)
	}

	big := strings.Repeat("x", intoto.MaxParamBytes)
	b, err := mapStatement(t, stmt(intoto.PredicateSLSAv02, `{"builder":{"id":"b"},"invocation":{"parameters":{"p":"`+big+`"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range b.Nodes {
		if n.Kind != graph.KindTrainingRun {
			continue
		}
		if n.Attrs["parameters"] != "" || n.Attrs["parametersSize"] != fmt.Sprint(len(big)+8) || len(n.Attrs["parametersSha256"]) != 64 {
			t.Errorf("oversized parameters kept as %v", n.Attrs)
		}
	}
}
