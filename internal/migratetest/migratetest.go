// Package migratetest checks that a SQLite database's schema migrations run
// forward from every earlier schema version without losing data, using
// fixture databases committed under testdata/migrations: vN.db is a
// database written by the chargewatch release whose newest migration was N,
// with data in every table.
//
// For each fixture, Run copies it, dumps every table, opens the copy with
// the package's own Open (which migrates it), and checks that
//
//   - the schema version is the current one;
//   - the schema (tables, indexes, triggers) is exactly that of a database
//     created fresh by Open;
//   - every row of every table that existed is still there with the same
//     values in its old columns;
//   - PRAGMA integrity_check and foreign_key_check pass.
//
// A fixture must exist for every version from 1 to the current one. When a
// migration is added, the fixture of the version before it is already
// committed; the new version's fixture is written by running the package's
// tests with CHARGEWATCH_WRITE_FIXTURES=1 (Config.Fill makes it) and
// committed with the migration. Fixtures are never rewritten: they are what
// old releases left on disk.
package migratetest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // pure-Go SQLite driver "sqlite"
)

// Config describes one database's migrations.
type Config struct {
	// Dir holds the fixtures vN.db (testdata/migrations).
	Dir string
	// Current is the schema version the package migrates to.
	Current int
	// Open opens (creating and migrating if need be) the database at path
	// and returns something to close it with.
	Open func(ctx context.Context, path string) (io.Closer, error)
	// Fill creates a database of the current version at path and writes
	// data into every table, through the package's own API. It makes the
	// current version's fixture when CHARGEWATCH_WRITE_FIXTURES=1.
	Fill func(ctx context.Context, path string) error
	// Check, if set, runs after the migration of each fixture, with the
	// migrated copy's path and the fixture's version, for checks through
	// the package's API.
	Check func(t *testing.T, path string, version int)
	// VersionTable is the table that records the applied migrations (a
	// "version" column); default schema_migrations.
	VersionTable string
}

func (c Config) versionTable() string {
	if c.VersionTable == "" {
		return "schema_migrations"
	}
	return c.VersionTable
}

// Run runs the checks; see the package documentation.
func Run(t *testing.T, c Config) {
	t.Helper()
	ctx := context.Background()
	fresh := filepath.Join(t.TempDir(), "fresh.db")
	cl, err := c.Open(ctx, fresh)
	if err != nil {
		t.Fatalf("open a fresh database: %v", err)
	}
	cl.Close()
	want := schema(t, fresh)

	cur := filepath.Join(c.Dir, fmt.Sprintf("v%d.db", c.Current))
	if _, err := os.Stat(cur); os.IsNotExist(err) && os.Getenv("CHARGEWATCH_WRITE_FIXTURES") == "1" {
		if c.Fill == nil {
			t.Fatalf("no Fill function to write %s", cur)
		}
		tmp := filepath.Join(t.TempDir(), "fill.db")
		if err := c.Fill(ctx, tmp); err != nil {
			t.Fatalf("fill %s: %v", cur, err)
		}
		if err := vacuumInto(tmp, cur); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: commit it", cur)
	}
	for v := 1; v <= c.Current; v++ {
		path := filepath.Join(c.Dir, fmt.Sprintf("v%d.db", v))
		t.Run(fmt.Sprintf("from_v%d", v), func(t *testing.T) {
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("no fixture for schema version %d (%v): every version needs one. For the current version, run the tests with CHARGEWATCH_WRITE_FIXTURES=1 and commit %s; an older one must be written by the release that had that version", v, err, path)
			}
			work := filepath.Join(t.TempDir(), "db.db")
			copyFile(t, path, work)
			if got := version(t, work, c.versionTable()); got != v {
				t.Fatalf("%s has schema version %d, not %d", path, got, v)
			}
			for _, p := range migrateAndCompare(t, ctx, c, work, want) {
				t.Error(p)
			}
			if c.Check != nil {
				c.Check(t, work, v)
			}
		})
	}
}

// migrateAndCompare dumps the database at work, migrates it with c.Open
// and returns what differs from the expectations.
func migrateAndCompare(t testing.TB, ctx context.Context, c Config, work string, want map[string]string) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	before := dump(t, work, c.versionTable())
	for table, rows := range before {
		if len(rows.Rows) == 0 {
			t.Logf("table %s is empty in the fixture: fill it so the migration of its rows is tested", table)
		}
	}
	cl, err := c.Open(ctx, work)
	if err != nil {
		bad("open (migrate) the fixture: %v", err)
		return problems
	}
	cl.Close()
	if got := version(t, work, c.versionTable()); got != c.Current {
		bad("after migration the schema version is %d, want %d", got, c.Current)
	}
	got := schema(t, work)
	for k, w := range want {
		if got[k] != w {
			bad("schema object %s:\n got: %s\nwant: %s", k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			bad("schema object %s exists after migration, not in a fresh database: %s", k, got[k])
		}
	}
	after, missing := dumpColumns(t, work, c.versionTable(), before)
	problems = append(problems, missing...)
	for table, b := range before {
		a, ok := after[table]
		if !ok {
			bad("table %s is gone after the migration", table)
			continue
		}
		if !reflect.DeepEqual(a.Rows, b.Rows) {
			bad("table %s: %d rows before the migration, %d after, or their values changed", table, len(b.Rows), len(a.Rows))
		}
	}
	return append(problems, pragmaProblems(t, work)...)
}

// tableRows is a table's rows, in primary-key order, as the driver returns
// the values of the listed columns.
type tableRows struct {
	Columns []string
	Rows    [][]any
}

func openRaw(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

func version(t testing.TB, path, table string) int {
	t.Helper()
	db := openRaw(t, path)
	defer db.Close()
	var v int
	if err := db.QueryRow(`SELECT coalesce(max(version), 0) FROM "` + table + `"`).Scan(&v); err != nil {
		t.Fatalf("%s: schema version: %v", path, err)
	}
	return v
}

var spaces = regexp.MustCompile(`\s+`)

// schema returns the database's objects (but the migration bookkeeping) by
// type and name, with their SQL with whitespace normalised.
func schema(t testing.TB, path string) map[string]string {
	t.Helper()
	db := openRaw(t, path)
	defer db.Close()
	rows, err := db.Query(`SELECT type, name, coalesce(sql, '') FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var typ, name, s string
		if err := rows.Scan(&typ, &name, &s); err != nil {
			t.Fatal(err)
		}
		out[typ+" "+name] = strings.TrimSpace(spaces.ReplaceAllString(s, " "))
	}
	return out
}

func tables(t testing.TB, db *sql.DB, versionTable string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != ? ORDER BY name`, versionTable)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func columns(t testing.TB, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// dump reads every table of the database, all columns.
func dump(t testing.TB, path, versionTable string) map[string]tableRows {
	t.Helper()
	db := openRaw(t, path)
	defer db.Close()
	out := map[string]tableRows{}
	for _, table := range tables(t, db, versionTable) {
		cols := columns(t, db, table)
		out[table] = tableRows{Columns: cols, Rows: readRows(t, db, table, cols)}
	}
	return out
}

// dumpColumns reads the tables and columns of before from the database,
// and reports columns that are gone.
func dumpColumns(t testing.TB, path, versionTable string, before map[string]tableRows) (map[string]tableRows, []string) {
	t.Helper()
	db := openRaw(t, path)
	defer db.Close()
	have := tables(t, db, versionTable)
	out := map[string]tableRows{}
	var gone []string
	for table, b := range before {
		if !slices.Contains(have, table) {
			continue
		}
		cols := columns(t, db, table)
		ok := true
		for _, c := range b.Columns {
			if !slices.Contains(cols, c) {
				gone = append(gone, fmt.Sprintf("column %s.%s is gone after the migration", table, c))
				ok = false
			}
		}
		if ok {
			out[table] = tableRows{Columns: b.Columns, Rows: readRows(t, db, table, b.Columns)}
		}
	}
	return out, gone
}

func readRows(t testing.TB, db *sql.DB, table string, cols []string) [][]any {
	t.Helper()
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + c + `"`
	}
	list := strings.Join(quoted, ", ")
	rows, err := db.Query(`SELECT ` + list + ` FROM "` + table + `" ORDER BY ` + list)
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func pragmaProblems(t testing.TB, path string) []string {
	t.Helper()
	db := openRaw(t, path)
	defer db.Close()
	var out []string
	var res string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		out = append(out, fmt.Sprintf("integrity_check after the migration: %s %v", res, err))
	}
	rows, err := db.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		out = append(out, "foreign_key_check reports violations after the migration")
	}
	return out
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// vacuumInto writes a compact, self-contained copy (no -wal file) of the
// database at from to the fixture path.
func vacuumInto(from, to string) error {
	db, err := sql.Open("sqlite", "file:"+from)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	if _, err := db.Exec(`VACUUM INTO ?`, to); err != nil {
		return fmt.Errorf("write fixture %s: %w", to, err)
	}
	return nil
}
