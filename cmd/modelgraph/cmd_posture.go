package main

import (
	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/internal/cli"
)

// exitBelowLevel is the exit status when a subject sits below --min-level.
const exitBelowLevel = cli.ExitBelowLevel

func newPostureCommand() *cobra.Command {
	cmd := questionCommand(cli.Posture())
	cmd.Short = "MLSecOps posture: the controls each model and deployment meets and its level (L0..L3)"
	cmd.Long = `Posture evaluates the MLSecOps controls of docs/posture.md (weights signed,
training provenance, datasets attested, lineage, advisories, serving SBOM,
vulnerable packages, Scorecard of the training code, deployment record) and
the level (L0..L3) they add up to under a YAML posture policy (--policy;
defaults in docs/posture.md).

With REF (a model or deployment reference) it prints that subject's
controls, each passed, failed or unknown with why and what would fix it.
Without REF it prints a report, one row per model and deployment.

--min-level N makes it a CI gate: the exit status is 3 when REF, or any row
of the report, sits below LN.

  modelgraph posture deployment:production/eu-west-1/ml-serving/clinical-chat
  modelgraph posture --environment production --min-level 2
  modelgraph posture --kind Deployment -o csv > posture.csv`
	cmd.Flags().Lookup("output").Usage = "output: table, json or csv"
	return cmd
}
