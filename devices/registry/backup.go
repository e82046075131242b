package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the registry to path with VACUUM INTO,
// while the server keeps reading and writing it. The copy is written beside
// path under a temporary name, synced and then renamed, so path never holds
// a partial backup. Backup refuses to overwrite an existing file.
func Backup(ctx context.Context, db *sql.DB, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup to %q: the file exists: remove it or choose another name", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup to %q: %w", path, err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("backup to %q: %w", path, err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	os.Remove(tmpName) // VACUUM INTO wants to create the file itself
	defer os.Remove(tmpName)

	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmpName); err != nil {
		return fmt.Errorf("backup to %q: %w", path, err)
	}
	// VACUUM INTO does not sync the copy.
	if err := syncFile(tmpName); err != nil {
		return fmt.Errorf("backup to %q: %w", path, err)
	}
	// A hard link never replaces a file that appeared meanwhile; where the
	// file system has no hard links, rename.
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("backup to %q: the file exists: remove it or choose another name", path)
		}
		if err := os.Rename(tmpName, path); err != nil {
			return fmt.Errorf("backup to %q: %w", path, err)
		}
	}
	if err := syncFile(dir); err != nil {
		return fmt.Errorf("backup to %q: %w", path, err)
	}
	return nil
}

func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
