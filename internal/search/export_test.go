package search

// Builds counts the indexes built by a scan of the store (Build), so tests
// can tell a snapshot load from a rebuild.
func Builds() int64 { return builds.Load() }
