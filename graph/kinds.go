// Package graph holds the supply-chain graph model (node and edge kinds, keys,
// evidence), the Batch one document's mutations travel in, and the Store
// contract every backend implements. It knows nothing of GraphQL or of any
// document format: ingest packages produce Batches, query packages read.
package graph

// NodeKind is the kind of a node. The set is closed: a backend may rely on it
// fitting in a byte.
type NodeKind string

const (
	KindModel         NodeKind = "Model"
	KindDataset       NodeKind = "Dataset"
	KindFile          NodeKind = "File"
	KindPackage       NodeKind = "Package"
	KindSource        NodeKind = "Source"
	KindDeployment    NodeKind = "Deployment"
	KindTrainingRun   NodeKind = "TrainingRun"
	KindIdentity      NodeKind = "Identity"
	KindAdvisory      NodeKind = "Advisory"
	KindVulnerability NodeKind = "Vulnerability"
	KindDocument      NodeKind = "Document"
)

// NodeKinds lists every node kind in a fixed order; the index of a kind in
// this slice is its compact code (see NodeKind.Code).
var NodeKinds = []NodeKind{
	KindModel, KindDataset, KindFile, KindPackage, KindSource, KindDeployment,
	KindTrainingRun, KindIdentity, KindAdvisory, KindVulnerability, KindDocument,
}

var nodeKindCode = func() map[NodeKind]uint8 {
	m := make(map[NodeKind]uint8, len(NodeKinds))
	for i, k := range NodeKinds {
		m[k] = uint8(i + 1)
	}
	return m
}()

// Valid reports whether k is one of NodeKinds.
func (k NodeKind) Valid() bool { _, ok := nodeKindCode[k]; return ok }

// Code is a compact non-zero code for k (0 for an invalid kind).
func (k NodeKind) Code() uint8 { return nodeKindCode[k] }

// NodeKindFromCode inverts Code.
func NodeKindFromCode(c uint8) NodeKind {
	if c == 0 || int(c) > len(NodeKinds) {
		return ""
	}
	return NodeKinds[c-1]
}

// EdgeKind is the kind of an edge. Edges are directed; which end is
// "upstream" in lineage depends on the kind (see ForwardIsUpstream).
type EdgeKind string

const (
	// TrainedOn: Model -> Dataset (attr "split": train|validation|test|...).
	TrainedOn EdgeKind = "TRAINED_ON"
	// DerivedFrom: Model -> parent Model (attr "relation":
	// finetune|adapter|quantized|merge|distilled|other), Dataset -> source Dataset.
	DerivedFrom EdgeKind = "DERIVED_FROM"
	// Contains: Model|Dataset -> File.
	Contains EdgeKind = "CONTAINS"
	// DeployedAs: Model -> Deployment.
	DeployedAs EdgeKind = "DEPLOYED_AS"
	// DependsOn: Model|Deployment|Package|TrainingRun -> Package.
	DependsOn EdgeKind = "DEPENDS_ON"
	// BuiltFrom: Model -> Source.
	BuiltFrom EdgeKind = "BUILT_FROM"
	// ProducedBy: Model|Dataset|File -> TrainingRun (File: outputs of builds that are not models).
	ProducedBy EdgeKind = "PRODUCED_BY"
	// SignedBy: Document -> Identity (attr "status": the verification status).
	SignedBy EdgeKind = "SIGNED_BY"
	// Affects: Advisory|Vulnerability -> the affected node.
	Affects EdgeKind = "AFFECTS"
	// Describes: Document -> the node(s) it is about (its subjects).
	Describes EdgeKind = "DESCRIBES"
	// Uses: TrainingRun -> an input (Dataset, Model, Source, Package) it consumed.
	Uses EdgeKind = "USES"
)

// EdgeKinds lists every edge kind; the index is the compact code.
var EdgeKinds = []EdgeKind{
	TrainedOn, DerivedFrom, Contains, DeployedAs, DependsOn, BuiltFrom,
	ProducedBy, SignedBy, Affects, Describes, Uses,
}

var edgeKindCode = func() map[EdgeKind]uint8 {
	m := make(map[EdgeKind]uint8, len(EdgeKinds))
	for i, k := range EdgeKinds {
		m[k] = uint8(i + 1)
	}
	return m
}()

// Valid reports whether k is one of EdgeKinds.
func (k EdgeKind) Valid() bool { _, ok := edgeKindCode[k]; return ok }

// Code is a compact non-zero code for k (0 for an invalid kind).
func (k EdgeKind) Code() uint8 { return edgeKindCode[k] }

// EdgeKindFromCode inverts Code.
func EdgeKindFromCode(c uint8) EdgeKind {
	if c == 0 || int(c) > len(EdgeKinds) {
		return ""
	}
	return EdgeKinds[c-1]
}

// ForwardIsUpstream reports whether following an edge of this kind from its
// From end to its To end moves upstream in the supply chain (towards inputs:
// datasets, parents, files, packages, sources, signers). DEPLOYED_AS, AFFECTS
// and DESCRIBES point the other way: their To end is downstream of From.
// Upstream/Downstream traversals use this so that callers ask lineage
// questions, not edge-direction questions.
func (k EdgeKind) ForwardIsUpstream() bool {
	switch k {
	case DeployedAs, Affects, Describes:
		return false
	}
	return true
}

// Direction selects which incident edges a neighbour query or traversal
// follows.
type Direction uint8

const (
	// Out follows edges from their From end.
	Out Direction = iota + 1
	// In follows edges from their To end.
	In
	// Upstream follows edges towards inputs (see EdgeKind.ForwardIsUpstream).
	Upstream
	// Downstream follows edges towards consumers and deployments.
	Downstream
	// Both follows every incident edge.
	Both
)

func (d Direction) String() string {
	switch d {
	case Out:
		return "out"
	case In:
		return "in"
	case Upstream:
		return "upstream"
	case Downstream:
		return "downstream"
	case Both:
		return "both"
	}
	return "invalid"
}

// Valid reports whether d is a known direction.
func (d Direction) Valid() bool { return d >= Out && d <= Both }

// Follows reports whether an edge of kind k, seen from its From end when
// forward is true (or from its To end when false), is followed in direction d.
func (d Direction) Follows(k EdgeKind, forward bool) bool {
	switch d {
	case Out:
		return forward
	case In:
		return !forward
	case Upstream:
		return forward == k.ForwardIsUpstream()
	case Downstream:
		return forward != k.ForwardIsUpstream()
	case Both:
		return true
	}
	return false
}
