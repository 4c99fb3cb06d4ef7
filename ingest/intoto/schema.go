package intoto

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The canonical copies of the project predicate schemas live here (embed
// cannot reach outside the package); schema/predicates/ holds identical
// copies for readers, and a test keeps them identical.
//
//go:embed schemas/*.schema.json
var schemaFS embed.FS

// SchemaFiles maps each project predicate type to its schema file name.
var SchemaFiles = map[string]string{
	PredicateDataset:    "dataset-v1.schema.json",
	PredicateDeployment: "deployment-v1.schema.json",
}

// Schema returns the JSON Schema of a project predicate type.
func Schema(predicateType string) ([]byte, bool) {
	name, ok := SchemaFiles[predicateType]
	if !ok {
		return nil, false
	}
	b, err := schemaFS.ReadFile("schemas/" + name)
	return b, err == nil
}

var compiled = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	out := map[string]*jsonschema.Schema{}
	for pt, name := range SchemaFiles {
		raw, err := schemaFS.ReadFile("schemas/" + name)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		url := "mem:///" + name
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		s, err := c.Compile(url)
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		out[pt] = s
	}
	return out, nil
})

var printer = message.NewPrinter(language.English)

// maxSchemaErrors bounds how many violations one error message lists.
const maxSchemaErrors = 5

// validateSchema checks the predicate of a project predicate type against
// its schema. The error names the JSON pointer (from the statement root) of
// the first violation and lists up to maxSchemaErrors of them.
func (p *parser) validateSchema(pred value) error {
	schemas, err := compiled()
	if err != nil {
		return fmt.Errorf("intoto: embedded schemas: %w", err)
	}
	s := schemas[p.st.PredicateType]
	if s == nil {
		return nil
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(p.st.Predicate))
	if err != nil {
		return p.errf(ErrInvalidPredicate, "/predicate", "not valid JSON: %v", err)
	}
	err = s.Validate(inst)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return p.errf(ErrSchema, "/predicate", "%v", err)
	}
	var leaves []*jsonschema.ValidationError
	collectLeaves(ve, &leaves)
	var msgs []string
	first := "/predicate"
	for i, l := range leaves {
		ptr := "/predicate" + pointer(l.InstanceLocation)
		if i == 0 {
			first = ptr
		}
		if i == maxSchemaErrors {
			msgs = append(msgs, fmt.Sprintf("and %d more", len(leaves)-i))
			break
		}
		msgs = append(msgs, ptr+": "+l.ErrorKind.LocalizedString(printer))
	}
	return &FieldError{Doc: p.name, Field: first, Msg: "violates " + SchemaFiles[p.st.PredicateType] + ": " + strings.Join(msgs, "; "), Err: ErrSchema}
}

func collectLeaves(e *jsonschema.ValidationError, out *[]*jsonschema.ValidationError) {
	if len(e.Causes) == 0 {
		*out = append(*out, e)
		return
	}
	for _, c := range e.Causes {
		collectLeaves(c, out)
	}
}

func pointer(tokens []string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		sb.WriteString(pointerEscape(t))
	}
	return sb.String()
}
