package trust

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/modelgraph/modelgraph/graph"
)

// The sigstore public-good instance's trusted root (sigstore/root-signing,
// Apache-2.0), so keyless signatures verify offline out of the box. Replace
// it with a fresh trusted_root.json in the policy when its keys rotate.
//
//go:embed roots/public-good.json
var publicGoodJSON []byte

var publicGood = sync.OnceValues(func() (Root, error) {
	r, err := ParseTrustedRoot(publicGoodJSON, PublicGoodName)
	if err != nil {
		return Root{}, err
	}
	return r, nil
})

// PublicGood returns the embedded public-good trusted root.
func PublicGood() (Root, error) { return publicGood() }

// LoadTrustedRoot reads a trusted_root.json file.
func LoadTrustedRoot(path string) (Root, error) {
	data, err := readLimited(path, MaxTrustedRootSize)
	if err != nil {
		return Root{}, fmt.Errorf("%w: trusted root: %w", ErrInvalidPolicy, err)
	}
	return ParseTrustedRoot(data, path)
}

// LoadPublicKey reads a PEM public key file.
func LoadPublicKey(path string) (PublicKey, error) {
	data, err := readLimited(path, MaxKeySize)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: key: %w", ErrInvalidPolicy, err)
	}
	return ParsePublicKey(data, path)
}

// LoadCABundle reads a PEM certificate bundle file.
func LoadCABundle(path string) (CABundle, error) {
	data, err := readLimited(path, MaxCABundleSize)
	if err != nil {
		return CABundle{}, fmt.Errorf("%w: CA bundle: %w", ErrInvalidPolicy, err)
	}
	return ParseCABundle(data, path)
}

// Load reads a YAML policy; relative paths in it are relative to its folder.
func Load(path string) (*Policy, error) {
	data, err := readLimited(path, MaxPolicySize)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	p, err := parse(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Parse reads a YAML policy; relative paths in it are relative to the
// working directory.
func Parse(data []byte) (*Policy, error) { return parse(data, "") }

// The YAML shape; see docs/oms.md.
type policyFile struct {
	Version      int        `yaml:"version"`
	TrustedRoots []rootFile `yaml:"trustedRoots"`
	Rules        []ruleFile `yaml:"rules"`
}

type rootFile struct {
	Name       string `yaml:"name"` // "public-good"
	Path       string `yaml:"path"`
	RequireSCT *bool  `yaml:"requireSCT"`
}

type ruleFile struct {
	Name       string         `yaml:"name"`
	Subjects   []string       `yaml:"subjects"`
	Roles      []graph.Role   `yaml:"roles"`
	Identities []Identity     `yaml:"identities"`
	Keys       []materialFile `yaml:"keys"`
	CAs        []materialFile `yaml:"certificateAuthorities"`
}

type materialFile struct {
	Path string `yaml:"path"`
	PEM  string `yaml:"pem"`
}

func parse(data []byte, base string) (*Policy, error) {
	if len(data) > MaxPolicySize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidPolicy, len(data), MaxPolicySize)
	}
	var f policyFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: empty document", ErrInvalidPolicy)
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if f.Version != 1 {
		add("version: %d is not supported (want 1)", f.Version)
	}
	resolve := func(p string) string {
		if p == "" || filepath.IsAbs(p) || base == "" {
			return p
		}
		return filepath.Join(base, p)
	}
	p := &Policy{}
	roots := f.TrustedRoots
	if roots == nil { // absent: the public-good instance; "[]" means none
		roots = []rootFile{{Name: PublicGoodName}}
	}
	if len(roots) > MaxRoots {
		add("trustedRoots: %d roots, limit %d", len(roots), MaxRoots)
		roots = nil
	}
	for i, rf := range roots {
		var r Root
		var err error
		switch {
		case rf.Name == PublicGoodName && rf.Path == "":
			r, err = PublicGood()
		case rf.Path != "" && rf.Name == "":
			r, err = LoadTrustedRoot(resolve(rf.Path))
		default:
			err = fmt.Errorf("set either name: %s or path", PublicGoodName)
		}
		if err != nil {
			errs = append(errs, prefixEach(fmt.Sprintf("trustedRoots[%d]: ", i), err)...)
			continue
		}
		if rf.RequireSCT != nil {
			r.RequireSCT = *rf.RequireSCT
		}
		p.Roots = append(p.Roots, r)
	}
	if len(f.Rules) > MaxRules {
		add("rules: %d rules, limit %d", len(f.Rules), MaxRules)
		f.Rules = nil
	}
	for i, rf := range f.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		if len(rf.Keys) > MaxRuleEntries || len(rf.CAs) > MaxRuleEntries {
			add("%s: more than %d keys or certificateAuthorities", where, MaxRuleEntries)
			continue
		}
		r := Rule{Name: rf.Name, Subjects: rf.Subjects, Roles: rf.Roles, Identities: rf.Identities}
		for j, m := range rf.Keys {
			k, err := loadMaterial(m, resolve, ParsePublicKey, LoadPublicKey)
			if err != nil {
				errs = append(errs, prefixEach(fmt.Sprintf("%s.keys[%d]: ", where, j), err)...)
				continue
			}
			r.Keys = append(r.Keys, k)
		}
		for j, m := range rf.CAs {
			c, err := loadMaterial(m, resolve, ParseCABundle, LoadCABundle)
			if err != nil {
				errs = append(errs, prefixEach(fmt.Sprintf("%s.certificateAuthorities[%d]: ", where, j), err)...)
				continue
			}
			r.CAs = append(r.CAs, c)
		}
		p.Rules = append(p.Rules, r)
	}
	errs = append(errs, p.problems()...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, errors.Join(errs...))
	}
	return p, nil
}

func loadMaterial[T any](m materialFile, resolve func(string) string, parse func([]byte, string) (T, error), load func(string) (T, error)) (T, error) {
	var zero T
	switch {
	case m.Path != "" && m.PEM == "":
		return load(resolve(m.Path))
	case m.PEM != "" && m.Path == "":
		return parse([]byte(m.PEM), "inline")
	}
	return zero, errors.New("set exactly one of path and pem")
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}
