package downsample

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/internal/testenv"
)

func fieldByName(t *testing.T, name string) devices.Field {
	t.Helper()
	f, ok := devices.FieldByName(name)
	if !ok {
		t.Fatalf("no field %q", name)
	}
	return f
}

func TestMain(m *testing.M) { testenv.Main(m) }

// point is one raw point of the test, kept to compute the expected rollup.
type point struct {
	m    string
	tags string // line-protocol tag set, sorted: "building=b1,device=m1,..."
	ts   time.Time
	num  map[string]float64
	bool map[string]bool
	str  map[string]string
}

func (p point) line() string {
	var f []string
	for k, v := range p.num {
		f = append(f, fmt.Sprintf("%s=%v", k, v))
	}
	for k, v := range p.bool {
		f = append(f, fmt.Sprintf("%s=%v", k, v))
	}
	for k, v := range p.str {
		f = append(f, fmt.Sprintf("%s=%q", k, v))
	}
	sort.Strings(f)
	return fmt.Sprintf("%s,%s seq=1i,%s %d", p.m, p.tags, strings.Join(f, ","), p.ts.UnixMilli())
}

// expected computes the rollup of pts by (measurement, series, hour) the
// way the rollup defines it, independently of InfluxDB.
type agg struct {
	n                  int
	sum, max, min      map[string]float64
	lastNum            map[string]float64
	lastTS             time.Time
	boolMax, boolLast  map[string]bool
	strLast            map[string]string
	charging, readings int
}

func expected(pts []point) map[string]*agg {
	out := map[string]*agg{}
	for _, p := range pts {
		k := fmt.Sprintf("%s|%s|%d", p.m, p.tags, p.ts.Truncate(time.Hour).Unix())
		a := out[k]
		if a == nil {
			a = &agg{sum: map[string]float64{}, max: map[string]float64{}, min: map[string]float64{},
				lastNum: map[string]float64{}, boolMax: map[string]bool{}, boolLast: map[string]bool{}, strLast: map[string]string{}}
			out[k] = a
		}
		a.readings++
		later := !p.ts.Before(a.lastTS)
		for f, v := range p.num {
			if _, ok := a.max[f]; !ok {
				a.max[f], a.min[f] = v, v
			}
			a.sum[f] += v
			a.max[f] = math.Max(a.max[f], v)
			a.min[f] = math.Min(a.min[f], v)
			if later {
				a.lastNum[f] = v
			}
		}
		for f, v := range p.bool {
			a.boolMax[f] = a.boolMax[f] || v
			if later {
				a.boolLast[f] = v
			}
		}
		for f, v := range p.str {
			if later {
				a.strLast[f] = v
			}
			if f == "state" && v == "charging" {
				a.charging++
			}
		}
		if later {
			a.lastTS = p.ts
		}
		a.n++
	}
	return out
}

func setupDB(t *testing.T, inf *testenv.Influx) string {
	t.Helper()
	db := inf.NewDatabase(t)
	inf.Query(t, "", fmt.Sprintf(`CREATE RETENTION POLICY "raw" ON %q DURATION 720h REPLICATION 1 DEFAULT`, db))
	inf.Query(t, "", fmt.Sprintf(`CREATE RETENTION POLICY "rollup" ON %q DURATION 9600h REPLICATION 1`, db))
	return db
}

// TestRollupAgainstRealInflux writes three hours of meter, pile and smoke
// readings and events, downsamples them, and compares every rollup field
// with what the readings imply; then late readings arrive for an hour that
// was already downsampled, and the rollup is compared again.
func TestRollupAgainstRealInflux(t *testing.T) {
	inf := testenv.SharedInflux(t)
	db := setupDB(t, inf)
	base := time.Now().UTC().Truncate(time.Hour).Add(-8 * time.Hour)
	clock := &fakeClock{t: base.Add(3*time.Hour + 5*time.Minute)}
	reg := prometheus.NewRegistry()
	d, err := New(Config{Database: db, Now: clock.Now, MaxBucketsPerQuery: 2}, &HTTPQuerier{URL: inf.URL, Database: db}, reg, nil)
	if err != nil {
		t.Fatal(err)
	}

	var pts []point
	meterTags := []string{
		"building=b1,community=c1,device=m1,district=d1,gateway=g1,street=s1,unit=u1",
		"building=b1,community=c1,device=m2,district=d1,gateway=g1,street=s1,unit=u2",
	}
	pileTags := []string{
		"building=b1,community=c1,device=p1,district=d1,gateway=p1,port=1,street=s1",
		"building=b1,community=c1,device=p1,district=d1,gateway=p1,port=2,street=s1",
	}
	smokeTags := "building=b1,community=c1,device=s1,district=d1,gateway=s1,street=s1,unit=u1"
	for i := 0; i < 36; i++ { // every 5 minutes for 3 hours
		ts := base.Add(time.Duration(i) * 5 * time.Minute)
		for j, tags := range meterTags {
			p := float64((i*37+j*11)%90) * 25.5
			pts = append(pts, point{m: "meter", tags: tags, ts: ts, num: map[string]float64{
				"power_w": p, "voltage_v": 220 + float64((i+j)%7), "energy_kwh": 100 + float64(i)*0.25 + float64(j),
			}})
		}
		for j, tags := range pileTags {
			state := []string{"idle", "charging", "charging", "full"}[(i/3+j)%4]
			pts = append(pts, point{m: "pile", tags: tags, ts: ts,
				num:  map[string]float64{"power_w": float64((i+j)%5) * 120},
				bool: map[string]bool{"fault": i == 20 && j == 1},
				str:  map[string]string{"state": state}})
		}
		if i%4 == 0 {
			pts = append(pts, point{m: "smoke", tags: smokeTags, ts: ts,
				num:  map[string]float64{"battery_pct": 90 - float64(i)/4, "rssi_dbm": -60 - float64(i%5)},
				bool: map[string]bool{"smoke": i == 16, "battery_low": false}})
		}
	}
	events := []string{}
	for i, ty := range []string{"charge_start", "charge_stop", "charge_start", "smoke_alarm"} {
		ts := base.Add(time.Duration(i*50) * time.Minute)
		events = append(events, fmt.Sprintf("event,device=p1,port=1,type=%s seq=%di,kind=\"pile\" %d", ty, i, ts.UnixMilli()))
		d.Touch("event", ts.UnixMilli())
	}
	write := func(pts []point) {
		var b strings.Builder
		for _, p := range pts {
			b.WriteString(p.line())
			b.WriteByte('\n')
		}
		inf.Write(t, db, "ms", b.String())
		for _, p := range pts {
			d.Touch(p.m, p.ts.UnixMilli())
		}
	}
	write(pts)
	inf.Write(t, db, "ms", strings.Join(events, "\n"))

	if err := d.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(t, inf, db, pts)
	// Events: per type and hour. charge_start at 0:00 and 1:40, charge_stop at 0:50, smoke_alarm at 2:30.
	ev := inf.Query(t, db, `SELECT "events" FROM "rollup"."event_1h" GROUP BY "type"`)
	got := map[string]int64{}
	for _, s := range ev {
		for r := range s.Values {
			got[fmt.Sprintf("%s@%d", s.Tags["type"], s.Time(r).Sub(base)/time.Hour)] = s.Int(r, "events")
		}
	}
	if want := map[string]int64{"charge_start@0": 1, "charge_stop@0": 1, "charge_start@1": 1, "smoke_alarm@2": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("event rollup = %v, want %v", got, want)
	}

	// Late data for hour 1 (already downsampled): a higher power for m1, a
	// new meter m3, smoke in the detector.
	var late []point
	for i := 12; i < 24; i += 3 {
		ts := base.Add(time.Duration(i)*5*time.Minute + time.Minute)
		late = append(late,
			point{m: "meter", tags: meterTags[0], ts: ts, num: map[string]float64{"power_w": 5000 + float64(i), "voltage_v": 250, "energy_kwh": 300}},
			point{m: "meter", tags: strings.Replace(meterTags[1], "m2", "m3", 1), ts: ts, num: map[string]float64{"power_w": 42, "voltage_v": 230, "energy_kwh": 7}})
	}
	late = append(late, point{m: "smoke", tags: smokeTags, ts: base.Add(time.Hour + 7*time.Minute),
		num: map[string]float64{"battery_pct": 3, "rssi_dbm": -99}, bool: map[string]bool{"smoke": true, "battery_low": true}})
	write(late)
	clock.Set(clock.Now().Add(5 * time.Minute))
	if err := d.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(t, inf, db, append(pts, late...))
	if v := testutil.ToFloat64(d.m.lateBuckets); v != 2 {
		t.Errorf("late buckets = %v, want 2 (meter and smoke, hour 1)", v)
	}
}

// check compares the rollup measurements with expected(pts).
func check(t *testing.T, inf *testenv.Influx, db string, pts []point) {
	t.Helper()
	want := expected(pts)
	seen := 0
	for _, m := range []string{"meter", "pile", "smoke"} {
		for _, s := range inf.Query(t, db, fmt.Sprintf(`SELECT * FROM "rollup"."%s_1h" GROUP BY *`, m)) {
			var tags []string
			for k, v := range s.Tags {
				if v != "" {
					tags = append(tags, k+"="+v)
				}
			}
			sort.Strings(tags)
			for r := range s.Values {
				k := fmt.Sprintf("%s|%s|%d", m, strings.Join(tags, ","), s.Time(r).Unix())
				a := want[k]
				if a == nil {
					t.Errorf("unexpected rollup point %s", k)
					continue
				}
				seen++
				if got := s.Int(r, "readings"); got != int64(a.readings) {
					t.Errorf("%s readings = %d, want %d", k, got, a.readings)
				}
				near := func(col string, w float64) {
					if got := s.Float(r, col); math.Abs(got-w) > 1e-9 {
						t.Errorf("%s %s = %v, want %v", k, col, got, w)
					}
				}
				for f := range a.sum {
					for _, fn := range aggregates(fieldByName(t, f)) {
						switch fn {
						case "mean":
							near(Field(f, fn), a.sum[f]/float64(a.n))
						case "max":
							near(Field(f, fn), a.max[f])
						case "min":
							near(Field(f, fn), a.min[f])
						case "last":
							near(Field(f, fn), a.lastNum[f])
						}
					}
				}
				for f, v := range a.boolMax {
					if got := s.Value(r, Field(f, "max")); got != v {
						t.Errorf("%s %s_max = %v, want %v", k, f, got, v)
					}
					if got := s.Value(r, Field(f, "last")); got != a.boolLast[f] {
						t.Errorf("%s %s_last = %v, want %v", k, f, got, a.boolLast[f])
					}
				}
				if m == "pile" {
					if got := s.String(r, "state_last"); got != a.strLast["state"] {
						t.Errorf("%s state_last = %q, want %q", k, got, a.strLast["state"])
					}
					var got int64
					if s.Value(r, FieldChargingReadings) != nil {
						got = s.Int(r, FieldChargingReadings)
					}
					if got != int64(a.charging) {
						t.Errorf("%s charging_readings = %d, want %d", k, got, a.charging)
					}
				}
			}
		}
	}
	if seen != len(want) {
		t.Errorf("rollup has %d points, want %d", seen, len(want))
	}
}

func TestHTTPQuerierErrors(t *testing.T) {
	inf := testenv.SharedInflux(t)
	db := setupDB(t, inf)
	q := &HTTPQuerier{URL: inf.URL, Database: db, Username: "u", Password: "s3cret-pw"}
	err := q.Exec(context.Background(), `SELECT mean( FROM x`)
	if err == nil || !strings.Contains(err.Error(), "error parsing query") {
		t.Fatalf("bad statement: %v", err)
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Fatalf("error shows the password: %v", err)
	}
	// An InfluxDB that is not there: the pass fails and keeps its buckets;
	// the next pass against the real server does them.
	dead := &HTTPQuerier{URL: fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort()), Database: db, Password: "s3cret-pw"}
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Hour).Add(5 * time.Minute)}
	d, err := New(Config{Database: db, Now: clock.Now}, dead, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	before := d.Dirty()
	if err := d.Flush(context.Background()); err == nil || strings.Contains(err.Error(), "s3cret-pw") {
		t.Fatalf("Flush against a dead server = %v", err)
	}
	if d.Dirty() != before {
		t.Fatalf("dirty %d after the failure, want %d", d.Dirty(), before)
	}
	d.q = &HTTPQuerier{URL: inf.URL, Database: db}
	if err := d.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := d.Dirty(); n != len(DefaultRollups()) { // the current hour of each measurement is still open
		t.Fatalf("dirty = %d after recovery, want %d", n, len(DefaultRollups()))
	}
}
