package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/app"
)

func newIngestCommand() *cobra.Command {
	var subject, role, output string
	cmd := &cobra.Command{
		Use:   "ingest PATH...",
		Short: "Ingest documents (OMS signatures, attestations, SBOMs, model cards) into the local store",
		Long: `Ingest reads each file (directories recursively) and writes one atomic
document per file into the configured store. Already-ingested documents are
reported as duplicates. It stops at the first malformed document and says
which one and why; documents before it stay ingested.`,
		Args: cobra.MinimumNArgs(1),
	}
	settings := withSettings(cmd)
	cmd.Flags().StringVar(&subject, "subject", "", "digest the SBOMs describe (e.g. sha256:...)")
	cmd.Flags().StringVar(&role, "role", "", "SBOM role: serving-image or training-environment")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output: text or json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := settings()
		if err != nil {
			return err
		}
		if output != "text" && output != "json" {
			return fmt.Errorf("--output %q: want text or json", output)
		}
		files, err := expand(args)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		store, err := app.OpenStore(ctx, c)
		if err != nil {
			return err
		}
		defer store.Close()
		pipe, err := app.NewPipeline(c, store, nil)
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		var all []ingest.Result
		for _, f := range files {
			data, err := readLimited(f, c.MaxBodyBytes)
			if err != nil {
				return err
			}
			rs, err := pipe.Ingest(ctx, ingest.Input{Data: data, Source: f, Subject: subject, Role: role})
			if err != nil {
				return err
			}
			all = append(all, rs...)
			if output == "text" {
				for _, r := range rs {
					printResult(out, r)
				}
			}
		}
		if output == "json" {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(all)
		}
		return nil
	}
	return cmd
}

func printResult(w io.Writer, r ingest.Result) {
	if r.Receipt.Duplicate {
		fmt.Fprintf(w, "%s: %s %s duplicate (already ingested)\n", r.Source, r.Document.Type, r.Receipt.Document)
		return
	}
	fmt.Fprintf(w, "%s: %s %s %s, %d nodes and %d edges created, %d nodes and %d edges updated\n",
		r.Source, r.Document.Type, r.Receipt.Document, r.Receipt.Status,
		r.Receipt.NodesCreated, r.Receipt.EdgesCreated, r.Receipt.NodesTouched, r.Receipt.EdgesTouched)
}

// expand lists the files named by args, walking directories in lexical order.
func expand(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() != "." && len(d.Name()) > 1 && d.Name()[0] == '.' {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", path, ingest.ErrTooLarge, max)
	}
	return data, nil
}
