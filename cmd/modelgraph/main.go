// Command modelgraph ingests ML supply-chain evidence into a graph and
// answers incident-response questions about it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := NewRootCommand()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "modelgraph:", err)
		os.Exit(exitCode(err))
	}
}
