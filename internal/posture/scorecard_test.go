package posture_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/posture"
)

// laterCommit is a second commit of the same repository for a derived,
// later result (the real result's checks with the score lowered).
const laterCommit = "0123456789abcdef0123456789abcdef01234567"

// scorecardStatement is Scorecard's in-toto form (ossf/scorecard
// pkg/scorecard/statement.go: subject = the repository with its gitCommit,
// predicate = the v2 result without repo) of the real result, re-dated and
// re-scored to stand for a later run.
func scorecardStatement(t *testing.T, commit, date string, score float64) []byte {
	t.Helper()
	var res map[string]any
	if err := json.Unmarshal(realScorecard(t), &res); err != nil {
		t.Fatal(err)
	}
	delete(res, "repo")
	res["date"], res["score"] = date, score
	b, err := json.Marshal(obj{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []obj{{"name": scRepo, "uri": "git+https://" + scRepo + "@" + commit, "digest": obj{"gitCommit": commit}}},
		"predicateType": "https://scorecard.dev/result/v0.1",
		"predicate":     res,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func controlOf(p posture.Posture, id string) posture.Control {
	for _, c := range p.Controls {
		if c.ID == id {
			return c
		}
	}
	return posture.Control{}
}

// Scorecard results from a real repository ingest and move the
// source-scorecard control; the repository keeps the history of scores.
func TestScorecardMovesControl(t *testing.T) {
	s, pol := newSigners(t)
	w := newWorld(t, pol)
	for _, d := range buildChain(t, s, chainOpts{noScorecard: true}) {
		w.push(t, d.name, d.data)
	}
	ctx := context.Background()
	if c := controlOf(w.posture(t, depRef), posture.SourceScorecard); c.Result != posture.Unknown {
		t.Fatalf("before any result: %+v", c)
	}
	// The real JSON result, for the very commit the training run used.
	w.push(t, "scorecard.json", realScorecard(t))
	p := w.posture(t, depRef)
	c := controlOf(p, posture.SourceScorecard)
	if c.Result != posture.Passed || p.Level != 3 || !strings.Contains(c.Message, "scored 9.6") || !strings.Contains(c.Message, "training commit") || len(c.Evidence) != 1 || c.Evidence[0].Type != "scorecard" {
		t.Fatalf("after the real result: level %d, %+v", p.Level, c)
	}
	// A later, signed result at another commit of the repository, under
	// the threshold: the latest result decides.
	w.push(t, "scorecard-later.intoto", s.scorecard.DSSE(t, pt, scorecardStatement(t, laterCommit, "2024-09-01T00:00:00Z", 6.2)))
	p = w.posture(t, depRef)
	c = controlOf(p, posture.SourceScorecard)
	if c.Result != posture.Failed || p.Level != 2 || !strings.Contains(c.Message, "scored 6.2") || !strings.Contains(c.Message, "commit 0123456789ab") {
		t.Fatalf("after the later result: level %d, %+v", p.Level, c)
	}
	hist, err := w.ps.ScorecardHistory(ctx, scRepo)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Score != 9.6 || hist[0].Commit != scCommit || hist[0].Status != graph.StatusUnsigned ||
		hist[1].Score != 6.2 || hist[1].Commit != laterCommit || hist[1].Status != graph.StatusVerified || len(hist[0].Checks) != 18 {
		t.Fatalf("history = %+v", hist)
	}
	if hist[0].Checks[0] != "Binary-Artifacts=10" {
		t.Errorf("checks = %v", hist[0].Checks)
	}
	// Only the training commit's own result counts when the policy says so.
	pp, err := posture.ParsePolicy([]byte("scorecardSameCommit: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := posture.New(w.q, pp)
	if p, err = ps.Posture(ctx, depRef); err != nil || controlOf(p, posture.SourceScorecard).Result != posture.Passed {
		t.Fatalf("same commit: %+v, %v", controlOf(p, posture.SourceScorecard), err)
	}
	// Only verified results count when the policy says so: the signed
	// 6.2 is the only one left.
	pp, _ = posture.ParsePolicy([]byte("scorecardRequireVerified: true\nscorecardSameCommit: true\n"))
	ps, _ = posture.New(w.q, pp)
	if p, err = ps.Posture(ctx, depRef); err != nil || controlOf(p, posture.SourceScorecard).Result != posture.Unknown {
		t.Fatalf("verified only, same commit: %+v, %v", controlOf(p, posture.SourceScorecard), err)
	}
}

// A Scorecard statement signed by a key the policy does not grant the
// scorecard role is recorded as failed and does not count under
// scorecardRequireVerified.
func TestScorecardUntrustedSigner(t *testing.T) {
	s, pol := newSigners(t)
	w := newWorld(t, pol)
	for _, d := range buildChain(t, s, chainOpts{noScorecard: true}) {
		w.push(t, d.name, d.data)
	}
	w.push(t, "scorecard-stranger", s.stranger.DSSE(t, pt, scorecardStatement(t, scCommit, "2024-09-01T00:00:00Z", 9.9)))
	hist, err := w.ps.ScorecardHistory(context.Background(), "git+https://"+scRepo+"@"+scCommit)
	if err != nil || len(hist) != 1 || hist[0].Status == graph.StatusVerified {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	pp, _ := posture.ParsePolicy([]byte("scorecardRequireVerified: true\n"))
	ps, _ := posture.New(w.q, pp)
	p, err := ps.Posture(context.Background(), depRef)
	if err != nil || controlOf(p, posture.SourceScorecard).Result != posture.Unknown {
		t.Fatalf("untrusted result counted: %+v, %v", controlOf(p, posture.SourceScorecard), err)
	}
}

// The report: one row per model and deployment, sorted, filtered by
// environment and kind.
func TestReport(t *testing.T) {
	s, pol := newSigners(t)
	w := newWorld(t, pol)
	for _, d := range buildChain(t, s, chainOpts{noScorecard: true}) {
		w.push(t, d.name, d.data)
	}
	ctx := context.Background()
	r, err := w.ps.Report(ctx, posture.ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// acme/base (not deployed, root), acme/chat, the deployment: all L2
	// for want of a Scorecard result.
	if r.TotalCount != 3 || len(r.Rows) != 3 {
		t.Fatalf("report = %+v", r)
	}
	for _, row := range r.Rows {
		if row.Level != 2 || row.Missing[0] != posture.SourceScorecard || len(row.Controls) != 10 {
			t.Errorf("row %+v", row)
		}
	}
	if r.Levels[2].Count != 3 {
		t.Errorf("levels = %+v", r.Levels)
	}
	r, err = w.ps.Report(ctx, posture.ReportOptions{Environment: "production", Sort: posture.SortName})
	if err != nil || r.TotalCount != 2 || r.Rows[0].Subject.Name != chat.name || r.Rows[1].Subject.Kind != graph.KindDeployment {
		t.Fatalf("production report = %+v, %v", r, err)
	}
	r, err = w.ps.Report(ctx, posture.ReportOptions{Kinds: []graph.NodeKind{graph.KindDeployment}})
	if err != nil || r.TotalCount != 1 || r.Rows[0].Environment != "production" || r.Rows[0].Model.Name != chat.name {
		t.Fatalf("deployments = %+v, %v", r, err)
	}
	if _, err := w.ps.Report(ctx, posture.ReportOptions{Kinds: []graph.NodeKind{graph.KindDataset}}); err == nil {
		t.Error("a Dataset report was accepted")
	}
	if _, err := w.ps.Report(ctx, posture.ReportOptions{Sort: "COLOUR"}); err == nil {
		t.Error("an unknown sort was accepted")
	}
	r, err = w.ps.Report(ctx, posture.ReportOptions{Environment: "staging"})
	if err != nil || r.TotalCount != 0 || len(r.Rows) != 0 {
		t.Fatalf("staging = %+v, %v", r, err)
	}
}
