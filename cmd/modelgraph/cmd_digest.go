package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/ingest/oms"
)

func newDigestCommand() *cobra.Command {
	var (
		o         oms.DigestOptions
		ignoreGit bool
		output    string
	)
	cmd := &cobra.Command{
		Use:   "digest DIR",
		Short: "Print the OpenSSF Model Signing root digest of a model directory",
		Long: `Digest hashes a model (DIR, or a file) the way an OMS signer does and prints
its root digest: the subject digest a signature over the model carries, so an
attestation naming that digest can be paired with the directory. The options
are those a signature records (see 'verify model').`,
		Example: `  modelgraph digest ./llm
  modelgraph digest ./llm --serialization shards --shard-size 1000000000 --hash-type sha256
  modelgraph digest ./llm --ignore-paths README.md -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if o.Hasher.Workers < 0 {
				return fmt.Errorf("--workers %d: want 0 (all CPUs) or more", o.Hasher.Workers)
			}
			if o.HashType == "blake2" { // model_signing's name for it
				o.HashType = "blake2b"
			}
			o.KeepGitPaths = !ignoreGit
			r, err := oms.Digest(cmd.Context(), args[0], o)
			switch {
			case err != nil:
				return err
			case output == "json":
				return printJSON(cmd.OutOrStdout(), r)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s  %s\n", r.RootDigest, args[0])
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Method, "serialization", oms.MethodFiles, "files or shards")
	fl.StringVar(&o.HashType, "hash-type", "sha256", "sha256, blake2b or blake3")
	fl.Int64Var(&o.ShardSize, "shard-size", oms.DefaultShardSize, "shards: bytes per shard")
	fl.StringArrayVar(&o.IgnorePaths, "ignore-paths", nil, "paths (relative to DIR) left out (repeatable)")
	fl.BoolVar(&ignoreGit, "ignore-git-paths", true, "leave out .git, .gitattributes, .github and .gitignore at the model root")
	fl.BoolVar(&o.AllowSymlinks, "allow-symlinks", false, "follow symlinks to files instead of refusing them")
	fl.StringVar(&o.SignaturePath, "signature", "", "a signature file inside DIR, left out (like DIR/model.sig when signing)")
	fl.IntVar(&o.Hasher.Workers, "workers", 0, "files hashed in parallel (default: number of CPUs)")
	fl.StringVarP(&output, "output", "o", "text", "output: text or json")
	return cmd
}
