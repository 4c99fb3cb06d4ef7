package posture_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/internal/posture"
	"github.com/modelgraph/modelgraph/internal/query"
	"github.com/modelgraph/modelgraph/internal/synth"
)

// A report large enough to run on several workers gives, row for row, the
// postures asked one by one.
func TestReportParallelMatchesSequential(t *testing.T) {
	s, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := synth.Load(context.Background(), s, synth.ForNodes(10_000)); err != nil {
		t.Fatal(err)
	}
	ps, err := posture.New(query.New(s), posture.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := ps.Report(ctx, posture.ReportOptions{Sort: posture.SortName, Page: query.Page{First: query.MaxPageSize}})
	if err != nil {
		t.Fatal(err)
	}
	if r.TotalCount < 200 || len(r.Rows) != r.TotalCount {
		t.Fatalf("report of %d rows (%d on the page): too small to run on several workers", r.TotalCount, len(r.Rows))
	}
	for i, row := range r.Rows {
		if i%7 != 0 { // a sample keeps the test short
			continue
		}
		p, err := ps.Posture(ctx, string(row.Subject.ID))
		if err != nil {
			t.Fatal(err)
		}
		want := posture.Row{Subject: p.Subject, Environment: p.Environment, Model: p.Model, Level: p.Level, LevelName: p.LevelName,
			Passed: p.Passed, Failed: p.Failed, Unknown: p.Unknown, Missing: p.Missing}
		for _, c := range p.Controls {
			want.Controls = append(want.Controls, posture.ControlResult{ID: c.ID, Result: c.Result})
		}
		if !reflect.DeepEqual(row, want) {
			t.Fatalf("row %d = %+v, posture %+v", i, row, want)
		}
	}
}
