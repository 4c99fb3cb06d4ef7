package intoto

// HFRef is a Hugging Face repository reference: hf://[datasets/]org/name,
// https://huggingface.co/[datasets/]org/name/..., or pkg:huggingface/org/name.
type HFRef struct {
	ID       string // "org/name", or a legacy "name"
	Dataset  bool
	Revision string // "" when the reference pins none
}

// ParseHF recognises a Hugging Face reference. Hub ids name repositories,
// not revisions: Keys ignore the revision, so every reference to one
// repository meets on one node (docs/mapping.md).
func ParseHF(ref string) (HFRef, bool) {
	h, ok := parseHF(ref)
	return HFRef{ID: h.id, Dataset: h.dataset, Revision: h.revision}, ok
}

// Keys are the node keys of the repository: hf://<id> (models) or
// hf://datasets/<id> (datasets), then name:<id>.
func (h HFRef) Keys() []string { return hfRef{id: h.ID}.keys(h.Dataset) }
