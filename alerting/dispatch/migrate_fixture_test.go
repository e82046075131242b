package dispatch

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/internal/fixture"
	"github.com/chargewatch/chargewatch/alerting/notify"
	"github.com/chargewatch/chargewatch/internal/migratetest"
)

// fixtureReceipt is what the checks compare of a receipt before and after
// the migration: everything the outbox row decides (Receipt without the
// redacted address and the rendered title).
type fixtureReceipt struct {
	ID         int64   `json:"id"`
	Alerts     []int64 `json:"alerts"`
	Kind       string  `json:"kind"`
	Level      int     `json:"level"`
	Channel    string  `json:"channel"`
	Person     string  `json:"person,omitempty"`
	Status     string  `json:"status"`
	Attempts   int     `json:"attempts"`
	CreatedAt  int64   `json:"created_at"`
	NextAt     int64   `json:"next_at,omitempty"`
	SentAt     int64   `json:"sent_at,omitempty"`
	DoneAt     int64   `json:"done_at,omitempty"`
	LastError  string  `json:"last_error,omitempty"`
	FallbackOf int64   `json:"fallback_of,omitempty"`
}

// dispatchFixture is what fillFixture wrote into testdata/migrations/vN.db,
// in vN.json.
type dispatchFixture struct {
	Receipts []fixtureReceipt `json:"receipts"` // newest first
	// UsedLink is the nonce (hex) of an acknowledgement link that was
	// used: it must not work again after the upgrade.
	UsedLink string  `json:"used_link"`
	Followed []int64 `json:"followed"` // alerts on their ladders
	Cursor   int64   `json:"audit_cursor"`
}

func receiptsOf(rs []Receipt) []fixtureReceipt {
	out := make([]fixtureReceipt, 0, len(rs))
	for _, r := range rs {
		out = append(out, fixtureReceipt{ID: r.ID, Alerts: r.Alerts, Kind: r.Kind, Level: r.Level, Channel: r.Channel, Person: r.Person,
			Status: r.Status, Attempts: r.Attempts, CreatedAt: r.CreatedAt, NextAt: r.NextAt, SentAt: r.SentAt, DoneAt: r.DoneAt,
			LastError: r.LastError, FallbackOf: r.FallbackOf})
	}
	return out
}

// fixtureRig is the test rig on the database at path.
func fixtureRig(t *testing.T, path string) *rig {
	cfg := DefaultConfig()
	cfg.PublicURL = "https://cw.example.org"
	r := &rig{t: t, path: path, snap: snapshot(t, "http://hooks.test"), clock: fixture.NewClock(t0), rec: newRecorder(), cfg: cfg,
		docs: map[int64]*alerting.Alert{}}
	r.notifs = r.rec.notifiers()
	r.open()
	return r
}

// TestMigrationFixtures migrates the committed fixture of every earlier
// dispatch schema version and checks that nothing was lost: the checks of
// internal/migratetest (schema equal to a fresh database's, every row of
// every table kept, integrity and foreign keys), and through the
// dispatcher: the receipts read the same, a used acknowledgement link
// stays used, the followed alerts and the audit cursor are restored, and
// the messages still pending are sent.
func TestMigrationFixtures(t *testing.T) {
	ctx := context.Background()
	migratetest.Run(t, migratetest.Config{
		Dir:          "testdata/migrations",
		Current:      SchemaVersion(),
		VersionTable: "dispatch_migrations", // it may share the alert store's file
		Open: func(ctx context.Context, path string) (io.Closer, error) {
			return Open(ctx, path, Options{Registry: fixture.Registry{S: snapshot(t, "http://hooks.test")}, Notifiers: map[string]notify.Notifier{}})
		},
		Fill: func(_ context.Context, path string) error { return fillFixture(t, path) },
		Check: func(t *testing.T, work string, v int) {
			b, err := os.ReadFile(fmt.Sprintf("testdata/migrations/v%d.json", v))
			if err != nil {
				t.Fatalf("the summary of fixture v%d: %v", v, err)
			}
			var sum dispatchFixture
			if err := json.Unmarshal(b, &sum); err != nil {
				t.Fatal(err)
			}
			r := fixtureRig(t, work)
			rs, err := r.d.Receipts(ctx, ReceiptFilter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if got := receiptsOf(rs); !reflect.DeepEqual(got, sum.Receipts) {
				t.Errorf("receipts after the migration:\n got %+v\nwant %+v", got, sum.Receipts)
			}
			nonce, _ := hex.DecodeString(sum.UsedLink)
			if used, err := r.d.db.linkUsed(ctx, nonce); err != nil || !used {
				t.Errorf("the acknowledgement link used before the upgrade is not recorded as used (%v)", err)
			}
			r.d.mu.Lock()
			var followed []int64
			for id := range r.d.alerts {
				followed = append(followed, id)
			}
			cursor := r.d.cursor
			r.d.mu.Unlock()
			slices.Sort(followed)
			if !slices.Equal(followed, sum.Followed) || cursor != sum.Cursor {
				t.Errorf("restored alerts %v and cursor %d, want %v and %d", followed, cursor, sum.Followed, sum.Cursor)
			}
			// What was pending goes out now that the channels work.
			var pending []int64
			for _, x := range sum.Receipts {
				if x.Status == StatusPending {
					pending = append(pending, x.ID)
				}
			}
			if len(pending) == 0 {
				t.Fatalf("fixture v%d has no pending message", v)
			}
			r.clock.Set(time.UnixMilli(sum.Receipts[0].CreatedAt).Add(time.Hour))
			r.step()
			for _, id := range pending {
				rs, err := r.d.Receipts(ctx, ReceiptFilter{Before: id + 1, Limit: 1})
				if err != nil || len(rs) != 1 || rs[0].ID != id || rs[0].Status != StatusSent {
					t.Errorf("pending message %d after the upgrade: %+v %v", id, rs, err)
				}
			}
		},
	})
}

// fillFixture writes a dispatch database of the current schema version
// through the dispatcher, as it runs, with the fake notifiers and clock of
// the rig: a smoke alert whose grid worker's webhook fails twice and falls
// back to SMS (failed, then sent), a second one whose WeCom robot refuses
// it and whose SMS goes out after four attempts, an overload acknowledged
// during its group wait, the street officer's escalations (one sent, one
// being retried), reminders (one cancelled by an acknowledgement, one
// falling back), an acknowledgement through a personal link (a used link)
// and its acknowledged notice, still pending; the ack-link key and the
// audit cursor in dispatch_meta. It writes the summary the checks read as
// testdata/migrations/vN.json beside the fixture.
func fillFixture(t *testing.T, path string) error {
	ctx := context.Background()
	r := fixtureRig(t, path)
	r.rec.setFail(ChannelWebhook, retryable)
	a1 := r.alert(1, alerting.RuleSmoke, crit, "u1")
	r.transition(a1, alerting.ActionFire)
	r.at(0)
	r.at(1300 * time.Millisecond) // second failure: falls back to sms
	r.rec.setFail(ChannelWeCom, func(*notify.Message) error { return notify.Permanent(notify.ReasonProvider, errBoom) })
	r.rec.setFail(ChannelSMS, retryable)
	r.clock.Set(t0.Add(2 * time.Second))
	a2 := r.alert(2, alerting.RuleSmoke, crit, "u4")
	r.transition(a2, alerting.ActionFire)
	a3 := r.alert(3, alerting.RuleOverload, alerting.SeverityMajor, "u2")
	r.transition(a3, alerting.ActionFire)
	r.at(2 * time.Second)
	r.at(10 * time.Second)
	a3.AckedBy = "gw1"
	r.transition(a3, alerting.ActionAck)
	r.at(20 * time.Second)
	r.rec.setFail(ChannelSMS, nil)
	r.at(5 * time.Minute) // escalation of 1 and 2 to the street officer; 2's sms goes out
	r.rec.setFail(ChannelSMS, retryable)
	// gw1 acknowledges alert 1 with the link of its SMS.
	nonce := []byte("fixture-ack-link-nonce-0001")
	now := t0.Add(6 * time.Minute)
	r.clock.Set(now)
	if ok, err := r.d.db.claimLink(ctx, nonce, "gw1", now.UnixMilli(), now.Add(24*time.Hour).UnixMilli()); err != nil || !ok {
		return fmt.Errorf("claim the link: %v %v", ok, err)
	}
	a1.AckedBy = "gw1"
	r.transition(a1, alerting.ActionAck)
	r.at(6 * time.Minute) // the acknowledged notices: sms failing, so pending
	r.at(6*time.Minute + 10*time.Second)

	rs, err := r.d.Receipts(ctx, ReceiptFilter{Limit: 1000})
	if err != nil {
		return err
	}
	sum := dispatchFixture{Receipts: receiptsOf(rs), UsedLink: hex.EncodeToString(nonce)}
	seen := map[string]bool{}
	for _, x := range rs {
		seen[x.Status] = true
	}
	for _, s := range []string{StatusPending, StatusSent, StatusFailed, StatusCancelled} {
		if !seen[s] {
			return fmt.Errorf("the fixture has no %s message: %+v", s, rs)
		}
	}
	r.d.mu.Lock()
	for id := range r.d.alerts {
		sum.Followed = append(sum.Followed, id)
	}
	sum.Cursor = r.d.cursor
	r.d.mu.Unlock()
	slices.Sort(sum.Followed)
	if err := r.d.Close(); err != nil {
		return err
	}
	js, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll("testdata/migrations", 0o755); err != nil {
		return err
	}
	return os.WriteFile(fmt.Sprintf("testdata/migrations/v%d.json", SchemaVersion()), append(js, '\n'), 0o644)
}
