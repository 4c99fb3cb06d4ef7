package gql

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/internal/demo/demotest"
	"github.com/modelgraph/modelgraph/internal/posture"
	"github.com/modelgraph/modelgraph/internal/query"
)

// posture, postureReport and scorecardHistory over the signed demo: the
// GraphQL answers are the posture service's, and the server's posture
// policy decides the levels.
func TestPostureQueries(t *testing.T) {
	s, _ := demotest.Store(t)
	ctx := context.Background()
	const dep = "deployment:production/eu-west-1/ml-serving/clinical-chat"
	ps, _ := posture.New(query.New(s), posture.DefaultPolicy())
	want, err := ps.Posture(ctx, dep)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := newHandler(Options{Reader: s})
	rec := post(t, h, `{ posture(ref: "`+dep+`") { levelName missing model { name } controls { id result fix evidence { document } } }
  postureReport(environment: "production", sort: NAME) { totalCount rows { subject { kind name } levelName controls { id result } } levels { level count } } }`)
	var out struct {
		Data struct {
			Posture struct {
				LevelName string
				Missing   []string
				Model     struct{ Name string }
				Controls  []struct {
					ID, Result string
					Fix        *string
				}
			}
			PostureReport struct {
				TotalCount int
				Rows       []struct {
					Subject   struct{ Kind, Name string }
					LevelName string
				}
				Levels []struct {
					Level string
					Count int
				}
			}
		}
		Errors []struct{ Message string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Errors) > 0 {
		t.Fatalf("answer %s: %v", rec.Body.String(), err)
	}
	p := out.Data.Posture
	if p.LevelName != want.LevelName || len(p.Controls) != len(want.Controls) || p.Model.Name != want.Model.Name {
		t.Fatalf("posture = %+v, want %s with %d controls", p, want.LevelName, len(want.Controls))
	}
	for i, c := range p.Controls {
		if c.ID != want.Controls[i].ID || c.Result != string(want.Controls[i].Result) || (c.Fix == nil || *c.Fix == "") != (want.Controls[i].Fix == "") {
			t.Errorf("control %d = %+v, want %+v", i, c, want.Controls[i])
		}
	}
	r := out.Data.PostureReport
	if r.TotalCount != 2 || len(r.Rows) != 2 || len(r.Levels) != 4 {
		t.Fatalf("report = %+v", r)
	}
	// A repository no document names as such is not found.
	rec = post(t, h, `{ scorecardHistory(repository: "github.com/acme/no-such-repo") { score } }`)
	if !strings.Contains(rec.Body.String(), "NOT_FOUND") {
		t.Errorf("scorecard history of an unknown repository: %s", rec.Body.String())
	}
	// The server's policy decides: with nothing required, everything is L3.
	h2, _ := newHandler(Options{Reader: s, Posture: posture.Policy{Levels: map[string][]string{"L1": {}, "L2": {}, "L3": {}}}})
	rec = post(t, h2, `{ posture(ref: "`+dep+`") { levelName missing } }`)
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Data.Posture.LevelName != "L3" {
		t.Fatalf("posture under an empty policy: %s", rec.Body.String())
	}
}
