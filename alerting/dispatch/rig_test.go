package dispatch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/engine"
	"github.com/chargewatch/chargewatch/alerting/internal/fixture"
	"github.com/chargewatch/chargewatch/alerting/notify"
	"github.com/chargewatch/chargewatch/devices/registry"
)

// t0 is a Monday, 14:00 in Shanghai: the day shift is on.
var t0 = time.Date(2026, 1, 5, 14, 0, 0, 0, registry.Shanghai())

// siteYAML is the test site. hooks is the base URL of the people's
// webhooks and robots.
//
//	district d1 拱墅区 > street s1 米市巷街道 > community c1 大塘巷社区 (buildings b1, b2)
//	                                        > community c2 卖鱼桥社区 (building b3)
//	people: gw1 (grid worker c1, day; webhook then sms), gw2 (grid worker c1, night; sms),
//	        gw3 (grid worker c2, round the clock; wecom robot then sms), so1 (street officer s1; sms),
//	        do1 (district officer d1; dingtalk robot then sms), fb1 (fire brigade d1; webhook)
func siteYAML(hooks string) string {
	return fmt.Sprintf(`
version: 1
districts:
  - {id: d1, name: 拱墅区}
streets:
  - {id: s1, name: 米市巷街道, district: d1}
communities:
  - {id: c1, name: 大塘巷社区, street: s1}
  - {id: c2, name: 卖鱼桥社区, street: s1}
buildings:
  - {id: b1, name: 大塘新村1幢, community: c1, lat: 30.28, lon: 120.15, address: 杭州市拱墅区大塘巷12号}
  - {id: b2, name: 大塘新村2幢, community: c1, lat: 30.28, lon: 120.15}
  - {id: b3, name: 卖鱼桥小区5幢, community: c2, lat: 30.29, lon: 120.14}
units:
  - {id: u1, building: b1, type: residential, room: "302"}
  - {id: u2, building: b1, type: shop, room: "101", name: 小卖部}
  - {id: u3, building: b2, type: residential, room: "201"}
  - {id: u4, building: b3, type: residential, room: "501"}
devices:
  - {id: sd1, kind: smoke, gateway: sd1, unit: u1}
  - {id: sd2, kind: smoke, gateway: sd2, unit: u2}
  - {id: sd3, kind: smoke, gateway: sd3, unit: u3}
  - {id: sd4, kind: smoke, gateway: sd4, unit: u1}
  - {id: sd5, kind: smoke, gateway: sd5, unit: u2}
people:
  - {id: gw1, name: 王芳, roles: [grid_worker], communities: [c1], contacts: [{channel: webhook, address: "%[1]s/hook/gw1"}, {channel: sms, address: "13800000001"}]}
  - {id: gw2, name: 李强, roles: [grid_worker], communities: [c1], contacts: [{channel: sms, address: "13800000002"}]}
  - {id: gw3, name: 赵敏, roles: [grid_worker], communities: [c2], contacts: [{channel: wecom, address: "%[1]s/cgi-bin/webhook/send"}, {channel: sms, address: "13800000003"}]}
  - {id: so1, name: 周华, roles: [street_officer], streets: [s1], contacts: [{channel: sms, address: "13800000011"}]}
  - {id: do1, name: 郑伟, roles: [district_officer], districts: [d1], locale: en, contacts: [{channel: dingtalk, address: "%[1]s/robot/send"}, {channel: sms, address: "13800000021"}]}
  - {id: fb1, name: 消防救援站, roles: [fire_brigade], districts: [d1], contacts: [{channel: webhook, address: "%[1]s/hook/fire"}]}
rosters:
  - {person: gw1, community: c1, from: "08:00", to: "20:00"}
  - {person: gw2, community: c1, from: "20:00", to: "08:00"}
  - {person: gw3, community: c2, from: "00:00", to: "24:00"}
  - {person: so1, street: s1, from: "00:00", to: "24:00"}
  - {person: do1, district: d1, from: "00:00", to: "24:00"}
  - {person: fb1, district: d1, from: "00:00", to: "24:00"}
`, hooks)
}

func snapshot(t testing.TB, hooks string) *registry.Snapshot {
	t.Helper()
	site, err := registry.ParseSite("site.yaml", []byte(siteYAML(hooks)))
	if err != nil {
		t.Fatal(err)
	}
	return fixture.Load(t, site)
}

// sent is one message a fake notifier got.
type sent struct {
	channel string
	m       notify.Message
}

func (s sent) String() string {
	return fmt.Sprintf("%s %s L%d %s->%s %v", s.m.Kind, s.channel, s.m.Level, s.m.Recipient.Person, s.m.Recipient.Address, alertIDs(s.m))
}

func alertIDs(m notify.Message) []int64 {
	var ids []int64
	for _, a := range m.Alerts {
		ids = append(ids, a.ID)
	}
	return ids
}

// recorder is a set of fake notifiers that record what they are given;
// fail, when set for a channel, decides each attempt's error.
type recorder struct {
	mu       sync.Mutex
	got      []sent
	attempts map[string]int
	fail     map[string]func(m *notify.Message) error
}

func newRecorder() *recorder {
	return &recorder{attempts: map[string]int{}, fail: map[string]func(*notify.Message) error{}}
}

func (r *recorder) notifiers() map[string]notify.Notifier {
	out := map[string]notify.Notifier{}
	for _, ch := range []string{ChannelSMS, ChannelWebhook, ChannelWeCom, ChannelDingTalk} {
		out[ch] = notify.NotifierFunc(func(ctx context.Context, m *notify.Message) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.attempts[ch]++
			if f := r.fail[ch]; f != nil {
				if err := f(m); err != nil {
					return err
				}
			}
			r.got = append(r.got, sent{channel: ch, m: *m})
			return nil
		})
	}
	return out
}

func (r *recorder) setFail(ch string, f func(*notify.Message) error) {
	r.mu.Lock()
	r.fail[ch] = f
	r.mu.Unlock()
}

// take returns what was delivered since the last take, ordered.
func (r *recorder) take() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	slices.SortFunc(out, func(a, b sent) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// rig is a dispatcher on a fresh database with fake notifiers and an
// injected clock; it plays the engine by feeding transitions.
type rig struct {
	t      testing.TB
	path   string
	snap   *registry.Snapshot
	clock  *fixture.Clock
	rec    *recorder
	cfg    *Config
	reg    *prometheus.Registry
	d      *Dispatcher
	audit  []alerting.Audit
	docs   map[int64]*alerting.Alert
	src    AuditSource // nil: none
	notifs map[string]notify.Notifier
}

func newRig(t testing.TB, cfg *Config) *rig {
	t.Helper()
	if cfg == nil {
		cfg = DefaultConfig()
		cfg.PublicURL = "https://cw.example.org"
	}
	r := &rig{t: t, path: filepath.Join(t.TempDir(), "dispatch.db"), snap: snapshot(t, "http://hooks.test"),
		clock: fixture.NewClock(t0), rec: newRecorder(), cfg: cfg, docs: map[int64]*alerting.Alert{}}
	r.notifs = r.rec.notifiers()
	r.open()
	return r
}

// open (re)opens the dispatcher, as after a restart.
func (r *rig) open() {
	r.t.Helper()
	r.reg = prometheus.NewRegistry()
	d, err := Open(context.Background(), r.path, Options{
		Config: r.cfg, Registry: fixture.Registry{S: r.snap}, Notifiers: r.notifs, Audit: r.src, Clock: r.clock, Registerer: r.reg,
	})
	if err != nil {
		r.t.Fatal(err)
	}
	r.d = d
	r.t.Cleanup(func() { d.Close() })
}

// restart closes the dispatcher and opens it again.
func (r *rig) restart() {
	r.t.Helper()
	r.d.Close()
	r.open()
}

func (r *rig) step() {
	r.t.Helper()
	if err := r.d.Step(context.Background()); err != nil {
		r.t.Fatal(err)
	}
}

// at moves the clock to t0+d and steps.
func (r *rig) at(d time.Duration) []sent {
	r.t.Helper()
	r.clock.Set(t0.Add(d))
	r.step()
	return r.rec.take()
}

// alert makes a firing alert of rule at a unit (u1: c1/b1, u2: c1/b1,
// u3: c1/b2, u4: c2/b3).
func (r *rig) alert(id int64, rule alerting.Rule, sev alerting.Severity, unit string) *alerting.Alert {
	loc := map[string]alerting.Location{
		"u1": {District: "d1", Street: "s1", Community: "c1", Building: "b1", Unit: "u1", Device: "sd1", Kind: "smoke"},
		"u2": {District: "d1", Street: "s1", Community: "c1", Building: "b1", Unit: "u2", Device: "m2", Kind: "meter"},
		"u3": {District: "d1", Street: "s1", Community: "c1", Building: "b2", Unit: "u3", Device: "m3", Kind: "meter"},
		"u4": {District: "d1", Street: "s1", Community: "c2", Building: "b3", Unit: "u4", Device: "m4", Kind: "meter"},
	}[unit]
	now := r.clock.Now().UnixMilli()
	return &alerting.Alert{
		ID: id, Rule: rule, Severity: sev, State: alerting.StateFiring, PlaceKind: alerting.PlaceDevice, Place: loc.Device,
		Location: loc, StartedAt: now - 60_000, FiredAt: now,
		Evidence: []alerting.Sample{{TS: now, Device: loc.Device, Event: "smoke_alarm"}}, UpdatedAt: now,
	}
}

// transition commits a transition of a (as the engine would) and hands it
// to the dispatcher.
func (r *rig) transition(a *alerting.Alert, act alerting.Action) {
	r.t.Helper()
	now := r.clock.Now().UnixMilli()
	switch act {
	case alerting.ActionAck:
		a.State, a.AckedAt = alerting.StateAcknowledged, now
	case alerting.ActionResolve:
		if a.AckedAt == 0 {
			a.ResolvedUnacked = true
		}
		a.State, a.ResolvedAt = alerting.StateResolved, now
	case alerting.ActionReopen, alerting.ActionFire:
		a.State, a.ResolvedAt, a.ResolvedUnacked = alerting.StateFiring, 0, false
		if act == alerting.ActionReopen {
			a.Reopens++
		}
	case alerting.ActionClose:
		a.State, a.ClosedAt, a.Outcome = alerting.StateClosed, now, alerting.OutcomeRectified
	}
	au := alerting.Audit{ID: int64(len(r.audit) + 1), AlertID: a.ID, At: now, Actor: alerting.ActorEngine, Action: act, To: a.State, Severity: a.Severity}
	r.audit = append(r.audit, au)
	c := a.Clone()
	r.docs[a.ID] = c
	r.d.Notify([]engine.Transition{{Alert: c, Audit: au}})
}

// AuditSince and AlertsByID make the rig an AuditSource.
func (r *rig) AuditSince(_ context.Context, after int64, limit int) ([]alerting.Audit, error) {
	var out []alerting.Audit
	for _, a := range r.audit {
		if a.ID > after && len(out) < limit {
			out = append(out, a)
		}
	}
	return out, nil
}

func (r *rig) AlertsByID(_ context.Context, ids []int64) (map[int64]*alerting.Alert, error) {
	out := map[int64]*alerting.Alert{}
	for _, id := range ids {
		if a, ok := r.docs[id]; ok {
			out[id] = a.Clone()
		}
	}
	return out, nil
}

// expect checks the messages delivered: each want is "kind channel Llevel
// person [ids]" as sent.String() prints, without the address.
func expect(t *testing.T, what string, got []sent, want ...string) {
	t.Helper()
	var g []string
	for _, s := range got {
		g = append(g, fmt.Sprintf("%s %s L%d %s %v", s.m.Kind, s.channel, s.m.Level, s.m.Recipient.Person, alertIDs(s.m)))
	}
	slices.Sort(g)
	slices.Sort(want)
	if !slices.Equal(g, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, g, want)
	}
}

var errBoom = errors.New("connection refused")

func retryable(*notify.Message) error { return notify.Retryable(notify.ReasonNetwork, 0, errBoom) }

// counter returns the value of a counter or gauge with the given label
// pairs from reg.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	t.Fatalf("no metric %s %v", name, labels)
	return 0
}
