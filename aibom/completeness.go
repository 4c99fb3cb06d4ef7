package aibom

import (
	"fmt"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// Completeness properties: how much of the CycloneDX modelCard and data
// fields the graph could fill, so an AI-BOM says how much it knows.
const (
	propCompleteness  = "modelgraph:aibom:completeness"   // share 0.00..1.00
	propMissingFields = "modelgraph:aibom:missing_fields" // comma-separated field paths
)

// field is one CycloneDX field an ML component should carry.
type field struct {
	path   string
	filled func(c *cdx.Component) bool
}

func card(c *cdx.Component) *cdx.MLModelCard {
	if c.ModelCard == nil {
		return &cdx.MLModelCard{}
	}
	return c.ModelCard
}

func params(c *cdx.Component) *cdx.MLModelParameters {
	if p := card(c).ModelParameters; p != nil {
		return p
	}
	return &cdx.MLModelParameters{}
}

func considerations(c *cdx.Component) *cdx.MLModelCardConsiderations {
	if p := card(c).Considerations; p != nil {
		return p
	}
	return &cdx.MLModelCardConsiderations{}
}

func some[T any](p *[]T) bool { return p != nil && len(*p) > 0 }

// modelFields are the CycloneDX 1.6 fields of a machine-learning-model
// component and its modelCard.
var modelFields = []field{
	{"hashes", func(c *cdx.Component) bool { return some(c.Hashes) }},
	{"licenses", func(c *cdx.Component) bool { return c.Licenses != nil && len(*c.Licenses) > 0 }},
	{"supplier", func(c *cdx.Component) bool { return c.Supplier != nil || c.Author != "" || some(c.Authors) }},
	{"pedigree", func(c *cdx.Component) bool { return c.Pedigree != nil }},
	{"modelCard.modelParameters.approach", func(c *cdx.Component) bool { return params(c).Approach != nil }},
	{"modelCard.modelParameters.task", func(c *cdx.Component) bool { return params(c).Task != "" }},
	{"modelCard.modelParameters.architectureFamily", func(c *cdx.Component) bool { return params(c).ArchitectureFamily != "" }},
	{"modelCard.modelParameters.modelArchitecture", func(c *cdx.Component) bool { return params(c).ModelArchitecture != "" }},
	{"modelCard.modelParameters.datasets", func(c *cdx.Component) bool { return some(params(c).Datasets) }},
	{"modelCard.modelParameters.inputs", func(c *cdx.Component) bool { return some(params(c).Inputs) }},
	{"modelCard.modelParameters.outputs", func(c *cdx.Component) bool { return some(params(c).Outputs) }},
	{"modelCard.quantitativeAnalysis", func(c *cdx.Component) bool { return card(c).QuantitativeAnalysis != nil }},
	{"modelCard.considerations.users", func(c *cdx.Component) bool { return some(considerations(c).Users) }},
	{"modelCard.considerations.useCases", func(c *cdx.Component) bool { return some(considerations(c).UseCases) }},
	{"modelCard.considerations.technicalLimitations", func(c *cdx.Component) bool { return some(considerations(c).TechnicalLimitations) }},
	{"modelCard.considerations.ethicalConsiderations", func(c *cdx.Component) bool { return some(considerations(c).EthicalConsiderations) }},
}

func data(c *cdx.Component) *cdx.ComponentData {
	if c.Data == nil || len(*c.Data) == 0 {
		return &cdx.ComponentData{}
	}
	return &(*c.Data)[0]
}

// dataFields are the CycloneDX 1.6 fields of a data component.
var dataFields = []field{
	{"hashes", func(c *cdx.Component) bool { return some(c.Hashes) }},
	{"licenses", func(c *cdx.Component) bool { return c.Licenses != nil && len(*c.Licenses) > 0 }},
	{"data.contents", func(c *cdx.Component) bool { return data(c).Contents != nil }},
	{"data.classification", func(c *cdx.Component) bool { return data(c).Classification != "" }},
	{"data.sensitiveData", func(c *cdx.Component) bool { return some(data(c).SensitiveData) }},
	{"data.governance", func(c *cdx.Component) bool { return data(c).Governance != nil }},
	{"data.description", func(c *cdx.Component) bool { return data(c).Description != "" || c.Description != "" }},
}

// completeness scores the model and data components of bom: each gets its
// share of filled fields and the list of missing ones as properties, and
// the metadata the share over all of them (fields filled / fields
// expected). A BOM with no model or data component gets no score.
func completeness(bom *cdx.BOM, md *props) {
	filled, total := 0, 0
	score := func(c *cdx.Component) {
		var fs []field
		switch c.Type {
		case cdx.ComponentTypeMachineLearningModel:
			fs = modelFields
		case cdx.ComponentTypeData:
			fs = dataFields
		default:
			return
		}
		n := 0
		var missing []string
		for _, f := range fs {
			if f.filled(c) {
				n++
			} else {
				missing = append(missing, f.path)
			}
		}
		filled += n
		total += len(fs)
		var p props
		if c.Properties != nil {
			p = props(*c.Properties)
		}
		p.add(propCompleteness, ratio(n, len(fs)))
		p.add(propMissingFields, strings.Join(missing, ","))
		c.Properties = p.list()
	}
	if bom.Metadata != nil && bom.Metadata.Component != nil {
		score(bom.Metadata.Component)
	}
	if bom.Components != nil {
		for i := range *bom.Components {
			score(&(*bom.Components)[i])
		}
	}
	if total > 0 {
		md.add(propCompleteness, ratio(filled, total))
	}
}

func ratio(n, d int) string { return fmt.Sprintf("%.2f", float64(n)/float64(d)) }
