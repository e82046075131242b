package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// newDB makes a WAL database with a schema_migrations table at version v
// and a table of rows.
func newDB(t *testing.T, path string, v, rows int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	stmts := []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`,
		`CREATE TABLE things (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)`,
	}
	for i := 1; i <= v; i++ {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO schema_migrations VALUES (%d, '%04d_x.sql')`, i, i))
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	for i := range rows {
		if _, err := db.Exec(`INSERT INTO things (payload) VALUES (?)`, strings.Repeat("x", i%100)); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func count(t *testing.T, path string) int {
	t.Helper()
	db, err := openDB(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM things`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBackupWhileWriting copies two databases while a writer keeps
// inserting rows in transactions of 10: each copy holds a whole number of
// transactions, and the backup checks out.
func TestBackupWhileWriting(t *testing.T) {
	dir := t.TempDir()
	reg, alerts := filepath.Join(dir, "registry.db"), filepath.Join(dir, "alerts.db")
	rdb := newDB(t, reg, 2, 1000)
	defer rdb.Close()
	newDB(t, alerts, 1, 10).Close()

	ctx := context.Background()
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			tx, err := rdb.Begin()
			if err != nil {
				t.Error(err)
				return
			}
			for range 10 {
				tx.Exec(`INSERT INTO things (payload) VALUES ('w')`)
			}
			if err := tx.Commit(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	dbs := []DB{{Name: "registry", Path: reg}, {Name: "alerts", Path: alerts}, {Name: "dispatch", Path: filepath.Join(dir, "dispatch.db"), Optional: true}}
	out := filepath.Join(dir, "backup-1")
	time.Sleep(20 * time.Millisecond)
	m, err := Backup(ctx, dbs, out, "test")
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Databases) != 2 || m.Databases[0].SchemaVersion != 2 || m.Databases[1].SchemaVersion != 1 {
		t.Fatalf("manifest: %+v", m)
	}
	if n := count(t, filepath.Join(out, "registry.db")); n < 1000 || n%10 != 0 {
		t.Errorf("the registry copy holds %d rows: not 1000 plus whole transactions of 10", n)
	}
	if _, err := ReadManifest(ctx, out); err != nil {
		t.Fatal(err)
	}
	if _, err := Backup(ctx, dbs, out, "test"); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("backup into a used folder: %v", err)
	}
	if _, err := Backup(ctx, []DB{{Name: "registry", Path: filepath.Join(dir, "nope.db")}}, filepath.Join(dir, "b2"), "test"); err == nil {
		t.Error("backup of a missing required database succeeded")
	}
}

func TestRestore(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	reg := filepath.Join(dir, "data", "registry.db")
	os.MkdirAll(filepath.Dir(reg), 0o750)
	newDB(t, reg, 2, 50).Close()
	dbs := []DB{{Name: "registry", Path: reg, KnownSchema: 2}, {Name: "alerts", Path: filepath.Join(dir, "data", "alerts.db"), Optional: true, KnownSchema: 1}}
	out := filepath.Join(dir, "backup")
	if _, err := Backup(ctx, dbs, out, "test"); err != nil {
		t.Fatal(err)
	}
	// Change the live database after the backup.
	db := newDBConn(t, reg)
	if _, err := db.Exec(`DELETE FROM things WHERE id > 10`); err != nil {
		t.Fatal(err)
	}

	// Open in this process: refused, nothing changes.
	_, err := Restore(ctx, dbs, out)
	var inUse *InUseError
	if !errors.As(err, &inUse) || inUse.Name != "registry" || !strings.Contains(err.Error(), "stop chargewatch") {
		t.Fatalf("restore while open = %v, want an InUseError", err)
	}
	db.Close()
	if n := count(t, reg); n != 10 {
		t.Fatalf("a refused restore changed the database: %d rows", n)
	}

	res, err := Restore(ctx, dbs, out)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, reg); n != 50 {
		t.Errorf("restored database has %d rows, want 50", n)
	}
	kept := res.Kept["registry"]
	if kept == "" || count(t, kept) != 10 {
		t.Errorf("the replaced database was not kept: %q", kept)
	}
	if len(res.Skipped) != 1 || res.Skipped[0] != "alerts" {
		t.Errorf("skipped = %v", res.Skipped)
	}

	// A damaged copy is refused.
	f, _ := os.OpenFile(filepath.Join(out, "registry.db"), os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte("junk"))
	f.Close()
	if _, err := Restore(ctx, dbs, out); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("restore of a damaged backup: %v", err)
	}
}

func TestRestoreRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	reg := filepath.Join(dir, "registry.db")
	newDB(t, reg, 3, 5).Close()
	out := filepath.Join(dir, "backup")
	if _, err := Backup(ctx, []DB{{Name: "registry", Path: reg}}, out, "v9"); err != nil {
		t.Fatal(err)
	}
	_, err := Restore(ctx, []DB{{Name: "registry", Path: reg, KnownSchema: 2}}, out)
	if err == nil || !strings.Contains(err.Error(), "newer than the 2") || !strings.Contains(err.Error(), "v9") {
		t.Errorf("restore of a newer schema: %v", err)
	}
}

func newDBConn(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := openDB(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestInUseOtherProcess holds a database open in a child process.
func TestInUseOtherProcess(t *testing.T) {
	if p := os.Getenv("BACKUP_TEST_HOLD"); p != "" {
		db := newDBConn(t, p)
		db.Exec(`SELECT count(*) FROM things`)
		os.WriteFile(p+".ready", nil, 0o600)
		for range 200 {
			if _, err := os.Stat(p + ".done"); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		db.Close()
		return
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "registry.db")
	newDB(t, p, 1, 1).Close()
	if busy, err := InUse(p); err != nil || busy {
		t.Fatalf("InUse of a closed database = %v, %v", busy, err)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestInUseOtherProcess$")
	cmd.Env = append(os.Environ(), "BACKUP_TEST_HOLD="+p)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	for i := 0; ; i++ {
		if _, err := os.Stat(p + ".ready"); err == nil {
			break
		}
		if i > 500 {
			t.Fatal("the child did not open the database")
		}
		time.Sleep(10 * time.Millisecond)
	}
	busy, err := InUse(p)
	os.WriteFile(p+".done", nil, 0o600)
	if err != nil || !busy {
		t.Fatalf("InUse of a database another process has open = %v, %v", busy, err)
	}
}
