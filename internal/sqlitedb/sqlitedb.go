// Package sqlitedb opens chargewatch's SQLite databases (the pure-Go driver
// modernc.org/sqlite) with the settings they share, and moves their schemas
// forward with numbered migrations embedded in the binary.
//
// Every connection uses WAL mode (readers run beside the one writer),
// foreign keys and a busy timeout; a writer's transactions take the write
// lock when they begin (BEGIN IMMEDIATE), so two writers queue instead of
// failing halfway.
package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver "sqlite"
)

// Options are the settings of one pool of connections.
type Options struct {
	// Synchronous is SQLite's synchronous pragma: "NORMAL" (the default)
	// survives a crash of the process and loses at most the last commits
	// on a power cut; "FULL" survives a power cut too, at the cost of an
	// fsync per commit.
	Synchronous string
	// CacheKiB, when set, is each connection's page cache in KiB (SQLite's
	// default is about 2 MB).
	CacheKiB int
	// ReadOnly makes a pool of readers (query_only). Otherwise the pool
	// writes, and its transactions begin IMMEDIATE.
	ReadOnly bool
	// MaxOpenConns bounds the pool; 0 leaves it unbounded.
	MaxOpenConns int
}

// BusyTimeout is how long a statement waits for a lock that another
// connection or process holds before it fails with SQLITE_BUSY.
const BusyTimeout = 10 * time.Second

// checkSynchronous returns the synchronous pragma's value for s: "NORMAL"
// for "", "NORMAL" or "FULL" in any case, or an error.
func checkSynchronous(s string) (string, error) {
	switch v := strings.ToUpper(s); v {
	case "":
		return "NORMAL", nil
	case "NORMAL", "FULL":
		return v, nil
	}
	return "", fmt.Errorf("synchronous %q: use NORMAL or FULL", s)
}

// DSN returns the driver's data source name for the database file at path
// with the options' pragmas.
func DSN(path string, o Options) (string, error) {
	if strings.ContainsAny(path, "?#") {
		return "", fmt.Errorf("the path must not contain '?' or '#': rename the file")
	}
	sync, err := checkSynchronous(o.Synchronous)
	if err != nil {
		return "", err
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+sync+")")
	if o.CacheKiB > 0 {
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", o.CacheKiB))
	}
	if o.ReadOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode(), nil
}

// Open opens a pool of connections to the database at path, creating the
// file if need be, and checks that it can be used.
func Open(ctx context.Context, path string, o Options) (*sql.DB, error) {
	dsn, err := DSN(path, o)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(o.MaxOpenConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
