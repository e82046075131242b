// Command dashbench measures the dashboards' queries on a city-sized InfluxDB:
// it launches its own InfluxDB 1.8 (internal/testenv), loads N days of
// readings of M devices straight into it as line protocol (meters, monitors,
// plugs and pile ports every -interval, smoke detectors hourly; charging
// events; alert transitions and snapshots), downsamples the whole span with
// ingest/downsample, then runs every InfluxDB panel of every dashboard -runs
// times, the way Grafana would (dashboards/internal/grafana), over the last
// 24 hours (raw readings) and over the whole span (hourly rollups), and
// prints each panel's p95.
//
//	go run ./dashboards/cmd/dashbench                 # 10,000 devices, 28 days, 5 min
//	go run ./dashboards/cmd/dashbench -devices 2000 -days 7
//
// It takes several minutes; it is not part of `make test` (`make bench-dashboards`).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/dashboards"
	"github.com/chargewatch/chargewatch/dashboards/internal/grafana"
	"github.com/chargewatch/chargewatch/ingest"
	"github.com/chargewatch/chargewatch/ingest/downsample"
	"github.com/chargewatch/chargewatch/internal/testenv"
)

func main() { os.Exit(run()) }

type options struct {
	devices  int
	days     int
	interval time.Duration
	runs     int
	writers  int
	batch    int
	alerts   int
	keep     bool
}

func run() int {
	var o options
	flag.IntVar(&o.devices, "devices", 10000, "devices in the city (20 per building)")
	flag.IntVar(&o.days, "days", 28, "days of readings, ending now")
	flag.DurationVar(&o.interval, "interval", 5*time.Minute, "reading interval of meters, monitors, plugs and pile ports (smoke detectors: hourly)")
	flag.IntVar(&o.runs, "runs", 10, "timed runs of each panel (after one warm-up run)")
	flag.IntVar(&o.writers, "writers", 2, "concurrent writers")
	flag.IntVar(&o.batch, "batch", 5000, "points per write")
	flag.IntVar(&o.alerts, "alerts-per-day", 100, "alerts raised per day")
	flag.BoolVar(&o.keep, "keep", false, "keep InfluxDB running with the data after measuring, until Ctrl-C")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := bench(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "dashbench:", err)
		return 1
	}
	return 0
}

const db = "chargewatch"

func bench(ctx context.Context, o options) error {
	fmt.Println("==> launching InfluxDB 1.8 (internal/testenv)")
	inf, err := testenv.LaunchInflux()
	if err != nil {
		return err
	}
	defer inf.Close()
	if err := ingest.EnsureDatabase(ctx, ingest.InfluxConfig{URL: inf.URL, Database: db, RetentionPolicy: dashboards.RawRP},
		30*24*time.Hour, 400*24*time.Hour); err != nil {
		return err
	}
	c := newCity(o.devices)
	end := time.Now().UTC().Truncate(time.Hour)
	start := end.Add(-time.Duration(o.days) * 24 * time.Hour)
	fmt.Printf("    %s, data from %s to %s\n", inf.URL, start.Format(time.RFC3339), end.Format(time.RFC3339))

	w := newWriter(inf.URL, o.writers)
	perStep := len(c.frequent)
	steps := int(end.Sub(start) / o.interval)
	total := int64(steps*perStep + o.days*24*len(c.smoke))
	fmt.Printf("==> loading %d devices in %d buildings: %d series every %v and %d smoke detectors hourly for %d days: %d points\n",
		c.devices, len(c.buildings), perStep, o.interval, len(c.smoke), o.days, total)
	t0 := time.Now()
	stopProgress := progress("readings", &w.points, total, t0)
	err = load(ctx, c, w, start, end, o)
	stopProgress()
	if err != nil {
		return err
	}
	loadTime := time.Since(t0)
	fmt.Printf("    %d points in %v: %.0f points/s\n", w.points.Load(), loadTime.Round(time.Second), float64(w.points.Load())/loadTime.Seconds())

	nAlerts, nSnaps, err := loadAlerts(ctx, c, inf.URL, start, end, o)
	if err != nil {
		return err
	}
	fmt.Printf("    %d alerts (transitions over %d days), %d open-alert and building snapshot points (last 3 days)\n", nAlerts, o.days, nSnaps)

	fmt.Println("==> downsampling the whole span (ingest/downsample Backfill)")
	t0 = time.Now()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ds, err := downsample.New(downsample.Config{Database: db, Now: func() time.Time { return end.Add(10 * time.Minute) }},
		&downsample.HTTPQuerier{URL: inf.URL, Database: db}, prometheus.NewRegistry(), logger)
	if err != nil {
		return err
	}
	// Backfill day by day, to show progress.
	for day := start; day.Before(end); day = day.Add(24 * time.Hour) {
		if err := ds.Backfill(ctx, day, day.Add(24*time.Hour)); err != nil {
			return err
		}
		fmt.Printf("\r    downsampled up to %s (%v)   ", day.Add(24*time.Hour).Format("2006-01-02"), time.Since(t0).Round(time.Second))
	}
	fmt.Printf("\n    %d days downsampled in %v (%.1f s per day of %d devices)\n", o.days, time.Since(t0).Round(time.Second),
		time.Since(t0).Seconds()/float64(o.days), c.devices)

	if err := measure(ctx, c, inf.URL, end, o); err != nil {
		return err
	}
	if o.keep {
		fmt.Printf("==> InfluxDB keeps running at %s (database %s) until Ctrl-C\n", inf.URL, db)
		<-ctx.Done()
	}
	return nil
}

// writer posts line protocol batches from several goroutines.
type writer struct {
	url     string
	batches chan []byte
	wg      sync.WaitGroup
	points  atomic.Int64
	errMu   sync.Mutex
	err     error
}

func newWriter(base string, n int) *writer {
	w := &writer{url: base + "/write?" + url.Values{"db": {db}, "precision": {"s"}}.Encode(), batches: make(chan []byte, n)}
	client := &http.Client{Timeout: 2 * time.Minute}
	for range n {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for b := range w.batches {
				lines := int64(bytes.Count(b, []byte{'\n'}))
				var err error
				for attempt := range 5 {
					if err = post(client, w.url, b); err == nil {
						break
					}
					time.Sleep(time.Duration(attempt+1) * time.Second)
				}
				if err != nil {
					w.errMu.Lock()
					w.err = err
					w.errMu.Unlock()
				}
				w.points.Add(lines)
			}
		}()
	}
	return w
}

func (w *writer) buf() []byte { return make([]byte, 0, 1<<20) }

func (w *writer) close() error {
	close(w.batches)
	w.wg.Wait()
	return w.err
}

func (w *writer) failed() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

func post(c *http.Client, u string, body []byte) error {
	resp, err := c.Post(u, "text/plain", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		return fmt.Errorf("write: %s: %s", resp.Status, msg)
	}
	return nil
}

func progress(what string, done *atomic.Int64, total int64, t0 time.Time) func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				fmt.Println()
				return
			case <-t.C:
				n := done.Load()
				el := time.Since(t0).Seconds()
				rate := float64(n) / el
				eta := time.Duration(float64(total-n)/max(rate, 1)) * time.Second
				fmt.Printf("\r    %s: %d of %d (%.0f%%), %.0f points/s, %v left   ", what, n, total, 100*float64(n)/float64(total), rate, eta.Round(time.Second))
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}

// load writes the readings and the pile and smoke events, time step by time
// step (as live traffic arrives).
func load(ctx context.Context, c *city, w *writer, start, end time.Time, o options) error {
	b := w.buf()
	n := 0
	flush := func() {
		if n > 0 {
			w.batches <- b
			b, n = w.buf(), 0
		}
	}
	last := map[*series]string{}
	evSeq := int64(0)
	for ts := start.Truncate(o.interval); ts.Before(end); ts = ts.Add(o.interval) {
		if err := ctx.Err(); err != nil {
			w.close()
			return err
		}
		if err := w.failed(); err != nil {
			w.close()
			return err
		}
		k := int64(ts.Sub(start) / o.interval)
		for _, s := range c.frequent {
			b = appendReading(b, s, ts, k)
			n++
			if s.m == dashboards.Pile {
				st := pileState(s.port, ts)
				if prev, ok := last[s]; ok && prev != st && (st == "charging" || prev == "charging") {
					typ := "charge_start"
					if prev == "charging" {
						typ = "charge_stop"
					}
					evSeq++
					b = append(b, "event"...)
					b = append(b, s.tags...)
					b = append(b, ",type="...)
					b = append(b, typ...)
					b = append(b, " seq="...)
					b = strconv.AppendInt(b, evSeq, 10)
					b = append(b, "i,kind=\"pile\" "...)
					b = strconv.AppendInt(b, ts.Unix()-5, 10)
					b = append(b, '\n')
					n++
				}
				last[s] = st
			}
			if n >= o.batch {
				flush()
			}
		}
		if ts.Minute() == 0 && ts.Second() == 0 {
			for _, s := range c.smoke {
				b = appendReading(b, s, ts.Add(90*time.Second), k)
				n++
				if n >= o.batch {
					flush()
				}
			}
		}
	}
	flush()
	return w.close()
}

// loadAlerts writes alert transitions over the whole span and the open-alert
// and building snapshots of the last three days, as alerting/influx writes
// them (plus the accountability fields named in dashboards/schema.go).
func loadAlerts(ctx context.Context, c *city, base string, start, end time.Time, o options) (int, int, error) {
	r := rand.New(rand.NewPCG(7, 11))
	type alert struct {
		id                             int
		rule, sev, unit, dev           string
		b                              *building
		fired, acked, resolved, closed time.Time
		relapse                        bool
	}
	rules := []struct{ rule, sev string }{
		{"indoor_charging", "major"}, {"overload", "major"}, {"residual_current", "major"}, {"smoke", "critical"},
		{"device_offline", "warning"}, {"low_battery", "warning"}, {"pile_fault", "warning"},
	}
	level := map[string]int{"warning": 2, "major": 3, "critical": 4}
	var alerts []*alert
	for i := range o.days * o.alerts {
		rl := rules[r.IntN(len(rules))]
		b := c.buildings[r.IntN(len(c.buildings))]
		u := r.IntN(metersPerBuilding)
		a := &alert{id: i + 1, rule: rl.rule, sev: rl.sev, b: b, unit: fmt.Sprintf("%s-u%d", b.id, u),
			fired: start.Add(time.Duration(r.Int64N(int64(end.Sub(start))))), relapse: r.IntN(10) == 0}
		if rl.rule != "indoor_charging" {
			a.dev = fmt.Sprintf("%s-m%d", b.id, u)
		}
		if r.IntN(10) < 9 {
			a.acked = a.fired.Add(time.Duration(1+r.IntN(120)) * time.Minute)
		}
		a.resolved = a.fired.Add(time.Duration(60+r.IntN(360)) * time.Minute)
		a.closed = a.resolved.Add(time.Duration(1+r.IntN(48)) * time.Hour)
		alerts = append(alerts, a)
	}
	state := func(a *alert, t time.Time) string {
		switch {
		case t.Before(a.fired):
			return ""
		case !t.Before(a.closed):
			return "closed"
		case !t.Before(a.resolved):
			return "resolved"
		case !a.acked.IsZero() && !t.Before(a.acked):
			return "acknowledged"
		}
		return "firing"
	}
	tags := func(a *alert) string {
		s := fmt.Sprintf(",building=%s,community=%s,district=%s,rule=%s,severity=%s,street=%s,unit=%s",
			a.b.id, a.b.community, a.b.district, a.rule, a.sev, a.b.street, a.unit)
		if a.dev != "" {
			s += ",device=" + a.dev + ",gateway=gw-" + a.b.id
		}
		return s
	}
	var lines []string
	audit := int64(0)
	for _, a := range alerts {
		started := a.fired.Add(-2 * time.Minute)
		add := func(action, st string, at time.Time, extra string) {
			if at.After(end) {
				return
			}
			audit++
			lines = append(lines, fmt.Sprintf("alert%s,action=%s,state=%s id=%di,audit_id=%di,actor=\"engine\",summary=\"%s in %s\",value=1,limit=1,started_at=%di,event_ts=%di,relapse=%t,silenced=false%s %d",
				tags(a), action, st, a.id, audit, a.rule, a.unit, started.UnixMilli(), at.UnixMilli(), a.relapse, extra, at.UnixNano()+audit%1_000_000))
		}
		add("fire", "firing", a.fired, "")
		if !a.acked.IsZero() && a.acked.Before(a.resolved) {
			add("ack", "acknowledged", a.acked, fmt.Sprintf(",%s=%v", dashboards.AlertAckSeconds, a.acked.Sub(a.fired).Seconds()))
		}
		add("resolve", "resolved", a.resolved, fmt.Sprintf(",%s=%t", dashboards.AlertResolvedUnacked, a.acked.IsZero() || !a.acked.Before(a.resolved)))
		add("close", "closed", a.closed, fmt.Sprintf(",outcome=\"rectified\",%s=%v", dashboards.AlertCloseSeconds, a.closed.Sub(a.fired).Seconds()))
	}
	if err := postAll(ctx, base, dashboards.AlertRP, lines); err != nil {
		return 0, 0, err
	}
	var snaps []string
	for m := end.Add(-72 * time.Hour); m.Before(end); m = m.Add(dashboards.SnapshotInterval) {
		i := int64(0)
		for _, a := range alerts {
			st := state(a, m)
			if st == "" || st == "closed" {
				continue
			}
			started := a.fired.Add(-2 * time.Minute)
			snaps = append(snaps, fmt.Sprintf("alert_open%s,state=%s id=%di,value=1,limit=1,started_at=%di,age_s=%di,severity_level=%di,summary=\"x\",silenced=false,relapse=%t %d",
				tags(a), st, a.id, started.UnixMilli(), int64(m.Sub(started)/time.Second), level[a.sev], a.relapse, m.UnixNano()+i))
			i++
		}
	}
	for m := end.Add(-5 * time.Minute); m.Before(end); m = m.Add(dashboards.SnapshotInterval) {
		for i, b := range c.buildings {
			open, worst, rule, worstID := 0, 0, "none", 0
			for _, a := range alerts {
				if a.b == b {
					if st := state(a, m); st == "firing" || st == "acknowledged" {
						open++
						if level[a.sev] > worst {
							worst, rule, worstID = level[a.sev], a.rule, a.id
						}
					}
				}
			}
			snaps = append(snaps, fmt.Sprintf("building,building=%s,community=%s,district=%s,street=%s lat=%v,lon=%v,name=\"%s\",open_alerts=%di,worst_severity=%di,worst_rule=\"%s\",worst_alert_id=%di %d",
				b.id, b.community, b.district, b.street, b.lat, b.lon, b.id, open, worst, rule, worstID, m.UnixNano()+int64(i)))
		}
	}
	if err := postAll(ctx, base, dashboards.SnapshotRP, snaps); err != nil {
		return 0, 0, err
	}
	return len(alerts), len(snaps), nil
}

func postAll(ctx context.Context, base, rp string, lines []string) error {
	u := base + "/write?" + url.Values{"db": {db}, "rp": {rp}, "precision": {"ns"}}.Encode()
	c := &http.Client{Timeout: 2 * time.Minute}
	for i := 0; i < len(lines); i += 5000 {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := lines[i:min(i+5000, len(lines))]
		if err := post(c, u, []byte(strings.Join(chunk, "\n"))); err != nil {
			return err
		}
	}
	return nil
}

// measure runs every InfluxDB panel, and the variables, and prints p95s.
func measure(ctx context.Context, c *city, base string, end time.Time, o options) error {
	src := &grafana.Datasource{UID: dashboards.InfluxUID, Type: "influxdb", TimeInterval: "1m",
		Influx: &grafana.Influx{URL: base, Database: db, Client: &http.Client{Timeout: 5 * time.Minute}}}
	ds := map[string]*grafana.Datasource{dashboards.InfluxUID: src}
	b := c.buildings[len(c.buildings)/2]
	one := func(v string) grafana.Selection { return grafana.Selection{Values: []string{v}} }
	selections := map[string]map[string]grafana.Selection{
		"cw-city":           {},
		"cw-building":       {"building": one(b.id)},
		"cw-device":         {"building": one(b.id), "device": one(b.id + "-m3")},
		"cw-accountability": {},
	}
	ranges := []struct {
		name string
		d    time.Duration
	}{{"24 h", 24 * time.Hour}, {fmt.Sprintf("%d d", o.days), time.Duration(o.days) * 24 * time.Hour}}
	fmt.Printf("==> running every panel %d times (after a warm-up run) per range; building %s, device %s-m3\n", o.runs, b.id, b.id)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "dashboard\tpanel\trange\tinterval\treads\tseries\tp95 ms\tmax ms\t")
	fmt.Fprintln(tw, "\t\t\t\t\t\t\t\t")
	for _, board := range dashboards.All() {
		js, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "dashboards", dashboards.JSONDir, board.File))
		if err != nil {
			return err
		}
		d, err := grafana.Parse(js)
		if err != nil {
			return err
		}
		sel, ok := selections[d.UID]
		if !ok {
			continue // the Prometheus dashboard
		}
		for _, r := range ranges {
			from, to := end.Add(-r.d), end
			var st *grafana.State
			vt, err := timed(o.runs, func() error {
				var err error
				st, err = d.Resolve(ctx, ds, from, to, sel)
				return err
			})
			if err != nil {
				return fmt.Errorf("%s variables: %w", d.UID, err)
			}
			fmt.Fprintf(tw, "%s\t(variables: %d queries)\t%s\t\t\t\t%.0f\t%.0f\t\n", d.UID, len(d.Templating.List), r.name, p95(vt), slices.Max(vt))
			for i := range d.Panels {
				p := &d.Panels[i]
				qs, err := d.PanelQueries(p, st, from, to, ds)
				if err != nil {
					return err
				}
				var nseries int
				var reads string
				ts, err := timed(o.runs, func() error {
					nseries = 0
					reads = ""
					for _, q := range qs {
						res, err := q.Datasource.Influx.Query(ctx, q.Text)
						if err != nil {
							return fmt.Errorf("%s %q: %w\n%s", d.UID, p.Title, err, q.Text)
						}
						if len(res) > 0 {
							reads = source(q.Text)
						}
						nseries += len(res)
					}
					return nil
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%.0f\t%.0f\t\n", d.UID, p.Title, r.name, grafana.FormatInterval(qs[0].Interval), reads, nseries, p95(ts), slices.Max(ts))
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return tw.Flush()
}

// source names what a query reads: raw readings, hourly rollups, alert
// transitions or snapshots.
func source(q string) string {
	switch {
	case strings.Contains(q, `_1h"`):
		return "rollup"
	case strings.Contains(q, `."alert_open"`) || strings.Contains(q, `."building"`):
		return "snapshots"
	case strings.Contains(q, `."alert"`):
		return "alerts"
	}
	return "raw"
}

// timed runs f once to warm up, then n times, and returns the durations in ms.
func timed(n int, f func() error) ([]float64, error) {
	if err := f(); err != nil {
		return nil, err
	}
	out := make([]float64, 0, n)
	for range n {
		t0 := time.Now()
		if err := f(); err != nil {
			return nil, err
		}
		out = append(out, float64(time.Since(t0).Microseconds())/1000)
	}
	return out, nil
}

// p95 is the nearest-rank 95th percentile.
func p95(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	i := int(float64(len(s))*0.95+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}
