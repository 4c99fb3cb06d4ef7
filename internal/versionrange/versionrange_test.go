package versionrange

import (
	"errors"
	"testing"
)

func TestCompareVersions(t *testing.T) {
	// Each list is in ascending order; equal neighbours are marked "=".
	ordered := [][]string{
		{"1.0.dev1", "1.0a1.dev1", "1.0a1", "1.0a2", "1.0b1", "1.0rc1", "1.0", "1.0.post1.dev1", "1.0.post1", "1.1"},
		{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"},
		{"0.9", "1", "1.0.1", "1.2", "1.10", "2!0.1"},
		{"2.0.0-snapshot", "2.0.0"},
		{"1.9.9", "1.10.0", "10.0.0", "99999999999999999999.0"},
	}
	for _, list := range ordered {
		for i := 0; i+1 < len(list); i++ {
			a, b := mustVersion(t, list[i]), mustVersion(t, list[i+1])
			if Compare(a, b) != -1 || Compare(b, a) != 1 {
				t.Errorf("Compare(%s, %s) = %d, want -1", list[i], list[i+1], Compare(a, b))
			}
		}
	}
	for _, eq := range [][2]string{{"2.0", "2.0.0"}, {"v1.2.3", "1.2.3"}, {"1.0.0+build.7", "1.0.0"}, {"1.0a", "1.0a0"}, {"1.0.0-rc.1", "1.0.0rc1"}, {"01.002", "1.2"}, {"1.0ALPHA1", "1.0a1"}} {
		if c := Compare(mustVersion(t, eq[0]), mustVersion(t, eq[1])); c != 0 {
			t.Errorf("Compare(%s, %s) = %d, want 0", eq[0], eq[1], c)
		}
	}
	for _, bad := range []string{"", "abc", "v", "x1.0", "1!2!3x", "a!1.0"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) succeeded", bad)
		}
	}
}

func mustVersion(t *testing.T, s string) Version {
	t.Helper()
	v, err := ParseVersion(s)
	if err != nil {
		t.Fatalf("ParseVersion(%q): %v", s, err)
	}
	return v
}

func TestRangeMatch(t *testing.T) {
	cases := []struct {
		rng string
		in  []string
		out []string
	}{
		{">=2.0.0,<2.15.0", []string{"2.0.0", "2.0", "2.14.99", "2.15.0rc1", "2.1.0.post1"}, []string{"1.99", "2.15.0", "2.15", "3.0", "2.0.0rc1", "garbage"}},
		{">=1.0 <2 || >=3.1", []string{"1.0", "1.9", "3.1", "4"}, []string{"2.0", "3.0", "0.9"}},
		{">= 1.0, < 2", []string{"1.5"}, []string{"2"}},
		{"==2.1.*", []string{"2.1", "2.1.0", "2.1.9", "2.1.9.post2"}, []string{"2.2.0", "2.10.0", "2.0.9"}},
		{"2.1.x", []string{"2.1.3"}, []string{"2.2"}},
		{"!=2.3.1", []string{"2.3.0", "2.3.2"}, []string{"2.3.1", "2.3.1.0"}},
		{"!=2.3.*", []string{"2.4"}, []string{"2.3.7"}},
		{"~=2.2", []string{"2.2", "2.9"}, []string{"2.1", "3.0"}},
		{"~=1.4.5", []string{"1.4.5", "1.4.99"}, []string{"1.5.0", "1.4.4"}},
		{"2.1.0", []string{"2.1.0", "2.1", "v2.1.0"}, []string{"2.1.1"}},
		{"=2.1.0", []string{"2.1.0"}, []string{"2.1.1"}},
		{">1.0.0-alpha", []string{"1.0.0-beta", "1.0.0"}, []string{"1.0.0-alpha", "0.9"}},
		{"*", []string{"1", "anything", ""}, nil},
		{"", []string{"1", "anything"}, nil},
		{"==sha256-abc", nil, []string{"sha256-abc", "1.0"}},
	}
	for _, c := range cases {
		r, err := Parse(c.rng)
		if c.rng == "==sha256-abc" {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%q) error %v, want ErrInvalid", c.rng, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", c.rng, err)
			continue
		}
		for _, v := range c.in {
			if !r.Match(v) {
				t.Errorf("%q should match %q", c.rng, v)
			}
		}
		for _, v := range c.out {
			if r.Match(v) {
				t.Errorf("%q should not match %q", c.rng, v)
			}
		}
	}
	for _, bad := range []string{">>2", ">=", "~=2", ">=2.*", "==1.0a1.*", "||", ">=1,,<", "1.0 ||", string(make([]byte, MaxRangeLen+1))} {
		if _, err := Parse(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) error = %v, want ErrInvalid", clip(bad), err)
		}
	}
}
