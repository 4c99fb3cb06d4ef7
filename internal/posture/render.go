package posture

// ControlIDsInOrder lists the control ids in evaluation order (the CLI's
// CSV columns; the renderers live in internal/cli, over the GraphQL answer).
func ControlIDsInOrder() []string {
	out := make([]string, len(controls))
	for i, c := range controls {
		out[i] = c.ID
	}
	return out
}
