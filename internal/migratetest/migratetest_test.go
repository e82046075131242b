package migratetest

import (
	"context"
	"database/sql"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// A toy package: version 1 has a table; version 2 adds a column. The
// migrations under test are good or lossy.
var (
	v1 = []string{`CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT`}
	v2 = `ALTER TABLE things ADD COLUMN colour TEXT NOT NULL DEFAULT ''`
)

func openWith(second string) func(ctx context.Context, path string) (io.Closer, error) {
	return func(ctx context.Context, path string) (io.Closer, error) {
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			return nil, err
		}
		stmts := []string{`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`}
		var v int
		db.QueryRow(`SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
		if v < 1 {
			stmts = append(stmts, v1...)
			stmts = append(stmts, `INSERT INTO schema_migrations VALUES (1, '0001')`)
		}
		if v < 2 {
			stmts = append(stmts, second, `INSERT INTO schema_migrations VALUES (2, '0002')`)
		}
		for _, s := range stmts {
			if _, err := db.ExecContext(ctx, s); err != nil {
				db.Close()
				return nil, err
			}
		}
		return db, nil
	}
}

func fixtureV1(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range append(append([]string{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`}, v1...),
		`INSERT INTO schema_migrations VALUES (1, '0001')`, `INSERT INTO things VALUES (1, 'kettle'), (2, 'charger')`) {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestMigrateAndCompare(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, second, want string
	}{
		{"good", v2, ""},
		{"loses rows", v2 + `; DELETE FROM things WHERE id = 2`, "table things: 2 rows before the migration, 1 after"},
		{"changes values", v2 + `; UPDATE things SET name = upper(name)`, "values changed"},
		{"drops a column", `CREATE TABLE t2 (id INTEGER PRIMARY KEY) STRICT; INSERT INTO t2 SELECT id FROM things; DROP TABLE things; ALTER TABLE t2 RENAME TO things`, "column things.name is gone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The expected schema is always the good migration's.
			fresh := filepath.Join(t.TempDir(), "fresh.db")
			cl, err := openWith(v2)(ctx, fresh)
			if err != nil {
				t.Fatal(err)
			}
			cl.Close()
			want := schema(t, fresh)
			c := Config{Current: 2, Open: openWith(tc.second)}
			problems := migrateAndCompare(t, ctx, c, fixtureV1(t), want)
			got := strings.Join(problems, "\n")
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("problems:\n%s\nwant %q", got, tc.want)
			}
		})
	}
}
