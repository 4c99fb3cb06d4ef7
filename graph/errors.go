package graph

import (
	"context"
	"errors"
	"fmt"
)

// Errors returned by stores. Wrap with %w; test with errors.Is.
var (
	// ErrNotFound is returned when a node or document does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidBatch is returned when a Batch breaks the model's rules; the
	// message names the document and the field. Nothing was written.
	ErrInvalidBatch = errors.New("invalid batch")
	// ErrInvalidQuery is returned for malformed read requests.
	ErrInvalidQuery = errors.New("invalid query")
	// ErrClosed is returned by a closed store.
	ErrClosed = errors.New("store is closed")
	// ErrInjectedFault is the error a test fault (WithFault) produces.
	ErrInjectedFault = errors.New("injected fault")
)

// Limits every Batch is checked against before anything is written.
const (
	MaxKeyLen         = 2048
	MaxKeysPerNode    = 64
	MaxAttrNameLen    = 128
	MaxAttrValueLen   = 64 << 10
	MaxAttrsPerItem   = 256
	MaxNodesPerBatch  = 500_000
	MaxEdgesPerBatch  = 2_000_000
	MaxSignatures     = 32
	MaxTraverseDepth  = 64
	MaxTraverseLimit  = 1_000_000
	DefaultDepth      = 16
	DefaultLimit      = 10_000
	MaxListLimit      = 10_000
	DefaultListLimit  = 100
	MaxLookupFrontier = 100_000
)

type faultKey struct{}

// WithFault returns a context that makes a backend fail with
// ErrInjectedFault after it has written n items of the document being
// applied, inside its transaction. The contract suite uses it to prove that
// a failure mid-document leaves no trace. Backends call Fault at each write.
func WithFault(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, faultKey{}, n)
}

// Fault returns ErrInjectedFault when ctx asks for a fault at or before the
// written-th write; otherwise nil.
func Fault(ctx context.Context, written int) error {
	n, ok := ctx.Value(faultKey{}).(int)
	if ok && written >= n {
		return fmt.Errorf("%w after %d writes", ErrInjectedFault, written)
	}
	return nil
}
