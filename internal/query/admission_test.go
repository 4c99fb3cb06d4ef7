package query_test

// Admission decisions (internal/admission) over the incident world of
// fixture_test.go: the decisions compose this package's reads, and the
// world is this package's test fixture (export_test.go shares it).

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/admission"
	"github.com/modelgraph/modelgraph/internal/query"
)

func TestAdmission(t *testing.T) {
	ctx := context.Background()
	w := query.NewWorld(t)
	checks := func(d admission.Decision) map[string]bool {
		m := map[string]bool{}
		for _, c := range d.Checks {
			m[c.Rule] = c.Passed
		}
		return m
	}
	d, err := admission.Decide(ctx, w.Q(), query.D("base"), admission.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if !d.Allow || !reflect.DeepEqual(checks(d), map[string]bool{"signature": true, "advisory": true}) {
		t.Errorf("base = %+v", d.Checks)
	}
	if msg := d.Checks[0].Message; !strings.Contains(msg, "ci@acme.dev (https://token.actions.githubusercontent.com)") || !strings.Contains(msg, "key oms-key-1") {
		t.Errorf("signature message %q", msg)
	}
	d, err = admission.Decide(ctx, w.Q(), query.D("quant"), admission.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if d.Allow || !reflect.DeepEqual(checks(d), map[string]bool{"signature": true, "advisory": false}) {
		t.Errorf("quant = %+v", d.Checks)
	}
	adv := d.Checks[1]
	if adv.Message != "acme/llm-7b-chat-q4 is downstream (2 hops) of Dataset chat-sft, which active advisory ACME-2026-001 affects" {
		t.Errorf("advisory message %q", adv.Message)
	}
	w.CheckHops(t, "advisory to quant", adv.Hops, []query.HopWant{
		{"adv", "AFFECTS", "sft", graph.StatusUnsigned, []string{"advisory:ACME-2026-001:"}},
		{"ft", "TRAINED_ON", "sft", graph.StatusFailed, []string{"ft-prov"}},
		{"quant", "DERIVED_FROM", "ft", graph.StatusVerified, []string{"quant-oms"}},
	})
	d, err = admission.Decide(ctx, w.Q(), query.D("ft"), admission.DefaultPolicy())
	if err != nil || d.Allow || !reflect.DeepEqual(checks(d), map[string]bool{"signature": false, "advisory": false}) {
		t.Errorf("ft = %+v, %v", d.Checks, err)
	}
	allowed := admission.DefaultPolicy()
	allowed.AllowedSigners = []admission.SignerMatch{{Identity: "ci@acme.dev", Issuer: "https://token.actions.githubusercontent.com"}}
	if d, err = admission.Decide(ctx, w.Q(), query.D("base"), allowed); err != nil || !d.Allow {
		t.Errorf("base with ci allowed = %+v, %v", d.Checks, err)
	}
	allowed.AllowedSigners = []admission.SignerMatch{{Identity: "ci@acme.dev", Issuer: "https://accounts.google.com"}, {Identity: "someone@acme.dev"}}
	d, err = admission.Decide(ctx, w.Q(), query.D("base"), allowed)
	if err != nil || d.Allow || checks(d)["signer"] || !strings.Contains(d.Checks[1].Message, "verified signers: ") {
		t.Errorf("base with others allowed = %+v, %v", d.Checks, err)
	}
	allowed.AllowedSigners = []admission.SignerMatch{{Identity: "oms-key-1"}}
	if d, err = admission.Decide(ctx, w.Q(), query.D("base"), allowed); err != nil || !d.Allow {
		t.Errorf("base with the OMS key allowed = %+v, %v", d.Checks, err)
	}
	zero, one := 0, 1
	strict := admission.Policy{MaxUnsignedHops: &zero}
	if d, err = admission.Decide(ctx, w.Q(), query.D("base"), strict); err != nil || !d.Allow || d.Checks[0].Message != "0 of 6 upstream hops rest on no verified document (limit 0)" {
		t.Errorf("base, no unsigned hops = %+v, %v", d.Checks, err)
	}
	d, err = admission.Decide(ctx, w.Q(), query.D("ft2"), strict)
	if err != nil || d.Allow || len(d.Checks[0].Hops) != 1 || w.Name(d.Checks[0].Hops[0].To.ID) != "torch23" {
		t.Errorf("ft2, no unsigned hops = %+v, %v", d.Checks, err)
	}
	if d, err = admission.Decide(ctx, w.Q(), query.D("ft2"), admission.Policy{MaxUnsignedHops: &one}); err != nil || !d.Allow {
		t.Errorf("ft2, one unsigned hop = %+v, %v", d.Checks, err)
	}
	// A file digest is judged as the model containing it.
	d, err = admission.Decide(ctx, w.Q(), query.D("tokenizer"), admission.DefaultPolicy())
	if err != nil || !d.Allow || len(d.Subjects) != 1 || w.Name(d.Subjects[0].ID) != "base" {
		t.Errorf("tokenizer = %+v, %v", d, err)
	}
	d, err = admission.Decide(ctx, w.Q(), query.D("never-seen"), admission.DefaultPolicy())
	if err != nil || d.Allow || d.Checks[0].Rule != "known" {
		t.Errorf("unknown digest = %+v, %v", d, err)
	}
	for _, bad := range []string{"acme/llm-7b", "", "sha256:12"} {
		if _, err := admission.Decide(ctx, w.Q(), bad, admission.DefaultPolicy()); !errors.Is(err, query.ErrInvalidArgument) {
			t.Errorf("admission %q: %v", bad, err)
		}
	}
	neg := -1
	if _, err := admission.Decide(ctx, w.Q(), query.D("base"), admission.Policy{MaxUnsignedHops: &neg}); !errors.Is(err, query.ErrInvalidArgument) {
		t.Errorf("negative hop limit: %v", err)
	}
}
