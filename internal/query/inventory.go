package query

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelgraph/modelgraph/graph"
)

// NodeFilter selects nodes of an inventory. Empty fields select all.
type NodeFilter struct {
	// Environment: a deployment's environment; a model deployed there.
	Environment string `json:"environment,omitempty"`
	// State: "active" or "withdrawn". For an advisory, its settled status;
	// for a deployment, whether a model serves it now; for a model,
	// whether one of its deployments is active (a model never deployed
	// has no state).
	State string `json:"state,omitempty"`
	// Status: "verified", "unverified" (anything but verified), "failed",
	// "unverifiable" or "unsigned": the node's own evidence (Identity).
	Status string `json:"status,omitempty"`
	// ReachedByActiveAdvisory: true keeps the nodes an active advisory
	// reaches (directly or downstream), false the others.
	ReachedByActiveAdvisory *bool `json:"reachedByActiveAdvisory,omitempty"`
	// Signer: a document naming the node as its subject is signed by this
	// identity (certificate SAN, e-mail) or key id (or a key-id prefix of
	// at least 8 characters).
	Signer string `json:"signer,omitempty"`
	// IngestedSince: a document mentioning the node was ingested at or
	// after this time.
	IngestedSince *time.Time `json:"ingestedSince,omitempty"`
}

// InventoryItem is one node of an inventory with the facts filters use.
type InventoryItem struct {
	Node     Node     `json:"node"`
	Identity Identity `json:"identity"`
	// Environments: a deployment's environment, or those a model is
	// deployed to.
	Environments []string `json:"environments,omitempty"`
	// State: see NodeFilter.State ("" when it does not apply).
	State string `json:"state,omitempty"`
	// ReachedBy is the active advisory reaching the node (when asked).
	ReachedBy *NodeRef `json:"reachedBy,omitempty"`
	// LastIngested is when the latest document mentioning it was ingested.
	LastIngested time.Time `json:"lastIngested,omitzero"`
}

// InventoryAnswer is one page of an inventory.
type InventoryAnswer struct {
	Items    []InventoryItem `json:"items"`
	PageInfo PageInfo        `json:"pageInfo"`
}

var (
	states   = []string{"active", "withdrawn"}
	statuses = []string{"verified", "unverified", "failed", "unverifiable", "unsigned"}
)

// Nodes lists the nodes of kind matching f, in id order.
func (s *Service) Nodes(ctx context.Context, kind graph.NodeKind, f NodeFilter, p Page) (InventoryAnswer, error) {
	if !kind.Valid() {
		return InventoryAnswer{}, fmt.Errorf("%w: kind %q is not a node kind", ErrInvalidArgument, kind)
	}
	f.State, f.Status = strings.ToLower(strings.TrimSpace(f.State)), strings.ToLower(strings.TrimSpace(f.Status))
	if f.State != "" && !slices.Contains(states, f.State) {
		return InventoryAnswer{}, fmt.Errorf("%w: state %q is not one of %s", ErrInvalidArgument, f.State, strings.Join(states, ", "))
	}
	if f.Status != "" && !slices.Contains(statuses, f.Status) {
		return InventoryAnswer{}, fmt.Errorf("%w: status %q is not one of %s", ErrInvalidArgument, f.Status, strings.Join(statuses, ", "))
	}
	if len(f.Environment) > MaxRefLen || len(f.Signer) > MaxRefLen {
		return InventoryAnswer{}, fmt.Errorf("%w: filter value longer than %d bytes", ErrInvalidArgument, MaxRefLen)
	}
	l := s.loader()
	var taint map[graph.NodeID]taint
	if f.ReachedByActiveAdvisory != nil {
		t, _, err := s.taints(ctx, l, DefaultDepth)
		if err != nil {
			return InventoryAnswer{}, err
		}
		taint = t
	}
	items, info, err := scanPage(ctx, s, []graph.NodeKind{kind}, p, func(n graph.Node) (InventoryItem, bool, error) {
		return s.inventoryItem(ctx, l, n, f, taint)
	}, func(it InventoryItem) Node { return it.Node })
	return InventoryAnswer{Items: items, PageInfo: info}, err
}

// inventoryItem builds n's item and says whether it passes f.
func (s *Service) inventoryItem(ctx context.Context, l *loader, n graph.Node, f NodeFilter, taints map[graph.NodeID]taint) (InventoryItem, bool, error) {
	it := InventoryItem{Node: toNode(n)}
	if taints != nil {
		t, ok := taints[n.ID]
		if ok != *f.ReachedByActiveAdvisory {
			return it, false, nil
		}
		if ok {
			a := t.advisory
			it.ReachedBy = &a
		}
	}
	var err error
	switch n.Kind {
	case graph.KindDeployment:
		if env := n.Attr("environment"); env != "" {
			it.Environments = []string{env}
		}
		if it.State, err = s.deploymentState(ctx, l, n); err != nil {
			return it, false, err
		}
	case graph.KindModel:
		es, err := s.r.Edges(ctx, n.ID, graph.Out, graph.DeployedAs)
		if err != nil {
			return it, false, fmt.Errorf("deployments of %s: %w", displayName(n), err)
		}
		for _, e := range es {
			d, err := s.r.Node(ctx, e.To)
			if err != nil {
				return it, false, fmt.Errorf("deployment %s: %w", e.To, err)
			}
			if env := d.Attr("environment"); env != "" && !slices.Contains(it.Environments, env) {
				it.Environments = append(it.Environments, env)
			}
			h, err := l.served(ctx, e, toRef(n), time.Now())
			if err != nil {
				return it, false, err
			}
			if h.State == "active" || it.State == "" {
				it.State = h.State
			}
		}
		slices.Sort(it.Environments)
	case graph.KindAdvisory, graph.KindVulnerability:
		st, err := l.settledClaim(ctx, n.Attrs, "status", n.Kind, advisoryPreference)
		if err != nil {
			return it, false, err
		}
		it.State = "withdrawn"
		if IsActiveStatus(st) {
			it.State = "active"
		}
	}
	if f.Environment != "" && !slices.ContainsFunc(it.Environments, func(e string) bool { return strings.EqualFold(e, f.Environment) }) {
		return it, false, nil
	}
	if f.State != "" && it.State != f.State {
		return it, false, nil
	}
	if it.Identity, err = l.identity(ctx, n, ""); err != nil {
		return it, false, err
	}
	switch f.Status {
	case "":
	case "unverified":
		if it.Identity.Verified {
			return it, false, nil
		}
	default:
		if string(it.Identity.Status) != f.Status {
			return it, false, nil
		}
	}
	if f.Signer != "" && !signedBy(it.Identity.DescribedBy, f.Signer) {
		return it, false, nil
	}
	if f.IngestedSince != nil || n.Kind == graph.KindDocument {
		ev, err := l.evidence(ctx, n.Docs)
		if err != nil {
			return it, false, err
		}
		for _, e := range ev {
			if e.IngestedAt.After(it.LastIngested) {
				it.LastIngested = e.IngestedAt
			}
		}
		if f.IngestedSince != nil && it.LastIngested.Before(*f.IngestedSince) {
			return it, false, nil
		}
	}
	return it, true, nil
}

func signedBy(evs []Evidence, signer string) bool {
	signer = strings.TrimSpace(signer)
	for _, e := range evs {
		for _, sg := range e.Signers {
			if strings.EqualFold(sg.Identity, signer) || sg.KeyID == signer ||
				(len(signer) >= 8 && strings.HasPrefix(sg.KeyID, signer)) ||
				graph.SignerKey(graph.Signature{Identity: sg.Identity, Issuer: sg.Issuer, KeyID: sg.KeyID}) == signer {
				return true
			}
		}
	}
	return false
}

// deploymentState is "active" when a model serves the deployment now (a
// deployment no record ties to a model counts as active, as in
// DeployedModelsTrainedOn), else "withdrawn".
func (s *Service) deploymentState(ctx context.Context, l *loader, d graph.Node) (string, error) {
	es, err := s.r.Edges(ctx, d.ID, graph.In, graph.DeployedAs)
	if err != nil {
		return "", fmt.Errorf("models of %s: %w", displayName(d), err)
	}
	if len(es) == 0 {
		return "active", nil
	}
	for _, e := range es {
		m, err := s.r.Node(ctx, e.From)
		if err != nil {
			return "", fmt.Errorf("model %s: %w", e.From, err)
		}
		h, err := l.served(ctx, e, toRef(m), time.Now())
		if err != nil {
			return "", err
		}
		if h.State == "active" {
			return "active", nil
		}
	}
	return "withdrawn", nil
}
