package downsample

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// recorder is a Querier that records the time range of each statement and
// can be told to fail.
type recorder struct {
	mu    sync.Mutex
	stmts []string
	fail  int // fail this many calls, then succeed
	calls int
}

var rangeRE = regexp.MustCompile(`FROM "db"\."raw"\."(\w+)" WHERE time >= '([^']+)' AND time < '([^']+)'`)

func (r *recorder) Exec(_ context.Context, q string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail > 0 {
		r.fail--
		return errors.New("influxdb: 503 Service Unavailable")
	}
	r.stmts = append(r.stmts, q)
	return nil
}

// ranges returns "measurement from-to" (hours as 15:04) of the successful
// statements, first query of each rollup only.
func (r *recorder) ranges() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.stmts {
		if strings.Contains(s, `"charging_readings"`) {
			continue
		}
		m := rangeRE.FindStringSubmatch(s)
		if m == nil {
			panic("unexpected statement " + s)
		}
		from, _ := time.Parse(time.RFC3339, m[2])
		to, _ := time.Parse(time.RFC3339, m[3])
		out = append(out, fmt.Sprintf("%s %s-%s", m[1], from.Format("02T15"), to.Format("02T15")))
	}
	slices.Sort(out)
	return out
}

func (r *recorder) reset() { r.mu.Lock(); r.stmts = nil; r.mu.Unlock() }

var t0 = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

func newTest(t *testing.T, cfg Config) (*Downsampler, *recorder, *fakeClock, *prometheus.Registry) {
	t.Helper()
	clock := &fakeClock{t: t0.Add(10*time.Hour + 30*time.Minute)}
	rec := &recorder{}
	reg := prometheus.NewRegistry()
	cfg.Database = "db"
	cfg.Now = clock.Now
	if cfg.Rollups == nil {
		cfg.Rollups = []Rollup{
			{Measurement: "meter", Into: "meter_1h", Queries: []Query{{Aggs: []Agg{{"mean", "power_w", "power_w_mean"}}}}},
			{Measurement: "smoke", Into: "smoke_1h", Queries: []Query{{Aggs: []Agg{{"max", "smoke", "smoke_max"}}}}},
		}
	}
	d, err := New(cfg, rec, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	// New marks the current hour and the two before it; take those out of the way.
	clock.Set(t0.Add(11*time.Hour + 5*time.Minute))
	if err := d.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	periodic := 0
	for _, r := range d.cfg.Rollups {
		if r.Periodic {
			periodic++ // its current hour
		}
	}
	if n := d.Dirty(); n != periodic || len(rec.ranges()) == 0 {
		t.Fatalf("start-up pass ran %v and left %d dirty, want hours 8 to 10 done", rec.ranges(), n)
	}
	rec.reset()
	return d, rec, clock, reg
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func TestBucketsRunWhenCompleteOnceEach(t *testing.T) {
	d, rec, clock, reg := newTest(t, Config{})
	ctx := context.Background()
	// 5,000 points of hour 11 and a few of hour 12, for both measurements.
	for i := range 5000 {
		d.Touch("meter", ms(t0.Add(11*time.Hour+time.Duration(i)*time.Second/2)))
	}
	d.Touch("smoke", ms(t0.Add(11*time.Hour+59*time.Minute)))
	d.Touch("meter", ms(t0.Add(12*time.Hour+time.Minute)))
	d.Touch("status", ms(t0.Add(11*time.Hour))) // no rollup: ignored
	if n := d.Dirty(); n != 3 {
		t.Fatalf("dirty = %d, want 3 (meter 11, meter 12, smoke 11)", n)
	}

	clock.Set(t0.Add(12*time.Hour + time.Minute)) // hour 11 complete, but not settled (2 min)
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.ranges(); len(got) != 0 {
		t.Fatalf("ran %v before the bucket settled", got)
	}
	clock.Set(t0.Add(12*time.Hour + 2*time.Minute))
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := rec.ranges(), []string{"meter 10T11-10T12", "smoke 10T11-10T12"}; !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	rec.reset()
	if err := d.Flush(ctx); err != nil { // nothing new
		t.Fatal(err)
	}
	if got := rec.ranges(); len(got) != 0 {
		t.Fatalf("ran %v again without a touch", got)
	}
	if n := d.Dirty(); n != 1 {
		t.Fatalf("dirty = %d, want 1 (meter 12, still open)", n)
	}
	if v := testutil.ToFloat64(d.m.lateBuckets); v != 0 {
		t.Fatalf("late buckets = %v, want 0", v)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP chargewatch_downsample_dirty_buckets Hour buckets (per measurement) whose rollup must be (re)computed, waiting or running.
# TYPE chargewatch_downsample_dirty_buckets gauge
chargewatch_downsample_dirty_buckets 1
`), "chargewatch_downsample_dirty_buckets"); err != nil {
		t.Fatal(err)
	}
}

func TestLateDataRerunsItsBucket(t *testing.T) {
	d, rec, clock, _ := newTest(t, Config{})
	ctx := context.Background()
	d.Touch("meter", ms(t0.Add(11*time.Hour)))
	clock.Set(t0.Add(12*time.Hour + 3*time.Minute))
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rec.reset()
	// A gateway comes back after a two-day outage... not possible here (t0 is
	// day 10, hour 12): replay hours 3, 4, 5 and 7 of the same day, and hour 11 again.
	for _, h := range []int{3, 4, 5, 7, 11} {
		for m := 0; m < 60; m += 5 {
			d.Touch("meter", ms(t0.Add(time.Duration(h)*time.Hour+time.Duration(m)*time.Minute)))
		}
	}
	clock.Set(t0.Add(12*time.Hour + 4*time.Minute))
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"meter 10T03-10T06", "meter 10T07-10T08", "meter 10T11-10T12"}
	if got := rec.ranges(); !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v (adjacent late hours in one query)", got, want)
	}
	if v := testutil.ToFloat64(d.m.lateBuckets); v != 5 {
		t.Fatalf("late buckets = %v, want 5", v)
	}
}

// TestPeriodicRollup: a measurement chargewatch writes itself every minute
// (snapshots) is downsampled hour after hour without any Touch.
func TestPeriodicRollup(t *testing.T) {
	d, rec, clock, _ := newTest(t, Config{Rollups: []Rollup{
		{Measurement: "alert_open", Into: "alert_open_1h", Periodic: true, Queries: []Query{{Aggs: []Agg{{"last", "state", "state"}}}}},
	}})
	for _, at := range []time.Duration{11*time.Hour + 30*time.Minute, 12*time.Hour + 3*time.Minute, 12*time.Hour + 30*time.Minute, 13*time.Hour + 3*time.Minute} {
		clock.Set(t0.Add(at))
		if err := d.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	hoursRE := regexp.MustCompile(`WHERE time >= '([^']+)' AND time < '([^']+)'`)
	var got []string
	for _, s := range rec.stmts {
		m := hoursRE.FindStringSubmatch(s)
		got = append(got, m[1][11:13]+"-"+m[2][11:13])
	}
	if want := []string{"11-12", "12-13"}; !slices.Equal(got, want) {
		t.Fatalf("ran hours %v, want %v", got, want)
	}
}

func TestMaxBucketsPerQuery(t *testing.T) {
	d, rec, clock, _ := newTest(t, Config{MaxBucketsPerQuery: 2})
	for h := 0; h < 5; h++ {
		d.Touch("smoke", ms(t0.Add(time.Duration(h)*time.Hour)))
	}
	clock.Set(t0.Add(12 * time.Hour))
	if err := d.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"smoke 10T00-10T02", "smoke 10T02-10T04", "smoke 10T04-10T05"}
	if got := rec.ranges(); !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
}

func TestFailedQueryKeepsBuckets(t *testing.T) {
	d, rec, clock, _ := newTest(t, Config{MaxBucketsPerQuery: 1})
	ctx := context.Background()
	for _, h := range []int{5, 6, 7} {
		d.Touch("meter", ms(t0.Add(time.Duration(h)*time.Hour)))
		d.Touch("smoke", ms(t0.Add(time.Duration(h)*time.Hour)))
	}
	clock.Set(t0.Add(12 * time.Hour))
	rec.fail = 1 << 30
	for range 3 {
		if err := d.Flush(ctx); err == nil || !strings.Contains(err.Error(), "503") {
			t.Fatalf("Flush = %v, want the 503", err)
		}
		if n := d.Dirty(); n != 6 {
			t.Fatalf("dirty after a failure = %d, want 6", n)
		}
	}
	// Fails in the middle: what was done stays done, the rest is kept.
	rec.fail = 0
	rec.mu.Lock()
	rec.calls = 0
	rec.mu.Unlock()
	failAfter := &recorderFailAfter{recorder: rec, ok: 2}
	d.q = failAfter
	if err := d.Flush(ctx); err == nil {
		t.Fatal("Flush succeeded, want the third query to fail")
	}
	if n := d.Dirty(); n != 4 {
		t.Fatalf("dirty = %d, want 4", n)
	}
	d.q = rec
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"meter 10T05-10T06", "meter 10T06-10T07", "meter 10T07-10T08", "smoke 10T05-10T06", "smoke 10T06-10T07", "smoke 10T07-10T08"}
	if got := rec.ranges(); !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	if n := d.Dirty(); n != 0 {
		t.Fatalf("dirty = %d, want 0", n)
	}
	// Retried buckets are not late data.
	if v := testutil.ToFloat64(d.m.lateBuckets); v != 0 {
		t.Fatalf("late buckets = %v, want 0", v)
	}
	if v := testutil.ToFloat64(d.m.queries.WithLabelValues("error")); v != 4 {
		t.Fatalf("failed queries = %v, want 4", v)
	}
}

type recorderFailAfter struct {
	*recorder
	ok int
}

func (r *recorderFailAfter) Exec(ctx context.Context, q string) error {
	if r.ok == 0 {
		return errors.New("influxdb: timeout")
	}
	r.ok--
	return r.recorder.Exec(ctx, q)
}

func TestTouchBounds(t *testing.T) {
	d, _, clock, _ := newTest(t, Config{MaxAge: 48 * time.Hour})
	now := clock.Now()
	d.Touch("meter", ms(now.Add(-49*time.Hour)))
	d.Touch("meter", ms(now.Add(4*time.Hour)))
	d.Touch("meter", ms(now.Add(-47*time.Hour)))
	d.Touch("meter", ms(now.Add(59*time.Minute)))
	if n := d.Dirty(); n != 2 {
		t.Fatalf("dirty = %d, want 2", n)
	}
	if v := testutil.ToFloat64(d.m.ignored.WithLabelValues("too_old")); v != 1 {
		t.Fatalf("too_old = %v", v)
	}
	if v := testutil.ToFloat64(d.m.ignored.WithLabelValues("too_new")); v != 1 {
		t.Fatalf("too_new = %v", v)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "downsample.json")
	d, _, clock, _ := newTest(t, Config{StatePath: path})
	d.Touch("meter", ms(t0.Add(2*time.Hour)))
	d.Touch("smoke", ms(t0.Add(3*time.Hour)))
	if err := d.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	// A new process an hour later: it has the two buckets plus the hours around its start.
	clock.Set(t0.Add(20 * time.Hour))
	rec := &recorder{}
	d2, err := New(Config{Database: "db", StatePath: path, Now: clock.Now, Rollups: d.cfg.Rollups}, rec, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"meter 10T02-10T03", "meter 10T18-10T19", "smoke 10T03-10T04", "smoke 10T18-10T19"} // 19:00 settles at 20:02
	if got := rec.ranges(); !slices.Equal(got, want) {
		t.Fatalf("after restart ran %v, want %v", got, want)
	}
}

// TestTouchRacesWithFlush touches buckets from several goroutines while
// passes run, and checks the property the writer relies on: every Touch is
// followed by a query of its bucket that started after the Touch returned.
func TestTouchRacesWithFlush(t *testing.T) {
	clock := &fakeClock{t: t0.Add(40 * time.Hour)}
	var seq atomic.Int64
	type run struct {
		m        string
		from, to int64
		startSeq int64
	}
	var mu sync.Mutex
	var runs []run
	q := QuerierFunc(func(_ context.Context, s string) error {
		st := seq.Load()
		m := rangeRE.FindStringSubmatch(s)
		from, _ := time.Parse(time.RFC3339, m[2])
		to, _ := time.Parse(time.RFC3339, m[3])
		mu.Lock()
		runs = append(runs, run{m[1], bucketOf(ms(from)), bucketOf(ms(to)), st})
		mu.Unlock()
		return nil
	})
	d, err := New(Config{Database: "db", Now: clock.Now, Settle: time.Minute, Rollups: []Rollup{
		{Measurement: "meter", Into: "meter_1h", Queries: []Query{{Aggs: []Agg{{"mean", "power_w", "p"}}}}},
		{Measurement: "pile", Into: "pile_1h", Queries: []Query{{Aggs: []Agg{{"mean", "power_w", "p"}}}}},
	}}, q, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	type touch struct {
		m   string
		b   int64
		seq int64
	}
	var wg sync.WaitGroup
	touches := make([][]touch, 4)
	stop := make(chan struct{})
	for w := range touches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := 0; i < 20000; i++ {
				m := []string{"meter", "pile"}[r.IntN(2)]
				ts := t0.Add(time.Duration(r.IntN(36*3600)) * time.Second)
				// The sequence number is taken before the Touch: a query
				// must start after it. (Taken after, it could fall after
				// a query that began once Touch had returned, and the
				// check would fail although nothing was missed.)
				n := seq.Add(1)
				d.Touch(m, ms(ts))
				touches[w] = append(touches[w], touch{m, bucketOf(ms(ts)), n})
			}
		}()
	}
	var fwg sync.WaitGroup
	fwg.Add(1)
	go func() {
		defer fwg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := d.Flush(context.Background()); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	fwg.Wait()
	if err := d.Flush(context.Background()); err != nil { // the final pass
		t.Fatal(err)
	}
	type key struct {
		m string
		b int64
	}
	latest := map[key]int64{} // the latest start of a query covering each bucket
	for _, r := range runs {
		for b := r.from; b < r.to; b++ {
			latest[key{r.m, b}] = max(latest[key{r.m, b}], r.startSeq)
		}
	}
	for _, ts := range touches {
		for _, tc := range ts {
			if latest[key{tc.m, tc.b}] < tc.seq {
				t.Fatalf("touch of %s bucket %v (seq %d) has no query after it", tc.m, bucketTime(tc.b), tc.seq)
			}
		}
	}
}

func TestRunRetriesWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{fail: 4}
		d, err := New(Config{Database: "db", Interval: time.Minute, MinBackoff: time.Second, MaxBackoff: 4 * time.Second,
			Rollups: []Rollup{{Measurement: "meter", Into: "meter_1h", Queries: []Query{{Aggs: []Agg{{"mean", "power_w", "p"}}}}}},
		}, rec, prometheus.NewRegistry(), nil)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now() // the bubble's clock
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- d.Run(ctx) }()
		// The bubble starts at midnight. New marked 22:00, 23:00 and 00:00; at
		// start only 22:00 is due (23:00 settles at 00:02). Attempts at 0, 1, 3
		// and 7 s fail; the one at 11 s succeeds.
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if n := len(rec.ranges()); n != 0 {
			t.Fatalf("%d queries succeeded after 10 s, want 0", n)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := rec.ranges(); len(got) != 1 {
			t.Fatalf("after 12 s ran %v, want hour 22", got)
		}
		rec.mu.Lock()
		calls := rec.calls
		rec.mu.Unlock()
		if calls != 5 {
			t.Fatalf("calls = %d, want 5", calls)
		}
		// Each later hour runs at the first tick after it settled.
		time.Sleep(time.Until(start.Add(3 * time.Minute)))
		synctest.Wait()
		if got := rec.ranges(); len(got) != 2 {
			t.Fatalf("at 00:03 ran %v, want hour 23 too", got)
		}
		time.Sleep(time.Until(start.Add(time.Hour + 3*time.Minute)))
		synctest.Wait()
		if got := rec.ranges(); len(got) != 3 {
			t.Fatalf("at 01:03 ran %v, want hour 00 too", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v, want nil after cancel", err)
		}
	})
}

func TestConfigErrors(t *testing.T) {
	if _, err := New(Config{}, &recorder{}, prometheus.NewRegistry(), nil); err == nil {
		t.Error("no database: no error")
	}
	r := Rollup{Measurement: "meter", Into: "m", Queries: []Query{{Aggs: []Agg{{"mean", "x", "x"}}}}}
	if _, err := New(Config{Database: "db", Rollups: []Rollup{r, r}}, &recorder{}, prometheus.NewRegistry(), nil); err == nil {
		t.Error("two rollups of one measurement: no error")
	}
}

func TestDefaultRollupStatements(t *testing.T) {
	rs := DefaultRollups()
	byName := map[string]Rollup{}
	for _, r := range rs {
		byName[r.Measurement] = r
	}
	for _, m := range []string{"meter", "monitor", "pile", "smoke", "plug", "event"} {
		if _, ok := byName[m]; !ok {
			t.Errorf("no rollup for %s", m)
		}
	}
	from := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	pile := byName["pile"]
	st := pile.Statements("chargewatch", "raw", "rollup", from, from.Add(time.Hour), nil)
	if len(st) != 2 {
		t.Fatalf("pile statements: %q", st)
	}
	for _, want := range []string{
		`count("seq") AS "readings"`, `mean("power_w") AS "power_w_mean"`, `max("power_w") AS "power_w_max"`,
		`last("state") AS "state_last"`, `last("energy_kwh") AS "energy_kwh_last"`, `max("fault") AS "fault_max"`,
		`INTO "chargewatch"."rollup"."pile_1h" FROM "chargewatch"."raw"."pile" WHERE time >= '2026-01-01T10:00:00Z' AND time < '2026-01-01T11:00:00Z' GROUP BY time(1h), *`,
	} {
		if !strings.Contains(st[0], want) {
			t.Errorf("pile statement lacks %s:\n%s", want, st[0])
		}
	}
	if strings.Contains(st[0], `mean("state")`) || strings.Contains(st[0], `mean("fault")`) || strings.Contains(st[0], `"port"`) {
		t.Errorf("pile statement averages a string or boolean, or uses the port tag:\n%s", st[0])
	}
	if want := `SELECT count("seq") AS "charging_readings" INTO "chargewatch"."rollup"."pile_1h" FROM "chargewatch"."raw"."pile" WHERE time >= '2026-01-01T10:00:00Z' AND time < '2026-01-01T11:00:00Z' AND "state" = 'charging' GROUP BY time(1h), *`; st[1] != want {
		t.Errorf("charging statement:\n got %s\nwant %s", st[1], want)
	}
	smokeR := byName["smoke"]
	smoke := smokeR.Statements("chargewatch", "raw", "rollup", from, from.Add(time.Hour), nil)[0]
	for _, want := range []string{`max("smoke") AS "smoke_max"`, `last("smoke") AS "smoke_last"`, `min("battery_pct") AS "battery_pct_min"`, `min("rssi_dbm") AS "rssi_dbm_min"`} {
		if !strings.Contains(smoke, want) {
			t.Errorf("smoke statement lacks %s:\n%s", want, smoke)
		}
	}
}

// TestStatementsSkipMissingFields: with the measurement's field keys known,
// only aggregates of fields it has are computed; a query left with none is
// dropped.
func TestStatementsSkipMissingFields(t *testing.T) {
	var pile Rollup
	for _, r := range DefaultRollups() {
		if r.Measurement == "pile" {
			pile = r
		}
	}
	from := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	has := func(f string) bool { return f == "power_w" || f == "seq" }
	st := pile.Statements("db", "raw", "rollup", from, from.Add(time.Hour), has)
	want := `SELECT count("seq") AS "readings", mean("power_w") AS "power_w_mean", max("power_w") AS "power_w_max" INTO`
	if len(st) != 2 || !strings.HasPrefix(st[0], want) {
		t.Errorf("statements %q, want the first to start %s", st, want)
	}
	none := pile.Statements("db", "raw", "rollup", from, from.Add(time.Hour), func(string) bool { return false })
	if len(none) != 0 {
		t.Errorf("no fields: statements %q", none)
	}
}

func TestBucketOf(t *testing.T) {
	for _, c := range []struct {
		ms   int64
		want int64
	}{{0, 0}, {3_599_999, 0}, {3_600_000, 1}, {-1, -1}, {-3_600_000, -1}, {-3_600_001, -2}} {
		if got := bucketOf(c.ms); got != c.want {
			t.Errorf("bucketOf(%d) = %d, want %d", c.ms, got, c.want)
		}
	}
}

// BenchmarkTouch is the writer's cost per point: points of one hour in a
// row (the common case), and points spread over 48 hours (an edge replay
// interleaved with live data).
func BenchmarkTouch(b *testing.B) {
	d, err := New(Config{Database: "db"}, &recorder{}, prometheus.NewRegistry(), nil)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UnixMilli()
	b.Run("same_hour", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			d.Touch("meter", now-int64(i%1000))
		}
	})
	b.Run("spread_48h", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			d.Touch("pile", now-int64(i%48)*3_600_000)
		}
	})
}
