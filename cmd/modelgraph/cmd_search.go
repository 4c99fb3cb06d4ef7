package main

import (
	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/internal/cli"
)

// The front door: `modelgraph search` and `modelgraph list`.

func newSearchCommand() *cobra.Command { return questionCommand(cli.Search()) }

func newListCommand() *cobra.Command { return questionCommand(cli.List()) }
