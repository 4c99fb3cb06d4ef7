// Package ref is the one home of the reference grammar and of the display
// rule: how a key of each scheme is built, how a string a user pastes (or a
// document writes) becomes the graph keys it may mean, and how a node and a
// signer are shown.
//
// # Keys
//
// Constructors build every key scheme the graph writes: [Digest],
// [HF.Key] (hf://org/name, hf://datasets/org/name), [Name], [Purl],
// [Image] (oci://, docker://), [URI] (s3://, gs://, https://... dataset
// and file locations, credentials dropped), [Deployment],
// [DeploymentPolicy], [Advisory], [Vuln], [Run], [Identity], [PublicKey].
// Ingest parsers call them instead of writing scheme literals.
//
// # References
//
// [Parse] reads what a responder types or pastes. Accepted spellings:
//
//	0123...(32 hex)                     a node id
//	sha256:<hex>, SHA-256:<HEX>, ...    a digest of any algorithm graph.NormalizeAlgorithm knows
//	<64|96|128 hex>                     a bare sha256, sha384 or sha512 digest
//	hf://org/name[@rev]                 a Hugging Face model; hf://datasets/org/name a dataset
//	https://huggingface.co/org/name[/tree/<rev>/...], https://hf.co/..., https://www.huggingface.co/...
//	http://huggingface.co/...           the same repository (normalised, see below)
//	pkg:huggingface/org/name@rev        the purl, and the hub repository it names
//	pkg:pypi/torch@2.1.0                any other package URL
//	oci://registry/repo[:tag][@sha256:<hex>]   an image, and its digest when pinned
//	s3://..., gs://..., git+https://... any other URI (userinfo dropped)
//	name:..., deployment:..., advisory:..., vuln:..., oidc:..., key:..., run:...
//	                                    any graph key with its scheme
//	acme/llm-7b, clinical-notes@v3      a bare name: name:, hf://, vuln: (CVE-,
//	                                    GHSA-, OSV-, PYSEC- ids), advisory:,
//	                                    deployment: keys, tried in that order
//	llama3:8b                           a colon that is no known scheme: the key
//	                                    as written, then the name
//
// http:// Hugging Face URLs are normalised, not refused: a hub key names a
// repository, not a transport, and nothing is fetched from it, so a
// document or a responder writing http:// means the same repository as
// https:// or hf://. A revision (@rev, /tree/<rev>) never becomes part of
// the key: hub ids name repositories, every reference to one repository
// meets on one node; the revision is kept in [HF.Revision].
//
// Errors wrap [ErrInvalid] and are [*Error] values naming the reason.
//
// The package imports graph, the standard library and packageurl-go
// (purls are read by the library, as ingest reads them, never by hand).
//
// # Resolution
//
// [Lookup] is the one resolution order: the node with the reference's id,
// else the nodes of the first candidate key that names any node. The query
// service and the AI-BOM exporter both call it, so one string names the
// same node in both.
//
// # Display
//
// [DisplayName] is the one rule for showing a node: its name, followed by
// "@version" when a version is claimed and the name does not already carry
// it ("acme/llm-7b@1.2"). [NameOf] is the same rule without the version,
// for formats with a separate version field (CycloneDX, SPDX).
// [SignerLabel] shows a signer: "identity (issuer)", "identity", or
// "key <hint>".
package ref
