package aibom

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const schemaDir = "../testdata/cyclonedx-schemas"

var (
	schemaMu sync.Mutex
	schemas  = map[Spec]*jsonschema.Schema{}
)

// jsonSchema compiles the official schema for spec offline: every file it
// references is added under its $id first, so the compiler never fetches.
func jsonSchema(t testing.TB, spec Spec) *jsonschema.Schema {
	t.Helper()
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if s, ok := schemas[spec]; ok {
		return s
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noNetwork{})
	files := []string{"bom-" + string(spec) + ".schema.json", "spdx.schema.json", "jsf-0.82.schema.json"}
	if spec == Spec1_7 {
		files = append(files, "cryptography-defs.schema.json")
	}
	for _, name := range files {
		f, err := os.Open(filepath.Join(schemaDir, name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if id == "" {
			t.Fatalf("%s has no $id", name)
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("add %s: %v", name, err)
		}
	}
	s, err := c.Compile("http://cyclonedx.org/schema/bom-" + string(spec) + ".schema.json")
	if err != nil {
		t.Fatalf("compile CycloneDX %s schema: %v", spec, err)
	}
	schemas[spec] = s
	return s
}

type noNetwork struct{}

func (noNetwork) Load(url string) (any, error) {
	return nil, &os.PathError{Op: "load", Path: url, Err: os.ErrNotExist}
}

func validateJSON(t testing.TB, spec Spec, data []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("BOM is not JSON: %v", err)
	}
	if err := jsonSchema(t, spec).Validate(v); err != nil {
		t.Fatalf("BOM does not validate against CycloneDX %s JSON schema: %v", spec, err)
	}
	var head struct {
		SpecVersion string `json:"specVersion"`
		Schema      string `json:"$schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil || head.SpecVersion != string(spec) || !strings.Contains(head.Schema, "bom-"+string(spec)) {
		t.Fatalf("specVersion %q, $schema %q; want %s (%v)", head.SpecVersion, head.Schema, spec, err)
	}
}

var xsdDir = map[Spec]string{}

// validateXML runs xmllint against the official XSD. The XSD imports the
// SPDX schema from cyclonedx.org; a temporary copy points at the local
// spdx.xsd so that nothing is fetched.
func validateXML(t testing.TB, spec Spec, data []byte) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xmllint is required in CI (Debian: apt-get install libxml2-utils)")
		}
		t.Skip("xmllint not installed (Debian: apt-get install libxml2-utils)")
	}
	schemaMu.Lock()
	dir, ok := xsdDir[spec]
	if !ok {
		dir, err = os.MkdirTemp("", "aibom-xsd-")
		if err == nil {
			err = prepareXSD(dir, spec)
		}
		if err != nil {
			schemaMu.Unlock()
			t.Fatal(err)
		}
		xsdDir[spec] = dir
	}
	schemaMu.Unlock()
	bomPath := filepath.Join(t.TempDir(), "bom.xml")
	if err := os.WriteFile(bomPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--nonet", "--noout", "--schema", filepath.Join(dir, "bom-"+string(spec)+".xsd"), bomPath).CombinedOutput()
	if err != nil {
		t.Fatalf("BOM does not validate against CycloneDX %s XSD: %v\n%s", spec, err, out)
	}
	if !bytes.Contains(data, []byte(`xmlns="http://cyclonedx.org/schema/bom/`+string(spec)+`"`)) {
		t.Fatalf("XML BOM is not in the CycloneDX %s namespace", spec)
	}
}

func prepareXSD(dir string, spec Spec) error {
	xsd, err := os.ReadFile(filepath.Join(schemaDir, "bom-"+string(spec)+".xsd"))
	if err != nil {
		return err
	}
	const remote = `schemaLocation="http://cyclonedx.org/schema/spdx"`
	if !bytes.Contains(xsd, []byte(remote)) {
		return os.ErrInvalid
	}
	xsd = bytes.ReplaceAll(xsd, []byte(remote), []byte(`schemaLocation="spdx.xsd"`))
	if err := os.WriteFile(filepath.Join(dir, "bom-"+string(spec)+".xsd"), xsd, 0o600); err != nil {
		return err
	}
	spdx, err := os.ReadFile(filepath.Join(schemaDir, "spdx.xsd"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "spdx.xsd"), spdx, 0o600)
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range xsdDir {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// TestSPDXIDsMatchSchema keeps the embedded licence ids equal to the
// schema's enum, or licence ids would be rejected (or needlessly demoted to
// names) after a schema update.
func TestSPDXIDsMatchSchema(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(schemaDir, "spdx.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Enum []string `json:"enum"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(spdxIDList)
	if len(s.Enum) < 500 || !slices.Equal(got, s.Enum) {
		t.Fatalf("aibom/spdx_ids.txt has %d ids, spdx.schema.json %d: regenerate it from the schema's enum", len(got), len(s.Enum))
	}
}
