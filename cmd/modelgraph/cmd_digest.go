package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/ingest/oms"
)

type digestFlags struct {
	serialization  string
	hashType       string
	shardSize      int64
	ignorePaths    []string
	ignoreGitPaths bool
	allowSymlinks  bool
	signature      string
	workers        int
	output         string
}

func newDigestCommand() *cobra.Command {
	var f digestFlags
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
			if f.output != "text" && f.output != "json" {
				return fmt.Errorf("--output %q: want text or json", f.output)
			}
			if f.workers < 0 {
				return fmt.Errorf("--workers %d: want 0 (all CPUs) or more", f.workers)
			}
			hashType := f.hashType
			if hashType == "blake2" { // model_signing's name for it
				hashType = "blake2b"
			}
			r, err := oms.Digest(cmd.Context(), args[0], oms.DigestOptions{
				Method:        f.serialization,
				HashType:      hashType,
				ShardSize:     f.shardSize,
				IgnorePaths:   f.ignorePaths,
				SignaturePath: f.signature,
				KeepGitPaths:  !f.ignoreGitPaths,
				AllowSymlinks: f.allowSymlinks,
				Hasher:        oms.Hasher{Workers: f.workers},
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			_, err = fmt.Fprintf(out, "%s  %s\n", r.RootDigest, args[0])
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.serialization, "serialization", oms.MethodFiles, "files or shards")
	fl.StringVar(&f.hashType, "hash-type", "sha256", "sha256, blake2b or blake3")
	fl.Int64Var(&f.shardSize, "shard-size", oms.DefaultShardSize, "shards: bytes per shard")
	fl.StringArrayVar(&f.ignorePaths, "ignore-paths", nil, "paths (relative to DIR) left out (repeatable)")
	fl.BoolVar(&f.ignoreGitPaths, "ignore-git-paths", true, "leave out .git, .gitattributes, .github and .gitignore at the model root")
	fl.BoolVar(&f.allowSymlinks, "allow-symlinks", false, "follow symlinks to files instead of refusing them")
	fl.StringVar(&f.signature, "signature", "", "a signature file inside DIR, left out (like DIR/model.sig when signing)")
	fl.IntVar(&f.workers, "workers", 0, "files hashed in parallel (default: number of CPUs)")
	fl.StringVarP(&f.output, "output", "o", "text", "output: text or json")
	return cmd
}
