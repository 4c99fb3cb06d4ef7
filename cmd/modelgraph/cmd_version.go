package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/internal/buildinfo"
)

func versionString() string { return buildinfo.Version() }

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "modelgraph", versionString())
			return err
		},
	}
}
