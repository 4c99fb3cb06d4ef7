package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/internal/config"
)

// withSettings gives cmd every setting as a flag and returns a loader that
// layers defaults, file, env and flags when the command runs.
func withSettings(cmd *cobra.Command) func() (config.Config, error) {
	c := config.Defaults()
	config.RegisterFlags(cmd.Flags(), &c)
	return func() (config.Config, error) { return config.Load(cmd.Flags(), os.Getenv) }
}
