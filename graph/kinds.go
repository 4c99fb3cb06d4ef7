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

// NodeKinds lists every node kind in code order.
var NodeKinds = []NodeKind{
	KindModel, KindDataset, KindFile, KindPackage, KindSource, KindDeployment,
	KindTrainingRun, KindIdentity, KindAdvisory, KindVulnerability, KindDocument,
}

// nodeKindCodes are the kinds' compact codes. They are stored (embedded
// keys and records, the index snapshot) and order the walk (edge kinds):
// a code never changes and is never reused; a new kind takes the next
// one. TestKindCodesGolden (testdata/kinds.golden) pins them.
var nodeKindCodes = map[NodeKind]uint8{
	KindModel:         1,
	KindDataset:       2,
	KindFile:          3,
	KindPackage:       4,
	KindSource:        5,
	KindDeployment:    6,
	KindTrainingRun:   7,
	KindIdentity:      8,
	KindAdvisory:      9,
	KindVulnerability: 10,
	KindDocument:      11,
}

var (
	nodeKindCode   = nodeKindCodes
	nodeKindByCode = invert(nodeKindCodes)
)

func invert[K ~string](m map[K]uint8) map[uint8]K {
	out := make(map[uint8]K, len(m))
	for k, c := range m {
		if c == 0 {
			panic("graph: kind " + string(k) + " has code 0")
		}
		if _, dup := out[c]; dup {
			panic("graph: two kinds share a code")
		}
		out[c] = k
	}
	return out
}

// Valid reports whether k is one of NodeKinds.
func (k NodeKind) Valid() bool { _, ok := nodeKindCode[k]; return ok }

// Code is a compact non-zero code for k (0 for an invalid kind).
func (k NodeKind) Code() uint8 { return nodeKindCode[k] }

// NodeKindFromCode inverts Code ("" for an unknown code).
func NodeKindFromCode(c uint8) NodeKind { return nodeKindByCode[c] }

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

// EdgeKinds lists every edge kind in code order.
var EdgeKinds = []EdgeKind{
	TrainedOn, DerivedFrom, Contains, DeployedAs, DependsOn, BuiltFrom,
	ProducedBy, SignedBy, Affects, Describes, Uses,
}

// edgeKindCodes are the edge kinds' compact codes: stored and ordering
// the walk's canonical order (SortHalfEdges), so fixed like
// nodeKindCodes and pinned by the same golden test.
var edgeKindCodes = map[EdgeKind]uint8{
	TrainedOn:   1,
	DerivedFrom: 2,
	Contains:    3,
	DeployedAs:  4,
	DependsOn:   5,
	BuiltFrom:   6,
	ProducedBy:  7,
	SignedBy:    8,
	Affects:     9,
	Describes:   10,
	Uses:        11,
}

var (
	edgeKindCode   = edgeKindCodes
	edgeKindByCode = invert(edgeKindCodes)
)

// Valid reports whether k is one of EdgeKinds.
func (k EdgeKind) Valid() bool { _, ok := edgeKindCode[k]; return ok }

// Code is a compact non-zero code for k (0 for an invalid kind).
func (k EdgeKind) Code() uint8 { return edgeKindCode[k] }

// EdgeKindFromCode inverts Code ("" for an unknown code).
func EdgeKindFromCode(c uint8) EdgeKind { return edgeKindByCode[c] }

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
