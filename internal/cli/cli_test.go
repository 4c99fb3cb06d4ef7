package cli

import (
	"testing"

	"github.com/modelgraph/modelgraph/internal/query"
)

func TestDepthsAreTheServers(t *testing.T) {
	if defaultDepth != query.DefaultDepth || maxDepth != query.MaxDepth {
		t.Errorf("help says depth %d..%d, query has %d..%d", defaultDepth, maxDepth, query.DefaultDepth, query.MaxDepth)
	}
}

func TestNodeKindAnyCase(t *testing.T) {
	ks, err := parseKinds([]string{"model", "DEPLOYMENT", "TrainingRun"})
	if err != nil || len(ks) != 3 || ks[0] != "Model" || ks[1] != "Deployment" || ks[2] != "TrainingRun" {
		t.Errorf("parseKinds = %v, %v", ks, err)
	}
	if _, err := parseKinds([]string{"Modle"}); err == nil {
		t.Error("a misspelt kind was accepted")
	}
}

func TestParseTime(t *testing.T) {
	got, err := parseTime("at", "2025-06-01")
	if err != nil || got.Format("2006-01-02T15:04:05Z07:00") != "2025-06-01T00:00:00Z" {
		t.Errorf("date: %v %v", got, err)
	}
	got, err = parseTime("at", "2025-06-01T10:00:00+02:00")
	if err != nil || got.Format("15:04 MST") != "08:00 UTC" {
		t.Errorf("time with zone: %v %v", got, err)
	}
	if got, err := parseTime("at", ""); got != nil || err != nil {
		t.Errorf("empty: %v %v", got, err)
	}
	if _, err := parseTime("at", "yesterday"); err == nil {
		t.Error("yesterday accepted")
	}
}
