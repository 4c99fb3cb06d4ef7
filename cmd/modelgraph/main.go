// Command modelgraph ingests ML supply-chain evidence into a graph and
// answers incident-response questions about it.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/modelgraph/modelgraph/internal/app"
)

func main() {
	ctx, stop := app.InterruptContext(context.Background(), os.Stderr, os.Exit)
	defer stop()
	if err := NewRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "modelgraph:", err)
		stop()
		os.Exit(exitCode(err))
	}
}
