package sqlitedb

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestOpenPragmas(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	for _, c := range []struct {
		name string
		o    Options
		want map[string]string // pragma -> value
	}{
		{"writer", Options{MaxOpenConns: 1},
			map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000", "synchronous": "1", "query_only": "0"}},
		{"full", Options{Synchronous: "full", CacheKiB: 32768},
			map[string]string{"synchronous": "2", "cache_size": "-32768"}},
		{"reader", Options{ReadOnly: true},
			map[string]string{"journal_mode": "wal", "query_only": "1", "synchronous": "1"}},
	} {
		db, err := Open(ctx, path, c.o)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for p, want := range c.want {
			var got string
			if err := db.QueryRowContext(ctx, `PRAGMA `+p).Scan(&got); err != nil || got != want {
				t.Errorf("%s: PRAGMA %s = %q, %v; want %q", c.name, p, got, err, want)
			}
		}
		db.Close()
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, path string
		o          Options
		want       string
	}{
		{"query in the path", filepath.Join(dir, "a.db?mode=ro"), Options{}, "must not contain"},
		{"fragment in the path", filepath.Join(dir, "a#b.db"), Options{}, "must not contain"},
		{"synchronous", filepath.Join(dir, "a.db"), Options{Synchronous: "OFF"}, `synchronous "OFF": use NORMAL or FULL`},
	} {
		if _, err := Open(context.Background(), c.path, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

func TestMigrationsNaming(t *testing.T) {
	for _, c := range []struct {
		name  string
		files []string
		want  string // error substring; "" for none
	}{
		{"ordered", []string{"0002_b.sql", "0001_a.sql"}, ""},
		{"gap", []string{"0001_a.sql", "0003_c.sql"}, "numbered from 1 without gaps"},
		{"no number", []string{"init.sql"}, "is not named NNNN_what.sql"},
		{"not sql", []string{"0001_a.txt"}, "is not named NNNN_what.sql"},
	} {
		fsys := fstest.MapFS{}
		for _, f := range c.files {
			fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("CREATE TABLE t_" + f[:4] + " (x INTEGER) STRICT;")}
		}
		ms, err := Schema{FS: fsys, Table: "schema_migrations"}.Migrations()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		case c.want == "" && (len(ms) != 2 || ms[0].Name != "0001_a.sql" || ms[1].Version != 2):
			t.Errorf("%s: %+v", c.name, ms)
		}
	}
}

// TestMigrate applies migrations in steps, as successive releases would,
// checks the bookkeeping, and refuses a database from a newer release.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	fsys := fstest.MapFS{"migrations/0001_a.sql": {Data: []byte(`CREATE TABLE a (x INTEGER) STRICT; INSERT INTO a VALUES (1);`)}}
	s := Schema{FS: fsys, Table: "things_migrations", Name: "the things database"}
	db, err := Open(ctx, path, Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	step := func(want int) {
		t.Helper()
		for range 2 { // a second run finds the work done
			if err := s.Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
		}
		if v, err := s.Version(ctx, db); err != nil || v != want || s.Latest() != want {
			t.Fatalf("version %d, %v; latest %d; want %d", v, err, s.Latest(), want)
		}
	}
	step(1)
	fsys["migrations/0002_b.sql"] = &fstest.MapFile{Data: []byte(`ALTER TABLE a ADD COLUMN y TEXT NOT NULL DEFAULT 'y';`)}
	step(2)
	var x int
	var y, names string
	if err := db.QueryRowContext(ctx, `SELECT x, y FROM a`).Scan(&x, &y); err != nil || x != 1 || y != "y" {
		t.Errorf("row after the migrations: %d %q %v", x, y, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT group_concat(version || ':' || name, ' ') FROM things_migrations ORDER BY version`).Scan(&names); err != nil || names != "1:0001_a.sql 2:0002_b.sql" {
		t.Errorf("bookkeeping %q, %v", names, err)
	}

	// A failing migration leaves the schema where it was.
	fsys["migrations/0003_c.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE c (x INTEGER); SELECT nonsense FROM nowhere;`)}
	if err := s.Migrate(ctx, db); err == nil || !strings.Contains(err.Error(), "migration 0003_c.sql") {
		t.Errorf("failing migration: %v", err)
	}
	if v, _ := s.Version(ctx, db); v != 2 {
		t.Errorf("version %d after a failed migration, want 2", v)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'c'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("half of the failed migration stayed: %d %v", n, err)
	}

	// An older release refuses the database.
	delete(fsys, "migrations/0003_c.sql")
	delete(fsys, "migrations/0002_b.sql")
	err = s.Migrate(ctx, db)
	var tooNew *TooNewError
	if !errors.As(err, &tooNew) || tooNew.Have != 2 || tooNew.Know != 1 ||
		!strings.Contains(err.Error(), "the things database has schema version 2, newer than the 1 this chargewatch knows") {
		t.Errorf("database from a newer release: %v", err)
	}
}
