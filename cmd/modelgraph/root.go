package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/internal/buildinfo"
)

// NewRootCommand builds the command tree; tests drive it with SetArgs.
func NewRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "modelgraph",
		Short:         "ML supply-chain graph: ingest signatures, attestations and SBOMs; answer incident questions",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newServeCommand(),
		newIngestCommand(),
		newVerifyCommand(),
		newDigestCommand(),
		newExportCommand(),
		newPushCommand(),
		newQueryCommand(),
		newPostureCommand(),
		newSearchCommand(),
		newListCommand(),
		newCollectCommand(),
		newWatchCommand(),
		newVersionCommand(),
	)
	return root
}

// exitError carries a process exit code (e.g. 1 for "verification failed").
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// checkOutput accepts the --output values of text commands.
func checkOutput(output string) error {
	if output != "text" && output != "json" {
		return fmt.Errorf("--output %q: want text or json", output)
	}
	return nil
}

// printJSON prints v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

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
