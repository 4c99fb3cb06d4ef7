package aibom

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/modelgraph/modelgraph/graph"
	graphref "github.com/modelgraph/modelgraph/graph/ref"
)

const assessorRef = "assessor-modelgraph"

// claim is one verified signature backing one component.
type claim struct {
	target string
	doc    graph.Document
	index  int // of the signature in doc.Signatures
}

// docURL names a document in modelgraph; the digest is also given as the
// reference's hash, so a reader can match the bytes they hold.
func docURL(digest string) string { return "urn:modelgraph:document:" + digest }

func docRefType(d graph.Document) cdx.ExternalReferenceType {
	t := strings.ToLower(d.Type)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(t, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("cyclonedx", "spdx", "sbom"):
		return cdx.ERTypeBOM
	case has("model-card", "modelcard"):
		return cdx.ERTypeModelCard
	case has("vex"):
		return cdx.ERTypeExploitabilityStatement
	case has("advisory", "osv", "csaf"):
		return cdx.ERTypeAdvisories
	case d.PredicateType != "" || has("oms", "model-signing", "intoto", "in-toto", "slsa", "attestation", "provenance"):
		// OMS signatures and SLSA provenance are in-toto statements:
		// signed statements of fact about their subjects.
		return cdx.ERTypeAttestation
	}
	return cdx.ERTypeEvidence
}

// signerText is graph/ref's one signer label.
func signerText(s graph.Signature) string { return graphref.SignerLabel(s) }

func docComment(d graph.Document) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s document %s", d.Type, d.Digest)
	var extra []string
	if d.PredicateType != "" {
		extra = append(extra, "predicate "+d.PredicateType)
	}
	if d.Source != "" {
		extra = append(extra, "source "+d.Source)
	}
	if len(extra) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(extra, ", "))
	}
	fmt.Fprintf(&b, "; verification: %s", d.Status())
	for i, s := range d.Signatures {
		fmt.Fprintf(&b, "; signature %d: %s, %s, signed by %s", i+1, s.Status, s.Method, signerText(s))
		if s.Reason != "" {
			fmt.Fprintf(&b, ", reason: %s", s.Reason)
		}
	}
	return b.String()
}

// attachEvidence adds to c an external reference per evidence document,
// indexed properties giving each document's verification facts (1.6 has no
// properties on external references), the strongest status as
// modelgraph:verification:status, and records a claim per verified
// signature. Unverified and failed signatures appear only as properties.
func (x *exporter) attachEvidence(c *cdx.Component, id graph.NodeID, ers []cdx.ExternalReference, p *props) {
	best := graph.Status("")
	i, failed := 0, 0
	for _, digest := range x.evidence(id) {
		d, ok := x.docs[digest]
		if !ok {
			continue
		}
		er := cdx.ExternalReference{URL: docURL(d.Digest), Type: docRefType(d), Comment: docComment(d)}
		if h := sha256Hex(d.Digest); validHashContent(h) {
			er.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: h}}
		}
		ers = append(ers, er)

		pre := propEvidence + strconv.Itoa(i) + ":"
		i++
		p.add(pre+"document:digest", d.Digest)
		p.add(pre+"document:type", d.Type)
		p.add(pre+"document:source", d.Source)
		p.add(pre+"predicate:type", d.PredicateType)
		st := d.Status()
		p.add(pre+"verification:status", string(st))
		if best == "" || st.Rank() > best.Rank() {
			best = st
		}
		if st == graph.StatusFailed {
			failed++
		}
		for j, s := range d.Signatures {
			sp := pre + "signature:" + strconv.Itoa(j) + ":"
			p.add(sp+"verification:status", string(s.Status))
			p.add(sp+"method", s.Method)
			p.add(sp+"signer:identity", s.Identity)
			p.add(sp+"signer:issuer", s.Issuer)
			p.add(sp+"signer:key", s.KeyID)
			p.add(sp+"reason", s.Reason)
			if s.LogIndex != 0 {
				p.add(sp+"log_index", strconv.FormatInt(s.LogIndex, 10))
			}
			if !s.IntegratedTime.IsZero() {
				p.add(sp+"integrated_time", s.IntegratedTime.UTC().Format(time.RFC3339))
			}
			if s.Status == graph.StatusVerified {
				x.claims = append(x.claims, claim{target: c.BOMRef, doc: d, index: j})
			}
		}
	}
	// The strongest status is what the graph's claims rest on; a failed
	// signature among the documents must not hide behind it.
	if best != "" {
		p.add(propVerification, string(best))
	}
	if failed > 0 {
		p.add(propVerificationFailed, strconv.Itoa(failed))
	}
	c.ExternalReferences = sortRefs(ers)
}

// declarations states, for each verified signature, the claim "signed by
// <signer>" about the component the document backs, with the document as
// evidence and modelgraph (which verified it at ingest) as assessor.
func (x *exporter) declarations() *cdx.Declarations {
	if len(x.claims) == 0 {
		return nil
	}
	var claims []cdx.Claim
	evidence := map[string]cdx.DeclarationEvidence{}
	for _, cl := range x.claims {
		d, s := cl.doc, cl.doc.Signatures[cl.index]
		tag := strings.ReplaceAll(d.Digest, ":", "-")
		evRef := "evidence-" + tag
		if _, ok := evidence[evRef]; !ok {
			ev := cdx.DeclarationEvidence{
				BOMRef:      evRef,
				Description: fmt.Sprintf("%s document %s, signature verified by modelgraph at ingest", d.Type, d.Digest),
				Data:        &[]cdx.EvidenceData{{Name: d.Digest, Contents: &cdx.EvidenceDataContents{URL: docURL(d.Digest)}}},
			}
			if !d.IngestedAt.IsZero() {
				ev.Created = d.IngestedAt.UTC().Format(time.RFC3339)
			}
			evidence[evRef] = ev
		}
		reasoning := fmt.Sprintf("%s signature %d of %s document %s verified against modelgraph's trust policy", s.Method, cl.index+1, d.Type, d.Digest)
		if s.LogIndex != 0 {
			reasoning += fmt.Sprintf("; transparency log index %d", s.LogIndex)
		}
		claims = append(claims, cdx.Claim{
			BOMRef:    fmt.Sprintf("claim-%s-%s-%d", cl.target, tag, cl.index),
			Target:    cdx.BOMReference(cl.target),
			Predicate: "signed by " + signerText(s),
			Evidence:  &[]cdx.BOMReference{cdx.BOMReference(evRef)},
			Reasoning: reasoning,
		})
	}
	slices.SortFunc(claims, func(a, b cdx.Claim) int { return cmp.Compare(a.BOMRef, b.BOMRef) })
	claims = slices.CompactFunc(claims, func(a, b cdx.Claim) bool { return a.BOMRef == b.BOMRef })
	refs := make([]cdx.BOMReference, len(claims))
	for i, c := range claims {
		refs[i] = cdx.BOMReference(c.BOMRef)
	}
	evs := make([]cdx.DeclarationEvidence, 0, len(evidence))
	for _, ev := range evidence {
		evs = append(evs, ev)
	}
	slices.SortFunc(evs, func(a, b cdx.DeclarationEvidence) int { return cmp.Compare(a.BOMRef, b.BOMRef) })
	return &cdx.Declarations{
		Assessors: &[]cdx.Assessor{{
			BOMRef:       assessorRef,
			Organization: &cdx.OrganizationalEntity{Name: "modelgraph"},
		}},
		Attestations: &[]cdx.Attestation{{
			Summary:  "Signatures verified by modelgraph when the documents were ingested",
			Assessor: assessorRef,
			Map:      &[]cdx.AttestationMap{{Claims: &refs}},
		}},
		Claims:   &claims,
		Evidence: &evs,
	}
}

// newestDocument is the latest ingestion time among the evidence documents
// (zero when there are none).
func (x *exporter) newestDocument() time.Time {
	var t time.Time
	for _, d := range x.docs {
		if d.IngestedAt.After(t) {
			t = d.IngestedAt
		}
	}
	return t
}
