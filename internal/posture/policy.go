package posture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrInvalidPolicy is returned for a posture policy that cannot be used.
var ErrInvalidPolicy = errors.New("invalid posture policy")

// MaxPolicyBytes bounds a policy file.
const MaxPolicyBytes = 64 << 10

// Policy says which controls each level needs and the thresholds the
// controls use. Controls not listed under any level are still evaluated and
// reported, but do not decide the level. Zero values take the defaults.
type Policy struct {
	// Levels lists, for L1, L2 and L3, the controls that level adds; a
	// subject sits at the highest level whose controls (and every lower
	// level's) all passed.
	Levels map[string][]string `yaml:"levels" json:"levels"`
	// ScorecardMinScore is the lowest aggregate OpenSSF Scorecard score
	// (0..10) the training code repository may have.
	ScorecardMinScore float64 `yaml:"scorecardMinScore" json:"scorecardMinScore"`
	// ScorecardRequireVerified: only Scorecard results signed by a signer
	// the trust policy grants the scorecard role count.
	ScorecardRequireVerified bool `yaml:"scorecardRequireVerified" json:"scorecardRequireVerified"`
	// ScorecardSameCommit: only a result for the very commit the training
	// provenance names counts (else the repository's latest result does).
	ScorecardSameCommit bool `yaml:"scorecardSameCommit" json:"scorecardSameCommit"`
	// RehashMaxAge is how old the newest verification of the weights may
	// be (Go duration, or days with a "d" suffix: "90d").
	RehashMaxAge Duration `yaml:"rehashMaxAge" json:"rehashMaxAge"`
	// SensitiveNeedsLicense: a training dataset flagged as holding
	// sensitive data (PII, PHI, sensitive categories) must name a licence.
	SensitiveNeedsLicense *bool `yaml:"sensitiveNeedsLicense" json:"sensitiveNeedsLicense"`
	// LineageDepth bounds the base-model walk (DERIVED_FROM hops).
	LineageDepth int `yaml:"lineageDepth" json:"lineageDepth"`
}

// Duration is a time.Duration read from YAML as "720h" or "30d".
type Duration time.Duration

// UnmarshalYAML reads a Go duration or a number of days ("30d").
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration in Go's form.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// String is the Go form.
func (d Duration) String() string { return time.Duration(d).String() }

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n float64
		if _, err := fmt.Sscanf(days, "%g", &n); err != nil || n < 0 || n > 36500 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n * 24 * float64(time.Hour)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if v < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return v, nil
}

// Level names, lowest first.
var LevelNames = []string{"L1", "L2", "L3"}

// Defaults.
const (
	DefaultScorecardMinScore = 7.0
	DefaultRehashMaxAge      = 90 * 24 * time.Hour
	DefaultLineageDepth      = 12
)

// DefaultPolicy is the policy used when none is given (docs/posture.md).
func DefaultPolicy() Policy {
	t := true
	return Policy{
		Levels: map[string][]string{
			"L1": {WeightsSigned, DeploymentSigned},
			"L2": {TrainingProvenance, DatasetsAttested, LineageVerified, NoActiveAdvisory},
			"L3": {ServingSBOMSigned, NoVulnerablePackage, SourceScorecard, RehashRecent},
		},
		ScorecardMinScore:     DefaultScorecardMinScore,
		RehashMaxAge:          Duration(DefaultRehashMaxAge),
		SensitiveNeedsLicense: &t,
		LineageDepth:          DefaultLineageDepth,
	}
}

// ParsePolicy reads a YAML policy; fields left out keep their defaults
// (levels left out keep the default controls). Unknown fields, levels and
// controls are errors naming the field.
func ParsePolicy(data []byte) (Policy, error) {
	if len(data) > MaxPolicyBytes {
		return Policy{}, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidPolicy, len(data), MaxPolicyBytes)
	}
	var p Policy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil && !errors.Is(err, errEOF) {
		return Policy{}, fmt.Errorf("%w: %v", ErrInvalidPolicy, err)
	}
	return p.WithDefaults()
}

var errEOF = io.EOF

// LoadPolicy reads a YAML policy file ("" gives DefaultPolicy).
func LoadPolicy(path string) (Policy, error) {
	if path == "" {
		return DefaultPolicy(), nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return Policy{}, fmt.Errorf("posture policy: %w", err)
	}
	if st.Size() > MaxPolicyBytes {
		return Policy{}, fmt.Errorf("%w: %s is %d bytes, limit %d", ErrInvalidPolicy, path, st.Size(), MaxPolicyBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Policy{}, fmt.Errorf("posture policy: %w", err)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return Policy{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// WithDefaults fills what p leaves out and validates the result.
func (p Policy) WithDefaults() (Policy, error) {
	d := DefaultPolicy()
	out := p
	out.Levels = map[string][]string{}
	for _, l := range LevelNames {
		out.Levels[l] = d.Levels[l]
	}
	seen := map[string]string{}
	for l, cs := range p.Levels {
		if !slices.Contains(LevelNames, l) {
			return Policy{}, fmt.Errorf("%w: levels.%s: unknown level (want L1, L2 or L3)", ErrInvalidPolicy, l)
		}
		for i, c := range cs {
			if _, ok := controlByID[c]; !ok {
				return Policy{}, fmt.Errorf("%w: levels.%s[%d]: unknown control %q (known: %s)", ErrInvalidPolicy, l, i, c, strings.Join(ControlIDs(), ", "))
			}
			if prev, ok := seen[c]; ok {
				return Policy{}, fmt.Errorf("%w: levels.%s[%d]: control %q is already required by %s", ErrInvalidPolicy, l, i, c, prev)
			}
			seen[c] = l
		}
		out.Levels[l] = slices.Clone(cs)
	}
	// A control moved to another level by the policy leaves its default one.
	for _, l := range LevelNames {
		if _, given := p.Levels[l]; given {
			continue
		}
		out.Levels[l] = slices.DeleteFunc(slices.Clone(out.Levels[l]), func(c string) bool { _, moved := seen[c]; return moved })
	}
	switch {
	case p.ScorecardMinScore == 0:
		out.ScorecardMinScore = d.ScorecardMinScore
	case p.ScorecardMinScore < 0 || p.ScorecardMinScore > 10 || math.IsNaN(p.ScorecardMinScore):
		return Policy{}, fmt.Errorf("%w: scorecardMinScore %g is out of range [0, 10]", ErrInvalidPolicy, p.ScorecardMinScore)
	}
	if p.RehashMaxAge == 0 {
		out.RehashMaxAge = d.RehashMaxAge
	}
	if p.SensitiveNeedsLicense == nil {
		out.SensitiveNeedsLicense = d.SensitiveNeedsLicense
	}
	switch {
	case p.LineageDepth == 0:
		out.LineageDepth = d.LineageDepth
	case p.LineageDepth < 0 || p.LineageDepth > 64:
		return Policy{}, fmt.Errorf("%w: lineageDepth %d is out of range [1, 64]", ErrInvalidPolicy, p.LineageDepth)
	}
	return out, nil
}

// LevelOf is the level that requires control c (0 when none does).
func (p Policy) LevelOf(c string) int {
	for i, l := range LevelNames {
		if slices.Contains(p.Levels[l], c) {
			return i + 1
		}
	}
	return 0
}
