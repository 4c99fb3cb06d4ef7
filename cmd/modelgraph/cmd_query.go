package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/internal/cli"
)

// exitDenied is the exit status of an admission the policy denies.
const exitDenied = cli.ExitDenied

func newQueryCommand() *cobra.Command {
	var (
		o        clientOptions
		op, vars string
	)
	cmd := &cobra.Command{
		Use:   "query [QUESTION]",
		Short: "Ask incident questions: locally against the store, or against --server",
		Long: `Query answers incident-response questions. Each answer carries, for every
hop, the documents behind it, who signed them and whether the signature
verified; hops resting only on unsigned, unverifiable or failed evidence are
marked.

Each question is one GraphQL operation (internal/client/operations). Without
--server it runs in this process against the configured local store (the
store flags; an embedded store cannot be opened while "modelgraph serve"
holds it: use --server then). With --server it runs on the server. Both go
through the same schema and resolvers and print the same bytes.

  modelgraph query impact --dataset clinical-notes@v3
  modelgraph query deployed-trained-on --dataset s3://acme-data/clinical-notes/v3/
  modelgraph query trace --model sha256:ab12...
  modelgraph query --server https://mg.example --token-file tok --graphql '{ stats { nodes } }'

References may be a digest (sha256:...), a purl, a name (acme/llm-7b), an
hf:// or https://huggingface.co URI, a dataset URI, a node id or any graph
key. --output json prints the operation's answer.`,
		Args: cobra.NoArgs,
	}
	addClientFlags(cmd, &o)
	cmd.Flags().StringVar(&op, "graphql", "", "a GraphQL operation to send (to --server, or the local store); prints the raw JSON answer")
	cmd.Flags().StringVar(&vars, "variables", "", "JSON object of variables for --graphql")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if op == "" {
			return errors.New("give a question (see --help) or --graphql")
		}
		var v map[string]any
		if vars != "" {
			if err := json.Unmarshal([]byte(vars), &v); err != nil {
				return fmt.Errorf("--variables: %w", err)
			}
		}
		c, done, err := o.target.Connect(cmd.Context())
		if err != nil {
			return err
		}
		defer done()
		raw, err := c.Raw(cmd.Context(), op, v)
		if err != nil {
			return err
		}
		var answer map[string]any
		if err := json.Unmarshal(raw, &answer); err != nil {
			return fmt.Errorf("graphql answer: %w", err)
		}
		if err := cli.WriteJSON(cmd.OutOrStdout(), answer); err != nil {
			return err
		}
		if answer["errors"] != nil {
			return &exitError{code: 1, err: errors.New("the answer carries errors")}
		}
		return nil
	}
	for _, q := range cli.Questions() {
		cmd.AddCommand(questionCommand(q))
	}
	return cmd
}
