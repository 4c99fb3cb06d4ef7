package embedded

import (
	"errors"
	"fmt"
	"os"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// Compact copies the store at src into a new store at dst with every page
// packed full and no free pages, then saves dst's index snapshot, so dst
// opens as fast as src would.
//
// bbolt files never shrink: after a bulk import the file is about twice the
// data (copy-on-write leaves freed pages behind, splits leave pages part
// full). A compacted store is smaller, its trees shallower, and a process
// reading across it maps less of it. Run it offline: src must not be open
// for writing (Compact waits for the file lock like Open).
func Compact(src, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("compact graph store: %s exists", dst)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("compact graph store: %w", err)
	}
	in, err := bbolt.Open(src, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("compact graph store %q: %w", src, err)
	}
	defer in.Close()
	if err := in.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if meta == nil {
			return errors.New("not a graph store (no meta bucket)")
		}
		if v := string(meta.Get([]byte("version"))); v != schemaVersion && !upgradable[v] {
			return fmt.Errorf("graph store schema version %q, this binary reads %q", v, schemaVersion)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("compact graph store %q: %w", src, err)
	}
	out, err := bbolt.Open(dst, 0o600, &bbolt.Options{FreelistType: bbolt.FreelistMapType})
	if err != nil {
		return fmt.Errorf("compact graph store: %w", err)
	}
	if err := bbolt.Compact(out, in, 64<<20); err != nil {
		_ = out.Close()
		_ = os.Remove(dst)
		return fmt.Errorf("compact graph store %q: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("compact graph store: %w", err)
	}
	// Open (upgrading an older schema, rebuilding the index) and close
	// (saving the snapshot) once here rather than at the first real open.
	s, err := openStore(dst, Options{})
	if err != nil {
		return fmt.Errorf("compact graph store: %w", err)
	}
	s.waitFill() // the snapshot then carries the records
	return s.Close()
}
