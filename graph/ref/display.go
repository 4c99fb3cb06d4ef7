package ref

import (
	"strings"

	"github.com/modelgraph/modelgraph/graph"
)

// nameAttrs are the attributes that claim a node's name, in preference
// order (ingest writes "name"; some cards and SBOMs "modelName" or
// "prettyName").
var nameAttrs = []string{"name", "modelName", "prettyName"}

// DisplayName is the one rule for showing a node (query answers, GraphQL
// displayName, the UI, CLI text, AI-BOM comments): NameOf, followed by
// "@version" when a version is claimed and the name does not already
// contain it. Examples: "acme/llm-7b@1.2", "clinical-notes@v3",
// "CVE-2024-3568", "prod/eu-1/chat/api", "hf://acme/x", "sha256:…".
func DisplayName(n graph.Node) string {
	name := NameOf(n)
	if ver := strings.TrimSpace(n.Attr("version")); ver != "" && claimedName(n) != "" && !strings.Contains(name, ver) {
		return name + "@" + ver
	}
	return name
}

// NameOf is DisplayName without the version, for formats that carry the
// version in a field of its own (CycloneDX and SPDX components). In order:
//
//  1. a claimed name (attribute name, modelName, prettyName);
//  2. by kind: an advisory's or vulnerability's advisoryId; a document's
//     "<type> <digest>"; an identity's certificate identity or "key <id>";
//  3. a key: name: (without the scheme), then deployment:, advisory:,
//     vuln: (without the scheme), then a purl, then a hub id (hf://...),
//     then any other URI, each whole;
//  4. any key that is not a digest, then the first key, then the node id.
func NameOf(n graph.Node) string {
	if v := claimedName(n); v != "" {
		return v
	}
	switch n.Kind {
	case graph.KindAdvisory, graph.KindVulnerability:
		if v := strings.TrimSpace(n.Attr("advisoryId")); v != "" {
			return v
		}
	case graph.KindDocument:
		if t := n.Attr("type"); t != "" {
			for _, k := range n.Keys {
				if graph.IsDigestKey(k) {
					return t + " " + k
				}
			}
		}
	case graph.KindIdentity:
		if v := n.Attr("identity"); v != "" {
			return v
		}
		if v := n.Attr("keyId"); v != "" {
			return "key " + v
		}
	}
	for _, scheme := range []string{graph.SchemeName, graph.SchemeDeployment, graph.SchemeAdvisory, graph.SchemeVuln} {
		for _, k := range n.Keys {
			if v, ok := strings.CutPrefix(k, scheme); ok && v != "" {
				return v
			}
		}
	}
	for _, scheme := range []string{graph.SchemePurl, graph.SchemeHF} {
		for _, k := range n.Keys {
			if strings.HasPrefix(k, scheme) {
				return k
			}
		}
	}
	for _, k := range n.Keys {
		if IsURI(k) {
			return k
		}
	}
	for _, k := range n.Keys {
		if !graph.IsDigestKey(k) {
			return k
		}
	}
	if len(n.Keys) > 0 {
		return n.Keys[0]
	}
	return string(n.ID)
}

func claimedName(n graph.Node) string {
	for _, a := range nameAttrs {
		for _, at := range n.Attrs {
			if at.Name == a {
				if v := strings.TrimSpace(at.Value); v != "" {
					return v
				}
			}
		}
	}
	return ""
}

// SignerLabel is the one rule for showing a signer: "identity (issuer)"
// for a certificate or keyless signature, the identity alone when the
// issuer is unknown, "key <hint>" for a key, else "unnamed <method>
// signer" ("unnamed signer" without a method).
func SignerLabel(s graph.Signature) string {
	switch {
	case s.Identity != "" && s.Issuer != "":
		return s.Identity + " (" + s.Issuer + ")"
	case s.Identity != "":
		return s.Identity
	case s.KeyID != "":
		return "key " + s.KeyID
	case s.Method != "":
		return "unnamed " + s.Method + " signer"
	}
	return "unnamed signer"
}

// refSchemes order the keys a responder would type back to name a node.
var refSchemes = []string{graph.SchemeName, graph.SchemeDeployment, graph.SchemeAdvisory, graph.SchemeVuln,
	graph.SchemeHF, graph.SchemePurl, graph.SchemeIdentity, graph.SchemeKey, graph.SchemeRun}

// Of is the reference a responder would type back to name n (search hits,
// "did you mean" suggestions): its first key of the schemes name:,
// deployment:, advisory:, vuln:, hf://, pkg:, oidc:, key:, run:, in that
// order, else its first key, else its id. Parse reads it back.
func Of(n graph.Node) string {
	for _, scheme := range refSchemes {
		for _, k := range n.Keys {
			if strings.HasPrefix(k, scheme) {
				return k
			}
		}
	}
	if len(n.Keys) > 0 {
		return n.Keys[0]
	}
	return string(n.ID)
}
