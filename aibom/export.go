package aibom

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"sync"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/uuid"

	"github.com/modelgraph/modelgraph/graph"
)

// Format is an output format.
type Format string

// Spec is a CycloneDX specification version.
type Spec string

const (
	FormatJSON Format = "json"
	FormatXML  Format = "xml"

	Spec1_6 Spec = "1.6" // the default: what most consumers read today
	Spec1_7 Spec = "1.7"
)

// serialNamespace is the UUID v5 namespace of derived serial numbers.
var serialNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/modelgraph/modelgraph/aibom"))

// Export builds the AI-BOM the request asks for. It fails with an error
// wrapping graph.ErrNotFound when the subject does not exist and
// ErrInvalidRequest when the request is malformed or too large.
func Export(ctx context.Context, r graph.Reader, req Request) (*cdx.BOM, error) {
	if r == nil {
		return nil, errors.New("aibom: export: graph reader is nil")
	}
	if err := req.check(); err != nil {
		return nil, err
	}
	x := &exporter{ctx: ctx, r: r, req: req}
	starts, err := x.subjects()
	if err != nil {
		return nil, fmt.Errorf("aibom: %w", err)
	}
	if err := x.collect(starts); err != nil {
		return nil, fmt.Errorf("aibom: %w", err)
	}
	bom, err := x.build()
	if err != nil {
		return nil, fmt.Errorf("aibom: %w", err)
	}
	return bom, nil
}

func (x *exporter) build() (*cdx.BOM, error) {
	runtime := x.runtimePackages()
	comps := make([]cdx.Component, 0, len(x.order))
	var buildOnly []cdx.Component
	var subject *cdx.Component
	deps := make(map[string][]string, len(x.order))
	// Packages are most of a large export and depend on nothing shared:
	// build them in parallel, in place.
	pkgs := make([]cdx.Component, len(x.order))
	err := forEach(x.ctx, len(x.order), func(i int) error {
		if x.nodes[x.order[i]].Kind == graph.KindPackage {
			pkgs[i] = x.packageComponent(x.order[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, id := range x.order {
		var c cdx.Component
		var on []graph.NodeID
		switch x.nodes[id].Kind {
		case graph.KindModel:
			c = x.modelComponent(id)
			on = append(x.outTo(id, graph.DerivedFrom, graph.KindModel), x.outTo(id, graph.TrainedOn, graph.KindDataset)...)
			on = append(on, x.outTo(id, graph.DependsOn, graph.KindPackage)...)
		case graph.KindDataset:
			c = x.datasetComponent(id)
			on = x.outTo(id, graph.DerivedFrom, graph.KindDataset)
		case graph.KindPackage:
			c = pkgs[i]
			on = x.outTo(id, graph.DependsOn, graph.KindPackage)
		case graph.KindDeployment:
			c = x.deploymentComponent(id)
			on = append(x.inFrom(id, graph.DeployedAs, graph.KindModel), x.outTo(id, graph.DependsOn, graph.KindPackage)...)
		default:
			continue // files nest in their parents; sources and runs are references and workflows
		}
		if k := x.nodes[id].Kind; x.req.Annotate != nil && (k == graph.KindModel || k == graph.KindDeployment) {
			extra, err := x.req.Annotate(x.ctx, x.nodes[id])
			if err != nil {
				return nil, err
			}
			if len(extra) > 0 {
				var p props
				if c.Properties != nil {
					p = props(*c.Properties)
				}
				p = append(p, extra...)
				c.Properties = p.list()
			}
		}
		deps[c.BOMRef] = x.refList(on)
		switch {
		case id == x.subject:
			subject = &c
		case x.nodes[id].Kind == graph.KindPackage && !runtime[id]:
			buildOnly = append(buildOnly, c)
		default:
			comps = append(comps, c)
		}
	}
	var md props
	switch {
	case x.req.Model != "":
		md.add(propExportRequest, "model "+string(x.req.Model))
	case x.req.Deployment != "":
		md.add(propExportRequest, "deployment "+string(x.req.Deployment))
	default:
		md.add(propExportRequest, "environment "+x.req.Environment)
		env := &cdx.Component{
			BOMRef:     "environment-" + x.req.Environment,
			Type:       cdx.ComponentTypePlatform,
			Name:       x.req.Environment,
			Properties: &[]cdx.Property{{Name: propDeployment + "environment", Value: x.req.Environment}},
		}
		x.sortByRef(x.deployments)
		deps[env.BOMRef] = x.refList(x.deployments)
		subject = env
	}

	bom := cdx.NewBOM()
	bom.SpecVersion = cdx.SpecVersion1_6
	bom.JSONSchema = "http://cyclonedx.org/schema/bom-1.6.schema.json"
	bom.XMLNS = "http://cyclonedx.org/schema/bom/1.6"
	ts := x.req.Timestamp
	if ts.IsZero() {
		ts = x.newestDocument()
	}
	tool := cdx.Component{Type: cdx.ComponentTypeApplication, Name: "modelgraph", Version: x.req.ToolVersion}
	bom.Metadata = &cdx.Metadata{
		Tools:     &cdx.ToolsChoice{Components: &[]cdx.Component{tool}},
		Component: subject,
	}
	if !ts.IsZero() {
		bom.Metadata.Timestamp = ts.UTC().Format(time.RFC3339)
	}
	if x.req.Timestamp.IsZero() && x.req.SerialNumber == "" {
		md.add(propReproducible, "true")
	}
	bom.Components = nonEmpty(comps)
	completeness(bom, &md)
	bom.Metadata.Properties = md.list()
	bom.Dependencies = dependencies(deps)
	bom.Formulation = x.formulation(buildOnly)
	bom.Declarations = x.declarations()

	bom.SerialNumber = x.req.SerialNumber
	if bom.SerialNumber == "" {
		s, err := derivedSerial(x.ctx, bom)
		if err != nil {
			return nil, err
		}
		bom.SerialNumber = s
	}
	return bom, nil
}

// runtimePackages are the packages reachable through DEPENDS_ON from a
// model or deployment: what the model runs with. The rest were reached only
// through training runs.
func (x *exporter) runtimePackages() map[graph.NodeID]bool {
	seen := map[graph.NodeID]bool{}
	var stack []graph.NodeID
	for _, id := range x.order {
		if k := x.nodes[id].Kind; k == graph.KindModel || k == graph.KindDeployment {
			stack = append(stack, id)
		}
	}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, e := range x.out[id] {
			if e.Kind == graph.DependsOn && !seen[e.To] && x.nodes[e.To].Kind == graph.KindPackage {
				seen[e.To] = true
				stack = append(stack, e.To)
			}
		}
	}
	return seen
}

// dependencies lists one entry per component, sorted by ref, each with its
// dependsOn sorted and unique: a component with no entry would mean
// "unknown", one with no dependsOn means "depends on nothing we know of".
func dependencies(deps map[string][]string) *[]cdx.Dependency {
	refs := make([]string, 0, len(deps))
	for r := range deps {
		refs = append(refs, r)
	}
	slices.Sort(refs)
	out := make([]cdx.Dependency, 0, len(refs))
	for _, r := range refs {
		on := slices.Clone(deps[r])
		slices.Sort(on)
		on = slices.Compact(on)
		out = append(out, cdx.Dependency{Ref: r, Dependencies: nonEmpty(on)})
	}
	return nonEmpty(out)
}

// derivedSerial is a UUID v5 whose name is the BOM's canonical content:
// its JSON encoding (serial number empty) with each component replaced by
// the SHA-256 of its own JSON encoding, so that the components, most of a
// large BOM, can be encoded in parallel. The same content always gets the
// same serial, different content a different one.
func derivedSerial(ctx context.Context, bom *cdx.BOM) (string, error) {
	var comps []cdx.Component
	if bom.Components != nil {
		comps = *bom.Components
	}
	sums := make([][sha256.Size]byte, len(comps))
	err := forEach(ctx, len(comps), func(i int) error {
		e := hashEncoders.Get().(*hashEncoder)
		defer hashEncoders.Put(e)
		e.h.Reset()
		if err := e.enc.Encode(&comps[i]); err != nil {
			return err
		}
		e.h.Sum(sums[i][:0])
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("serial number: encode: %w", err)
	}
	h := sha1.New()
	h.Write(serialNamespace[:])
	shell := *bom
	shell.SerialNumber = ""
	shell.Components = nil
	if err := json.NewEncoder(h).Encode(&shell); err != nil {
		return "", fmt.Errorf("serial number: encode: %w", err)
	}
	for _, s := range sums {
		h.Write(s[:])
	}
	var u uuid.UUID
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u.URN(), nil
}

// hashEncoder streams a JSON encoding into a SHA-256 without keeping it.
type hashEncoder struct {
	h   hash.Hash
	enc *json.Encoder
}

var hashEncoders = sync.Pool{New: func() any {
	h := sha256.New()
	return &hashEncoder{h: h, enc: json.NewEncoder(h)}
}}

// Encode writes bom in format for spec (FormatJSON and Spec1_6 when
// empty), pretty-printed.
func Encode(w io.Writer, bom *cdx.BOM, format Format, spec Spec) error {
	if bom == nil {
		return fmt.Errorf("%w: encode: BOM is nil", ErrInvalidRequest)
	}
	if format == FormatSPDX3 {
		if err := checkSPDX3Spec(spec); err != nil {
			return err
		}
		return EncodeSPDX3(w, bom)
	}
	ff, sv, err := resolveFormat(format, spec)
	if err != nil {
		return err
	}
	if ff == cdx.BOMFileFormatJSON {
		if err := cdx.NewBOMEncoder(w, ff).SetPretty(true).EncodeVersion(bom, sv); err != nil {
			return fmt.Errorf("aibom: encode CycloneDX %s JSON: %w", sv, err)
		}
		return nil
	}
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, ff).SetPretty(true).EncodeVersion(bom, sv); err != nil {
		return fmt.Errorf("aibom: encode CycloneDX %s XML: %w", sv, err)
	}
	fixed, err := fixXML(buf.Bytes())
	if err != nil {
		return fmt.Errorf("aibom: encode CycloneDX %s XML: %w", sv, err)
	}
	if _, err := w.Write(fixed); err != nil {
		return fmt.Errorf("aibom: write BOM: %w", err)
	}
	return nil
}

// ContentType is the media type of a BOM encoded in format for spec, for
// HTTP responses: "application/vnd.cyclonedx+json; version=1.6".
func ContentType(format Format, spec Spec) (string, error) {
	if format == FormatSPDX3 {
		if err := checkSPDX3Spec(spec); err != nil {
			return "", err
		}
		return spdx3MediaType, nil
	}
	ff, sv, err := resolveFormat(format, spec)
	if err != nil {
		return "", err
	}
	mt := cdx.MediaTypeJSON
	if ff == cdx.BOMFileFormatXML {
		mt = cdx.MediaTypeXML
	}
	return mt.WithVersion(sv)
}

// checkSPDX3Spec accepts "", "3.0.1" and the CycloneDX default "1.6" that
// callers pass when no version was asked for (the GraphQL argument's
// default); any other version is an error.
func checkSPDX3Spec(spec Spec) error {
	switch spec {
	case "", SpecSPDX3, "3.0", Spec1_6:
		return nil
	}
	return fmt.Errorf("%w: SPDX 3 export is SPDX 3.0.1, not version %q", ErrInvalidRequest, trunc(string(spec), 40))
}

func resolveFormat(format Format, spec Spec) (cdx.BOMFileFormat, cdx.SpecVersion, error) {
	var ff cdx.BOMFileFormat
	switch format {
	case FormatJSON, "":
		ff = cdx.BOMFileFormatJSON
	case FormatXML:
		ff = cdx.BOMFileFormatXML
	default:
		return 0, 0, fmt.Errorf("%w: format %q is not json, xml or spdx3", ErrInvalidRequest, trunc(string(format), 40))
	}
	var sv cdx.SpecVersion
	switch spec {
	case Spec1_6, "":
		sv = cdx.SpecVersion1_6
	case Spec1_7:
		sv = cdx.SpecVersion1_7
	default:
		return 0, 0, fmt.Errorf("%w: CycloneDX version %q is not 1.6 or 1.7", ErrInvalidRequest, trunc(string(spec), 40))
	}
	return ff, sv, nil
}
