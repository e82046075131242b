package dashboards_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	d "github.com/chargewatch/chargewatch/dashboards"
	"github.com/chargewatch/chargewatch/dashboards/internal/grafana"
	"github.com/chargewatch/chargewatch/ingest"
	"github.com/chargewatch/chargewatch/ingest/downsample"
	"github.com/chargewatch/chargewatch/internal/testenv"
)

// env runs panels of the generated dashboards against the scenario, the way
// Grafana would (see package grafana), and remembers which panels a test
// checked.
type env struct {
	t       *testing.T
	sc      *scenario
	ds      map[string]*grafana.Datasource
	boards  map[string]*grafana.Dashboard
	checked map[string]map[string]bool
}

func (e *env) board(uid string) *grafana.Dashboard {
	b := e.boards[uid]
	if b == nil {
		e.t.Fatalf("no dashboard %s", uid)
	}
	return b
}

// run returns the series each target of a panel got, by refId.
func (e *env) run(uid, title string, sel map[string]grafana.Selection, from, to time.Time) map[string][]grafana.Series {
	e.t.Helper()
	b := e.board(uid)
	p := b.Panel(title)
	if p == nil {
		e.t.Fatalf("%s has no panel %q", uid, title)
	}
	if e.checked[uid] == nil {
		e.checked[uid] = map[string]bool{}
	}
	e.checked[uid][title] = true
	st, err := b.Resolve(context.Background(), e.ds, from, to, sel)
	if err != nil {
		e.t.Fatalf("%s variables: %v", uid, err)
	}
	qs, err := b.PanelQueries(p, st, from, to, e.ds)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string][]grafana.Series{}
	for _, q := range qs {
		res, err := q.Datasource.Influx.Query(context.Background(), q.Text)
		if err != nil {
			e.t.Fatalf("%s %q target %s: %v\nquery: %s", uid, title, q.RefID, err, q.Text)
		}
		out[q.RefID] = res
	}
	return out
}

// only returns the series of the one target that returned data; it fails if
// the wrong one did (raw for short ranges, rollup for long ones: the switch).
func only(t *testing.T, res map[string][]grafana.Series, want string) []grafana.Series {
	t.Helper()
	for ref, ss := range res {
		if ref != want && len(ss) > 0 {
			t.Errorf("target %s returned data, want only %s (the raw/rollup switch): %v", ref, want, ss[0])
		}
	}
	return res[want]
}

// vals flattens series into key -> value, the key being the given tags and
// the time (ms) joined, for column col.
func vals(t *testing.T, ss []grafana.Series, col string, tagKeys ...string) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, s := range ss {
		c := s.Col(col)
		if c < 0 {
			t.Fatalf("series %s has no column %s: %v", s.Name, col, s.Columns)
		}
		for _, row := range s.Values {
			k := key(s.Tags, tagKeys)
			if tc := s.Col("time"); tc >= 0 {
				k += "@" + fmt.Sprint(row[tc])
			}
			if _, dup := out[k]; dup {
				t.Fatalf("two values for %s", k)
			}
			out[k] = norm(row[c])
		}
	}
	return out
}

// vals0 is vals for results without GROUP BY time, whose time column is
// the start of the range (or of the point for a single selector): every key
// gets time 0.
func vals0(t *testing.T, ss []grafana.Series, col string, tagKeys ...string) map[string]any {
	t.Helper()
	out := map[string]any{}
	for k, v := range vals(t, ss, col, tagKeys...) {
		k = k[:strings.LastIndex(k, "@")] + "@0"
		if _, dup := out[k]; dup {
			t.Fatalf("two values for %s", k)
		}
		out[k] = v
	}
	return out
}

func key(tags map[string]string, keys []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = tags[k]
	}
	return strings.Join(parts, "/")
}

func at(k string, ts time.Time) string { return k + "@" + fmt.Sprint(ts.UnixMilli()) }

func norm(v any) any {
	if n, ok := v.(json.Number); ok {
		f, err := n.Float64()
		if err != nil {
			panic(err)
		}
		return f
	}
	if i, ok := v.(int64); ok {
		return float64(i)
	}
	if i, ok := v.(int); ok {
		return float64(i)
	}
	return v
}

// same compares got with want, numbers to 1e-9 relative.
func same(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	if len(want) == 0 {
		t.Errorf("%s: the scenario implies no values; the check would prove nothing", what)
	}
	var missing, wrong, extra []string
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			missing = append(missing, fmt.Sprintf("%s=%v", k, w))
			continue
		}
		if !equal(g, norm(w)) {
			wrong = append(wrong, fmt.Sprintf("%s: got %v, want %v", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, fmt.Sprintf("%s=%v", k, g))
		}
	}
	sort.Strings(missing)
	sort.Strings(wrong)
	sort.Strings(extra)
	if len(missing)+len(wrong)+len(extra) > 0 {
		t.Errorf("%s: %d values, want %d\n missing: %v\n wrong: %v\n unexpected: %v", what, len(got), len(want), head(missing), head(wrong), head(extra))
	}
}

func head(s []string) []string {
	if len(s) > 8 {
		return append(s[:8:8], fmt.Sprintf("... %d more", len(s)-8))
	}
	return s
}

func equal(g, w any) bool {
	gf, gok := g.(float64)
	wf, wok := w.(float64)
	if gok && wok {
		return math.Abs(gf-wf) <= 1e-9*math.Max(1, math.Abs(wf))
	}
	return g == w
}

// --- the scenario's own arithmetic ---------------------------------------------------------

func buckets(from, to time.Time, iv time.Duration) []time.Time {
	var out []time.Time
	for b := from.Truncate(iv); !b.After(to); b = b.Add(iv) {
		out = append(out, b)
	}
	return out
}

func in(ts, from, to time.Time) bool { return !ts.Before(from) && !ts.After(to) }

func (sc *scenario) of(m, dev string, port int) []point {
	var out []point
	for _, p := range sc.readings {
		if p.m == m && p.tags["device"] == dev && (port == 0 || p.tags["port"] == fmt.Sprint(port)) {
			out = append(out, p)
		}
	}
	return out
}

func f64(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	}
	panic(fmt.Sprintf("%T", v))
}

// byBucket groups points into buckets of iv within [from, to].
func byBucket(pts []point, from, to time.Time, iv time.Duration) map[time.Time][]point {
	out := map[time.Time][]point{}
	for _, p := range pts {
		if in(p.ts, from, to) {
			out[p.ts.Truncate(iv)] = append(out[p.ts.Truncate(iv)], p)
		}
	}
	return out
}

func mean(pts []point, f string) float64 {
	s := 0.0
	for _, p := range pts {
		s += f64(p.f[f])
	}
	return s / float64(len(pts))
}

func maxOf(pts []point, f string) float64 {
	m := math.Inf(-1)
	for _, p := range pts {
		m = math.Max(m, f64(p.f[f]))
	}
	return m
}

func minOf(pts []point, f string) float64 {
	m := math.Inf(1)
	for _, p := range pts {
		m = math.Min(m, f64(p.f[f]))
	}
	return m
}

func last(pts []point) point {
	l := pts[0]
	for _, p := range pts {
		if !p.ts.Before(l.ts) {
			l = p
		}
	}
	return l
}

// snapAt is the time of the snapshot the "now" panels read: the last one in
// the interval that ends d.SnapshotSettle before the end of the range.
func (sc *scenario) snapAt() time.Time {
	return sc.T.Add(-d.SnapshotSettle).Truncate(d.SnapshotInterval)
}

func active(s string) bool { return s == "pending" || s == "firing" || s == "acknowledged" }

// isOverdue is the dashboards' definition (d.OverdueUnacked, d.OverdueOpen).
func isOverdue(a *alert, t time.Time) bool {
	st, age := a.stateAt(t), t.Sub(a.started())
	return ((st == "pending" || st == "firing") && age > d.OverdueUnacked) || age > d.OverdueOpen
}

// percentile is InfluxQL's percentile(): nearest rank.
func percentile(v []float64, p float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	i := int(math.Floor(float64(len(s))*p/100+0.5)) - 1
	return s[max(0, min(i, len(s)-1))]
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// --- the test ---------------------------------------------------------------------------------

// TestPanelsOnScenario loads the scenario into a real InfluxDB (with the
// project's retention policies, and rollups made by ingest/downsample), runs
// every InfluxDB panel of every dashboard through the Grafana stand-in, and
// compares what each returns with what the scenario implies.
func TestPanelsOnScenario(t *testing.T) {
	inf := testenv.SharedInflux(t)
	db := testenv.DBName(t)
	ctx := context.Background()
	if err := ingest.EnsureDatabase(ctx, ingest.InfluxConfig{URL: inf.URL, Database: db, RetentionPolicy: d.RawRP}, 30*24*time.Hour, 400*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	T := time.Now().UTC().Truncate(time.Hour)
	sc := newScenario(T)
	write(t, inf, db, sc.readings, sc.events, sc.status, sc.snaps, sc.bsnaps)
	var transitions []point
	for _, a := range sc.alerts {
		transitions = append(transitions, a.transitions()...)
	}
	write(t, inf, db, transitions)

	clock := T.Add(10 * time.Minute)
	ds, err := downsample.New(downsample.Config{Database: db, Now: func() time.Time { return clock }},
		&downsample.HTTPQuerier{URL: inf.URL, Database: db}, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := ds.Backfill(ctx, sc.start, T); err != nil {
		t.Fatal(err)
	}
	t.Logf("backfilled %d days in %v", days, time.Since(start).Round(time.Millisecond))

	sources, err := grafana.LoadDatasources(datasourcesFile, map[string]string{
		"CHARGEWATCH_INFLUX_URL": inf.URL, "CHARGEWATCH_INFLUX_DB": db,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, sc: sc, ds: sources, boards: map[string]*grafana.Dashboard{}, checked: map[string]map[string]bool{}}
	for _, b := range loadAll(t) {
		e.boards[b.UID] = b
	}

	t.Run("variables", func(t *testing.T) { e.t = t; checkVariables(e) })
	t.Run("city", func(t *testing.T) { e.t = t; checkCity(e) })
	t.Run("building", func(t *testing.T) { e.t = t; checkBuilding(e) })
	t.Run("building_long_range", func(t *testing.T) { e.t = t; checkBuildingLong(e) })
	t.Run("device", func(t *testing.T) { e.t = t; checkDevice(e) })
	t.Run("accountability", func(t *testing.T) { e.t = t; checkAccountability(e) })
	t.Run("late_data", func(t *testing.T) { e.t = t; checkLateData(e, ds, inf, db, &clock) })

	e.t = t
	for uid, b := range e.boards {
		if uid == "cw-ingest" {
			continue // Prometheus: TestHealthPanelsOnPrometheus
		}
		for _, p := range b.Panels {
			if !e.checked[uid][p.Title] {
				t.Errorf("%s: panel %q has no check", uid, p.Title)
			}
		}
	}
}

func write(t *testing.T, inf *testenv.Influx, db string, groups ...[]point) {
	t.Helper()
	byRP := map[string][]string{}
	for _, g := range groups {
		for _, p := range g {
			byRP[p.rp] = append(byRP[p.rp], p.line())
		}
	}
	for rp, lines := range byRP {
		for i := 0; i < len(lines); i += 5000 {
			q := url.Values{"db": {db}, "precision": {"ns"}}
			if rp != "" {
				q.Set("rp", rp)
			}
			resp, err := http.Post(inf.URL+"/write?"+q.Encode(), "text/plain", strings.NewReader(strings.Join(lines[i:min(i+5000, len(lines))], "\n")))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("write to %s.%s: %s: %s", db, rp, resp.Status, body)
			}
		}
	}
}

var all = grafana.Selection{All: true}

func one(v string) grafana.Selection { return grafana.Selection{Values: []string{v}} }

// checkVariables: the chained variables offer what the scenario's tags
// imply, narrowed by the levels above; escaping works for b-2.east.
func checkVariables(e *env) {
	t := e.t
	b := e.board("cw-device")
	from, to := e.sc.T.Add(-24*time.Hour), e.sc.T
	st, err := b.Resolve(context.Background(), e.ds, from, to, map[string]grafana.Selection{
		"district": one("xihu"), "street": all, "community": all, "building": one("b-2.east"), "device": one("pl1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]string{
		"district":  {"binjiang", "xihu"},
		"street":    {"beishan", "lingyin"},
		"community": {"c-bs", "c-ly"},
		"building":  {"b-2.east", "b1"},
		"device":    {"m3", "pl1", "s3"},
	} {
		if got := st.Options(name); !slices.Equal(got, want) {
			t.Errorf("variable %s offers %v, want %v", name, got, want)
		}
	}
	st, err = b.Resolve(context.Background(), e.ds, from, to, map[string]grafana.Selection{
		"district": all, "street": one("lingyin"), "community": all, "building": one("b1"), "device": one("p1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Options("building"), []string{"b1"}; !slices.Equal(got, want) {
		t.Errorf("buildings of street lingyin: %v, want %v", got, want)
	}
	if got, want := st.Options("device"), []string{"m1", "m1b", "m2", "mon1", "p1", "s1", "s2"}; !slices.Equal(got, want) {
		t.Errorf("devices of b1: %v, want %v", got, want)
	}
}

// checkCity runs the city overview for the last 24 hours, every district.
func checkCity(e *env) {
	t, sc := e.t, e.sc
	from, to := sc.T.Add(-24*time.Hour), sc.T
	sel := map[string]grafana.Selection{}
	// What the "now" panels show follows from the alert records themselves, at
	// the time of the snapshot they read.
	snap := sc.snapAt()
	count := func(rule string) map[string]any {
		n := 0.0
		for _, a := range sc.alerts {
			if a.rule == rule && active(a.stateAt(snap)) {
				n++
			}
		}
		return map[string]any{"": n}
	}
	stat := func(title, col string, want map[string]any) {
		res := e.run("cw-city", title, sel, from, to)
		got := vals(t, res["A"], col)
		// A count over nothing is no row; Grafana shows the panel's noValue (0).
		g := map[string]any{}
		for _, v := range got {
			g[""] = v
		}
		same(t, title, g, want)
	}
	stat("Indoor charging now", "sessions", count(d.RuleIndoorCharging))
	stat("Devices offline", "devices", count(d.RuleDeviceOffline))
	stat("Gateways offline", "gateways", count(d.RuleGatewayOffline))
	alarms := 0.0
	for _, ev := range sc.events {
		if ev.tags["type"] == d.EventSmokeAlarm && ev.ts.After(to.Add(-24*time.Hour)) && !ev.ts.After(to) {
			alarms++
		}
	}
	stat("Smoke alarms, last 24 h", "alarms", map[string]any{"": alarms})

	// Map: the latest building snapshot in the window, per building.
	res := e.run("cw-city", "Buildings by worst open hazard", sel, from, to)
	latest := map[string]point{}
	for _, p := range sc.bsnaps {
		if p.ts.After(to.Add(-d.SnapshotLookback)) && !p.ts.After(to) {
			if l, ok := latest[p.tags["building"]]; !ok || p.ts.After(l.ts) {
				latest[p.tags["building"]] = p
			}
		}
	}
	for _, col := range []string{"lat", "lon", "worst_severity", "open_alerts", "worst_rule", "name"} {
		want := map[string]any{}
		for b, p := range latest {
			want[at(b, time.Unix(0, 0))] = norm(p.f[col])
		}
		same(t, "map "+col, vals0(t, res["A"], col, "building"), want)
	}

	// Open alerts by district and hazard.
	want := map[string]any{}
	for _, a := range sc.alerts {
		if a.openAt(snap) {
			k := at(a.place.district+"/"+a.rule, time.Unix(0, 0))
			want[k] = f64OrZero(want[k]) + 1
		}
	}
	same(t, "open alerts by district and hazard", vals0(t, e.run("cw-city", "Open alerts by district and hazard", sel, from, to)["A"], "open", "district", "rule"), want)

	// Indoor charging in progress: per 5-minute bucket, the snapshots' active
	// indoor charging alerts over the 5 snapshots of the bucket.
	iv := 5 * time.Minute
	want = map[string]any{}
	for _, b := range buckets(from, to, iv) {
		n := 0.0
		for m := b; m.Before(b.Add(iv)); m = m.Add(d.SnapshotInterval) {
			if !in(m, from, to) || !m.Before(sc.T) || m.Before(sc.T.Add(-24*time.Hour)) {
				continue // no snapshot written
			}
			for _, a := range sc.alerts {
				if a.rule == d.RuleIndoorCharging && active(a.stateAt(m)) {
					n++
				}
			}
		}
		want[at("", b)] = n / float64(iv/d.SnapshotInterval)
	}
	same(t, "indoor charging in progress", vals(t, only(t, e.run("cw-city", "Indoor charging in progress", sel, from, to), "A"), "sessions"), want)

	// Smoke alarms table.
	want = map[string]any{}
	for _, ev := range sc.events {
		if ev.tags["type"] == d.EventSmokeAlarm && ev.ts.After(to.Add(-24*time.Hour)) && !ev.ts.After(to) {
			want[at(key(ev.tags, []string{"district", "building", "unit", "device"}), ev.ts)] = f64(ev.f["seq"])
		}
	}
	same(t, "smoke alarms table", vals(t, e.run("cw-city", "Smoke alarm list, last 24 h", sel, from, to)["A"], "seq", "district", "building", "unit", "device"), want)

	// Devices and gateways offline.
	want = map[string]any{}
	for _, a := range sc.alerts {
		if (a.rule == d.RuleDeviceOffline || a.rule == d.RuleGatewayOffline) && active(a.stateAt(snap)) {
			want[at(key(a.tags(), []string{"rule", "building", "gateway", "device"}), time.Unix(0, 0))] = float64(int64(snap.Sub(a.started()) / time.Second))
		}
	}
	same(t, "offline table", vals0(t, e.run("cw-city", "Devices and gateways offline", sel, from, to)["A"], "offline_s", "rule", "building", "gateway", "device"), want)
}

func f64OrZero(v any) float64 {
	if v == nil {
		return 0
	}
	return v.(float64)
}

// unitPower is the power panel's arithmetic: per unit and bucket, the sum
// over the unit's meters of each meter's mean power in the bucket.
func unitPower(sc *scenario, building string, from, to time.Time, iv time.Duration) map[string]any {
	want := map[string]any{}
	for _, v := range devs {
		if v.kind != d.Meter || v.building != building {
			continue
		}
		for b, pts := range byBucket(sc.of(d.Meter, v.id, 0), from, to, iv) {
			k := at(v.unit, b)
			want[k] = f64OrZero(want[k]) + mean(pts, "power_w")
		}
	}
	return want
}

// checkBuilding runs the building dashboard for b1 (and b-2.east) over the
// last 24 hours: raw data.
func checkBuilding(e *env) {
	t, sc := e.t, e.sc
	from, to := sc.T.Add(-24*time.Hour), sc.T
	iv := 5 * time.Minute
	sel := map[string]grafana.Selection{"building": one("b1")}
	run := func(title string) []grafana.Series { return only(t, e.run("cw-building", title, sel, from, to), "A") }

	same(t, "power by unit", vals(t, run("Power by unit"), "sum", "unit"), unitPower(sc, "b1", from, to, iv))

	states, charging, share := map[string]any{}, map[string]any{}, map[string]any{}
	for _, b := range buckets(from, to, iv) {
		charging[at("", b)] = 0.0
	}
	for port := 1; port <= 2; port++ {
		pts := sc.of(d.Pile, "p1", port)
		for b, bp := range byBucket(pts, from, to, iv) {
			st := last(bp).f["state"].(string)
			states[at(fmt.Sprintf("p1/%d", port), b)] = st
			if st == "charging" {
				charging[at("", b)] = charging[at("", b)].(float64) + 1
			}
		}
		n, c := 0.0, 0.0
		for _, p := range pts {
			if in(p.ts, from, to) {
				n++
				if p.f["state"] == "charging" {
					c++
				}
			}
		}
		share[at(fmt.Sprintf("p1/%d", port), time.Unix(0, 0))] = c / n * 100
	}
	same(t, "pile ports", vals(t, run("Pile ports"), "last", "device", "port"), states)
	same(t, "ports charging", vals(t, run("Ports charging"), "charging"), charging)
	same(t, "pile usage", vals0(t, run("Pile usage: share of readings charging"), "charging_pct", "device", "port"), share)

	sessions := map[string]any{}
	for _, ev := range sc.events {
		if ev.tags["type"] == "charge_start" && ev.tags["building"] == "b1" && in(ev.ts, from, to) {
			k := at(ev.tags["device"]+"/"+ev.tags["port"], time.Unix(0, 0))
			sessions[k] = f64OrZero(sessions[k]) + 1
		}
	}
	same(t, "charging sessions", vals0(t, run("Charging sessions at piles, by port"), "sessions", "device", "port"), sessions)

	indoor := map[string]any{}
	for _, a := range sc.alerts {
		if a.rule == d.RuleIndoorCharging && a.place.building == "b1" && in(a.fired, from, to) {
			indoor[at("", a.fired)] = a.unit + ": " + a.summary
		}
	}
	got := map[string]any{}
	for _, s := range run("Indoor charging detected") {
		for _, r := range s.Values {
			got[at("", time.UnixMilli(msOf(r[s.Col("time")])))] = fmt.Sprint(r[s.Col("unit")], ": ", r[s.Col("summary")])
		}
	}
	same(t, "indoor charging detected", got, indoor)

	smoke := map[string]any{}
	for _, v := range devs {
		if v.kind == d.Smoke && v.building == "b1" {
			var pts []point
			for _, p := range sc.of(d.Smoke, v.id, 0) {
				if in(p.ts, from, to) {
					pts = append(pts, p)
				}
			}
			l := last(pts)
			for _, col := range []string{"smoke", "battery_pct", "battery_low", "tamper", "fault", "rssi_dbm"} {
				smoke[at(v.unit+"/"+v.id+"/"+col, time.Unix(0, 0))] = norm(l.f[col])
			}
		}
	}
	got = map[string]any{}
	for _, col := range []string{"smoke", "battery_pct", "battery_low", "tamper", "fault", "rssi_dbm"} {
		for k, v := range vals0(t, run("Smoke detectors"), col, "unit", "device") {
			kk := strings.Split(k, "@")
			got[kk[0]+"/"+col+"@"+kk[1]] = v
		}
	}
	same(t, "smoke detectors", got, smoke)

	leak := map[string]any{}
	for b, pts := range byBucket(sc.of(d.Monitor, "mon1", 0), from, to, iv) {
		leak[at("mon1", b)] = maxOf(pts, "leak_ma")
	}
	same(t, "leakage", vals(t, run("Leakage current (electrical-fire monitors)"), "max", "device"), leak)

	// The alert annotations of b1.
	st, err := e.board("cw-building").Resolve(context.Background(), e.ds, from, to, sel)
	if err != nil {
		t.Fatal(err)
	}
	an := &e.board("cw-building").Annotations.List[0]
	q, err := e.board("cw-building").AnnotationQuery(an, st, from, to, e.ds)
	if err != nil {
		t.Fatal(err)
	}
	res, err := q.Datasource.Influx.Query(context.Background(), q.Text)
	if err != nil {
		t.Fatalf("annotation: %v\n%s", err, q.Text)
	}
	wantAnn := map[string]any{}
	for _, a := range sc.alerts {
		if a.place.building != "b1" {
			continue
		}
		for _, p := range a.transitions() {
			if act := p.tags["action"]; (act == "fire" || act == "resolve" || act == "close") && in(p.ts, from, to) {
				wantAnn[at(a.rule+"/"+act, p.ts)] = a.summary
			}
		}
	}
	gotAnn := map[string]any{}
	for _, s := range res {
		for _, r := range s.Values {
			gotAnn[at(fmt.Sprint(r[s.Col("rule")], "/", r[s.Col("action")]), time.UnixMilli(msOf(r[s.Col("time")])))] = r[s.Col("summary")]
		}
	}
	same(t, "alert annotations", gotAnn, wantAnn)

	// b-2.east: the dot must be escaped, not match any character.
	sel = map[string]grafana.Selection{"building": one("b-2.east")}
	same(t, "power by unit, b-2.east", vals(t, run("Power by unit"), "sum", "unit"), unitPower(sc, "b-2.east", from, to, iv))
}

func msOf(v any) int64 {
	n, err := v.(json.Number).Int64()
	if err != nil {
		panic(err)
	}
	return n
}

// checkBuildingLong runs b1 over eight days: the panels read the hourly
// rollup, and must show what the raw readings imply hour by hour.
func checkBuildingLong(e *env) {
	t, sc := e.t, e.sc
	from, to := sc.T.Add(-days*24*time.Hour), sc.T
	iv := time.Hour
	sel := map[string]grafana.Selection{"building": one("b1")}
	run := func(title string) []grafana.Series { return only(t, e.run("cw-building", title, sel, from, to), "B") }

	same(t, "power by unit (rollup)", vals(t, run("Power by unit"), "sum", "unit"), unitPower(sc, "b1", from, to, iv))

	states, charging, share := map[string]any{}, map[string]any{}, map[string]any{}
	for _, b := range buckets(from, to, iv) {
		charging[at("", b)] = 0.0
	}
	sessions := map[string]any{}
	for port := 1; port <= 2; port++ {
		pts := sc.of(d.Pile, "p1", port)
		for b, bp := range byBucket(pts, from, to, iv) {
			st := last(bp).f["state"].(string)
			states[at(fmt.Sprintf("p1/%d", port), b)] = st
			if st == "charging" {
				charging[at("", b)] = charging[at("", b)].(float64) + 1
			}
		}
		n, c := 0.0, 0.0
		for _, p := range pts {
			n++
			if p.f["state"] == "charging" {
				c++
			}
		}
		share[at(fmt.Sprintf("p1/%d", port), time.Unix(0, 0))] = c / n * 100
	}
	for _, ev := range sc.events {
		if ev.tags["type"] == "charge_start" && in(ev.ts, from, to) {
			k := at(ev.tags["device"]+"/"+ev.tags["port"], time.Unix(0, 0))
			sessions[k] = f64OrZero(sessions[k]) + 1
		}
	}
	same(t, "pile ports (rollup)", vals(t, run("Pile ports"), "last", "device", "port"), states)
	same(t, "ports charging (rollup)", vals(t, run("Ports charging"), "charging"), charging)
	same(t, "pile usage (rollup)", vals0(t, run("Pile usage: share of readings charging"), "charging_pct", "device", "port"), share)
	same(t, "charging sessions (rollup)", vals0(t, run("Charging sessions at piles, by port"), "sessions", "device", "port"), sessions)
	leak := map[string]any{}
	for b, pts := range byBucket(sc.of(d.Monitor, "mon1", 0), from, to, iv) {
		leak[at("mon1", b)] = maxOf(pts, "leak_ma")
	}
	same(t, "leakage (rollup)", vals(t, run("Leakage current (electrical-fire monitors)"), "max", "device"), leak)
}

// checkDevice runs the device dashboard for a meter, a pile and a smoke
// detector over 24 hours, and the meter over eight days (rollup).
func checkDevice(e *env) {
	t, sc := e.t, e.sc
	from, to := sc.T.Add(-24*time.Hour), sc.T
	iv := 5 * time.Minute
	dev := func(id string) map[string]grafana.Selection {
		return map[string]grafana.Selection{"building": one(devByID(id).building), "device": one(id)}
	}
	run := func(id, title string, ref string, from, to time.Time) []grafana.Series {
		return only(t, e.run("cw-device", title, dev(id), from, to), ref)
	}
	fieldsPer := func(pts []point, from, to time.Time, iv time.Duration, agg func([]point, string) float64, prefix string, fields ...string) map[string]any {
		want := map[string]any{}
		for b, bp := range byBucket(pts, from, to, iv) {
			for _, f := range fields {
				want[at(prefix+f+"/"+bp[0].tags["port"], b)] = agg(bp, f)
			}
		}
		return want
	}
	gotFields := func(ss []grafana.Series, prefix string, fields ...string) map[string]any {
		got := map[string]any{}
		for _, f := range fields {
			for k, v := range vals(t, ss, prefix+f, "port") {
				if v != nil {
					got[prefix+f+"/"+k] = v
				}
			}
		}
		return got
	}

	// A meter: every numeric field, averaged per bucket.
	meterFields := []string{"power_w", "voltage_v", "energy_kwh", "temp_c"}
	ss := run("m1", "Measurements", "A", from, to)
	same(t, "m1 measurements", gotFields(ss, "mean_", meterFields...), fieldsPer(sc.of(d.Meter, "m1", 0), from, to, iv, mean, "mean_", meterFields...))
	if got := run("m1", "Flags", "A", from, to); len(got) != 0 {
		t.Errorf("m1 flags: %v, want none (a meter has no boolean fields)", got)
	}
	if got := run("m1", "Pile port state", "A", from, to); len(got) != 0 {
		t.Errorf("m1 pile state: %v, want none", got)
	}
	readings := map[string]any{}
	for _, b := range buckets(from, to, iv) {
		readings[at("", b)] = float64(len(byBucket(sc.of(d.Meter, "m1", 0), from, to, iv)[b]))
	}
	same(t, "m1 readings received", vals(t, run("m1", "Readings received", "A", from, to), "readings"), readings)
	alerts := map[string]any{}
	for _, a := range sc.alerts {
		if a.dev != "m1" {
			continue
		}
		for _, p := range a.transitions() {
			if in(p.ts, from, to) {
				alerts[at(a.rule+"/"+p.tags["action"], p.ts)] = p.tags["state"]
			}
		}
	}
	got := map[string]any{}
	for _, s := range run("m1", "Alerts", "A", from, to) {
		for _, r := range s.Values {
			got[at(fmt.Sprint(r[s.Col("rule")], "/", r[s.Col("action")]), time.UnixMilli(msOf(r[s.Col("time")])))] = r[s.Col("state")]
		}
	}
	same(t, "m1 alerts", got, alerts)
	status := map[string]any{}
	for _, p := range sc.status {
		if p.tags["device"] == "m1" && in(p.ts, from, to) {
			status[at("", p.ts)] = f64(p.f["poll_errors"])
		}
	}
	same(t, "m1 status reports", vals(t, run("m1", "Status reports", "A", from, to), "poll_errors"), status)

	// A pile: per port.
	ss = run("p1", "Measurements", "A", from, to)
	want := map[string]any{}
	for port := 1; port <= 2; port++ {
		for k, v := range fieldsPer(sc.of(d.Pile, "p1", port), from, to, iv, mean, "mean_", "power_w", "temp_c") {
			want[k] = v
		}
	}
	same(t, "p1 measurements", gotFields(ss, "mean_", "power_w", "temp_c"), want)
	flags, states := map[string]any{}, map[string]any{}
	for port := 1; port <= 2; port++ {
		for b, bp := range byBucket(sc.of(d.Pile, "p1", port), from, to, iv) {
			f := false
			for _, p := range bp {
				f = f || p.f["fault"].(bool)
			}
			flags[at(fmt.Sprint(port), b)] = f
			states[at(fmt.Sprint(port), b)] = last(bp).f["state"]
		}
	}
	same(t, "p1 flags", vals(t, run("p1", "Flags", "A", from, to), "max_fault", "port"), flags)
	same(t, "p1 port state", vals(t, run("p1", "Pile port state", "A", from, to), "last", "port"), states)
	events := map[string]any{}
	for _, ev := range sc.events {
		if ev.tags["device"] == "p1" && in(ev.ts, from, to) {
			events[at("", ev.ts)] = ev.tags["type"] + "/" + ev.tags["port"]
		}
	}
	got = map[string]any{}
	for _, s := range run("p1", "Events", "A", from, to) {
		for _, r := range s.Values {
			got[at("", time.UnixMilli(msOf(r[s.Col("time")])))] = fmt.Sprint(r[s.Col("type")], "/", r[s.Col("port")])
		}
	}
	same(t, "p1 events", got, events)

	// A smoke detector: its flags, its alarm.
	flags = map[string]any{}
	for b, bp := range byBucket(sc.of(d.Smoke, "s1", 0), from, to, iv) {
		for _, f := range []string{"smoke", "battery_low", "tamper", "fault"} {
			v := false
			for _, p := range bp {
				v = v || p.f[f].(bool)
			}
			flags[at(f, b)] = v
		}
	}
	got = map[string]any{}
	for _, f := range []string{"smoke", "battery_low", "tamper", "fault"} {
		for k, v := range vals(t, run("s1", "Flags", "A", from, to), "max_"+f) {
			got[f+k] = v
		}
	}
	same(t, "s1 flags", got, flags)

	// The meter over eight days: hourly rollup.
	from = sc.T.Add(-days * 24 * time.Hour)
	ss = run("m1", "Measurements", "B", from, to)
	pts := sc.of(d.Meter, "m1", 0)
	want = map[string]any{}
	for b, bp := range byBucket(pts, from, to, time.Hour) {
		want[at("mean_power_w_mean/", b)] = mean(bp, "power_w")
		want[at("mean_temp_c_mean/", b)] = mean(bp, "temp_c")
		want[at("max_power_w_max/", b)] = maxOf(bp, "power_w")
		want[at("min_voltage_v_min/", b)] = minOf(bp, "voltage_v")
		want[at("last_energy_kwh_last/", b)] = last(bp).f["energy_kwh"]
	}
	got = gotFields(ss, "", "mean_power_w_mean", "mean_temp_c_mean", "max_power_w_max", "min_voltage_v_min", "last_energy_kwh_last")
	same(t, "m1 measurements (rollup)", got, want)
	readings = map[string]any{}
	for _, b := range buckets(from, to, time.Hour) {
		readings[at("", b)] = float64(len(byBucket(pts, from, to, time.Hour)[b]))
	}
	same(t, "m1 readings received (rollup)", vals(t, run("m1", "Readings received", "B", from, to), "readings"), readings)
}

// checkAccountability runs the accountability dashboard over 30 days, per
// street for district xihu, and per district for all.
func checkAccountability(e *env) {
	t, sc := e.t, e.sc
	from, to := sc.T.Add(-30*24*time.Hour), sc.T
	for _, c := range []struct {
		level    string
		district grafana.Selection
		keep     func(p place) bool
	}{
		{"street", one("xihu"), func(p place) bool { return p.district == "xihu" }},
		{"district", all, func(place) bool { return true }},
	} {
		sel := map[string]grafana.Selection{"district": c.district, "level": one(c.level)}
		lv := func(tags map[string]string) string { return tags[c.level] }
		run := func(title string) []grafana.Series { return e.run("cw-accountability", title, sel, from, to)["A"] }
		inScope := func(tags map[string]string) bool {
			return c.keep(place{district: tags["district"], street: tags["street"]})
		}

		openW, overdueW, relapseW := map[string]any{}, map[string]any{}, map[string]any{}
		snap := sc.snapAt()
		for _, a := range sc.alerts {
			tags := a.tags()
			if !inScope(tags) || !a.openAt(snap) {
				continue
			}
			k := at(lv(tags), time.Unix(0, 0))
			openW[k] = f64OrZero(openW[k]) + 1
			if isOverdue(a, snap) {
				overdueW[k] = f64OrZero(overdueW[k]) + 1
			}
			if a.relapse {
				relapseW[k] = f64OrZero(relapseW[k]) + 1
			}
		}
		res := e.run("cw-accountability", "Open and overdue now, per $level", sel, from, to)
		same(t, c.level+" open now", vals0(t, res["A"], "open", c.level), openW)
		same(t, c.level+" overdue now", vals0(t, res["B"], "overdue", c.level), overdueW)
		same(t, c.level+" relapses now", vals0(t, res["C"], "relapses", c.level), relapseW)

		// Open alerts over time, 30 days: 3-hour intervals, from the rollup: the
		// snapshot points of each interval over its 180 snapshots.
		iv := 3 * time.Hour
		overTime := map[string]any{}
		levels := map[string]bool{}
		for _, p := range sc.snaps {
			if inScope(p.tags) && in(p.ts, from, to) {
				levels[lv(p.tags)] = true
			}
		}
		for l := range levels {
			for _, b := range buckets(from, to, iv) {
				overTime[at(l, b)] = 0.0
			}
		}
		for _, p := range sc.snaps {
			if inScope(p.tags) && in(p.ts, from, to) {
				k := at(lv(p.tags), p.ts.Truncate(iv))
				overTime[k] = overTime[k].(float64) + 1/float64(iv/d.SnapshotInterval)
			}
		}
		same(t, c.level+" open over time (rollup)", vals(t, only(t, e.run("cw-accountability", "Open alerts over time, per $level", sel, from, to), "B"), "open", c.level), overTime)

		trans := func(action string) []point {
			var out []point
			for _, a := range sc.alerts {
				for _, p := range a.transitions() {
					if p.tags["action"] == action && inScope(p.tags) && in(p.ts, from, to) {
						out = append(out, p)
					}
				}
			}
			return out
		}
		durations := func(title, field, action string) {
			per := map[string][]float64{}
			for _, p := range trans(action) {
				per[lv(p.tags)] = append(per[lv(p.tags)], p.f[field].(float64))
			}
			ss := run(title)
			for col, fn := range map[string]func([]float64) float64{
				"alerts": func(v []float64) float64 { return float64(len(v)) },
				"mean_min": func(v []float64) float64 {
					s := 0.0
					for _, x := range v {
						s += x
					}
					return s / float64(len(v)) / 60
				},
				"median_min": func(v []float64) float64 { return median(v) / 60 },
				"p90_min":    func(v []float64) float64 { return percentile(v, 90) / 60 },
				"max_min":    func(v []float64) float64 { return slices.Max(v) / 60 },
			} {
				want := map[string]any{}
				for l, v := range per {
					want[at(l, time.Unix(0, 0))] = fn(v)
				}
				same(t, c.level+" "+title+" "+col, vals0(t, ss, col, c.level), want)
			}
		}
		durations("Time to acknowledge, per $level", d.AlertAckSeconds, "ack")
		durations("Time to close, per $level", d.AlertCloseSeconds, "close")

		countBy := func(title, col, action string, by string, keep func(p point) bool) {
			want := map[string]any{}
			for _, p := range trans(action) {
				if keep(p) {
					k := at(lv(p.tags)+"/"+p.tags[by], time.Unix(0, 0))
					want[k] = f64OrZero(want[k]) + 1
				}
			}
			same(t, c.level+" "+title, vals0(t, run(title), col, c.level, by), want)
		}
		yes := func(point) bool { return true }
		countBy("Alerts raised, per $level and severity", "raised", "fire", "severity", yes)
		res = e.run("cw-accountability", "Closed, per $level and outcome", sel, from, to)
		for ref, outcome := range map[string]string{"A": d.AlertOutcomeRectified, "B": d.AlertOutcomeFalseAlarm, "C": d.AlertOutcomeReferred} {
			want := map[string]any{}
			for _, p := range trans("close") {
				if p.f["outcome"] == outcome {
					k := at(lv(p.tags), time.Unix(0, 0))
					want[k] = f64OrZero(want[k]) + 1
				}
			}
			got := vals0(t, res[ref], outcome, c.level)
			if len(want) == 0 {
				if len(got) != 0 {
					t.Errorf("%s closed %s: %v, want none", c.level, outcome, got)
				}
				continue
			}
			same(t, c.level+" closed "+outcome, got, want)
		}
		countBy("Relapses, per $level and hazard", "relapses", "fire", "rule", func(p point) bool { return p.f["relapse"].(bool) })
		want := map[string]any{}
		for _, p := range trans("resolve") {
			if p.f[d.AlertResolvedUnacked].(bool) {
				k := at(lv(p.tags), time.Unix(0, 0))
				want[k] = f64OrZero(want[k]) + 1
			}
		}
		same(t, c.level+" resolved unacknowledged", vals0(t, run("Resolved before anyone acknowledged, per $level"), "unacknowledged", c.level), want)
	}
}

// checkLateData: readings that arrive days late (an edge outage replayed)
// reach the long-range panels once the Downsampler has re-run their hour.
func checkLateData(e *env, ds *downsample.Downsampler, inf *testenv.Influx, db string, clock *time.Time) {
	t, sc := e.t, e.sc
	from, to := sc.T.Add(-days*24*time.Hour), sc.T
	sel := map[string]grafana.Selection{"building": one("b1")}
	hour := sc.T.Add(-72 * time.Hour)
	before := vals(t, only(t, e.run("cw-building", "Power by unit", sel, from, to), "B"), "sum", "unit")
	var late []point
	for i := range 6 {
		late = append(late, point{m: d.Meter, tags: devByID("m1").tags(0), ts: hour.Add(time.Duration(i)*10*time.Minute + 7*time.Minute),
			f: map[string]any{"seq": int64(100000 + i), "power_w": 5000.0, "voltage_v": 230.0, "energy_kwh": 1.0, "temp_c": 31.0}})
	}
	write(t, inf, db, late)
	after := vals(t, only(t, e.run("cw-building", "Power by unit", sel, from, to), "B"), "sum", "unit")
	if !equal(after[at("u1", hour)], before[at("u1", hour)]) {
		t.Fatalf("the rollup changed before downsampling ran: %v -> %v", before[at("u1", hour)], after[at("u1", hour)])
	}
	for _, p := range late {
		ds.Touch(p.m, p.ts.UnixMilli())
	}
	*clock = clock.Add(time.Minute)
	if err := ds.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	sc.readings = append(sc.readings, late...)
	want := unitPower(sc, "b1", from, to, time.Hour)
	if equal(want[at("u1", hour)], before[at("u1", hour)]) {
		t.Fatal("the late readings do not change the expected value; the check would prove nothing")
	}
	same(t, "power by unit after late readings (rollup)", vals(t, only(t, e.run("cw-building", "Power by unit", sel, from, to), "B"), "sum", "unit"), want)
}
