package posture_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/internal/posture"
)

type namedDoc struct {
	name string
	data []byte
}

type chainOpts struct {
	strangerDeploys    bool // the deployment record is signed by a key not trusted for deployments
	noDatasetAtt       bool // no dataset attestations
	noScorecard        bool // no Scorecard result for the training code
	sensitiveNoLicense bool // the PII dataset names no licence
	advisory           bool // an active advisory about the base model
	vulnerable         bool // the serving SBOM carries a known vulnerability
	strangerSigns      bool // the chat model's weights are signed by an untrusted key
}

var (
	base = newModel("acme/base", dg("b"))
	chat = newModel("acme/chat", dg("c"))
)

const depRef = "deployment:production/eu-west-1/ml/chat"

func buildChain(t *testing.T, s *signers, o chainOpts) []namedDoc {
	docs := []namedDoc{
		{"base.sig", s.model.Bundle(t, pt, oms(t, base))},
		{"base.prov", s.prov.DSSE(t, pt, provenance(t, base, datasetDep("web", dg("1")), sourceDep(scRepo, scCommit)))},
		{"chat.prov", s.prov.DSSE(t, pt, provenance(t, chat, modelDep(base), datasetDep("notes", dg("2")), sourceDep(scRepo, scCommit)))},
	}
	chatSigner := s.model
	if o.strangerSigns {
		chatSigner = s.stranger
	}
	docs = append(docs, namedDoc{"chat.sig", chatSigner.Bundle(t, pt, oms(t, chat))})
	if !o.noDatasetAtt {
		license := "CC-BY-4.0"
		if o.sensitiveNoLicense {
			license = ""
		}
		docs = append(docs,
			namedDoc{"web.att", s.data.DSSE(t, pt, datasetAttestation(t, "web", dg("1"), false, "CC0-1.0"))},
			namedDoc{"notes.att", s.data.DSSE(t, pt, datasetAttestation(t, "notes", dg("2"), true, license))})
	}
	deployer := s.deploy
	if o.strangerDeploys {
		deployer = s.stranger
	}
	docs = append(docs,
		namedDoc{"deploy", deployer.DSSE(t, pt, deployment(t, chat, true))},
		namedDoc{"sbom", s.sbom.DSSE(t, pt, sbom(t, o.vulnerable))})
	if !o.noScorecard {
		docs = append(docs, namedDoc{"scorecard.json", realScorecard(t)})
	}
	if o.advisory {
		docs = append(docs, namedDoc{"advisory", s.advisory.DSSE(t, pt, advisory(t, "AIXV-2025-7", base))})
	}
	return docs
}

func results(p posture.Posture) map[string]posture.Result {
	m := map[string]posture.Result{}
	for _, c := range p.Controls {
		m[c.ID] = c.Result
	}
	return m
}

// expect is every control passed except those given.
func expect(except map[string]posture.Result) map[string]posture.Result {
	m := map[string]posture.Result{}
	for _, id := range posture.ControlIDs() {
		m[id] = posture.Passed
	}
	for k, v := range except {
		m[k] = v
	}
	return m
}

// Chains that sit at each level: the level, the missing controls and every
// control's result, in two ingest orders.
func TestPostureLevels(t *testing.T) {
	s, pol := newSigners(t)
	for _, tc := range []struct {
		name    string
		opts    chainOpts
		level   int
		missing []string
		want    map[string]posture.Result
	}{
		{"L3 everything verified", chainOpts{}, 3, []string{}, expect(nil)},
		{"L2 no scorecard", chainOpts{noScorecard: true}, 2, []string{posture.SourceScorecard},
			expect(map[string]posture.Result{posture.SourceScorecard: posture.Unknown})},
		{"L2 vulnerable package", chainOpts{vulnerable: true}, 2, []string{posture.NoVulnerablePackage},
			expect(map[string]posture.Result{posture.NoVulnerablePackage: posture.Failed})},
		{"L1 datasets not attested", chainOpts{noDatasetAtt: true}, 1, []string{posture.DatasetsAttested},
			expect(map[string]posture.Result{posture.DatasetsAttested: posture.Unknown})},
		{"L1 sensitive dataset without licence", chainOpts{sensitiveNoLicense: true}, 1, []string{posture.DatasetsAttested},
			expect(map[string]posture.Result{posture.DatasetsAttested: posture.Failed})},
		{"L1 active advisory upstream", chainOpts{advisory: true}, 1, []string{posture.NoActiveAdvisory},
			expect(map[string]posture.Result{posture.NoActiveAdvisory: posture.Failed})},
		{"L0 deployment record by an untrusted key", chainOpts{strangerDeploys: true}, 0, []string{posture.DeploymentSigned},
			expect(map[string]posture.Result{posture.DeploymentSigned: posture.Failed})},
		{"L0 weights signed by an untrusted key", chainOpts{strangerSigns: true}, 0, []string{posture.WeightsSigned},
			expect(map[string]posture.Result{posture.WeightsSigned: posture.Failed, posture.RehashRecent: posture.Unknown})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := buildChain(t, s, tc.opts)
			for _, order := range []string{"forward", "reverse"} {
				w := newWorld(t, pol)
				ds := slices.Clone(docs)
				if order == "reverse" {
					slices.Reverse(ds)
				}
				for _, d := range ds {
					w.push(t, d.name, d.data)
				}
				p := w.posture(t, depRef)
				got := results(p)
				if p.Level != tc.level || p.LevelName != "L"+string(rune('0'+tc.level)) || !slices.Equal(p.Missing, tc.missing) {
					t.Errorf("%s: level %d (%s), missing %v; want %d, %v", order, p.Level, p.LevelName, p.Missing, tc.level, tc.missing)
				}
				for id, want := range tc.want {
					if got[id] != want {
						t.Errorf("%s: control %s = %s, want %s", order, id, got[id], want)
					}
				}
				if len(got) != len(tc.want) {
					t.Errorf("%s: %d controls, want %d", order, len(got), len(tc.want))
				}
				if p.Model == nil || p.Model.Name != chat.name || p.Environment != "production" {
					t.Errorf("%s: model %+v environment %q", order, p.Model, p.Environment)
				}
				for _, c := range p.Controls {
					if c.Result == posture.Passed && c.Fix != "" || c.Result != posture.Passed && c.Fix == "" {
						t.Errorf("%s: control %s (%s) fix %q", order, c.ID, c.Result, c.Fix)
					}
					if c.Result == posture.Passed && len(c.Evidence) == 0 && c.ID != posture.NoActiveAdvisory && c.ID != posture.LineageVerified {
						t.Errorf("%s: control %s passed with no document behind it", order, c.ID)
					}
					if c.Result == posture.Failed && len(c.Evidence) == 0 {
						t.Errorf("%s: control %s failed with no document behind it: %s", order, c.ID, c.Message)
					}
					if c.Level == 0 {
						t.Errorf("%s: control %s counts for no level under the default policy", order, c.ID)
					}
				}
				if t.Failed() {
					js, _ := json.MarshalIndent(p, "", "  ")
					t.Logf("%s", js)
					return
				}
			}
		})
	}
}

// A model's posture: its own controls; the deployment controls are not
// applicable and do not count.
func TestPostureOfModel(t *testing.T) {
	s, pol := newSigners(t)
	w := newWorld(t, pol)
	for _, d := range buildChain(t, s, chainOpts{}) {
		w.push(t, d.name, d.data)
	}
	p := w.posture(t, chat.name)
	if p.Level != 3 || p.Subject.Name != chat.name {
		t.Fatalf("posture of %s: level %d, subject %+v", chat.name, p.Level, p.Subject)
	}
	got := results(p)
	for _, id := range []string{posture.DeploymentSigned, posture.ServingSBOMSigned, posture.NoVulnerablePackage} {
		if got[id] != posture.NotApplicable {
			t.Errorf("%s = %s, want not-applicable", id, got[id])
		}
	}
	// Lineage: the base model is named and verified.
	for _, c := range p.Controls {
		if c.ID == posture.LineageVerified && !strings.Contains(c.Message, "1 base models verified") {
			t.Errorf("lineage message %q", c.Message)
		}
		if c.ID == posture.SourceScorecard && !strings.Contains(c.Message, "scored 9.6") {
			t.Errorf("scorecard message %q", c.Message)
		}
	}
}

// Recency comes from the policy: the same chain a hundred days later
// misses rehash-recent; a policy that moves the control out of the levels
// keeps L3, and one raising the Scorecard threshold above 9.6 fails it.
func TestPosturePolicy(t *testing.T) {
	s, pol := newSigners(t)
	w := newWorld(t, pol)
	for _, d := range buildChain(t, s, chainOpts{}) {
		w.push(t, d.name, d.data)
	}
	ctx := context.Background()
	later := func() time.Time { return time.Now().Add(100 * 24 * time.Hour) }
	ps, err := posture.New(w.q, posture.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	ps.Now = later
	p, err := ps.Posture(ctx, depRef)
	if err != nil {
		t.Fatal(err)
	}
	if p.Level != 2 || !slices.Equal(p.Missing, []string{posture.RehashRecent}) || results(p)[posture.RehashRecent] != posture.Failed {
		t.Fatalf("100 days later: level %d missing %v", p.Level, p.Missing)
	}
	yml := []byte("levels:\n  L3: [serving-sbom-signed, no-vulnerable-package, source-scorecard]\nrehashMaxAge: 30d\n")
	pp, err := posture.ParsePolicy(yml)
	if err != nil {
		t.Fatal(err)
	}
	if pp.LevelOf(posture.RehashRecent) != 0 || time.Duration(pp.RehashMaxAge) != 30*24*time.Hour {
		t.Fatalf("parsed policy %+v", pp)
	}
	ps2, _ := posture.New(w.q, pp)
	ps2.Now = later
	if p, err = ps2.Posture(ctx, depRef); err != nil || p.Level != 3 {
		t.Fatalf("rehash not counted: level %d, %v", p.Level, err)
	}
	pp, err = posture.ParsePolicy([]byte("scorecardMinScore: 9.8\n"))
	if err != nil {
		t.Fatal(err)
	}
	ps3, _ := posture.New(w.q, pp)
	if p, err = ps3.Posture(ctx, depRef); err != nil || p.Level != 2 || results(p)[posture.SourceScorecard] != posture.Failed {
		t.Fatalf("threshold 9.8: level %d, %v", p.Level, err)
	}
}

func TestParsePolicyErrors(t *testing.T) {
	for _, tc := range []struct{ yml, want string }{
		{"levels:\n  L4: [weights-signed]\n", "levels.L4: unknown level"},
		{"levels:\n  L1: [weights-signedd]\n", `levels.L1[0]: unknown control "weights-signedd"`},
		{"levels:\n  L1: [weights-signed]\n  L2: [weights-signed]\n", "is already required by"},
		{"scorecardMinScore: 11\n", "scorecardMinScore 11 is out of range"},
		{"rehashMaxAge: soon\n", "soon"},
		{"threshold: 3\n", "field threshold not found"},
	} {
		_, err := posture.ParsePolicy([]byte(tc.yml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yml, err, tc.want)
		}
	}
	p, err := posture.ParsePolicy(nil)
	if err != nil || p.ScorecardMinScore != posture.DefaultScorecardMinScore || len(p.Levels["L1"]) != 2 {
		t.Fatalf("empty policy = %+v, %v", p, err)
	}
}
