package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/Khan/genqlient/graphql"
	"github.com/spf13/pflag"

	"github.com/modelgraph/modelgraph/internal/client"
)

// The server's walk depths (query.DefaultDepth, query.MaxDepth), for help
// texts; TestDepthsAreTheServers keeps them true.
const defaultDepth, maxDepth = 12, 64

// Questions are the `modelgraph query` questions, in help order.
func Questions() []Question {
	return []Question{
		lineage("trace", "Upstream of an artifact: datasets, base models, code, packages, training runs, signers",
			"  modelgraph query trace --model acme/llm-7b-chat", "the artifact to trace", true),
		lineage("impact", "Downstream of an artifact: derived models and datasets, deployments",
			"  modelgraph query impact --dataset clinical-notes@v3\n  modelgraph query impact --file sha256:ab12... --kind Deployment", "the artifact whose impact to list", false),
		deployed(), explain(), signatures(), unverified(), packages(), advisories(), advisory(),
		rollback(), admission(), lookup(), stats(),
	}
}

func lineage(name, short, example, what string, upstream bool) Question {
	var (
		ref   string
		depth int
		kinds []string
		files bool
	)
	type L = client.LineageFields
	return Question{
		Name: name, Short: short, Example: example,
		Flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&ref, "ref", "", what+" (digest, name, purl, URI, node id)")
			for _, alias := range []string{"model", "dataset", "file", "package", "deployment"} {
				fs.StringVar(&ref, alias, "", "same as --ref")
			}
			fs.IntVar(&depth, "depth", 0, fmt.Sprintf("walk depth (default %d, at most %d)", defaultDepth, maxDepth))
			fs.StringSliceVar(&kinds, "kind", nil, "only list these node kinds (Model, Dataset, Deployment, ...)")
			if upstream {
				fs.BoolVar(&files, "files", false, "include the files models and datasets contain")
			}
		},
		Run: answer(func(ctx context.Context, c graphql.Client) (L, error) {
			if ref == "" {
				return L{}, errors.New("give --ref (or --model, --dataset, ...)")
			}
			ks, err := parseKinds(kinds)
			if err != nil {
				return L{}, err
			}
			return pages(func(after string) (L, error) {
				if upstream {
					r, err := client.Trace(ctx, c, ref, depth, ks, files, PageSize, after)
					return r.GetTrace(), err
				}
				r, err := client.Impact(ctx, c, ref, depth, ks, PageSize, after)
				return r.GetImpact(), err
			}, (*L).GetPageInfo, func(acc *L, next L) int {
				acc.Reached = append(acc.Reached, next.Reached...)
				acc.PageInfo = next.PageInfo
				return len(next.Reached)
			})
		}, func(w io.Writer, l L) { lineageTable(w, l, upstream) }, nil),
	}
}

func deployed() Question {
	var (
		ref, at string
		depth   int
		active  bool
	)
	type D = client.DeployedAnswer
	return Question{
		Name: "deployed-trained-on", Short: "Deployments running a model trained (transitively) on a dataset",
		Example:  "  modelgraph query deployed-trained-on --dataset clinical-notes@v3 --active",
		Required: []string{"dataset"},
		Flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&ref, "dataset", "", "the dataset (digest, name@version, URI, hf://datasets/...)")
			fs.IntVar(&depth, "depth", 0, "walk depth")
			fs.BoolVar(&active, "active", false, "leave out deployments not running a model of the lineage (at --at, or now)")
			fs.StringVar(&at, "at", "", "ask about a moment in the past: RFC 3339 time or date (2025-06-01)")
		},
		Run: answer(func(ctx context.Context, c graphql.Client) (D, error) {
			t, err := parseTime("at", at)
			if err != nil {
				return D{}, err
			}
			return pages(func(after string) (D, error) {
				r, err := client.DeployedTrainedOn(ctx, c, ref, depth, active, t, PageSize, after)
				return r.GetDeployedModelsTrainedOn(), err
			}, (*D).GetPageInfo, func(acc *D, next D) int {
				acc.Deployments = append(acc.Deployments, next.Deployments...)
				acc.PageInfo = next.PageInfo
				return len(next.Deployments)
			})
		}, deployedTable, nil),
	}
}

func explain() Question {
	var from, to string
	var depth int
	return Question{
		Name: "explain", Short: "The evidence chain between two artifacts, hop by hop",
		Example:  "  modelgraph query explain --from deployment:prod/eu-1/chat/api --to clinical-notes@v3",
		Required: []string{"from", "to"},
		Flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&from, "from", "", "where the chain starts")
			fs.StringVar(&to, "to", "", "where it ends")
			fs.IntVar(&depth, "depth", 0, "longest chain to look for")
		},
		Run: answer(func(ctx context.Context, c graphql.Client) (client.ExplainAnswer, error) {
			r, err := client.Explain(ctx, c, from, to, depth)
			return r.GetExplain(), err
		}, explainTable, nil),
	}
}

func signatures() Question {
	var identity, issuer string
	type S = client.SignaturesAnswer
	return Question{
		Name: "signatures", Short: "Documents signed by an identity, what they describe, and whether each signature verified",
		Example:  "  modelgraph query signatures --identity ci@acme.dev --issuer https://token.actions.githubusercontent.com",
		Required: []string{"identity"},
		Flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&identity, "identity", "", "certificate SAN (e-mail, workflow URI), key id, or oidc:/key: key")
			fs.StringVar(&issuer, "issuer", "", "OIDC issuer (any issuer when empty)")
		},
		Run: answer(func(ctx context.Context, c graphql.Client) (S, error) {
			return pages(func(after string) (S, error) {
				r, err := client.Signatures(ctx, c, identity, issuer, PageSize, after)
				return r.GetSignatures(), err
			}, (*S).GetPageInfo, func(acc *S, next S) int {
				acc.Documents = append(acc.Documents, next.Documents...)
				acc.PageInfo = next.PageInfo
				return len(next.Documents)
			})
		}, signaturesTable, nil),
	}
}

func unverified() Question {
	var kinds []string
	type U = client.UnverifiedAnswer
	return Question{
		Name: "unverified", Short: "Models and deployments that no verified document names as its subject",
		Flags: func(fs *pflag.FlagSet) {
			fs.StringSliceVar(&kinds, "kind", nil, "node kinds to check (default Model,Deployment)")
		},
		Run: answer(func(ctx context.Context, c graphql.Client) (U, error) {
			ks, err := parseKinds(kinds)
			if err != nil {
				return U{}, err
			}
			return pages(func(after string) (U, error) {
				r, err := client.Unverified(ctx, c, ks, PageSize, after)
				return r.GetUnverified(), err
			}, (*U).GetPageInfo, func(acc *U, next U) int {
				acc.Items = append(acc.Items, next.Items...)
				acc.PageInfo = next.PageInfo
				return len(next.Items)
			})
		}, unverifiedTable, nil),
	}
}

func packages() Question {
	var purl, versionRange string
	var depth int
	type P = client.PackageAnswer
	return Question{
		Name: "affected-by-package", Short: "Models and deployments depending, transitively, on a package version range",
		Example:  `  modelgraph query affected-by-package --purl pkg:pypi/torch --range ">=2.0.0,<2.2.0"`,
		Required: []string{"purl"},
		Flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&purl, "purl", "", "package URL without version (or with one, for an exact match)")
			fs.StringVar(&versionRange, "range", "", `version range: ">=2.0.0,<2.15.0", "==2.1.*", "~=2.2", ">=1 <2 || >=3"`)
			fs.IntVar(&depth, "depth", 0, "walk depth")
		},
		Run: answer(func(ctx context.Context, c graphql.Client) (P, error) {
			return pages(func(after string) (P, error) {
				r, err := client.AffectedByPackage(ctx, c, purl, versionRange, depth, PageSize, after)
				return r.GetAffectedByPackage(), err
			}, (*P).GetPageInfo, func(acc *P, next P) int {
				acc.Affected = append(acc.Affected, next.Affected...)
				acc.PageInfo = next.PageInfo
				return len(next.Affected)
			})
		}, func(w io.Writer, r P) {
			for _, p := range r.Packages {
				fmt.Fprintf(w, "matched %s (version %s)\n", p.Purl, dash(p.Version))
			}
			affectedTable(w, r.Affected, r.Truncated, r.DepthLimited)
		}, nil),
	}
}

func advisories() Question {
	var active bool
	type A = client.AdvisoriesAnswer
	return Question{
		Name: "advisories", Short: "Advisories and what they affect directly",
		Flags: func(fs *pflag.FlagSet) {
			fs.BoolVar(&active, "active", false, "only active advisories")
		},
		Run: answer(func(ctx context.Context, c graphql.Client) (A, error) {
			return pages(func(after string) (A, error) {
				r, err := client.Advisories(ctx, c, active, PageSize, after)
				return r.GetAdvisories(), err
			}, (*A).GetPageInfo, func(acc *A, next A) int {
				acc.Items = append(acc.Items, next.Items...)
				acc.PageInfo = next.PageInfo
				return len(next.Items)
			})
		}, advisoriesTable, nil),
	}
}

func advisory() Question {
	var ref string
	var depth int
	type A = client.AdvisoryAnswer
	return Question{
		Name: "affected-by-advisory", Short: "Models and deployments an advisory reaches, directly or downstream",
		Required: []string{"advisory"},
		Flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&ref, "advisory", "", "advisory id (or advisory:/vuln: key)")
			fs.IntVar(&depth, "depth", 0, "walk depth")
		},
		Run: answer(func(ctx context.Context, c graphql.Client) (A, error) {
			return pages(func(after string) (A, error) {
				r, err := client.AffectedByAdvisory(ctx, c, ref, depth, PageSize, after)
				return r.GetAffectedByAdvisory(), err
			}, (*A).GetPageInfo, func(acc *A, next A) int {
				acc.Affected = append(acc.Affected, next.Affected...)
				acc.PageInfo = next.PageInfo
				return len(next.Affected)
			})
		}, func(w io.Writer, r A) {
			active := "inactive"
			if r.Advisory.Active {
				active = "active"
			}
			fmt.Fprintf(w, "advisory %s (%s, %s, severity %s): %s\n", r.Advisory.Id, active, dash(r.Advisory.Status), dash(r.Advisory.Severity), dash(r.Advisory.Summary))
			affectedTable(w, r.Affected, r.Truncated, r.DepthLimited)
		}, nil),
	}
}

func rollback() Question {
	var ref string
	var depth int
	return Question{
		Name: "rollback", Short: "Earlier models on a deployment's lineage that no active advisory reaches, nearest first",
		Example:  "  modelgraph query rollback --deployment deployment:prod/eu-1/chat/api",
		Required: []string{"deployment"},
		Flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&ref, "deployment", "", "the deployment (deployment:<env>/<cluster>/<namespace>/<service>, or its endpoint)")
			fs.IntVar(&depth, "depth", 0, "DERIVED_FROM hops to look along (default 6)")
		},
		Run: answer(func(ctx context.Context, c graphql.Client) (client.RollbackAnswer, error) {
			r, err := client.Rollback(ctx, c, ref, depth)
			return r.GetRollbackCandidates(), err
		}, rollbackTable, nil),
	}
}

func admission() Question {
	var (
		digest                          string
		signers                         []string
		maxUnsigned, depth              int
		allowUnsigned, ignoreAdvisories bool
	)
	type D = client.AdmissionAnswer
	return Question{
		Name: "admission", Short: "Allow or deny deploying an artifact, with a reason per policy rule (exit status 3 when denied)",
		Example:  "  modelgraph query admission --digest sha256:ab12... --allow-signer ci@acme.dev@@https://token.actions.githubusercontent.com --max-unsigned-hops 0",
		Required: []string{"digest"},
		Flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&digest, "digest", "", "the artifact's digest (sha256:...)")
			fs.StringSliceVar(&signers, "allow-signer", nil, "allowed signer: IDENTITY or IDENTITY@@ISSUER (repeatable)")
			fs.IntVar(&maxUnsigned, "max-unsigned-hops", -1, "deny when more upstream hops than this rest on no verified document (-1: no limit)")
			fs.BoolVar(&allowUnsigned, "allow-unsigned", false, "do not require a verified signature")
			fs.BoolVar(&ignoreAdvisories, "ignore-advisories", false, "do not deny on active advisories")
			fs.IntVar(&depth, "depth", 0, "upstream walk depth")
		},
		Run: answer(func(ctx context.Context, c graphql.Client) (D, error) {
			p := client.PolicyInput{RequireVerified: !allowUnsigned, DenyOnAdvisory: !ignoreAdvisories, Depth: depth, AllowedSigners: []client.SignerMatchInput{}}
			for _, s := range signers {
				id, iss, _ := strings.Cut(s, "@@")
				p.AllowedSigners = append(p.AllowedSigners, client.SignerMatchInput{Identity: id, Issuer: iss})
			}
			if maxUnsigned >= 0 {
				p.MaxUnsignedHops = &maxUnsigned
			}
			r, err := client.Admission(ctx, c, digest, p)
			return r.GetAdmission(), err
		}, admissionTable, func(d D) error {
			if !d.Allow {
				return &ExitError{Code: ExitDenied, Err: fmt.Errorf("admission denied for %s", d.Digest)}
			}
			return nil
		}),
	}
}

func lookup() Question {
	var ref string
	return Question{
		Name: "lookup", Short: "What a reference names: the node, its own evidence and its neighbours",
		Required: []string{"ref"},
		Flags:    func(fs *pflag.FlagSet) { fs.StringVar(&ref, "ref", "", "digest, name, purl, URI or node id") },
		Run: answer(func(ctx context.Context, c graphql.Client) ([]client.LookupAnswer, error) {
			r, err := client.Lookup(ctx, c, ref)
			return r.GetLookup(), err
		}, lookupTable, nil),
	}
}

func stats() Question {
	return Question{
		Name: "stats", Short: "What the store holds",
		Run: answer(func(ctx context.Context, c graphql.Client) (client.StatsAnswer, error) {
			r, err := client.Stats(ctx, c)
			return r.GetStats(), err
		}, func(w io.Writer, s client.StatsAnswer) {
			fmt.Fprintf(w, "%d nodes, %d edges, %d documents\n", s.Nodes, s.Edges, s.Documents)
			for _, k := range s.NodeKinds {
				fmt.Fprintf(w, "  %-14s %d\n", k.Kind, k.Count)
			}
			for _, k := range s.EdgeKinds {
				fmt.Fprintf(w, "  %-14s %d\n", k.Kind, k.Count)
			}
		}, nil),
	}
}
