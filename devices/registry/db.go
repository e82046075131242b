package registry

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/chargewatch/chargewatch/internal/sqlitedb"
)

// OpenDB opens the registry database at path, creating it if it does not
// exist, and migrates its schema forward. The connection uses WAL mode (a
// running server reads while an import writes), foreign keys and a busy
// timeout; write transactions take the write lock when they begin, so two
// writers queue instead of failing halfway (internal/sqlitedb). Commits are
// synchronous(FULL): a registry change survives a power cut.
func OpenDB(ctx context.Context, path string) (*sql.DB, error) {
	if path == "" {
		return nil, fmt.Errorf("open registry: no database path: give one, e.g. --db /var/lib/chargewatch/registry.db")
	}
	db, err := sqlitedb.Open(ctx, path, sqlitedb.Options{
		Synchronous: "FULL",
		// 32 MiB of page cache per connection (the default is 2 MB): an
		// import of a million devices otherwise spills pages to the WAL
		// all the time.
		CacheKiB: 32768,
		// WAL lets readers run beside the one writer; a few connections
		// are plenty for the registry.
		MaxOpenConns: 4,
	})
	if err != nil {
		return nil, fmt.Errorf("open registry %q: %w", path, err)
	}
	if err := schema.Migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open registry %q: %w", path, err)
	}
	return db, nil
}

// querier is what *sql.DB, *sql.Conn and *sql.Tx have in common.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Generation returns the registry's generation: a counter that goes up with
// every committed change to its content.
func Generation(ctx context.Context, db *sql.DB) (int64, error) { return generation(ctx, db) }

func generation(ctx context.Context, q querier) (int64, error) {
	var g int64
	if err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'generation'`).Scan(&g); err != nil {
		return 0, fmt.Errorf("read registry generation: %w", err)
	}
	return g, nil
}

// BumpGeneration increments the generation in tx and returns the new value.
// Whatever changes the registry's content calls it in the same transaction,
// so that running servers reload.
func BumpGeneration(ctx context.Context, tx *sql.Tx) (int64, error) {
	var g int64
	err := tx.QueryRowContext(ctx, `UPDATE meta SET value = value + 1 WHERE key = 'generation' RETURNING value`).Scan(&g)
	if err != nil {
		return 0, fmt.Errorf("bump registry generation: %w", err)
	}
	return g, nil
}
