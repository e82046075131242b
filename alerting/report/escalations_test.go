package report

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	_ "modernc.org/sqlite"
)

// TestEscalations counts on the real outbox schema: distinct escalation
// levels per alert, cancelled messages and other kinds left out.
func TestEscalations(t *testing.T) {
	schema, err := os.ReadFile("../dispatch/migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "dispatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, string(schema)); err != nil {
		t.Fatal(err)
	}
	// id, created_at, kind, level, status, alerts
	for _, m := range []struct {
		id, at int64
		kind   string
		level  int
		status string
		alerts []int64
	}{
		{1, 100, "firing", 0, "sent", []int64{1, 2}},
		{2, 200, "escalation", 1, "sent", []int64{1, 2}},   // 1 and 2: level 1
		{3, 200, "escalation", 1, "failed", []int64{1}},    // a second contact of level 1: still one level
		{4, 300, "escalation", 2, "sent", []int64{1}},      // 1: level 2
		{5, 300, "escalation", 2, "cancelled", []int64{2}}, // superseded: not triggered
		{6, 400, "reminder", 2, "sent", []int64{3}},
		{7, 50, "escalation", 1, "sent", []int64{4}}, // before since
	} {
		if _, err := db.ExecContext(ctx, `INSERT INTO dispatch_outbox (id, created_at, kind, channel, level, message, status, next_at)
			VALUES (?, ?, ?, 'sms', ?, X'7B7D', ?, 0)`, m.id, m.at, m.kind, m.level, m.status); err != nil {
			t.Fatal(err)
		}
		for _, a := range m.alerts {
			if _, err := db.ExecContext(ctx, `INSERT INTO dispatch_outbox_alerts (alert_id, outbox_id) VALUES (?, ?)`, a, m.id); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := Escalations(ctx, db, 100)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{1: 2, 2: 1}); !reflect.DeepEqual(got, want) {
		t.Errorf("escalations %v, want %v", got, want)
	}
	if got.Get(3) != 0 || got.Get(1) != 2 {
		t.Errorf("Get: %d %d", got.Get(3), got.Get(1))
	}
}
