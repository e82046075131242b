package store

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"testing"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/internal/migratetest"
)

// fixtureSummary is what internal/upgradetest/testdata/writer wrote into
// testdata/migrations/v1.db with chargewatch v0.1.0 (v1.json).
type fixtureSummary struct {
	Token     string           `json:"token"`
	TokenID   int64            `json:"token_id"`
	SilenceID int64            `json:"silence_id"`
	Alerts    []alerting.Alert `json:"alerts"`
	AuditIDs  []int64          `json:"audit_ids"`
}

// TestMigrationFixtures migrates the committed fixture of every earlier
// schema version and checks that nothing was lost, also through the
// store's API.
func TestMigrationFixtures(t *testing.T) {
	migratetest.Run(t, migratetest.Config{
		Dir:     "testdata/migrations",
		Current: SchemaVersion(),
		Open: func(ctx context.Context, path string) (io.Closer, error) {
			return Open(ctx, path, Options{})
		},
		Fill: fillFixture,
		Check: func(t *testing.T, path string, version int) {
			b, err := os.ReadFile(fmt.Sprintf("testdata/migrations/v%d.json", version))
			if err != nil {
				t.Fatalf("the summary of fixture v%d: %v", version, err)
			}
			var sum fixtureSummary
			if err := json.Unmarshal(b, &sum); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			st, err := Open(ctx, path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for _, want := range sum.Alerts {
				got, err := st.Alert(ctx, want.ID)
				if err != nil {
					t.Errorf("alert %d: %v", want.ID, err)
					continue
				}
				if !reflect.DeepEqual(*got, want) {
					t.Errorf("alert %d after migration:\n got %+v\nwant %+v", want.ID, *got, want)
				}
			}
			var ids []int64
			for _, a := range sum.Alerts {
				au, err := st.Audit(ctx, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range au {
					ids = append(ids, e.ID)
				}
			}
			if len(ids) != len(sum.AuditIDs) {
				t.Errorf("audit entries %v, want %v", ids, sum.AuditIDs)
			}
			tok, err := st.Authenticate(ctx, sum.Token, 1767225600000)
			if err != nil || tok.ID != sum.TokenID {
				t.Errorf("the token made before the upgrade: %+v, %v", tok, err)
			}
			if _, err := st.Silence(ctx, sum.SilenceID); err != nil {
				t.Errorf("silence %d: %v", sum.SilenceID, err)
			}
		},
	})
}

// fillFixture writes a fixture of the current schema version with the
// current code, the same content as the v0.1.0 writer.
func fillFixture(ctx context.Context, path string) error {
	return fmt.Errorf("write the fixture of schema version %d with internal/upgradetest/testdata/writer adapted to this version, and its summary as v%d.json", SchemaVersion(), SchemaVersion())
}
