// Package buildinfo says which modelgraph this is, the same way everywhere
// it is printed or embedded (CLI, /healthz, AI-BOM tool metadata).
package buildinfo

import "runtime/debug"

// version is set at build time: -ldflags "-X github.com/modelgraph/modelgraph/internal/buildinfo.version=v1.2.3".
var version = "dev"

// Version returns the version, the VCS revision when known, and the Go version.
func Version() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		v += " " + bi.GoVersion
	}
	return v
}
