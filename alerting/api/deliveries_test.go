package api

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/alerting/dispatch"
	"github.com/chargewatch/chargewatch/alerting/engine"
	"github.com/chargewatch/chargewatch/alerting/internal/fixture"
	"github.com/chargewatch/chargewatch/alerting/notify"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/ingest"
)

// newDeliveryEnv is newEnv with a real dispatcher on a temporary database
// behind the engine and the API. Every alert is told at once to gw3 (SMS,
// delivered) and so1 (SMS, refused for good by the gateway). The
// ingester's loss list has m5 (c3), m3 (c2) and gone (no longer in the
// registry).
func newDeliveryEnv(t *testing.T) (*env, *dispatch.Dispatcher) {
	t.Helper()
	var d *dispatch.Dispatcher
	v := newEnvHook(t, Options{}, func(st *store.Store, snap *registry.Snapshot, clock *fixture.Clock, o *Options) engine.Notifier {
		cfg := dispatch.DefaultConfig()
		cfg.PublicURL = "https://cw.example.org"
		cfg.Escalation = map[string]*dispatch.Ladder{}
		for _, sev := range []string{"info", "warning", "major", "critical"} {
			cfg.Escalation[sev] = &dispatch.Ladder{Levels: []dispatch.Level{{People: []string{"gw3", "so1"}}}}
		}
		sms := notify.NotifierFunc(func(_ context.Context, m *notify.Message) error {
			if m.Recipient.Person == "so1" {
				return notify.Permanent(notify.ReasonRejected, errors.New("gateway refused: number barred"))
			}
			return nil
		})
		var err error
		d, err = dispatch.Open(context.Background(), filepath.Join(t.TempDir(), "dispatch.db"), dispatch.Options{
			Config: cfg, Registry: fixture.Registry{S: snap}, Notifiers: map[string]notify.Notifier{dispatch.ChannelSMS: sms},
			Clock: clock,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		o.Deliveries = d
		o.IngestLoss = func() []ingest.DeviceLoss {
			return []ingest.DeviceLoss{
				{Device: "gone", LastSeq: 90, Missing: 40},
				{Device: "m5", LastSeq: 100, Missing: 12},
				{Device: "m3", LastSeq: 100, Missing: 3, Duplicates: 1},
			}
		}
		return d
	})
	// The first notices wait for their building's group.
	v.clock.Add(dispatch.DefaultConfig().GroupWait)
	if err := d.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	return v, d
}

func TestAlertDeliveries(t *testing.T) {
	v, _ := newDeliveryEnv(t)
	id := v.ids["m5"]
	var res alertDeliveriesResponse
	code, body := v.do("gw3", "GET", fmt.Sprintf("/api/v1/alerts/%d/deliveries", id), nil, &res)
	if code != 200 {
		t.Fatalf("deliveries: %d %s", code, body)
	}
	if res.Alert != id {
		t.Errorf("alert %d, want %d", res.Alert, id)
	}
	got := map[string]dispatch.Receipt{}
	for _, r := range res.Deliveries {
		if !slices.Contains(r.Alerts, id) {
			t.Errorf("receipt %d is not about alert %d: %v", r.ID, id, r.Alerts)
		}
		got[r.Person+" "+r.Kind] = r
	}
	sent, failed := got["gw3 firing"], got["so1 firing"]
	if sent.Status != dispatch.StatusSent || sent.Channel != dispatch.ChannelSMS || sent.Attempts != 1 || sent.SentAt == 0 || sent.LastError != "" {
		t.Errorf("gw3's notice: %+v", sent)
	}
	if sent.Address != "138****0003" {
		t.Errorf("gw3's number is not redacted: %q", sent.Address)
	}
	if failed.Status != dispatch.StatusFailed || failed.Attempts != 1 || !strings.Contains(failed.LastError, "number barred") || failed.DoneAt == 0 {
		t.Errorf("so1's notice: %+v", failed)
	}
	if len(res.Deliveries) != 2 {
		t.Errorf("%d receipts, want gw3's and so1's notices: %s", len(res.Deliveries), body)
	}
	for _, r := range res.Deliveries {
		if r.Level != 0 || r.CreatedAt == 0 || r.Title == "" {
			t.Errorf("receipt %d: level %d, created %d, title %q", r.ID, r.Level, r.CreatedAt, r.Title)
		}
	}

	// Outside the caller's scope the alert does not exist.
	if code, body := v.do("gw1", "GET", fmt.Sprintf("/api/v1/alerts/%d/deliveries", id), nil, nil); code != 404 {
		t.Errorf("gw1 reads c3's deliveries: %d %s", code, body)
	}
	if code, _ := v.do("gw3", "GET", "/api/v1/alerts/999999/deliveries", nil, nil); code != 404 {
		t.Errorf("unknown alert: %d", code)
	}
	if code, _ := v.do("gw3", "GET", fmt.Sprintf("/api/v1/alerts/%d/deliveries?x=1", id), nil, nil); code != 400 {
		t.Errorf("unknown parameter: %d", code)
	}
}

func TestDeliveriesOutbox(t *testing.T) {
	v, _ := newDeliveryEnv(t)
	var res deliveriesResponse
	if code, body := v.do("adm", "GET", "/api/v1/deliveries", nil, &res); code != 200 {
		t.Fatalf("outbox: %d %s", code, body)
	}
	// Three alerts, each to gw3 and so1, all done.
	if res.Backlog.Pending != 0 || !res.Backlog.Oldest.IsZero() || len(res.Deliveries) != 6 {
		t.Errorf("outbox: backlog %+v, %d receipts", res.Backlog, len(res.Deliveries))
	}
	for _, c := range []struct {
		query string
		want  int
	}{
		{"?status=failed", 3},
		{"?status=sent&person=gw3", 3},
		{"?status=pending", 0},
		{fmt.Sprintf("?alert=%d", v.ids["m5"]), 2},
		{"?channel=wecom", 0},
	} {
		res = deliveriesResponse{}
		if code, body := v.do("adm", "GET", "/api/v1/deliveries"+c.query, nil, &res); code != 200 || len(res.Deliveries) != c.want {
			t.Errorf("%s: %d, %d receipts, want %d: %s", c.query, code, len(res.Deliveries), c.want, body)
		}
	}
	// Paging: two at a time, newest first, until the end.
	var ids []int64
	q := "?limit=2"
	for range 5 {
		res = deliveriesResponse{}
		if code, body := v.do("adm", "GET", "/api/v1/deliveries"+q, nil, &res); code != 200 {
			t.Fatalf("%s: %d %s", q, code, body)
		}
		for _, r := range res.Deliveries {
			ids = append(ids, r.ID)
		}
		if res.NextBefore == 0 {
			break
		}
		q = fmt.Sprintf("?limit=2&before=%d", res.NextBefore)
	}
	if len(ids) != 6 || !slices.IsSortedFunc(ids, func(a, b int64) int { return int(b - a) }) {
		t.Errorf("paged ids %v", ids)
	}
	for _, q := range []string{"?status=lost", "?limit=0", "?limit=1001", "?alert=x", "?since=yesterday", "?who=me"} {
		if code, _ := v.do("adm", "GET", "/api/v1/deliveries"+q, nil, nil); code != 400 {
			t.Errorf("%s: %d, want 400", q, code)
		}
	}
	if code, _ := v.do("gw3", "GET", "/api/v1/deliveries", nil, nil); code != 403 {
		t.Errorf("a grid worker reads the outbox: %d", code)
	}
}

// TestDeliveriesWithoutNotifications: a server without a notification
// config says so instead of showing an empty record.
func TestDeliveriesWithoutNotifications(t *testing.T) {
	v := newEnv(t)
	for who, path := range map[string]string{"gw3": fmt.Sprintf("/api/v1/alerts/%d/deliveries", v.ids["m5"]), "adm": "/api/v1/deliveries"} {
		if code, body := v.do(who, "GET", path, nil, nil); code != 501 || !strings.Contains(body, "alerting.notifications") {
			t.Errorf("%s without notifications: %d %s", path, code, body)
		}
	}
	var res lossResponse
	if code, body := v.do("adm", "GET", "/api/v1/ingest/loss", nil, &res); code != 200 || len(res.Devices) != 0 {
		t.Errorf("loss without an ingester: %d %s", code, body)
	}
}

func TestIngestLoss(t *testing.T) {
	v, _ := newDeliveryEnv(t)
	for _, c := range []struct {
		who, query string
		want       []string
	}{
		{"adm", "", []string{"gone", "m5", "m3"}},
		{"adm", "?limit=2", []string{"gone", "m5"}},
		{"fb", "", []string{"gone", "m5", "m3"}},
		{"gw3", "", []string{"m5"}},
		{"viewer-c3", "?limit=1", []string{"m5"}},
		{"so1", "", []string{"m3"}},
		{"gw1", "", []string{}},
	} {
		var res lossResponse
		if code, body := v.do(c.who, "GET", "/api/v1/ingest/loss"+c.query, nil, &res); code != 200 {
			t.Fatalf("%s%s: %d %s", c.who, c.query, code, body)
		}
		got := []string{}
		for _, d := range res.Devices {
			got = append(got, d.Device)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s%s sees %v, want %v", c.who, c.query, got, c.want)
		}
	}
	for _, q := range []string{"?limit=0", "?limit=1001", "?limit=x", "?device=m5"} {
		if code, _ := v.do("adm", "GET", "/api/v1/ingest/loss"+q, nil, nil); code != 400 {
			t.Errorf("%s: %d, want 400", q, code)
		}
	}
	if code, _ := v.do("", "GET", "/api/v1/ingest/loss", nil, nil); code != 401 {
		t.Errorf("no token: %d", code)
	}
}
