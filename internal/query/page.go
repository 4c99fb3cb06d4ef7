package query

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
)

// Page asks for one page of a long list: at most First items after the
// opaque cursor After (from PageInfo.EndCursor of the previous page).
type Page struct {
	First int    `json:"first,omitempty"` // DefaultPageSize when 0
	After string `json:"after,omitempty"`
}

// PageInfo tells the caller how to continue.
type PageInfo struct {
	EndCursor   string `json:"endCursor,omitempty"`
	HasNextPage bool   `json:"hasNextPage"`
}

// Page sizes.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

const cursorPrefix = "mg1:"

func (p Page) size() (int, error) {
	switch {
	case p.First == 0:
		return DefaultPageSize, nil
	case p.First < 0 || p.First > MaxPageSize:
		return 0, fmt.Errorf("%w: first %d is out of range [1, %d]", ErrInvalidArgument, p.First, MaxPageSize)
	}
	return p.First, nil
}

// offsetCursor encodes a position in a computed list.
func offsetCursor(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + "o:" + strconv.Itoa(n)))
}

// idCursor encodes a position in a node listing: the kind being listed and
// the last id returned.
func idCursor(kind graph.NodeKind, id graph.NodeID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + "k:" + string(kind) + ":" + string(id)))
}

// cursor is a decoded cursor.
type cursor struct {
	offset int
	kind   graph.NodeKind
	id     graph.NodeID
	keyset bool
}

// DecodeCursor parses a cursor issued by this package ("" is the start).
func decodeCursor(s string) (cursor, error) {
	if s == "" {
		return cursor{}, nil
	}
	if len(s) > 256 {
		return cursor{}, fmt.Errorf("%w: %d bytes", ErrInvalidCursor, len(s))
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !strings.HasPrefix(string(raw), cursorPrefix) {
		return cursor{}, fmt.Errorf("%w: %q was not issued by this server", ErrInvalidCursor, clip(s))
	}
	body := string(raw[len(cursorPrefix):])
	switch {
	case strings.HasPrefix(body, "o:"):
		n, err := strconv.Atoi(body[2:])
		if err != nil || n < 0 || n > MaxScan {
			return cursor{}, fmt.Errorf("%w: bad offset", ErrInvalidCursor)
		}
		return cursor{offset: n}, nil
	case strings.HasPrefix(body, "k:"):
		kind, id, ok := strings.Cut(body[2:], ":")
		if !ok || !graph.NodeKind(kind).Valid() || !graph.NodeID(id).Valid() {
			return cursor{}, fmt.Errorf("%w: bad position", ErrInvalidCursor)
		}
		return cursor{kind: graph.NodeKind(kind), id: graph.NodeID(id), keyset: true}, nil
	}
	return cursor{}, fmt.Errorf("%w: unknown form", ErrInvalidCursor)
}

// window returns the bounds of the requested page over a list of n items.
func window(p Page, n int) (lo, hi int, info PageInfo, err error) {
	size, err := p.size()
	if err != nil {
		return 0, 0, info, err
	}
	c, err := decodeCursor(p.After)
	if err != nil {
		return 0, 0, info, err
	}
	if c.keyset {
		return 0, 0, info, fmt.Errorf("%w: cursor belongs to another list", ErrInvalidCursor)
	}
	lo = min(c.offset, n)
	hi = min(lo+size, n)
	info.HasNextPage = hi < n
	if hi > lo {
		info.EndCursor = offsetCursor(hi)
	} else {
		info.EndCursor = p.After
	}
	return lo, hi, info, nil
}
