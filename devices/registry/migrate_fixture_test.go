package registry

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/chargewatch/chargewatch/internal/migratetest"
)

// TestMigrationFixtures migrates the committed fixture of every earlier
// schema version (testdata/migrations/vN.db; v1.db was written by
// chargewatch v0.1.0 with the demo site) and checks that nothing was lost.
func TestMigrationFixtures(t *testing.T) {
	migratetest.Run(t, migratetest.Config{
		Dir:     "testdata/migrations",
		Current: SchemaVersion(),
		Open: func(ctx context.Context, path string) (io.Closer, error) {
			return OpenDB(ctx, path)
		},
		Fill: fillFixture,
		Check: func(t *testing.T, path string, version int) {
			ctx := context.Background()
			db, err := OpenDB(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			snap, err := Load(ctx, db)
			if err != nil {
				t.Fatalf("load the migrated registry: %v", err)
			}
			if c := snap.Counts(); c.Devices < 100 || c.Gateways < 10 || c.People < 10 {
				t.Errorf("migrated registry holds %+v", c)
			}
			// The lifecycle tables work on a migrated registry.
			if _, err := AuditLog(ctx, db, AuditFilter{}); err != nil {
				t.Errorf("audit log of the migrated registry: %v", err)
			}
			if _, err := Lineage(ctx, db, "smk-dt-01-102"); err != nil {
				t.Errorf("lineage in the migrated registry: %v", err)
			}
		},
	})
}

// fillFixture writes the current version's fixture: the demo site, and a
// replacement, a move and a decommission so that the lifecycle tables hold
// rows.
func fillFixture(ctx context.Context, path string) error {
	src, err := os.ReadFile(demoSite)
	if err != nil {
		return err
	}
	site := filepath.Join(filepath.Dir(path), "site.yaml")
	if err := os.WriteFile(site, src, 0o600); err != nil {
		return err
	}
	db, err := OpenDB(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	s, err := LoadSite(site)
	if err != nil {
		return err
	}
	if _, err := ImportBy(ctx, db, s, "fixture", "demo site"); err != nil {
		return err
	}
	c := Change{By: "fixture", Note: "migration fixture"}
	if _, err := ReplaceDevice(ctx, db, site, Replace{Device: "smk-dt-01-102", Model: "Heiman HS1SA"}, c); err != nil {
		return err
	}
	if _, err := ReplaceDevice(ctx, db, site, Replace{Device: "smk-dt-02-401", NewID: "smk-dt-02-401b"}, c); err != nil {
		return err
	}
	if _, err := MoveDevice(ctx, db, site, Move{Device: "m-dt-01-102", Gateway: "gw-dt-02"}, c); err != nil {
		return err
	}
	if _, err := DecommissionGateway(ctx, db, site, Decommission{Gateway: "gw-dt-03", MoveDevicesTo: "gw-dt-02"}, c); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}
