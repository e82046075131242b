package dashboards_test

import (
	"fmt"
	"sort"
	"strings"
	"time"

	d "github.com/chargewatch/chargewatch/dashboards"
)

// The scenario: a small city whose every reading, event, status and alert
// the test writes itself, so that each panel's expected values can be
// computed here from the same records. Two districts; a building id with a
// dot (b-2.east), which Grafana must regex-escape; a unit with two meters;
// a two-port pile; eight days of readings every five minutes (smoke
// detectors hourly), so that long ranges read the rollups.

type place struct{ district, street, community, building string }

var (
	xihu1 = place{"xihu", "lingyin", "c-ly", "b1"}
	xihu2 = place{"xihu", "beishan", "c-bs", "b-2.east"}
	binj  = place{"binjiang", "changhe", "c-ch", "b3"}
	empty = place{"xihu", "lingyin", "c-ly", "b4"} // a building without devices or alerts
)

type device struct {
	id, kind, gateway, unit string
	place
	ports int
	n     int // index, for values
}

var devs = []*device{
	{id: "m1", kind: d.Meter, gateway: "g1", unit: "u1", place: xihu1},
	{id: "m1b", kind: d.Meter, gateway: "g1", unit: "u1", place: xihu1},
	{id: "m2", kind: d.Meter, gateway: "g1", unit: "u2", place: xihu1},
	{id: "p1", kind: d.Pile, gateway: "p1", place: xihu1, ports: 2},
	{id: "s1", kind: d.Smoke, gateway: "s1", unit: "u1", place: xihu1},
	{id: "s2", kind: d.Smoke, gateway: "s2", unit: "u2", place: xihu1},
	{id: "mon1", kind: d.Monitor, gateway: "g1", place: xihu1},
	{id: "m3", kind: d.Meter, gateway: "g2", unit: "u3", place: xihu2},
	{id: "s3", kind: d.Smoke, gateway: "s3", unit: "u3", place: xihu2},
	{id: "pl1", kind: d.Plug, gateway: "g2", unit: "u3", place: xihu2},
	{id: "m4", kind: d.Meter, gateway: "g3", unit: "u4", place: binj},
	{id: "s4", kind: d.Smoke, gateway: "s4", unit: "u4", place: binj},
}

func devByID(id string) *device {
	for _, x := range devs {
		if x.id == id {
			return x
		}
	}
	panic("no device " + id)
}

// tags renders a device's tag set as the ingest writer does (sorted keys,
// empty values left out).
func (v *device) tags(port int, extra ...string) map[string]string {
	m := map[string]string{"building": v.building, "community": v.community, "device": v.id,
		"district": v.district, "gateway": v.gateway, "street": v.street, "unit": v.unit}
	if port > 0 {
		m["port"] = fmt.Sprint(port)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

// point is one InfluxDB point the scenario writes.
type point struct {
	m    string // measurement
	rp   string // retention policy ("" for the default)
	tags map[string]string
	ts   time.Time
	f    map[string]any // float64, int64, bool or string
}

func (p point) line() string {
	var b strings.Builder
	b.WriteString(p.m)
	keys := make([]string, 0, len(p.tags))
	for k, v := range p.tags {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, ",%s=%s", k, p.tags[k])
	}
	fk := make([]string, 0, len(p.f))
	for k := range p.f {
		fk = append(fk, k)
	}
	sort.Strings(fk)
	for i, k := range fk {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteByte(',')
		}
		switch v := p.f[k].(type) {
		case float64:
			fmt.Fprintf(&b, "%s=%v", k, v)
		case int64:
			fmt.Fprintf(&b, "%s=%di", k, v)
		case int:
			fmt.Fprintf(&b, "%s=%di", k, v)
		case bool:
			fmt.Fprintf(&b, "%s=%t", k, v)
		case string:
			fmt.Fprintf(&b, "%s=%q", k, v)
		default:
			panic(fmt.Sprintf("field %s: %T", k, v))
		}
	}
	fmt.Fprintf(&b, " %d", p.ts.UnixNano())
	return b.String()
}

// alert is one alert record of the scenario.
type alert struct {
	id                 int
	rule, severity     string
	place              place
	unit, gateway, dev string
	port               int
	summary            string
	value, limit       float64
	relapse            bool
	fired              time.Time // started two minutes before
	acked, resolved    time.Time // zero: never
	closed             time.Time
	outcome            string
}

var sevLevel = map[string]int64{"info": 1, "warning": 2, "major": 3, "critical": 4}

func (a *alert) started() time.Time { return a.fired.Add(-2 * time.Minute) }

// stateAt returns the alert's state at t ("" before it fired).
func (a *alert) stateAt(t time.Time) string {
	switch {
	case t.Before(a.fired):
		return ""
	case !a.closed.IsZero() && !t.Before(a.closed):
		return "closed"
	case !a.resolved.IsZero() && !t.Before(a.resolved):
		return "resolved"
	case !a.acked.IsZero() && !t.Before(a.acked):
		return "acknowledged"
	}
	return "firing"
}

// tags are the location tags alerting/influx writes (ids only).
func (a *alert) tags() map[string]string {
	m := map[string]string{"rule": a.rule, "severity": a.severity,
		"district": a.place.district, "street": a.place.street, "community": a.place.community,
		"building": a.place.building, "unit": a.unit, "gateway": a.gateway, "device": a.dev}
	if a.port > 0 {
		m["port"] = fmt.Sprint(a.port)
	}
	return m
}

var auditID int64

// transitions returns the alert's points in the alert measurement, as
// alerting/influx AlertPoint writes them, plus the fields accountability
// needs (d.AlertAckSeconds, ...).
func (a *alert) transitions() []point {
	base := func(action, state string, at time.Time) point {
		auditID++
		tg := a.tags()
		tg["action"], tg["state"] = action, state
		return point{m: d.AlertMeasurement, rp: d.AlertRP, tags: tg, ts: at.Add(time.Duration(auditID % 1_000_000)), f: map[string]any{
			"id": int64(a.id), "audit_id": auditID, "actor": "engine", "summary": a.summary, "value": a.value, "limit": a.limit,
			"started_at": a.started().UnixMilli(), "event_ts": at.UnixMilli(), "relapse": a.relapse, "silenced": false,
		}}
	}
	out := []point{base("fire", "firing", a.fired)}
	if !a.acked.IsZero() {
		p := base("ack", "acknowledged", a.acked)
		p.f["actor"] = "grid-worker-1"
		p.f[d.AlertAckSeconds] = a.acked.Sub(a.fired).Seconds()
		out = append(out, p)
	}
	if !a.resolved.IsZero() {
		p := base("resolve", "resolved", a.resolved)
		p.f[d.AlertResolvedUnacked] = a.acked.IsZero() || a.acked.After(a.resolved)
		out = append(out, p)
	}
	if !a.closed.IsZero() {
		p := base("close", "closed", a.closed)
		p.f["outcome"] = a.outcome
		p.f[d.AlertCloseSeconds] = a.closed.Sub(a.fired).Seconds()
		out = append(out, p)
	}
	return out
}

// snapshotPoint is the alert's point in the open-alert snapshot at t, the
// i-th of the snapshot.
func (a *alert) snapshotPoint(t time.Time, i int) point {
	tg := a.tags()
	tg["state"] = a.stateAt(t)
	return point{m: d.AlertOpenMeasurement, rp: d.SnapshotRP, tags: tg, ts: t.Add(time.Duration(i)), f: map[string]any{
		"id": int64(a.id), "value": a.value, "limit": a.limit, "started_at": a.started().UnixMilli(),
		"age_s": int64(t.Sub(a.started()) / time.Second), "severity_level": sevLevel[a.severity],
		"summary": a.summary, "silenced": false, "relapse": a.relapse,
	}}
}

// openAt reports whether the alert is in a snapshot at t.
func (a *alert) openAt(t time.Time) bool {
	st := a.stateAt(t)
	return st != "" && st != "closed"
}

type bld struct {
	place
	name     string
	lat, lon float64
}

var buildings = []bld{
	{xihu1, "Lingyin Road 1", 30.2431, 120.1012},
	{xihu2, "Beishan East 2", 30.2602, 120.1421},
	{binj, "Changhe 3", 30.2085, 120.2113},
	{empty, "Lingyin Road 4", 30.2440, 120.1020},
}

// scenario holds everything written, and T, the end of the dashboards' range.
type scenario struct {
	T        time.Time
	start    time.Time // first reading
	readings []point
	events   []point
	status   []point
	alerts   []*alert
	snaps    []point // alert_open
	bsnaps   []point // building
}

const (
	days    = 8
	slot    = 5 * time.Minute
	slotOff = 30 * time.Second // readings at hh:m0:30 and hh:m5:30
)

// pileState is the state of a pile port at slot time ts.
func pileState(port int, ts time.Time) string {
	h := ts.Hour()
	if port == 1 {
		if (h >= 8 && h < 11) || (h >= 19 && h < 21) {
			return "charging"
		}
		return "idle"
	}
	switch {
	case h >= 1 && h < 5:
		return "charging"
	case h == 5:
		return "full"
	case h == 13 && ts.Minute() < 10:
		return "fault"
	}
	return "idle"
}

func newScenario(T time.Time) *scenario {
	s := &scenario{T: T, start: T.Add(-days * 24 * time.Hour)}
	for i, v := range devs {
		v.n = i
	}
	seq := map[string]int64{}
	lastState := map[string]string{}
	for ts := s.start.Add(slotOff); ts.Before(T); ts = ts.Add(slot) {
		k := int64(ts.Sub(s.start) / slot)
		for _, v := range devs {
			n := int64(v.n)
			switch v.kind {
			case d.Meter:
				seq[v.id]++
				s.readings = append(s.readings, point{m: d.Meter, tags: v.tags(0), ts: ts, f: map[string]any{
					"seq": seq[v.id], "power_w": float64((k*37+n*101)%500 + 100), "voltage_v": float64(220 + (k+n)%10),
					"energy_kwh": float64(1000*n) + float64(k)/8, "temp_c": float64(30 + k%5),
				}})
			case d.Monitor:
				seq[v.id]++
				leak := float64(20 + (k*13)%50)
				if k%500 == 77 {
					leak = 450
				}
				s.readings = append(s.readings, point{m: d.Monitor, tags: v.tags(0), ts: ts, f: map[string]any{
					"seq": seq[v.id], "leak_ma": leak, "temp1_c": float64(35 + k%7), "current_a": float64(10 + k%9),
				}})
			case d.Plug:
				seq[v.id]++
				on := k%12 < 6
				p := 0.0
				if on {
					p = float64(50 + k%7)
				}
				s.readings = append(s.readings, point{m: d.Plug, tags: v.tags(0), ts: ts, f: map[string]any{
					"seq": seq[v.id], "relay_on": on, "power_w": p, "voltage_v": 229.0, "energy_kwh": float64(k) / 100,
				}})
			case d.Pile:
				for port := 1; port <= v.ports; port++ {
					seq[v.id]++
					st := pileState(port, ts)
					p := 0.0
					if st == "charging" {
						p = float64(300 + (k*int64(port))%50)
					}
					s.readings = append(s.readings, point{m: d.Pile, tags: v.tags(port), ts: ts, f: map[string]any{
						"seq": seq[v.id], "state": st, "power_w": p, "temp_c": float64(25 + k%3), "fault": st == "fault",
					}})
					key := fmt.Sprint(v.id, port)
					if st == "charging" && lastState[key] != "charging" && lastState[key] != "" {
						s.events = append(s.events, event(v, port, "charge_start", ts.Add(-10*time.Second), seq[v.id], "", ""))
					}
					if st != "charging" && lastState[key] == "charging" {
						s.events = append(s.events, event(v, port, "charge_stop", ts.Add(-10*time.Second), seq[v.id], "E0", ""))
					}
					lastState[key] = st
				}
			case d.Smoke:
				if ts.Minute() != 0 { // hourly
					continue
				}
				seq[v.id]++
				h := int64(ts.Sub(s.start) / time.Hour)
				smoke := (v.id == "s1" && ts.Equal(T.Add(-3*time.Hour+slotOff))) || (v.id == "s4" && ts.Equal(T.Add(-2*time.Hour+slotOff)))
				s.readings = append(s.readings, point{m: d.Smoke, tags: v.tags(0), ts: ts, f: map[string]any{
					"seq": seq[v.id], "smoke": smoke, "battery_pct": float64(90 - h/24 - n), "battery_low": v.id == "s2" && h > 150,
					"tamper": false, "fault": false, "rssi_dbm": float64(-60 - (h+n)%10), "link_quality": float64(200 - h%20),
				}})
			}
		}
	}
	s.events = append(s.events,
		event(devByID("s1"), 0, "smoke_alarm", T.Add(-3*time.Hour+slotOff), 900, "", "obscuration 12 %/m"),
		event(devByID("s3"), 0, "smoke_alarm", T.Add(-30*time.Hour), 901, "", "kitchen"),
		event(devByID("s4"), 0, "smoke_alarm", T.Add(-2*time.Hour+slotOff), 902, "", ""),
		event(devByID("mon1"), 0, "fault", T.Add(-7*time.Hour), 903, "F12", "channel 2 open"),
		event(devByID("s2"), 0, "tamper", T.Add(-9*time.Hour), 904, "", ""),
	)
	g2 := &device{id: "g2", gateway: "g2", place: xihu2}
	s.status = append(s.status,
		point{m: d.Status, tags: g2.tags(0), ts: T.Add(-40 * time.Minute), f: map[string]any{"online": false}},
		point{m: d.Status, tags: devByID("m1").tags(0), ts: T.Add(-10 * time.Minute), f: map[string]any{
			"online": true, "uptime_s": int64(86400), "queue_depth": int64(0), "queue_age_s": int64(0), "poll_errors": int64(3), "clock": "synced", "version": "cw-edge 1.4.2"}},
	)

	at := func(dd time.Duration) time.Time { return T.Add(-dd) }
	s.alerts = []*alert{
		{id: 100, rule: "indoor_charging", severity: "major", place: xihu1, unit: "u1", summary: "e-bike charging in unit u1",
			value: 180, limit: 120, fired: at(20 * 24 * time.Hour), acked: at(20*24*time.Hour - 5*time.Minute),
			resolved: at(20*24*time.Hour - 2*time.Hour), closed: at(19 * 24 * time.Hour), outcome: "rectified"},
		{id: 101, rule: "indoor_charging", severity: "major", place: xihu1, unit: "u1", summary: "e-bike charging in unit u1 again",
			value: 175, limit: 120, relapse: true, fired: at(5 * time.Hour), acked: at(5*time.Hour - 10*time.Minute)},
		{id: 102, rule: "overload", severity: "major", place: xihu1, unit: "u2", dev: "m2", summary: "m2 over its rating",
			value: 42, limit: 32, fired: at(48 * time.Hour), acked: at(48*time.Hour - 30*time.Minute),
			resolved: at(45 * time.Hour), closed: at(24*time.Hour - 10*time.Minute), outcome: "rectified"},
		{id: 103, rule: "device_offline", severity: "warning", place: xihu2, unit: "u3", gateway: "s3", dev: "s3", summary: "s3 silent",
			fired: at(time.Hour)},
		{id: 104, rule: "gateway_offline", severity: "major", place: xihu2, gateway: "g2", summary: "gateway g2 went away",
			fired: at(40 * time.Minute)},
		{id: 105, rule: "smoke", severity: "critical", place: binj, unit: "u4", gateway: "s4", dev: "s4", summary: "smoke in u4",
			fired: at(2*time.Hour - slotOff), acked: at(2*time.Hour - 2*time.Minute), resolved: at(time.Hour)},
		{id: 106, rule: "indoor_charging", severity: "major", place: xihu1, unit: "u2", summary: "e-bike charging in unit u2",
			value: 150, limit: 120, fired: at(20 * time.Hour), resolved: at(19 * time.Hour),
			closed: at(18 * time.Hour), outcome: "false_alarm"},
		{id: 107, rule: "residual_current", severity: "major", place: xihu1, gateway: "g1", dev: "mon1", summary: "leakage 450 mA",
			value: 450, limit: 300, fired: at(26 * time.Hour), acked: at(25 * time.Hour),
			closed: at(30 * time.Second), outcome: "rectified"},
		{id: 108, rule: "low_battery", severity: "warning", place: xihu1, unit: "u2", gateway: "s2", dev: "s2", summary: "s2 battery low",
			fired: at(3 * 24 * time.Hour)},
		{id: 110, rule: "overload", severity: "major", place: xihu1, unit: "u1", gateway: "g1", dev: "m1", summary: "m1 over its rating",
			value: 40, limit: 32, fired: at(8 * time.Hour), acked: at(7 * time.Hour)},
		{id: 109, rule: "indoor_charging", severity: "major", place: xihu2, unit: "u3", summary: "e-bike charging in unit u3",
			value: 160, limit: 120, fired: at(6 * time.Hour), acked: at(5 * time.Hour),
			resolved: at(4 * time.Hour), closed: at(3 * time.Hour), outcome: "referred"},
	}
	// Snapshots every minute for the last 24 hours, up to the minute before
	// T, as alerting/influx writes them.
	for m := T.Add(-24 * time.Hour); m.Before(T); m = m.Add(d.SnapshotInterval) {
		i := 0
		for _, a := range s.alerts {
			if a.openAt(m) {
				s.snaps = append(s.snaps, a.snapshotPoint(m, i))
				i++
			}
		}
	}
	for m := T.Add(-5 * time.Minute); m.Before(T); m = m.Add(d.SnapshotInterval) {
		for i, b := range buildings {
			open, worst, rule, worstID := int64(0), int64(0), "none", int64(0)
			for _, a := range s.alerts {
				if a.place.building != b.building || !active(a.stateAt(m)) {
					continue
				}
				open++
				if sevLevel[a.severity] > worst {
					worst, rule, worstID = sevLevel[a.severity], a.rule, int64(a.id)
				}
			}
			s.bsnaps = append(s.bsnaps, point{m: d.BuildingMeasurement, rp: d.SnapshotRP, ts: m.Add(time.Duration(i)),
				tags: map[string]string{"district": b.district, "street": b.street, "community": b.community, "building": b.building},
				f: map[string]any{"lat": b.lat, "lon": b.lon, "name": b.name, "open_alerts": open, "worst_severity": worst,
					"worst_rule": rule, "worst_alert_id": worstID}})
		}
	}
	return s
}

func event(v *device, port int, typ string, ts time.Time, seq int64, code, detail string) point {
	f := map[string]any{"seq": seq, "kind": v.kind}
	if code != "" {
		f["code"] = code
	}
	if detail != "" {
		f["detail"] = detail
	}
	return point{m: d.Event, tags: v.tags(port, "type", typ), ts: ts, f: f}
}
