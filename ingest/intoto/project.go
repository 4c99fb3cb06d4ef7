package intoto

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	graphref "github.com/modelgraph/modelgraph/graph/ref"
)

// datasetKeys are the name and location keys of a dataset: name:<name>@<version>
// when versioned (a bare name:<name> would merge every version into one
// node), name:<name> otherwise, and the URI.
func datasetKeys(name, version, uri string) []string {
	var keys []string
	switch {
	case name != "" && version != "":
		keys = append(keys, graph.NameKey(name+"@"+version))
	case name != "":
		keys = append(keys, graph.NameKey(name))
	}
	if h, ok := graphref.ParseHF(uri); ok {
		keys = append(keys, hfKeys(h, true)...)
	} else if graphref.IsURI(uri) {
		keys = append(keys, graphref.URI(uri))
	}
	return keys
}

// dataset maps https://modelgraph.dev/attestation/dataset/v1.
func (p *parser) dataset(pred value) error {
	if err := p.predicateObject(pred); err != nil {
		return err
	}
	if err := p.validateSchema(pred); err != nil {
		return err
	}
	name, _ := pred.get("name").str()
	version, _ := pred.get("version").str()
	uri, _ := pred.get("uri").str()
	license, _ := pred.get("license").str()
	desc, _ := pred.get("description").str()

	keys := datasetKeys(name, version, uri)
	var files []int
	if len(p.st.Subject) == 1 {
		// One subject is the dataset itself: its digests identify it.
		keys = append(slices.Clone(p.subjects[0]), keys...)
	} else {
		// Several subjects are the dataset's files (shards).
		for i := range p.st.Subject {
			files = append(files, p.subject(i, graph.KindFile))
		}
	}
	di := p.b.Node(graph.KindDataset, validKeys(keys)...)
	p.b.Set(di, "name", name)
	p.b.Set(di, "version", version)
	p.b.Set(di, "uri", graphref.URI(uri))
	p.b.Set(di, "license", license)
	p.b.Set(di, "description", desc)
	p.b.Describes(di)
	for _, f := range files {
		p.b.Edge(di, graph.Contains, f)
		p.b.Describes(f)
	}

	coll := pred.get("collection")
	method, _ := coll.get("method").str()
	p.b.Set(di, "collectionMethod", method)
	start, _ := coll.get("period").get("start").str()
	end, _ := coll.get("period").get("end").str()
	p.b.Set(di, "collectionStart", start)
	p.b.Set(di, "collectionEnd", end)
	p.setJSON(di, "collectionSources", coll.get("sources"))
	p.setJSON(di, "preprocessing", pred.get("preprocessing"))

	if sd := pred.get("sensitiveData"); sd.present() {
		pii, _ := sd.get("pii").v.(bool)
		phi, _ := sd.get("phi").v.(bool)
		p.b.Set(di, "pii", strconv.FormatBool(pii))
		p.b.Set(di, "phi", strconv.FormatBool(phi))
		cats, err := p.stringList(sd.get("categories"))
		if err != nil {
			return err
		}
		for i := range cats {
			cats[i] = strings.ToLower(strings.TrimSpace(cats[i]))
		}
		slices.Sort(cats)
		p.b.Set(di, "sensitiveCategories", strings.Join(slices.Compact(cats), ","))
	}

	srcs, err := pred.get("sourceDatasets").items()
	if err != nil {
		return err
	}
	for _, sv := range srcs {
		sname, _ := sv.get("name").str()
		sver, _ := sv.get("version").str()
		suri, _ := sv.get("uri").str()
		digests, err := p.digestRef(sv.get("digest"))
		if err != nil {
			return err
		}
		skeys := validKeys(append(digests, datasetKeys(sname, sver, suri)...))
		if len(skeys) == 0 {
			return p.errf(ErrInvalidPredicate, sv.ptr, "names no dataset")
		}
		si := p.b.Node(graph.KindDataset, skeys...)
		p.b.Set(si, "name", sname)
		p.b.Set(si, "version", sver)
		p.b.Set(si, "uri", graphref.URI(suri))
		p.b.Edge(di, graph.DerivedFrom, si)
	}
	return nil
}

// deployment maps https://modelgraph.dev/attestation/deployment/v1.
func (p *parser) deployment(pred value) error {
	if err := p.predicateObject(pred); err != nil {
		return err
	}
	if err := p.validateSchema(pred); err != nil {
		return err
	}
	loc, err := p.location(pred, "environment", "cluster", "namespace", "service")
	if err != nil {
		return err
	}
	endpoint, _ := pred.get("endpoint").str()
	deployed, err := p.timestamp(pred.get("deployedAt"))
	if err != nil {
		return err
	}
	undeployedV := pred.get("undeployedAt")
	undeployed, err := p.timestamp(undeployedV)
	if err != nil {
		return err
	}
	if undeployed != "" {
		d, _ := time.Parse(time.RFC3339Nano, deployed)
		u, _ := time.Parse(time.RFC3339Nano, undeployed)
		if u.Before(d) {
			return p.errf(ErrInvalidPredicate, undeployedV.ptr, "%s is before deployedAt %s", undeployed, deployed)
		}
	}
	key := loc.key()
	if _, err := graph.NormalizeKey(key); err != nil {
		return p.errf(ErrInvalidPredicate, pred.ptr, "deployment key: %v", err)
	}

	di := p.b.Node(graph.KindDeployment, key)
	loc.set(p, di)
	p.b.Set(di, "endpoint", graphref.URI(endpoint))
	status := "active"
	if undeployed != "" {
		status = "withdrawn"
	}
	for _, m := range p.modelSubjects() {
		p.b.Edge(m, graph.DeployedAs, di, "deployedAt", deployed, "undeployedAt", undeployed, "status", status)
	}

	if img := pred.get("servingImage"); img.present() {
		nameV := img.get("name")
		name, _ := nameV.str()
		gi, ok := graphref.ParseImage(name)
		if !ok {
			gi, ok = graphref.ImagePath(name)
		}
		ref := imageFrom(gi)
		if !ok {
			return p.errf(ErrInvalidPredicate, nameV.ptr, "%q is not an image reference", truncate(name, 80))
		}
		digests, err := p.digestRef(img.get("digest"))
		if err != nil {
			return err
		}
		if ref.digest != "" && len(digests) > 0 && !slices.Contains(digests, ref.digest) {
			return p.errf(ErrInvalidPredicate, img.get("digest").ptr, "does not match the digest in name %q", truncate(name, 80))
		}
		if ref.digest == "" && len(digests) > 0 {
			ref.digest = digests[0]
			ref.purl = ociPurl(ref.name, ref.tag, ref.digest)
		}
		ii := p.b.Node(graph.KindPackage, validKeys(append(digests, append(ref.digestKeys(), ref.purl)...))...)
		p.b.Set(ii, "image", ref.name)
		p.b.Set(ii, "tag", ref.tag)
		p.b.Set(ii, "purl", ref.purl)
		p.b.Edge(di, graph.DependsOn, ii, "role", "servingImage")
	}
	return nil
}
