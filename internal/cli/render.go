package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/modelgraph/modelgraph/internal/client"
)

// The text renderers of the questions. They read only the operations'
// answers, so a local run and a --server run print the same bytes.

func tabw(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 2, 4, 2, ' ', 0) }

func lineageTable(w io.Writer, l client.LineageFields, upstream bool) {
	dir := "downstream of"
	if upstream {
		dir = "upstream of"
	}
	fmt.Fprintf(w, "%s %s\n", dir, nodeNames(l.Roots))
	tw := tabw(w)
	fmt.Fprintln(tw, "DEPTH\tKIND\tNAME\tEVIDENCE\tPATH")
	for _, r := range l.Reached {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", r.Depth, r.Node.Kind, r.Node.Name, r.Status, chain(r.Path, r.Node.Id))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d node(s)%s\n", len(l.Reached), cut(l.Truncated, l.DepthLimited))
	if len(l.Signers) > 0 {
		fmt.Fprintln(w, "signers:")
		for _, s := range l.Signers {
			fmt.Fprintf(w, "  %s %s (%d document(s))\n", signerName(s.Signer), s.Signer.Status, len(s.Documents))
		}
	}
}

func deployedTable(w io.Writer, d client.DeployedAnswer) {
	fmt.Fprintf(w, "dataset: %s\n", nodeNames(d.Datasets))
	var models []string
	for _, m := range d.Models {
		models = append(models, m.Name)
	}
	fmt.Fprintf(w, "models trained on it (%d): %s\n", len(d.Models), strings.Join(models, ", "))
	tw := tabw(w)
	fmt.Fprintln(tw, "DEPLOYMENT\tENVIRONMENT\tSTATE\tMODEL\tDEPLOYED AT\tEVIDENCE\tPATH")
	for _, x := range d.Deployments {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.Deployment.Name, dash(x.Environment), x.State, x.Model.Name, dash(x.DeployedAt), x.Status, chain(x.Path, x.Deployment.Id))
	}
	tw.Flush()
	for _, x := range d.Deployments {
		for _, h := range x.History {
			var ws []string
			for _, win := range h.Windows {
				ws = append(ws, win.From+" .. "+dash(win.To))
			}
			trust := "trusted records"
			if !h.Trusted {
				trust = "no trusted record"
			}
			fmt.Fprintf(w, "  %s history: %s %s [%s] (%s)\n", x.Deployment.Name, h.Model.Name, h.State, strings.Join(ws, ", "), trust)
		}
	}
	fmt.Fprintf(w, "%d deployment(s)%s\n", len(d.Deployments), cut(d.Truncated, d.DepthLimited))
}

func explainTable(w io.Writer, e client.ExplainAnswer) {
	fmt.Fprintf(w, "%s → %s: %s\n", nodeNames(e.From), nodeNames(e.To), e.Summary)
	for i, h := range e.Path {
		fmt.Fprintf(w, "%2d. %s %s %s  [%s]\n", i+1, h.From.Name, h.Kind, h.To.Name, h.Status)
		for _, ev := range h.Evidence {
			fmt.Fprintf(w, "      %s\n", evidenceLine(ev))
		}
		if h.Weakness != "" {
			fmt.Fprintf(w, "      ! %s\n", h.Weakness)
		}
	}
}

func signaturesTable(w io.Writer, r client.SignaturesAnswer) {
	fmt.Fprintf(w, "signer: %s\n", nodeNames(r.Identities))
	tw := tabw(w)
	fmt.Fprintln(tw, "DOCUMENT\tTYPE\tSIGNATURE\tINGESTED\tDESCRIBES\tREASON")
	for _, d := range r.Documents {
		var subj []string
		for _, n := range d.Describes {
			subj = append(subj, n.Name)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Document.Document, d.Document.Type, d.Signature.Status,
			d.Document.IngestedAt.UTC().Format("2006-01-02 15:04"), strings.Join(subj, ", "), dash(d.Signature.Reason))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d document(s)\n", len(r.Documents))
}

func unverifiedTable(w io.Writer, r client.UnverifiedAnswer) {
	tw := tabw(w)
	fmt.Fprintln(tw, "KIND\tNAME\tSTATUS\tREASON")
	for _, it := range r.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Node.Kind, it.Node.Name, it.Identity.Status, it.Identity.Reason)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d unverified\n", len(r.Items))
}

func advisoriesTable(w io.Writer, r client.AdvisoriesAnswer) {
	tw := tabw(w)
	fmt.Fprintln(tw, "ID\tSEVERITY\tSTATUS\tACTIVE\tAFFECTS\tSUMMARY")
	for _, x := range r.Items {
		var aff []string
		for _, h := range x.Affects {
			aff = append(aff, string(h.To.Kind)+" "+h.To.Name)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\n", x.Id, dash(x.Severity), dash(x.Status), x.Active, strings.Join(aff, ", "), dash(x.Summary))
	}
	tw.Flush()
}

func affectedTable(w io.Writer, as []client.AffectedFields, truncated, depthLimited bool) {
	tw := tabw(w)
	fmt.Fprintln(tw, "KIND\tNAME\tVIA\tDEPTH\tEVIDENCE\tPATH")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", a.Node.Kind, a.Node.Name, a.Via.Name, a.Depth, a.Status, chain(a.Path, a.Node.Id))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d affected%s\n", len(as), cut(truncated, depthLimited))
}

func rollbackTable(w io.Writer, r client.RollbackAnswer) {
	var cur []string
	for _, m := range r.Current {
		cur = append(cur, m.Name)
	}
	fmt.Fprintf(w, "deployment %s runs %s\n", r.Deployment.Name, strings.Join(cur, ", "))
	tw := tabw(w)
	fmt.Fprintln(tw, "RELATION\tDISTANCE\tKEPT\tMODEL\tEVIDENCE\tREASONS")
	for _, c := range r.Candidates {
		fmt.Fprintf(tw, "%s\t%d\t%v\t%s\t%s\t%s\n", c.Relation, c.Distance, c.Kept, c.Model.Name, c.Identity.Status, strings.Join(c.Reasons, "; "))
	}
	tw.Flush()
	if r.Recommended != nil {
		fmt.Fprintf(w, "recommended: %s (%s, %d hop(s))\n", r.Recommended.Model.Name, r.Recommended.Relation, r.Recommended.Distance)
	} else {
		fmt.Fprintln(w, "recommended: none (no candidate is clear of active advisories)")
	}
	if r.Incomplete {
		fmt.Fprintln(w, "warning: a walk hit its bounds; an advisory may reach further than shown")
	}
}

func admissionTable(w io.Writer, d client.AdmissionAnswer) {
	verdict := "DENY"
	if d.Allow {
		verdict = "ALLOW"
	}
	fmt.Fprintf(w, "%s %s %s\n", verdict, d.Digest, nodeNames(d.Subjects))
	for _, c := range d.Checks {
		mark := "pass"
		if !c.Passed {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %-13s %s\n", mark, c.Rule, c.Message)
		for _, h := range c.Hops {
			fmt.Fprintf(w, "       %s %s %s [%s]\n", h.From.Name, h.Kind, h.To.Name, h.Status)
		}
	}
}

func lookupTable(w io.Writer, ds []client.LookupAnswer) {
	for _, d := range ds {
		fmt.Fprintf(w, "%s %s (id %s)\n  keys: %s\n  evidence: %s", d.Node.Kind, d.Node.Name, d.Node.Id, strings.Join(d.Node.Keys, ", "), d.Identity.Status)
		if d.Identity.Reason != "" {
			fmt.Fprintf(w, " — %s", d.Identity.Reason)
		}
		fmt.Fprintln(w)
		for _, e := range d.Identity.DescribedBy {
			fmt.Fprintf(w, "    %s\n", evidenceLine(e))
		}
		for _, a := range d.Node.Attrs {
			fmt.Fprintf(w, "  %s = %s\n", a.Name, clipText(a.Value, 100))
		}
		if d.Files > 0 {
			fmt.Fprintf(w, "  files: %d\n", d.Files)
		}
		for _, h := range d.Edges {
			fmt.Fprintf(w, "  %s %s %s [%s]\n", h.From.Name, h.Kind, h.To.Name, h.Status)
		}
		if d.EdgesTotal > len(d.Edges) {
			fmt.Fprintf(w, "  … %d more edges\n", d.EdgesTotal-len(d.Edges))
		}
	}
}

// chain renders a path ending at end as claims in walk order
// ("a -KIND-> b <-KIND- c"), marking hops that are not verified.
func chain(hops []client.HopFields, end string) string {
	if len(hops) == 0 {
		return ""
	}
	// Walk back from the end to find each hop's near side.
	names := make([]string, len(hops)+1)
	near := make([]string, len(hops))
	cur := end
	for i := len(hops) - 1; i >= 0; i-- {
		h := hops[i]
		names[i+1] = h.To.Name
		near[i] = h.From.Id
		if h.From.Id == cur {
			names[i+1] = h.From.Name
			near[i] = h.To.Id
		}
		cur = near[i]
	}
	var sb strings.Builder
	for i, h := range hops {
		if i == 0 {
			if h.From.Id == near[0] {
				sb.WriteString(h.From.Name)
			} else {
				sb.WriteString(h.To.Name)
			}
		}
		mark := ""
		if !h.Verified {
			mark = "[" + string(h.Status) + "]"
		}
		if h.From.Id == near[i] {
			fmt.Fprintf(&sb, " -%s%s-> %s", h.Kind, mark, names[i+1])
		} else {
			fmt.Fprintf(&sb, " <-%s%s- %s", h.Kind, mark, names[i+1])
		}
	}
	return sb.String()
}

func evidenceLine(e client.EvidenceFields) string {
	s := fmt.Sprintf("%s %s %s", e.Type, e.Document, e.Status)
	for _, sg := range e.Signers {
		s += fmt.Sprintf("; signed by %s: %s", signerName(sg), sg.Status)
		if sg.Reason != "" {
			s += " (" + sg.Reason + ")"
		}
	}
	return s
}

func signerName(s client.SignerFields) string { return s.Label }

func nodeNames(ns []client.NodeFields) string {
	var out []string
	for _, n := range ns {
		out = append(out, string(n.Kind)+" "+n.Name)
	}
	return strings.Join(out, ", ")
}

func cut(truncated, depthLimited bool) string {
	switch {
	case truncated:
		return " (walk stopped at its size limit: the list is incomplete)"
	case depthLimited:
		return " (walk stopped at its depth limit: raise --depth for more)"
	}
	return ""
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
