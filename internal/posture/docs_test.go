package posture_test

import (
	"os"
	"reflect"
	"regexp"
	"testing"

	"github.com/modelgraph/modelgraph/internal/posture"
)

// The policy shown in docs/posture.md is the default policy, and every
// control has a row in the doc's controls table.
func TestDocsPolicyIsTheDefault(t *testing.T) {
	doc, err := os.ReadFile("../../docs/posture.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/posture.md has no yaml block")
	}
	got, err := posture.ParsePolicy(m[1])
	if err != nil {
		t.Fatalf("the documented policy does not parse: %v", err)
	}
	if want, _ := posture.DefaultPolicy().WithDefaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("documented policy %+v, default %+v", got, want)
	}
	for _, id := range posture.ControlIDs() {
		if !regexp.MustCompile("\\| `" + regexp.QuoteMeta(id) + "` \\|").Match(doc) {
			t.Errorf("docs/posture.md has no row for control %s", id)
		}
	}
}
