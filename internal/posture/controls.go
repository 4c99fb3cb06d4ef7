package posture

import "sort"

// Control ids. docs/posture.md describes each rule, its evidence and its
// sources.
const (
	WeightsSigned       = "weights-signed"
	RehashRecent        = "rehash-recent"
	TrainingProvenance  = "training-provenance"
	DatasetsAttested    = "datasets-attested"
	LineageVerified     = "lineage-verified"
	NoActiveAdvisory    = "no-active-advisory"
	SourceScorecard     = "source-scorecard"
	DeploymentSigned    = "deployment-signed"
	ServingSBOMSigned   = "serving-sbom-signed"
	NoVulnerablePackage = "no-vulnerable-package"
)

// ControlInfo describes a control.
type ControlInfo struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Stage is the MLSecOps lifecycle stage the control secures (OpenSSF
	// MLSecOps whitepaper): data, training, model, deployment, monitoring,
	// code.
	Stage string `json:"stage"`
	// Deployment: the control is about the deployment itself (models get
	// not-applicable).
	Deployment bool `json:"-"`
}

var controls = []ControlInfo{
	{WeightsSigned, "Weights signed by a trusted model signer", "model", false},
	{RehashRecent, "Weights verified recently", "monitoring", false},
	{TrainingProvenance, "Training provenance verified", "training", false},
	{DatasetsAttested, "Every training dataset attested; none sensitive without a licence", "data", false},
	{LineageVerified, "Base-model lineage verified to the root", "training", false},
	{NoActiveAdvisory, "No active advisory upstream", "monitoring", false},
	{SourceScorecard, "Training code repository meets the Scorecard threshold", "code", false},
	{DeploymentSigned, "Deployment record signed by a trusted deployer", "deployment", true},
	{ServingSBOMSigned, "Serving image has a signed SBOM", "deployment", true},
	{NoVulnerablePackage, "No known-vulnerable package in the serving SBOM", "deployment", true},
}

var controlByID = func() map[string]ControlInfo {
	m := map[string]ControlInfo{}
	for _, c := range controls {
		m[c.ID] = c
	}
	return m
}()

// Controls lists every control in evaluation order.
func Controls() []ControlInfo { return append([]ControlInfo(nil), controls...) }

// ControlIDs lists the control ids, sorted.
func ControlIDs() []string {
	out := make([]string, 0, len(controls))
	for _, c := range controls {
		out = append(out, c.ID)
	}
	sort.Strings(out)
	return out
}
