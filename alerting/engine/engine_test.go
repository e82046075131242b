package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/alerting/internal/fixture"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
)

var t0 = time.Date(2026, 1, 5, 20, 0, 0, 0, registry.Shanghai())

// rig is an engine on a fresh database with an injected clock.
type rig struct {
	t     *testing.T
	path  string
	snap  *registry.Snapshot
	clock *fixture.Clock
	st    *store.Store
	e     *Engine
	cfg   *Config
	reg   *prometheus.Registry
	model detect.ChargingModel // nil: the engine's default
	// slice, when not 0, writes device states in slices of that many
	// (Options.CheckpointSlice) with pos, the index of the record being
	// fed, as the marker.
	slice int
	pos   int

	mu    sync.Mutex
	notes []Transition
}

func newRig(t *testing.T, cfg *Config) *rig {
	t.Helper()
	r := &rig{t: t, path: filepath.Join(t.TempDir(), "alerts.db"), snap: fixture.Snapshot(t), clock: fixture.NewClock(t0), cfg: cfg}
	r.open()
	return r
}

// open (re)opens the store and the engine, as after a restart.
func (r *rig) open() {
	r.t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, r.path, store.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	r.st = st
	r.reg = prometheus.NewRegistry()
	e, err := New(ctx, st, fixture.Registry{S: r.snap}, Options{
		Config: r.cfg, Clock: r.clock, Registerer: r.reg, ChargingModel: r.model,
		CheckpointSlice: r.slice, Marker: r.marker(),
		Notifier: NotifierFunc(func(ts []Transition) {
			r.mu.Lock()
			r.notes = append(r.notes, ts...)
			r.mu.Unlock()
		}),
	})
	if err != nil {
		r.t.Fatal(err)
	}
	r.e = e
	r.t.Cleanup(func() { st.Close() })
}

// marker returns the engine's Marker: the index of the record being fed.
func (r *rig) marker() func() []byte {
	if r.slice == 0 {
		return nil
	}
	return func() []byte { return []byte(strconv.Itoa(r.pos)) }
}

// crash drops the engine without a final commit and closes the store.
func (r *rig) crash() {
	r.st.Close()
	r.e = nil
}

func (r *rig) dev(id string) *registry.Device {
	d, ok := r.snap.Device(id)
	if !ok {
		r.t.Fatalf("no device %s", id)
	}
	return d
}

// read feeds a reading of device id at t (offset from t0) with fields.
func (r *rig) read(id string, at time.Duration, kv ...any) {
	r.e.Reading(r.dev(id), reading(at, kv...))
}

func reading(at time.Duration, kv ...any) *devices.Reading {
	rd := &devices.Reading{TS: t0.Add(at).UnixMilli()}
	for i := 0; i < len(kv); i += 2 {
		f := kv[i].(devices.Field)
		switch v := kv[i+1].(type) {
		case int:
			rd.Put(f, float64(v))
		case float64:
			rd.Put(f, v)
		case bool:
			rd.PutBool(f, v)
		case devices.PileState:
			rd.Put(f, float64(v))
		}
	}
	return rd
}

func (r *rig) commit(cursor string) {
	r.t.Helper()
	if err := r.e.Commit(context.Background(), []byte(cursor), 0); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) alerts(f store.Filter) []*alerting.Alert {
	r.t.Helper()
	as, err := r.st.Alerts(context.Background(), &f)
	if err != nil {
		r.t.Fatal(err)
	}
	slices.Reverse(as)
	return as
}

// brief describes alerts as "rule/place state" lines, oldest first.
func brief(as []*alerting.Alert) []string {
	var out []string
	for _, a := range as {
		s := fmt.Sprintf("%s/%s %s", a.Rule, a.Place, a.State)
		if a.Port != 0 {
			s = fmt.Sprintf("%s/%s/%d %s", a.Rule, a.Place, a.Port, a.State)
		}
		out = append(out, s)
	}
	return out
}

func TestResidualCurrentEndToEnd(t *testing.T) {
	r := newRig(t, nil)
	r.read("mon1", 0, devices.FieldLeak, 120.0)
	r.read("mon1", 10*time.Second, devices.FieldLeak, 350.0, devices.FieldVoltage, 229.0)
	// Nothing is stored or notified before the commit.
	if as := r.alerts(store.Filter{}); len(as) != 0 || len(r.notes) != 0 {
		t.Fatalf("before commit: %v, %d notes", brief(as), len(r.notes))
	}
	r.commit("c1")
	as := r.alerts(store.Filter{})
	if got := brief(as); !slices.Equal(got, []string{"residual_current/mon1 firing"}) {
		t.Fatalf("alerts %q", got)
	}
	a := as[0]
	l := a.Location
	if l.District != "d1" || l.Street != "s1" || l.Community != "c1" || l.Building != "b1" || l.Device != "mon1" || l.Gateway != "g2" || l.Lat != 30.28 {
		t.Errorf("location %+v", l)
	}
	if a.Severity != alerting.SeverityMajor || a.Value != 350 || a.Limit != 300 || a.Unit != "mA" || a.StartedAt != t0.Add(10*time.Second).UnixMilli() {
		t.Errorf("alert %+v", a)
	}
	if len(a.Evidence) != 2 || a.Evidence[1].Values["leak_ma"] != 350 {
		t.Errorf("evidence %+v", a.Evidence)
	}
	if !strings.Contains(a.Summary, "residual current at monitor mon1, building b1: 350 mA (limit 300 mA), since 2026-01-05 20:00:10") {
		t.Errorf("summary %q", a.Summary)
	}
	if len(r.notes) != 1 || r.notes[0].Audit.Action != alerting.ActionFire || r.notes[0].Audit.ID == 0 || r.notes[0].Alert.ID != a.ID {
		t.Errorf("notes %+v", r.notes)
	}
	if c := r.e.Cursor(); string(c) != "c1" {
		t.Errorf("cursor %q", c)
	}
	if v := testutil.ToFloat64(r.e.m.transitions.WithLabelValues("residual_current", "fire")); v != 1 {
		t.Errorf("transitions metric %v", v)
	}
}

func TestChargingOneAlertPerUnit(t *testing.T) {
	r := newRig(t, nil)
	// A meter and a plug in unit u1 both see the charge; so does the meter
	// of u2, a designated charging room. The adapter feeds in log order.
	charge := func(at, start time.Duration) float64 {
		if at >= start && at < start+2*time.Hour {
			return 190
		}
		return 40
	}
	for m := time.Duration(0); m < 3*time.Hour; m += time.Minute {
		for _, d := range []struct {
			id    string
			start time.Duration
		}{{"m1", 10 * time.Minute}, {"p1", 12 * time.Minute}, {"m2", 10 * time.Minute}} {
			w := charge(m, d.start)
			r.read(d.id, m, devices.FieldPower, w, devices.FieldCurrent, w/230, devices.FieldVoltage, 230.0)
		}
	}
	r.commit("x")
	as := r.alerts(store.Filter{})
	if got := brief(as); !slices.Equal(got, []string{"indoor_charging/u1 resolved"}) {
		t.Fatalf("alerts %q", got)
	}
	a := as[0]
	if a.PlaceKind != alerting.PlaceUnit || a.Location.Unit != "u1" || a.Location.UnitType != "residential" || a.ResolvedUnacked != true {
		t.Errorf("alert %+v", a)
	}
	au, _ := r.st.Audit(context.Background(), a.ID)
	var acts []string
	for _, x := range au {
		acts = append(acts, string(x.Action))
	}
	if !slices.Equal(acts, []string{"fire", "resolve"}) {
		t.Errorf("audit %v", acts)
	}
	if a.StartedAt != t0.Add(10*time.Minute).UnixMilli() {
		t.Errorf("started %s", time.UnixMilli(a.StartedAt))
	}
}

// TestRestartDuringPending stops the engine (without a final commit, as
// kill -9 would) while an over-temperature alert's 20 s for-duration runs,
// restarts it from the store, and checks that the for-duration continues
// from the first reading instead of starting again.
func TestRestartDuringPending(t *testing.T) {
	r := newRig(t, nil)
	r.read("mon1", 0, devices.FieldTemp1, 60.0)
	r.read("mon1", 10*time.Second, devices.FieldTemp1, 85.0)
	r.commit("pos-2")
	r.read("mon1", 15*time.Second, devices.FieldTemp1, 86.0) // fed, not committed: lost in the crash
	r.crash()

	r.open()
	if c := string(r.e.Cursor()); c != "pos-2" {
		t.Fatalf("cursor after restart %q", c)
	}
	as := r.alerts(store.Filter{})
	if got := brief(as); !slices.Equal(got, []string{"over_temperature/mon1 pending"}) {
		t.Fatalf("after restart: %q", got)
	}
	// The adapter feeds again from its cursor.
	r.read("mon1", 15*time.Second, devices.FieldTemp1, 86.0)
	r.read("mon1", 20*time.Second, devices.FieldTemp1, 87.0)
	r.commit("pos-4")
	if got := brief(r.alerts(store.Filter{})); !slices.Equal(got, []string{"over_temperature/mon1 pending"}) {
		t.Fatalf("10 s after the first reading over: %q", got)
	}
	r.read("mon1", 30*time.Second, devices.FieldTemp1, 84.0)
	r.commit("pos-5")
	as = r.alerts(store.Filter{})
	if got := brief(as); !slices.Equal(got, []string{"over_temperature/mon1 firing"}) {
		t.Fatalf("after the for-duration: %q", got)
	}
	if a := as[0]; a.FiredAt != t0.Add(30*time.Second).UnixMilli() || a.StartedAt != t0.Add(10*time.Second).UnixMilli() || a.Value != 87 {
		t.Errorf("fired %s, started %s, value %g", time.UnixMilli(a.FiredAt), time.UnixMilli(a.StartedAt), a.Value)
	}
	au, _ := r.st.Audit(context.Background(), as[0].ID)
	if len(au) != 2 || au[0].Action != alerting.ActionPending || au[1].Action != alerting.ActionFire {
		t.Errorf("audit %+v", au)
	}
}

// TestRefeedAfterCommitIsIdempotent feeds the same records twice, as the
// adapter does after a crash between the engine's commit and its own.
func TestRefeedAfterCommitIsIdempotent(t *testing.T) {
	r := newRig(t, nil)
	feed := func() {
		r.read("mon1", 0, devices.FieldLeak, 350.0)
		r.read("mon1", 10*time.Second, devices.FieldLeak, 100.0)
		r.read("mon1", 80*time.Second, devices.FieldLeak, 100.0)
		r.e.Event(r.dev("sd1"), &devices.Event{TS: t0.Add(time.Minute).UnixMilli(), Seq: 7, Type: devices.EventSmokeAlarm})
		r.read("m1", 0, devices.FieldCurrent, 50.0)
	}
	feed()
	r.commit("a")
	r.crash()
	r.open()
	feed()
	r.commit("a")
	got := brief(r.alerts(store.Filter{}))
	want := []string{"residual_current/mon1 resolved", "smoke/sd1 firing", "overload/m1 firing"}
	if !slices.Equal(got, want) {
		t.Errorf("alerts %q, want %q", got, want)
	}
	if v := testutil.ToFloat64(r.e.m.inputs.WithLabelValues("reading", "late")); v != 4 {
		t.Errorf("late readings %v, want 4", v)
	}
}

func TestActions(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil)
	r.e.Event(r.dev("sd1"), &devices.Event{TS: t0.UnixMilli(), Seq: 1, Type: devices.EventSmokeAlarm})
	r.commit("1")
	id := r.alerts(store.Filter{})[0].ID
	r.clock.Add(time.Minute)
	a, err := r.e.Ack(ctx, id, "gw1", "on my way")
	if err != nil || a.State != alerting.StateAcknowledged || a.AckedBy != "gw1" || a.AckedAt != r.clock.Now().UnixMilli() {
		t.Fatalf("ack: %+v %v", a, err)
	}
	if _, err := r.e.Ack(ctx, id, "gw1", ""); !errors.Is(err, alerting.ErrConflict) {
		t.Errorf("second ack: %v", err)
	}
	if _, err := r.e.Close(ctx, id, "gw1", alerting.OutcomeFalseAlarm, ""); !errors.Is(err, alerting.ErrInvalid) {
		t.Errorf("close without a note: %v", err)
	}
	if _, err := r.e.Close(ctx, id, "gw1", alerting.OutcomeRectified, "cooking smoke"); !errors.Is(err, alerting.ErrConflict) {
		t.Errorf("rectified while smoke: %v", err)
	}
	if a, err = r.e.Close(ctx, id, "gw1", alerting.OutcomeFalseAlarm, "cooking smoke"); err != nil || a.State != alerting.StateClosed {
		t.Fatalf("close: %+v %v", a, err)
	}
	_, err = r.e.Close(ctx, id, "gw1", alerting.OutcomeFalseAlarm, "again")
	if !errors.Is(err, alerting.ErrConflict) || !strings.Contains(err.Error(), "is closed") {
		t.Errorf("close closed: %v", err)
	}
	if _, err := r.e.Ack(ctx, 999, "gw1", ""); !errors.Is(err, alerting.ErrNotFound) {
		t.Errorf("ack unknown: %v", err)
	}
	// Durable: the store has the whole audit log.
	au, _ := r.st.Audit(ctx, id)
	var acts []string
	for _, x := range au {
		acts = append(acts, fmt.Sprintf("%s:%s", x.Action, x.Actor))
	}
	if !slices.Equal(acts, []string{"fire:engine", "ack:gw1", "close:gw1"}) {
		t.Errorf("audit %v", acts)
	}
}

func TestSilences(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil)
	sl, err := r.e.CreateSilence(ctx, alerting.Silence{Building: "b1", Reason: "rewiring", EndsAt: t0.Add(time.Hour).UnixMilli(), CreatedBy: "adm"})
	if err != nil {
		t.Fatal(err)
	}
	if sl.Location.Community != "c1" || sl.StartsAt != t0.UnixMilli() {
		t.Errorf("silence %+v", sl)
	}
	r.read("mon1", time.Minute, devices.FieldLeak, 400.0)
	r.e.Event(r.dev("sd1"), &devices.Event{TS: t0.Add(time.Minute).UnixMilli(), Seq: 1, Type: devices.EventSmokeAlarm})
	r.read("m3", time.Minute, devices.FieldCurrent, 100.0) // building b2: not silenced
	r.commit("1")
	for _, a := range r.alerts(store.Filter{}) {
		want := int64(0)
		if a.Rule == alerting.RuleResidualCurrent {
			want = sl.ID
		}
		if a.SilenceID != want {
			t.Errorf("%s: silence %d, want %d", a.Key(), a.SilenceID, want)
		}
	}
	for _, bad := range []alerting.Silence{
		{Building: "nope", Reason: "x", EndsAt: t0.Add(time.Hour).UnixMilli()},
		{Building: "b1", Device: "m1", Reason: "x", EndsAt: t0.Add(time.Hour).UnixMilli()},
		{Building: "b1", EndsAt: t0.Add(time.Hour).UnixMilli()},
		{Building: "b1", Reason: "x", EndsAt: t0.Add(-time.Hour).UnixMilli()},
		{Building: "b1", Reason: "x", EndsAt: t0.Add(100 * 24 * time.Hour).UnixMilli()},
		{Building: "b1", Reason: "x", EndsAt: t0.Add(time.Hour).UnixMilli(), Rules: []alerting.Rule{"fire"}},
	} {
		if _, err := r.e.CreateSilence(ctx, bad); !errors.Is(err, alerting.ErrInvalid) {
			t.Errorf("silence %+v: %v", bad, err)
		}
	}
	if _, err := r.e.EndSilence(ctx, sl.ID, "adm"); err != nil {
		t.Fatal(err)
	}
	r.read("mon1", 2*time.Minute, devices.FieldTemp1, 90.0)
	r.read("mon1", 3*time.Minute, devices.FieldTemp1, 90.0)
	r.commit("2")
	for _, a := range r.alerts(store.Filter{Rules: []alerting.Rule{alerting.RuleOverTemperature}}) {
		if a.SilenceID != 0 {
			t.Errorf("silenced after the silence ended: %+v", a)
		}
	}
}

// step moves the clock to t0+at and ticks.
func (r *rig) tick(at time.Duration) {
	r.t.Helper()
	r.clock.Set(t0.Add(at))
	if err := r.e.Tick(context.Background()); err != nil {
		r.t.Fatal(err)
	}
}

// heartbeat feeds every device of the fixture (except those in quiet) a
// quiet reading at at.
func (r *rig) heartbeat(at time.Duration, quiet ...string) {
	for d := range r.snap.Devices() {
		if slices.Contains(quiet, d.ID) {
			continue
		}
		switch d.Kind {
		case devices.KindSmoke:
			r.e.Reading(d, reading(at, devices.FieldBatteryPct, 90.0))
		case devices.KindPile:
			r.e.Reading(d, reading(at, devices.FieldPort, 1, devices.FieldPower, 0.0))
		case devices.KindMonitor:
			r.e.Reading(d, reading(at, devices.FieldLeak, 20.0))
		default:
			r.e.Reading(d, reading(at, devices.FieldPower, 30.0))
		}
	}
}

func TestOffline(t *testing.T) {
	r := newRig(t, nil)
	r.commit("")
	// Everyone reports every 10 s for 20 minutes, but m5 stops at 5 min and
	// g1 sends its Last Will at 8 min (m1 and p1 fall silent with it).
	for s := time.Duration(0); s <= 20*time.Minute; s += 10 * time.Second {
		var quiet []string
		if s > 5*time.Minute {
			quiet = append(quiet, "m5")
		}
		if s > 8*time.Minute {
			quiet = append(quiet, "m1", "p1")
		}
		r.heartbeat(s, quiet...)
		if s == 8*time.Minute+10*time.Second {
			r.e.Status("g1", "g1", devices.Status{Online: false}, t0.Add(s))
		}
		r.tick(s)
	}
	got := brief(r.alerts(store.Filter{}))
	want := []string{"gateway_offline/g1 firing", "device_offline/m5 firing"}
	if !slices.Equal(got, want) {
		t.Fatalf("alerts %q, want %q", got, want)
	}
	m5 := r.alerts(store.Filter{Device: "m5"})[0]
	// Last heard at 5 min; offline after 3 x 60 s, but at least 5 min.
	if m5.StartedAt != t0.Add(10*time.Minute).UnixMilli() {
		t.Errorf("m5 offline since %s", time.UnixMilli(m5.StartedAt).In(registry.Shanghai()))
	}
	g1 := r.alerts(store.Filter{Rules: []alerting.Rule{alerting.RuleGatewayOffline}})[0]
	// Last Will at 8:10, offline a minute later (pending from 8:10), firing
	// two minutes after it went.
	if g1.StartedAt != t0.Add(8*time.Minute+10*time.Second).UnixMilli() || g1.FiredAt != t0.Add(10*time.Minute+10*time.Second).UnixMilli() {
		t.Errorf("g1 started %s fired %s", time.UnixMilli(g1.StartedAt), time.UnixMilli(g1.FiredAt))
	}
	if v := testutil.ToFloat64(r.e.m.devOffline); v != 3 {
		t.Errorf("devices offline %v, want 3 (m5, and m1 and p1 not alerted)", v)
	}
	// g1 comes back: its alert and the condition of its devices clear.
	r.e.Status("g1", "g1", devices.Status{Online: true, TS: t0.Add(21 * time.Minute).UnixMilli()}, t0.Add(21*time.Minute))
	r.heartbeat(21 * time.Minute)
	r.tick(21 * time.Minute)
	got = brief(r.alerts(store.Filter{}))
	want = []string{"gateway_offline/g1 resolved", "device_offline/m5 resolved"}
	if !slices.Equal(got, want) {
		t.Errorf("after recovery %q, want %q", got, want)
	}
}

func TestAreaOutage(t *testing.T) {
	r := newRig(t, nil)
	r.commit("")
	// Street s1 has gateways g1-g4; three of them drop within a minute:
	// the first two go pending, the third makes it an area outage, which
	// absorbs the pending gateway alerts.
	drop := map[time.Duration]string{2 * time.Minute: "g1", 2*time.Minute + 20*time.Second: "g2", 2*time.Minute + 40*time.Second: "g3"}
	for s := time.Duration(0); s <= 10*time.Minute; s += 10 * time.Second {
		var quiet []string
		if s >= 2*time.Minute {
			quiet = []string{"m1", "p1", "m2", "mon1", "m3"}
		}
		r.heartbeat(s, quiet...)
		if g, ok := drop[s]; ok {
			r.e.Status(g, g, devices.Status{}, t0.Add(s))
		}
		r.tick(s)
	}
	got := brief(r.alerts(store.Filter{}))
	want := []string{"gateway_offline/g1 cancelled", "gateway_offline/g2 cancelled", "area_outage/s1 firing"}
	if !slices.Equal(got, want) {
		t.Fatalf("alerts %q, want %q", got, want)
	}
	a := r.alerts(store.Filter{Rules: []alerting.Rule{alerting.RuleAreaOutage}})[0]
	if a.Location.Street != "s1" || a.Location.District != "d1" || a.Value != 3 || a.Limit != 4 || len(a.Evidence) != 3 {
		t.Errorf("area alert %+v", a)
	}
	// Two come back: fewer than three offline ends the outage; the one
	// still down gets its own alert.
	for s := 10*time.Minute + 10*time.Second; s <= 15*time.Minute; s += 10 * time.Second {
		if s == 10*time.Minute+10*time.Second {
			for _, g := range []string{"g1", "g2"} {
				r.e.Status(g, g, devices.Status{Online: true, TS: t0.Add(s).UnixMilli()}, t0.Add(s))
			}
		}
		r.heartbeat(s, "m3")
		r.tick(s)
	}
	got = brief(r.alerts(store.Filter{States: []alerting.State{alerting.StateFiring, alerting.StateResolved}}))
	want = []string{"area_outage/s1 resolved", "gateway_offline/g3 firing"}
	if !slices.Equal(got, want) {
		t.Errorf("after partial recovery %q, want %q", got, want)
	}
}

func TestLagDefersOffline(t *testing.T) {
	r := newRig(t, nil)
	r.heartbeat(0)
	// Restarted an hour later, the adapter is an hour behind: the devices
	// are not offline, the engine is late.
	r.clock.Set(t0.Add(time.Hour))
	if err := r.e.Commit(context.Background(), []byte("1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	r.tick(time.Hour)
	if as := r.alerts(store.Filter{}); len(as) != 0 {
		t.Errorf("alerts while lagging: %q", brief(as))
	}
	if v := testutil.ToFloat64(r.e.m.lag); v != 3600 {
		t.Errorf("lag metric %v", v)
	}
}

func TestStartupGrace(t *testing.T) {
	r := newRig(t, nil)
	// No commit from the adapter yet: no offline detection before the
	// startup grace, then the silent devices are offline.
	r.tick(time.Minute)
	if as := r.alerts(store.Filter{}); len(as) != 0 {
		t.Fatalf("alerts within the startup grace: %q", brief(as))
	}
	r.tick(10 * time.Minute)
	if as := r.alerts(store.Filter{}); len(as) == 0 {
		t.Error("no offline alerts after the startup grace")
	}
}

func TestConfigOverrides(t *testing.T) {
	yml := `
severity:
  tamper: major
disable: [low_battery]
kinds:
  monitor:
    residual_current: {raise: 500, clear: 450}
overrides:
  - building: b1
    set:
      residual_current: {raise: 400, clear: 380}
  - device: mon1
    set:
      over_temperature: {raise: 60, clear: 55}
  - unit: u1
    kinds: [meter]
    set:
      indoor_charging: {enabled: false}
`
	cfg, err := ParseConfig("alerting.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, cfg)
	if c := r.e.res.config(r.dev("mon1")); c.ResidualCurrent.Raise != 400 || c.OverTemperature.Raise != 60 || c.OverTemperature.For != 20*time.Second {
		t.Errorf("mon1 config %+v %+v", c.ResidualCurrent, c.OverTemperature)
	}
	if c := r.e.res.config(r.dev("m3")); c != cfg.Kind(devices.KindMeter) {
		t.Error("m3 has its own config without overrides")
	}
	if c := r.e.res.config(r.dev("m1")); c.Charging.Enabled {
		t.Error("m1 charging not disabled by its unit's override")
	}
	if c := r.e.res.config(r.dev("p1")); !c.Charging.Enabled {
		t.Error("p1 charging disabled by an override for meters")
	}
	if cfg.Severity[alerting.RuleTamper] != alerting.SeverityMajor || !cfg.Disabled[alerting.RuleLowBattery] {
		t.Error("severity or disable not applied")
	}
	r.e.Event(r.dev("sd1"), &devices.Event{TS: t0.UnixMilli(), Seq: 1, Type: devices.EventLowBattery})
	r.commit("1")
	if as := r.alerts(store.Filter{}); len(as) != 0 {
		t.Errorf("disabled rule raised %q", brief(as))
	}
}

func TestConfigErrors(t *testing.T) {
	yml := `
severity:
  smoke: loud
  fire: major
kinds:
  monitor:
    residual_current: {raise: 500, clear: 600}
  toaster: {}
overrides:
  - building: b1
    device: m1
    set: {}
  - device: m1
    set:
      residual: {raise: 1}
offline:
  misses: 0
`
	_, err := ParseConfig("alerting.yaml", []byte(yml))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`severity.smoke: unknown severity "loud"`, `unknown rule "fire"`,
		"alerting.yaml:7: kinds.monitor.residual_current.clear", `alerting.yaml:8: kinds: unknown device kind "toaster"`,
		"alerting.yaml:10: overrides[0]: name exactly one", "alerting.yaml:15: overrides[1].set:", "field residual not found",
		"offline.misses must be at least 1",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
	if _, err := ParseConfig("x.yaml", []byte("bogus: 1\n")); err == nil || !strings.Contains(err.Error(), "field bogus not found") {
		t.Errorf("unknown top-level key: %v", err)
	}
	if _, err := ParseConfig("empty.yaml", nil); err != nil {
		t.Errorf("empty config: %v", err)
	}
	if _, err := ParseConfig("x.yaml", []byte("learn_from_false_alarms: sometimes\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("learn_from_false_alarms not a boolean: %v", err)
	}
}

// TestConcurrentUse feeds, commits, ticks and acts from several goroutines
// at once (run with -race).
func TestConcurrentUse(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		for i := range 300 {
			r.read("mon1", time.Duration(i)*10*time.Second, devices.FieldLeak, float64(200+(i%4)*100))
			r.read("m3", time.Duration(i)*10*time.Second, devices.FieldCurrent, float64(20+(i%7)*10))
		}
	}()
	go func() {
		defer wg.Done()
		for i := range 50 {
			if err := r.e.Commit(ctx, []byte(fmt.Sprint(i)), 0); err != nil {
				t.Error(err)
			}
			if err := r.e.Tick(ctx); err != nil {
				t.Error(err)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for range 50 {
			for _, a := range r.alerts(store.Filter{States: []alerting.State{alerting.StateFiring}}) {
				r.e.Ack(ctx, a.ID, "gw1", "")
			}
			r.e.Stats()
		}
	}()
	wg.Wait()
	r.commit("end")
	if len(r.alerts(store.Filter{})) == 0 {
		t.Error("no alerts")
	}
}

// TestStatusReplayIgnored: a status fed again after a restart, onto a
// state that has already seen it (states can be written ahead of the
// input cursor), changes nothing: an old Last Will does not take back a
// gateway that came online after it, for the gateway and for a device's
// own status.
func TestStatusReplayIgnored(t *testing.T) {
	for _, tc := range []struct{ name, gw, dev string }{
		{"gateway's Last Will", "g1", "g1"},
		{"device behind its gateway", "g1", "m1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			r.commit("")
			offline, online := t0.Add(time.Minute), t0.Add(2*time.Minute)
			r.e.Status(tc.gw, tc.dev, devices.Status{Online: false}, offline)
			r.e.Status(tc.gw, tc.dev, devices.Status{Online: true, TS: online.UnixMilli()}, online)
			r.commit("")
			r.crash()
			r.open()
			r.e.Status(tc.gw, tc.dev, devices.Status{Online: false}, offline) // replayed
			r.e.mu.Lock()
			down := int64(0)
			if tc.dev == tc.gw {
				down = r.e.gw(tc.gw).down
			} else {
				down = r.e.dev(tc.dev).down
			}
			r.e.mu.Unlock()
			if down != 0 {
				t.Errorf("the replayed offline status set down at %s", time.UnixMilli(down))
			}
			if v := testutil.ToFloat64(r.e.m.inputs.WithLabelValues("status", "late")); v != 1 {
				t.Errorf("late statuses %v, want 1", v)
			}
			// A newer status still applies.
			r.e.Status(tc.gw, tc.dev, devices.Status{Online: false}, t0.Add(3*time.Minute))
			r.e.mu.Lock()
			if tc.dev == tc.gw {
				down = r.e.gw(tc.gw).down
			} else {
				down = r.e.dev(tc.dev).down
			}
			r.e.mu.Unlock()
			if down != t0.Add(3*time.Minute).UnixMilli() {
				t.Errorf("a new offline status after the replay: down %d", down)
			}
		})
	}
}

// TestVersion1Checkpoints: device and gateway states written before the
// status high-water mark (version 1) restore, with the mark at 0.
func TestVersion1Checkpoints(t *testing.T) {
	ds := &devState{id: "m1", heard: 11, down: 22, gapFrom: 33, gapTo: 44, statusAt: 55, offline: true}
	v1 := []byte{stateVersion1}
	for _, v := range []int64{11, 22, 33, 44} {
		v1 = binary.LittleEndian.AppendUint64(v1, uint64(v))
	}
	v1 = append(v1, 1) // offline
	var got devState
	if err := got.unmarshal(v1, nil); err != nil {
		t.Fatal(err)
	}
	if got.heard != 11 || got.down != 22 || got.gapFrom != 33 || got.gapTo != 44 || got.statusAt != 0 || !got.offline {
		t.Errorf("version 1 device state: %+v", got)
	}
	var back devState
	if err := back.unmarshal(ds.marshal(), nil); err != nil || back.statusAt != 55 || back.heard != 11 {
		t.Errorf("version 2 round trip: %+v %v", back, err)
	}
	gs := &gwState{id: "g1", heard: 1, down: 2, back: 3, since: 4, outFrom: 5, outTo: 6, statusAt: 7, offline: true, alert: 2}
	g1 := []byte{stateVersion1}
	for _, v := range []int64{1, 2, 3, 4, 5, 6} {
		g1 = binary.LittleEndian.AppendUint64(g1, uint64(v))
	}
	g1 = append(g1, 1, 2)
	var gg gwState
	if err := gg.unmarshal(g1); err != nil || gg.heard != 1 || gg.outTo != 6 || gg.statusAt != 0 || !gg.offline || gg.alert != 2 {
		t.Errorf("version 1 gateway state: %+v %v", gg, err)
	}
	var gb gwState
	if err := gb.unmarshal(gs.marshal()); err != nil || gb.statusAt != 7 || gb.alert != 2 {
		t.Errorf("version 2 gateway round trip: %+v %v", gb, err)
	}
	for _, bad := range [][]byte{nil, {9}, append([]byte{stateVersion}, make([]byte, 10)...)} {
		if (&devState{}).unmarshal(bad, nil) == nil || (&gwState{}).unmarshal(bad) == nil {
			t.Errorf("corrupt state %v accepted", bad)
		}
	}
}
