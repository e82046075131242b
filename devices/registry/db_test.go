package registry

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
)

func openTestDB(t *testing.T) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registry.db")
	db, err := OpenDB(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestMigrationsFreshAndIdempotent(t *testing.T) {
	ctx := context.Background()
	db, path := openTestDB(t)
	v, err := schemaVersion(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if v != SchemaVersion() || v < 1 {
		t.Fatalf("schema version %d, want %d", v, SchemaVersion())
	}
	for _, table := range []string{"meta", "districts", "streets", "communities", "buildings", "units", "gateways",
		"devices", "people", "person_roles", "person_communities", "person_streets", "person_districts", "contacts", "rosters"} {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: %d, %v", table, n, err)
		}
	}
	var mode string
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q, %v; want wal", mode, err)
	}
	var fk int
	if err := db.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys %d, %v; want 1", fk, err)
	}
	if g, err := Generation(ctx, db); err != nil || g != 0 {
		t.Errorf("generation of a new registry %d, %v; want 0", g, err)
	}
	db.Close()

	// Opening again applies nothing and keeps the data.
	db2, err := OpenDB(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	var rows int
	if err := db2.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != SchemaVersion() {
		t.Errorf("schema_migrations has %d rows, %v; want %d", rows, err, SchemaVersion())
	}
}

func TestSchemaTooNew(t *testing.T) {
	ctx := context.Background()
	db, path := openTestDB(t)
	future := SchemaVersion() + 1
	if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, 'from_the_future.sql')`, future); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := OpenDB(ctx, path)
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Have != future || tooNew.Know != SchemaVersion() {
		t.Fatalf("OpenDB of a database from a newer version = %v, want a SchemaTooNewError", err)
	}
	if _, err := Open(ctx, path); !errors.As(err, &tooNew) {
		t.Fatalf("Open of a database from a newer version = %v, want a SchemaTooNewError", err)
	}
}

func TestMigrationFilesAreNumbered(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.Version != i+1 {
			t.Errorf("migration %s has version %d, want %d", m.Name, m.Version, i+1)
		}
	}
}

func TestBackup(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t)
	site := loadDemo(t)
	if _, err := Import(ctx, db, site); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	if err := Backup(ctx, db, out); err != nil {
		t.Fatal(err)
	}
	if err := Backup(ctx, db, out); err == nil {
		t.Error("Backup over an existing file succeeded, want an error")
	}
	orig, err := Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	bdb, err := OpenDB(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	copied, err := Load(ctx, bdb)
	if err != nil {
		t.Fatal(err)
	}
	if orig.Counts() != copied.Counts() || orig.Generation() != copied.Generation() {
		t.Errorf("backup holds %+v at generation %d, want %+v at %d", copied.Counts(), copied.Generation(), orig.Counts(), orig.Generation())
	}
	// Importing the same site into the backup changes nothing: same content.
	ch, err := Import(ctx, bdb, site)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Changed() {
		t.Errorf("backup differs from the original: %+v", ch)
	}
}
