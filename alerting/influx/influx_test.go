package influx

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api/write"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/engine"
	"github.com/chargewatch/chargewatch/alerting/internal/fixture"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var t0 = time.Date(2026, 1, 5, 20, 0, 0, 0, registry.Shanghai())

// site is the engine with a smoke alarm (b1, critical, firing), a
// residual current that cleared (b1, resolved) and an overload (b2,
// acknowledged).
func site(t *testing.T) (*store.Store, *registry.Snapshot, *fixture.Clock) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "alerts.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	snap := fixture.Snapshot(t)
	clock := fixture.NewClock(t0)
	e, err := engine.New(ctx, st, fixture.Registry{S: snap}, engine.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	dev := func(id string) *registry.Device { d, _ := snap.Device(id); return d }
	rd := func(id string, at time.Duration, f devices.Field, v float64) {
		r := &devices.Reading{TS: t0.Add(at).UnixMilli()}
		r.Put(f, v)
		e.Reading(dev(id), r)
	}
	e.Event(dev("sd1"), &devices.Event{TS: t0.UnixMilli(), Seq: 1, Type: devices.EventSmokeAlarm})
	rd("mon1", 0, devices.FieldLeak, 400)
	rd("mon1", 10*time.Second, devices.FieldLeak, 10)
	rd("mon1", 90*time.Second, devices.FieldLeak, 10)
	rd("m3", 0, devices.FieldCurrent, 100)
	if err := e.Commit(ctx, []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	as, _ := st.Alerts(ctx, &store.Filter{Rules: []alerting.Rule{alerting.RuleOverload}})
	if _, err := e.Ack(ctx, as[0].ID, "gw1", ""); err != nil {
		t.Fatal(err)
	}
	return st, snap, clock
}

// flaky fails its first n writes.
type flaky struct {
	mu    sync.Mutex
	fail  int
	lines []string
}

func (f *flaky) WritePoint(_ context.Context, pts ...*write.Point) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return errors.New("503 service unavailable")
	}
	for _, p := range pts {
		f.lines = append(f.lines, write.PointToLineProtocol(p, time.Nanosecond))
	}
	return nil
}

func (f *flaky) count(measurement string) int {
	n := 0
	for _, l := range f.lines {
		if strings.HasPrefix(l, measurement+",") {
			n++
		}
	}
	return n
}

func TestRetryWritesEachTransitionOnce(t *testing.T) {
	ctx := context.Background()
	st, snap, clock := site(t)
	fw := &flaky{fail: 2}
	w, err := New(st, fixture.Registry{S: snap}, fw, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := w.Flush(ctx); err == nil {
			t.Fatalf("flush %d succeeded against a failing InfluxDB", i)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil { // nothing new
		t.Fatal(err)
	}
	// smoke fire; residual fire, resolve; overload fire, ack.
	if n := fw.count("alert"); n != 5 {
		t.Errorf("%d alert points, want 5:\n%s", n, strings.Join(fw.lines, "\n"))
	}
	if n := fw.count("alert_open"); n != 3 {
		t.Errorf("%d alert_open points, want 3", n)
	}
	if n := fw.count("building"); n != 3 {
		t.Errorf("%d building points, want 3", n)
	}
	var smoke string
	for _, l := range fw.lines {
		if strings.HasPrefix(l, "alert,") && strings.Contains(l, "rule=smoke") {
			smoke = l
		}
	}
	for _, want := range []string{"action=fire", "building=b1", "community=c1", "device=sd1", "severity=critical", "state=firing", "street=s1", "district=d1", `actor="engine"`, "lat=30.28"} {
		if !strings.Contains(smoke, want) {
			t.Errorf("smoke point lacks %s: %s", want, smoke)
		}
	}
	// A new writer (a restart) continues from the stored cursor.
	fw2 := &flaky{}
	w2, _ := New(st, fixture.Registry{S: snap}, fw2, Options{Now: clock.Now})
	if err := w2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := fw2.count("alert"); n != 0 {
		t.Errorf("restarted writer wrote %d alert points again", n)
	}
}

// TestInflux writes to a real InfluxDB 1.8 and reads the measurements
// back the way a dashboard does.
func TestInflux(t *testing.T) {
	ctx := context.Background()
	st, snap, clock := site(t)
	inf := testenv.SharedInflux(t)
	db := inf.NewDatabase(t)
	pw, closeClient := NewClient(ClientConfig{URL: inf.URL, Database: db})
	defer closeClient()
	w, err := New(st, fixture.Registry{S: snap}, pw, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Transitions.
	s := inf.Query(t, db, `SELECT count("id") FROM "alert" GROUP BY "rule"`)
	got := map[string]int64{}
	for _, x := range s {
		got[x.Tags["rule"]] = x.Int(0, "count")
	}
	if got["smoke"] != 1 || got["residual_current"] != 2 || got["overload"] != 2 {
		t.Errorf("alert points by rule: %v", got)
	}
	// The open-alerts table of the newest snapshot.
	s = inf.Query(t, db, `SELECT "id", "severity_level", "summary" FROM "alert_open" WHERE time >= `+
		itoa(clock.Now().Truncate(time.Minute).UnixNano())+` GROUP BY "rule", "state"`)
	open := map[string]string{}
	for _, x := range s {
		open[x.Tags["rule"]] = x.Tags["state"]
	}
	if len(open) != 3 || open["smoke"] != "firing" || open["overload"] != "acknowledged" || open["residual_current"] != "resolved" {
		t.Errorf("alert_open: %v", open)
	}
	// The map: buildings with position and worst open hazard.
	s = inf.Query(t, db, `SELECT last("lat") AS lat, last("lon") AS lon, last("worst_severity") AS sev, last("worst_rule") AS rule, last("open_alerts") AS n FROM "building" GROUP BY "building"`)
	type bld struct {
		lat  float64
		sev  int64
		rule string
		n    int64
	}
	bs := map[string]bld{}
	for _, x := range s {
		bs[x.Tags["building"]] = bld{x.Float(0, "lat"), x.Int(0, "sev"), x.String(0, "rule"), x.Int(0, "n")}
	}
	want := map[string]bld{
		"b1": {30.28, 4, "smoke", 1},
		"b2": {30.29, 3, "overload", 1},
		"b3": {30.30, 0, "none", 0},
	}
	for id, b := range want {
		if bs[id] != b {
			t.Errorf("building %s: %+v, want %+v", id, bs[id], b)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestAccountabilityFields: acknowledgement and closing carry the seconds
// since firing, a resolution whether nobody had acknowledged it before.
func TestAccountabilityFields(t *testing.T) {
	const fired = int64(1_767_600_000_000)
	cases := []struct {
		name   string
		alert  alerting.Alert
		audit  alerting.Audit
		field  string
		want   any
		absent []string
	}{
		{"ack after 90 s", alerting.Alert{FiredAt: fired, AckedAt: fired + 90_000},
			alerting.Audit{ID: 1, At: fired + 90_000, Action: alerting.ActionAck}, "ack_s", 90.0, []string{"close_s", "resolved_unacked"}},
		{"close after 30 min", alerting.Alert{FiredAt: fired, AckedAt: fired + 60_000, ClosedAt: fired + 1_800_000},
			alerting.Audit{ID: 2, At: fired + 1_800_000, Action: alerting.ActionClose}, "close_s", 1800.0, []string{"ack_s"}},
		{"resolved unacknowledged", alerting.Alert{FiredAt: fired},
			alerting.Audit{ID: 3, At: fired + 300_000, Action: alerting.ActionResolve}, "resolved_unacked", true, nil},
		{"resolved after an ack", alerting.Alert{FiredAt: fired, AckedAt: fired + 60_000},
			alerting.Audit{ID: 4, At: fired + 300_000, Action: alerting.ActionResolve}, "resolved_unacked", false, nil},
		{"acknowledged only after it resolved", alerting.Alert{FiredAt: fired, AckedAt: fired + 600_000},
			alerting.Audit{ID: 5, At: fired + 300_000, Action: alerting.ActionResolve}, "resolved_unacked", true, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := AlertPoint(&c.alert, &c.audit)
			got := map[string]any{}
			for _, f := range p.FieldList() {
				got[f.Key] = f.Value
			}
			if got[c.field] != c.want {
				t.Errorf("%s = %v, want %v (fields %v)", c.field, got[c.field], c.want, got)
			}
			for _, k := range c.absent {
				if _, ok := got[k]; ok {
					t.Errorf("%s set on a %s point", k, c.audit.Action)
				}
			}
		})
	}
}
