// Package backup copies chargewatch's SQLite databases (the registry, the
// alert store, the dispatch outbox) into a backup folder while the server
// runs, and puts them back while it is stopped.
//
// A backup folder holds one consistent copy of each database, made with
// VACUUM INTO (a read transaction: the server keeps reading and writing),
// and manifest.json with each copy's schema version, size and SHA-256.
// The copies are independent snapshots: a change that lands between the
// copy of the registry and that of the alert store is in the second only.
// Neither the durable ingest logs (readings on their way to InfluxDB) nor
// InfluxDB itself are in a backup; docs/operations.md says how to back
// those up.
//
// Restore refuses while any process has one of the target databases open
// (InUse), checks every copy against the manifest and with
// PRAGMA integrity_check, refuses copies whose schema is newer than this
// chargewatch knows, keeps the files it replaces as
// <name>.pre-restore-<time>, and moves each copy into place with a rename.
// The next start migrates restored databases forward as usual.
package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver "sqlite"
)

// ManifestFile is the name of the manifest in a backup folder.
const ManifestFile = "manifest.json"

// FormatVersion is the version of the backup folder layout.
const FormatVersion = 1

// DB is one database to back up or restore.
type DB struct {
	Name     string // registry, alerts, dispatch: the copy is <Name>.db
	Path     string // the live database
	Optional bool   // a missing database is left out instead of failing the backup
	// KnownSchema is the newest schema version this chargewatch knows for
	// the database; Restore refuses a copy with a newer one. 0 skips the
	// check.
	KnownSchema int
}

// Manifest describes a backup folder.
type Manifest struct {
	Format    int       `json:"format"`
	Created   time.Time `json:"created"`
	Version   string    `json:"chargewatch_version"`
	Host      string    `json:"host,omitempty"`
	Databases []Entry   `json:"databases"`
}

// Entry is one database copy in a backup.
type Entry struct {
	Name          string `json:"name"`
	File          string `json:"file"`   // in the backup folder
	Source        string `json:"source"` // where it was copied from
	SchemaVersion int    `json:"schema_version"`
	Bytes         int64  `json:"bytes"`
	SHA256        string `json:"sha256"`
}

// Backup writes a consistent copy of each database and a manifest into dir,
// which must not exist or be empty. version is chargewatch's version, for
// the manifest.
func Backup(ctx context.Context, dbs []DB, dir, version string) (*Manifest, error) {
	if err := emptyDir(dir); err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	m := &Manifest{Format: FormatVersion, Created: time.Now().UTC().Truncate(time.Second), Version: version, Host: host}
	for _, d := range dbs {
		if _, err := os.Stat(d.Path); errors.Is(err, fs.ErrNotExist) {
			if d.Optional {
				continue
			}
			return nil, fmt.Errorf("back up %s: no database at %s", d.Name, d.Path)
		}
		e, err := copyDB(ctx, d, dir)
		if err != nil {
			return nil, err
		}
		m.Databases = append(m.Databases, e)
	}
	if err := writeJSON(filepath.Join(dir, ManifestFile), m); err != nil {
		return nil, err
	}
	if err := syncPath(dir); err != nil {
		return nil, err
	}
	return m, nil
}

// emptyDir creates dir, or checks that it is empty.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("backup folder: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("backup folder: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("backup folder %s is not empty: give a new folder for each backup", dir)
	}
	return nil
}

// copyDB copies one database with VACUUM INTO and describes the copy.
func copyDB(ctx context.Context, d DB, dir string) (Entry, error) {
	e := Entry{Name: d.Name, File: d.Name + ".db", Source: d.Path}
	final := filepath.Join(dir, e.File)
	tmp := final + ".tmp"
	// Not query_only: SQLite refuses VACUUM INTO on such a connection,
	// though the source is only read.
	src, err := openDB(d.Path, false)
	if err != nil {
		return e, fmt.Errorf("back up %s: %w", d.Name, err)
	}
	_, err = src.ExecContext(ctx, `VACUUM INTO ?`, tmp)
	src.Close()
	if err != nil {
		os.Remove(tmp)
		return e, fmt.Errorf("back up %s (%s): %w", d.Name, d.Path, err)
	}
	if err := syncPath(tmp); err != nil {
		return e, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return e, fmt.Errorf("back up %s: %w", d.Name, err)
	}
	if e.SchemaVersion, err = check(ctx, final); err != nil {
		return e, fmt.Errorf("back up %s: the copy does not check out: %w", d.Name, err)
	}
	if e.Bytes, e.SHA256, err = digest(final); err != nil {
		return e, err
	}
	return e, nil
}

// openDB opens a database without migrating it.
func openDB(path string, readOnly bool) (*sql.DB, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)"
	if readOnly {
		dsn += "&_pragma=query_only(1)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// check runs PRAGMA integrity_check on a database copy and returns its
// schema version.
func check(ctx context.Context, path string) (int, error) {
	db, err := openDB(path, true)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return 0, err
	}
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return 0, err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	rows.Close()
	if len(problems) > 0 {
		return 0, fmt.Errorf("integrity_check: %s", strings.Join(problems, "; "))
	}
	var v int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

func digest(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("checksum %s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// ReadManifest reads and checks a backup folder's manifest and copies.
func ReadManifest(ctx context.Context, dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("%s is not a chargewatch backup: %w", dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	if m.Format != FormatVersion {
		return nil, fmt.Errorf("%s: backup format %d; this chargewatch reads format %d", dir, m.Format, FormatVersion)
	}
	for _, e := range m.Databases {
		if e.File != filepath.Base(e.File) || !strings.HasSuffix(e.File, ".db") {
			return nil, fmt.Errorf("%s: bad file name %q in the manifest", dir, e.File)
		}
		p := filepath.Join(dir, e.File)
		n, sum, err := digest(p)
		if err != nil {
			return nil, err
		}
		if n != e.Bytes || sum != e.SHA256 {
			return nil, fmt.Errorf("%s: %s does not match the manifest (size %d, want %d; or its checksum differs): the backup is damaged", dir, e.File, n, e.Bytes)
		}
		if v, err := check(ctx, p); err != nil || v != e.SchemaVersion {
			return nil, fmt.Errorf("%s: %s: schema version %d (manifest %d), %v", dir, e.File, v, e.SchemaVersion, err)
		}
	}
	return &m, nil
}

// InUseError is returned by Restore when a database is open in a process.
type InUseError struct{ Name, Path string }

func (e *InUseError) Error() string {
	return fmt.Sprintf("the %s database %s is open in another process: stop chargewatch first (systemctl stop chargewatch), and any chargewatch devices or tokens command", e.Name, e.Path)
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	Restored []Entry
	Kept     map[string]string // database name: where the replaced file was kept
	Skipped  []string          // databases of dbs that the backup does not hold
}

// Restore puts the copies of a backup folder in place of the databases.
// Every database of the backup must be one of dbs. It refuses, changing
// nothing, while any target database is open in a process.
func Restore(ctx context.Context, dbs []DB, dir string) (*RestoreResult, error) {
	m, err := ReadManifest(ctx, dir)
	if err != nil {
		return nil, err
	}
	byName := map[string]DB{}
	for _, d := range dbs {
		byName[d.Name] = d
	}
	res := &RestoreResult{Kept: map[string]string{}}
	inBackup := map[string]bool{}
	for _, e := range m.Databases {
		d, ok := byName[e.Name]
		if !ok {
			return nil, fmt.Errorf("the backup holds a %q database that this chargewatch does not know", e.Name)
		}
		inBackup[e.Name] = true
		if d.KnownSchema > 0 && e.SchemaVersion > d.KnownSchema {
			return nil, fmt.Errorf("the backup's %s database has schema version %d, newer than the %d this chargewatch knows: restore it with the chargewatch that made it (%s)", e.Name, e.SchemaVersion, d.KnownSchema, m.Version)
		}
	}
	for _, d := range dbs {
		if !inBackup[d.Name] {
			res.Skipped = append(res.Skipped, d.Name)
		}
		busy, err := InUse(d.Path)
		if err != nil {
			return nil, err
		}
		if busy {
			return nil, &InUseError{Name: d.Name, Path: d.Path}
		}
	}
	stamp := time.Now().UTC().Format("20060102T150405Z")
	for _, e := range m.Databases {
		d := byName[e.Name]
		kept, err := restoreOne(filepath.Join(dir, e.File), d.Path, stamp)
		if err != nil {
			return res, fmt.Errorf("restore %s: %w", e.Name, err)
		}
		if kept != "" {
			res.Kept[e.Name] = kept
		}
		res.Restored = append(res.Restored, e)
	}
	return res, nil
}

// restoreOne copies from next to the target, keeps the target's old files
// (with their -wal and -shm) under a .pre-restore name, and renames the
// copy into place.
func restoreOne(from, target, stamp string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
		return "", err
	}
	tmp := target + ".restore-tmp"
	if err := copyFile(from, tmp); err != nil {
		return "", err
	}
	kept := ""
	if _, err := os.Stat(target); err == nil {
		kept = target + ".pre-restore-" + stamp
		// Make the old database self-contained first: fold its WAL in.
		if db, err := openDB(target, false); err == nil {
			db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
			db.Close()
		}
		if err := os.Rename(target, kept); err != nil {
			os.Remove(tmp)
			return "", err
		}
		for _, suffix := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(target + suffix); err == nil {
				if err := os.Rename(target+suffix, kept+suffix); err != nil {
					return kept, err
				}
			}
		}
	}
	// The service runs as its own user: the restored file gets the owner
	// and mode of the file it replaces, or of the folder it goes into.
	ref := kept
	if ref == "" {
		ref = filepath.Dir(target)
	}
	if err := sameOwner(tmp, ref); err != nil {
		return kept, err
	}
	if err := os.Rename(tmp, target); err != nil {
		return kept, err
	}
	return kept, syncPath(filepath.Dir(target))
}

// sameOwner gives path the owner of ref and, when ref is a file, its mode.
// Changing the owner needs root; without it the file stays the caller's.
func sameOwner(path, ref string) error {
	info, err := os.Stat(ref)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		if err := os.Chmod(path, info.Mode().Perm()); err != nil {
			return err
		}
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
		return os.Chown(path, int(st.Uid), int(st.Gid))
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(to)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(to)
		return err
	}
	return out.Close()
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	if err := syncPath(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func syncPath(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", name, err)
	}
	return nil
}
