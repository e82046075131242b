package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Schema is a database's migrations: SQL files named NNNN_what.sql in the
// folder migrations of FS, numbered from 0001 without gaps. They only ever
// move forward; a release never edits one that has shipped, it adds the
// next. Each is applied in its own transaction together with its row in
// Table (version, name, applied_at).
type Schema struct {
	FS    fs.FS  // holds migrations/NNNN_what.sql (//go:embed migrations/*.sql)
	Table string // the bookkeeping table, e.g. "schema_migrations"
	Name  string // what the database is, for errors: "the alert database"
}

// Migration is one migration file.
type Migration struct {
	Version int
	Name    string // the file name
	SQL     string
}

// Migrations returns the migrations in order.
func (s Schema) Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(s.FS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration file %q is not named NNNN_what.sql", name)
		}
		b, err := fs.ReadFile(s.FS, path.Join("migrations", name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %q: expected version %d: migrations are numbered from 1 without gaps", m.Name, i+1)
		}
	}
	return ms, nil
}

// Latest is the schema version the migrations lead to, 0 if they cannot be
// read.
func (s Schema) Latest() int {
	ms, err := s.Migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// TooNewError is returned when a database was migrated by a newer
// chargewatch than this one.
type TooNewError struct {
	Name       string // what the database is
	Have, Know int
}

func (e *TooNewError) Error() string {
	return fmt.Sprintf("%s has schema version %d, newer than the %d this chargewatch knows: run the newer chargewatch, or restore a backup made by this version", e.Name, e.Have, e.Know)
}

// Querier is what *sql.DB, *sql.Conn and *sql.Tx have in common for
// reading one row.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Version returns the database's schema version, 0 for none.
func (s Schema) Version(ctx context.Context, q Querier) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM `+s.Table).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// Migrate brings the schema to the newest version, each migration in its
// own transaction together with its row in s.Table. Two processes that
// open a new database at once queue on the write lock (db's transactions
// begin IMMEDIATE); the second finds the work done. A database from a newer
// chargewatch is refused with a *TooNewError, even with nothing to apply:
// its schema may mean things this one does not know.
func (s Schema) Migrate(ctx context.Context, db *sql.DB) error {
	ms, err := s.Migrations()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+s.Table+` (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
	) STRICT`); err != nil {
		return fmt.Errorf("create %s: %w", s.Table, err)
	}
	for _, m := range ms {
		if err := s.apply(ctx, db, m, len(ms)); err != nil {
			return err
		}
	}
	v, err := s.Version(ctx, db)
	if err != nil {
		return err
	}
	if v > len(ms) {
		return &TooNewError{Name: s.Name, Have: v, Know: len(ms)}
	}
	return nil
}

func (s Schema) apply(ctx context.Context, db *sql.DB, m Migration, know int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	defer tx.Rollback()
	v, err := s.Version(ctx, tx)
	if err != nil {
		return err
	}
	if v > know {
		return &TooNewError{Name: s.Name, Have: v, Know: know}
	}
	if v >= m.Version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+s.Table+` (version, name) VALUES (?, ?)`, m.Version, m.Name); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	return nil
}
