package main

import "github.com/spf13/cobra"

// newVerifyCommand is replaced by the OMS work (modelgraph verify model DIR ...).
func newVerifyCommand() *cobra.Command {
	return &cobra.Command{Use: "verify", Short: "Verify model signatures"}
}
