package posture

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/query"
)

// modelControls evaluates the model's own controls (cached: a report asks
// once per model however many deployments serve it).
func (e *eval) modelControls(ctx context.Context, m graph.Node) ([]Control, error) {
	e.mu.Lock()
	cs0, ok := e.model[m.ID]
	e.mu.Unlock()
	if ok {
		return cs0, nil
	}
	id, err := e.identity(ctx, m)
	if err != nil {
		return nil, err
	}
	var cs []Control
	sigs, sigVouch := byRole(id, graph.RoleModelSignature)
	cs = append(cs, e.weightsSigned(m, id, sigs, sigVouch))
	cs = append(cs, e.rehashRecent(m, sigVouch))
	cs = append(cs, e.trainingProvenance(m, id))
	runs, _, err := e.out(ctx, m, graph.Out, graph.ProducedBy, graph.KindTrainingRun)
	if err != nil {
		return nil, err
	}
	lin, err := e.r.Traverse(ctx, graph.TraverseRequest{From: []graph.NodeID{m.ID}, Direction: graph.Upstream,
		EdgeKinds: []graph.EdgeKind{graph.DerivedFrom}, NodeKinds: []graph.NodeKind{graph.KindModel}, MaxDepth: e.pol.LineageDepth, Limit: query.WalkLimit})
	if err != nil {
		return nil, fmt.Errorf("lineage of %s: %w", m.ID, err)
	}
	c, err := e.datasetsAttested(ctx, m, runs, lin)
	if err != nil {
		return nil, err
	}
	cs = append(cs, c)
	if c, err = e.lineageVerified(ctx, m, lin); err != nil {
		return nil, err
	}
	cs = append(cs, c)
	if c, err = e.noActiveAdvisory(ctx, m); err != nil {
		return nil, err
	}
	cs = append(cs, c)
	if c, err = e.sourceScorecard(ctx, m, runs); err != nil {
		return nil, err
	}
	cs = append(cs, c)
	e.mu.Lock()
	e.model[m.ID] = cs
	e.mu.Unlock()
	return cs, nil
}

func (e *eval) weightsSigned(m graph.Node, id query.Identity, sigs, vouching []query.Evidence) Control {
	const fix = "sign the weights with OpenSSF Model Signing (model_signing / `modelgraph verify model` checks it) using a key or identity the trust policy grants the model-signature role, and ingest the signature"
	switch {
	case len(vouching) > 0:
		return e.control(WeightsSigned, Passed, "weights signed by "+signersOf(vouching)+" and verified by trust by role", "", []graph.Node{m}, vouching)
	case len(sigs) == 0:
		return e.control(WeightsSigned, Unknown, "no signature over the weights names this model", fix, []graph.Node{m}, nil)
	}
	why := id.Reason
	if why == "" {
		why = "the signature does not vouch for it"
	}
	return e.control(WeightsSigned, Failed, "a signature over the weights exists but does not vouch for the model: "+why, fix, []graph.Node{m}, sigs)
}

func (e *eval) rehashRecent(m graph.Node, vouching []query.Evidence) Control {
	const fix = "re-verify the weights against their signature (`modelgraph verify model`) and ingest the signature again from a fresh signing"
	if len(vouching) == 0 {
		return e.control(RehashRecent, Unknown, "no verified signature over the weights: nothing has been re-hashed against a trusted manifest", fix, []graph.Node{m}, nil)
	}
	newest := vouching[0]
	for _, ev := range vouching[1:] {
		if ev.IngestedAt.After(newest.IngestedAt) {
			newest = ev
		}
	}
	age := e.now.Sub(newest.IngestedAt)
	max := time.Duration(e.pol.RehashMaxAge)
	msg := fmt.Sprintf("newest verified signature over the weights (%s) was verified %s ago (limit %s)", shortDoc(newest.Document), roundAge(age), roundAge(max))
	if age > max {
		return e.control(RehashRecent, Failed, msg, fix, []graph.Node{m}, []query.Evidence{newest})
	}
	return e.control(RehashRecent, Passed, msg, "", []graph.Node{m}, []query.Evidence{newest})
}

func roundAge(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
	return d.Round(time.Minute).String()
}

func (e *eval) trainingProvenance(m graph.Node, id query.Identity) Control {
	const fix = "ingest the training run's provenance (SLSA or AIXV training) naming the model as its subject, signed by a signer the trust policy grants the provenance role"
	provs, vouching := byRole(id, graph.RoleProvenance)
	switch {
	case len(vouching) > 0:
		return e.control(TrainingProvenance, Passed, "training provenance signed by "+signersOf(vouching)+" names the model", "", []graph.Node{m}, vouching)
	case len(provs) == 0:
		return e.control(TrainingProvenance, Unknown, "no training or build provenance names this model as its subject", fix, []graph.Node{m}, nil)
	}
	return e.control(TrainingProvenance, Failed, "provenance names the model but does not vouch for it: "+id.Reason, fix, []graph.Node{m}, provs)
}

// trainingInputs lists the nodes of kind the model was trained on: its
// TRAINED_ON datasets and what its training runs USE.
func (e *eval) trainingInputs(ctx context.Context, m graph.Node, runs []graph.Node, direct graph.EdgeKind, kind graph.NodeKind) ([]graph.Node, error) {
	ns, _, err := e.out(ctx, m, graph.Out, direct, kind)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		us, _, err := e.out(ctx, r, graph.Out, graph.Uses, kind)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			if !slices.ContainsFunc(ns, func(x graph.Node) bool { return x.ID == u.ID }) {
				ns = append(ns, u)
			}
		}
	}
	return ns, nil
}

func sensitive(d graph.Node) string {
	var what []string
	if slices.Contains(d.AttrValues("pii"), "true") {
		what = append(what, "PII")
	}
	if slices.Contains(d.AttrValues("phi"), "true") {
		what = append(what, "PHI")
	}
	for _, c := range d.AttrValues("sensitiveCategories") {
		if c != "" {
			what = append(what, c)
		}
	}
	return strings.Join(what, ", ")
}

func (e *eval) datasetsAttested(ctx context.Context, m graph.Node, runs []graph.Node, lin graph.TraverseResult) (Control, error) {
	const fix = "ingest a dataset attestation for each training dataset, signed by a signer the trust policy grants the dataset role; name a licence for datasets that hold sensitive data"
	ds, err := e.trainingInputs(ctx, m, runs, graph.TrainedOn, graph.KindDataset)
	if err != nil {
		return Control{}, err
	}
	// A derived model (fine-tune, quantized, adapter) was also trained on
	// what its base models were trained on.
	for _, st := range lin.Steps {
		if st.Via == nil {
			continue
		}
		aruns, _, err := e.out(ctx, st.Node, graph.Out, graph.ProducedBy, graph.KindTrainingRun)
		if err != nil {
			return Control{}, err
		}
		ads, err := e.trainingInputs(ctx, st.Node, aruns, graph.TrainedOn, graph.KindDataset)
		if err != nil {
			return Control{}, err
		}
		for _, d := range ads {
			if !slices.ContainsFunc(ds, func(x graph.Node) bool { return x.ID == d.ID }) {
				ds = append(ds, d)
			}
		}
	}
	if len(ds) == 0 {
		return e.control(DatasetsAttested, Unknown, "no training dataset is recorded for this model", "ingest training provenance that names the datasets", []graph.Node{m}, nil), nil
	}
	var unverified, unlicensed []string
	var good, bad []query.Evidence
	for _, d := range ds {
		id, err := e.identity(ctx, d)
		if err != nil {
			return Control{}, err
		}
		name := query.RefOf(d).Name
		if !id.Verified {
			unverified = append(unverified, name)
			bad = append(bad, id.DescribedBy...)
		} else {
			for _, ev := range id.DescribedBy {
				if slices.Contains(id.VouchedBy, ev.Document) {
					good = append(good, ev)
				}
			}
		}
		if s := sensitive(d); s != "" && *e.pol.SensitiveNeedsLicense && d.Attr("license") == "" {
			unlicensed = append(unlicensed, name+" ("+s+")")
			bad = append(bad, id.DescribedBy...)
		}
	}
	var parts []string
	if len(unverified) > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d training datasets not attested by a trusted signer: %s", len(unverified), len(ds), strings.Join(unverified, ", ")))
	}
	if len(unlicensed) > 0 {
		parts = append(parts, "flagged sensitive without a licence: "+strings.Join(unlicensed, ", "))
	}
	if len(parts) == 0 {
		return e.control(DatasetsAttested, Passed, fmt.Sprintf("all %d training datasets attested (%s)", len(ds), names(ds)), "", ds, good), nil
	}
	r := Failed
	if len(unlicensed) == 0 && len(bad) == 0 {
		r = Unknown // no document about the dataset at all
	}
	return e.control(DatasetsAttested, r, strings.Join(parts, "; "), fix, ds, bad), nil
}

// vouchingEdge reports whether one of an edge's documents verified and may
// vouch for a model (trust by role).
func vouchingEdge(evs []query.Evidence) bool {
	return slices.ContainsFunc(evs, func(ev query.Evidence) bool {
		return ev.Status == graph.StatusVerified && graph.VouchesFor(ev.Role, graph.KindModel)
	})
}

func (e *eval) lineageVerified(ctx context.Context, m graph.Node, res graph.TraverseResult) (Control, error) {
	const fix = "ingest signed provenance for each base model and derived model (naming its parent), and the base models' own signatures"
	var ancestors []graph.Node
	var weak []string
	var good, bad []query.Evidence
	for _, st := range res.Steps {
		if st.Via == nil {
			continue
		}
		e.remember(st.Node)
		ancestors = append(ancestors, st.Node)
		evs, err := e.evidence(ctx, st.Via.Docs)
		if err != nil {
			return Control{}, err
		}
		fromN, _ := e.node(ctx, st.Via.From)
		toN, _ := e.node(ctx, st.Via.To)
		from, to := query.RefOf(fromN).Name, query.RefOf(toN).Name
		if from == "" {
			from = string(st.Via.From)
		}
		if to == "" {
			to = string(st.Via.To)
		}
		if vouchingEdge(evs) {
			good = append(good, evs...)
		} else {
			weak = append(weak, fmt.Sprintf("%s DERIVED_FROM %s rests on no verified provenance", from, to))
			bad = append(bad, evs...)
		}
		id, err := e.identity(ctx, st.Node)
		if err != nil {
			return Control{}, err
		}
		if !id.Verified {
			weak = append(weak, fmt.Sprintf("base model %s is not verified (%s)", query.RefOf(st.Node).Name, id.Reason))
			bad = append(bad, id.DescribedBy...)
		}
	}
	switch {
	case len(ancestors) == 0:
		return e.control(LineageVerified, Passed, "no base model: the model is a lineage root", "", []graph.Node{m}, nil), nil
	case len(weak) > 0:
		return e.control(LineageVerified, Failed, strings.Join(weak, "; "), fix, ancestors, bad), nil
	case res.Truncated || res.DepthLimited:
		return e.control(LineageVerified, Unknown, fmt.Sprintf("the lineage walk was cut after %d base models (depth %d): the root was not reached", len(ancestors), e.pol.LineageDepth), "raise lineageDepth in the posture policy", ancestors, good), nil
	}
	return e.control(LineageVerified, Passed, fmt.Sprintf("%d base models verified to the root (%s)", len(ancestors), names(ancestors)), "", ancestors, good), nil
}

func (e *eval) noActiveAdvisory(ctx context.Context, n graph.Node) (Control, error) {
	t, err := e.taints(ctx)
	if err != nil {
		return Control{}, err
	}
	const fix = "roll back to a model no active advisory reaches (rollbackCandidates), or resolve the advisory with a signed status update"
	if hit, ok := t.advisory[n.ID]; ok {
		evs, err := e.evidence(ctx, hit.root.Docs)
		if err != nil {
			return Control{}, err
		}
		msg := fmt.Sprintf("active advisory %s reaches it", query.RefOf(hit.root).Name)
		if hit.via.ID != "" && hit.via.ID != n.ID {
			msg += fmt.Sprintf(" through %s %s", hit.via.Kind, query.RefOf(hit.via).Name)
		}
		return e.control(NoActiveAdvisory, Failed, msg, fix, []graph.Node{hit.root}, evs), nil
	}
	msg := "no active advisory affects it or anything upstream of it"
	if t.partial {
		msg += " (the advisory walk was cut at its bounds)"
	}
	return e.control(NoActiveAdvisory, Passed, msg, "", []graph.Node{n}, nil), nil
}

// deploymentControls evaluates the deployment's own controls.
func (e *eval) deploymentControls(ctx context.Context, dep graph.Node) ([]Control, error) {
	id, err := e.identity(ctx, dep)
	if err != nil {
		return nil, err
	}
	var cs []Control
	recs, vouching := byRole(id, graph.RoleDeployment)
	const depFix = "sign the deployment record with a key or identity the trust policy grants the deployment role"
	switch {
	case len(vouching) > 0:
		cs = append(cs, e.control(DeploymentSigned, Passed, "deployment record signed by "+signersOf(vouching), "", []graph.Node{dep}, vouching))
	case len(recs) == 0:
		cs = append(cs, e.control(DeploymentSigned, Unknown, "no deployment record names this deployment", depFix, []graph.Node{dep}, nil))
	default:
		cs = append(cs, e.control(DeploymentSigned, Failed, "deployment records exist but none vouches for it: "+id.Reason, depFix, []graph.Node{dep}, recs))
	}
	c, err := e.noActiveAdvisory(ctx, dep)
	if err != nil {
		return nil, err
	}
	cs = append(cs, c)
	images, _, err := e.out(ctx, dep, graph.Out, graph.DependsOn, graph.KindPackage)
	if err != nil {
		return nil, err
	}
	const sbomFix = "ingest the serving image's SBOM (CycloneDX or SPDX) signed by a signer the trust policy grants the sbom role"
	if len(images) == 0 {
		cs = append(cs, e.control(ServingSBOMSigned, Unknown, "no serving image is recorded for this deployment", "name the serving image in the deployment record (servingImage)", []graph.Node{dep}, nil))
		cs = append(cs, e.control(NoVulnerablePackage, Unknown, "no serving image, so no serving SBOM to check", sbomFix, []graph.Node{dep}, nil))
		return cs, nil
	}
	var unsigned, missing []string
	var good, bad []query.Evidence
	sbomPackages := 0
	for _, img := range images {
		iid, err := e.identity(ctx, img)
		if err != nil {
			return nil, err
		}
		boms, v := byRole(iid, graph.RoleSBOM)
		switch {
		case len(v) > 0:
			good = append(good, v...)
		case len(boms) == 0:
			missing = append(missing, query.RefOf(img).Name)
		default:
			unsigned = append(unsigned, query.RefOf(img).Name)
			bad = append(bad, boms...)
		}
		deps, err := e.r.Edges(ctx, img.ID, graph.Out, graph.DependsOn)
		if err != nil {
			return nil, fmt.Errorf("packages of %s: %w", img.ID, err)
		}
		sbomPackages += len(deps)
	}
	switch {
	case len(unsigned) > 0:
		msg := "SBOM of " + strings.Join(unsigned, ", ") + " is not signed by a trusted SBOM signer"
		if len(missing) > 0 {
			msg += "; no SBOM describes " + strings.Join(missing, ", ")
		}
		cs = append(cs, e.control(ServingSBOMSigned, Failed, msg, sbomFix, images, bad))
	case len(missing) > 0:
		cs = append(cs, e.control(ServingSBOMSigned, Unknown, "no SBOM describes the serving image "+strings.Join(missing, ", "), sbomFix, images, nil))
	default:
		cs = append(cs, e.control(ServingSBOMSigned, Passed, "serving image SBOM signed by "+signersOf(good), "", images, good))
	}
	t, err := e.taints(ctx)
	if err != nil {
		return nil, err
	}
	const vulnFix = "rebuild the serving image with fixed package versions, or ingest a signed VEX statement saying the vulnerability does not affect it"
	var hits []string
	var vulnNodes []graph.Node
	var vulnEv []query.Evidence
	for _, n := range append([]graph.Node{dep}, images...) {
		if hit, ok := t.vuln[n.ID]; ok {
			hits = append(hits, fmt.Sprintf("%s affects %s %s", query.RefOf(hit.root).Name, hit.via.Kind, query.RefOf(hit.via).Name))
			vulnNodes = append(vulnNodes, hit.root, hit.via)
			evs, err := e.evidence(ctx, hit.root.Docs)
			if err != nil {
				return nil, err
			}
			vulnEv = append(vulnEv, evs...)
			break
		}
	}
	switch {
	case len(hits) > 0:
		cs = append(cs, e.control(NoVulnerablePackage, Failed, "known-vulnerable package in the serving image: "+strings.Join(hits, "; "), vulnFix, vulnNodes, vulnEv))
	case sbomPackages == 0:
		cs = append(cs, e.control(NoVulnerablePackage, Unknown, "the serving image's packages are not known (no SBOM lists them)", sbomFix, images, nil))
	default:
		msg := fmt.Sprintf("no active vulnerability affects the %d packages the serving SBOM lists", sbomPackages)
		if t.partial {
			msg += " (the vulnerability walk was cut at its bounds)"
		}
		cs = append(cs, e.control(NoVulnerablePackage, Passed, msg, "", images, good))
	}
	return cs, nil
}

func (e *eval) sourceScorecard(ctx context.Context, m graph.Node, runs []graph.Node) (Control, error) {
	const fix = "run OpenSSF Scorecard on the training code repository (scorecard --format json, or its signed in-toto result) and ingest the result; raise the repository's score"
	srcs, err := e.trainingInputs(ctx, m, runs, graph.BuiltFrom, graph.KindSource)
	if err != nil {
		return Control{}, err
	}
	if len(srcs) == 0 {
		return e.control(SourceScorecard, Unknown, "no training code repository is recorded for this model", "ingest training provenance naming the code repository (git URI and commit)", []graph.Node{m}, nil), nil
	}
	var low, none, ok []string
	var good, bad []query.Evidence
	for _, src := range srcs {
		res, err := e.scorecardFor(ctx, src)
		if err != nil {
			return Control{}, err
		}
		repo := repoOf(src)
		if len(res) == 0 {
			none = append(none, repo)
			continue
		}
		latest := res[len(res)-1]
		ev, err := e.evidence(ctx, []string{latest.Document})
		if err != nil {
			return Control{}, err
		}
		where := "commit " + shortCommit(latest.Commit)
		if latest.Commit != "" && latest.Commit == src.Attr("commit") {
			where = "the training commit " + shortCommit(latest.Commit)
		}
		line := fmt.Sprintf("%s scored %.1f on %s at %s", repo, latest.Score, latest.Date, where)
		if latest.Score < e.pol.ScorecardMinScore {
			low = append(low, line)
			bad = append(bad, ev...)
		} else {
			ok = append(ok, line)
			good = append(good, ev...)
		}
	}
	threshold := fmt.Sprintf(" (threshold %.1f)", e.pol.ScorecardMinScore)
	switch {
	case len(low) > 0:
		return e.control(SourceScorecard, Failed, "under the Scorecard threshold: "+strings.Join(low, "; ")+threshold, fix, srcs, bad), nil
	case len(none) > 0:
		return e.control(SourceScorecard, Unknown, "no OpenSSF Scorecard result for "+strings.Join(none, ", "), fix, srcs, good), nil
	}
	return e.control(SourceScorecard, Passed, strings.Join(ok, "; ")+threshold, "", srcs, good), nil
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
