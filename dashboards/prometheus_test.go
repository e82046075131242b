package dashboards_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	d "github.com/chargewatch/chargewatch/dashboards"
	"github.com/chargewatch/chargewatch/dashboards/internal/grafana"
	"github.com/chargewatch/chargewatch/ingest"
	"github.com/chargewatch/chargewatch/ingest/downsample"
	"github.com/chargewatch/chargewatch/internal/testenv"
)

// promBin finds prometheus or promtool (the Debian package). Like testenv,
// it runs scripts/install-deps.sh once if they are missing, unless CI is set.
func promBin(t *testing.T, name string) string {
	t.Helper()
	find := func() string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		if p := "/usr/bin/" + name; fileExists(p) {
			return p
		}
		return ""
	}
	if p := find(); p != "" {
		return p
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatalf("%s not found; CI is set, so nothing is installed here: run scripts/install-deps.sh first (make deps)", name)
	}
	installOnce.Do(func() {
		cmd := exec.Command("bash", filepath.Join(testenv.RepoRoot(), "scripts/install-deps.sh"))
		cmd.Dir = testenv.RepoRoot()
		installOut, installErr = cmd.CombinedOutput()
	})
	if p := find(); p != "" {
		return p
	}
	t.Fatalf("%s not found, even after scripts/install-deps.sh (%v):\n%s", name, installErr, installOut)
	return ""
}

var (
	installOnce sync.Once
	installOut  []byte
	installErr  error
)

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// spawnPinned starts cmd from a goroutine locked to an OS thread that never
// exits, so that Pdeathsig (delivered when the forking thread dies) kills
// the server only when the test binary dies.
func spawnPinned(cmd *exec.Cmd) error {
	errc := make(chan error)
	go func() {
		runtime.LockOSThread()
		errc <- cmd.Start()
		select {} // keep the thread
	}()
	return <-errc
}

// startPrometheus runs prometheus with config on a free loopback port over
// dataDir, until the test ends.
func startPrometheus(t *testing.T, config, dataDir string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePort()
	logPath := filepath.Join(dir, "prometheus.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promBin(t, "prometheus"), "--config.file="+cfg, "--storage.tsdb.path="+dataDir,
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--storage.tsdb.retention.time=30d", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := spawnPinned(cmd); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("prometheus log:\n%s", b)
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		select {
		case <-done:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("prometheus exited while starting:\n%s", b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("prometheus not ready after 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var placeholderRE = regexp.MustCompile(`\{\{[A-Z_]+\}\}`)

// renderPrometheusConfig fills in deploy/prometheus/prometheus.yml the way
// scripts/lib.sh render_template does, refusing a placeholder left on a line
// that is not a comment.
func renderPrometheusConfig(t *testing.T, vars map[string]string) string {
	t.Helper()
	s := string(mustRead(t, filepath.Join(testenv.RepoRoot(), "deploy/prometheus/prometheus.yml")))
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") && placeholderRE.MatchString(l) {
			t.Fatalf("prometheus.yml: placeholder left: %s", l)
		}
	}
	return s
}

// om builds the OpenMetrics text of the health scenario: every 15 s from
// start to end, counters that grow at known rates and gauges that hold known
// values, with the labels a scrape of the chargewatch and cw-edge jobs gives.
type om struct {
	start, end time.Time
	families   map[string][]string // name -> sample lines, in time order per series
	order      []string
}

const step = 15 * time.Second

func (o *om) series(name string, labels string, value func(i int) float64) {
	if _, ok := o.families[name]; !ok {
		o.order = append(o.order, name)
	}
	i := 0
	for ts := o.start; !ts.After(o.end); ts = ts.Add(step) {
		o.families[name] = append(o.families[name], fmt.Sprintf("%s{%s} %v %d", name, labels, value(i), ts.Unix()))
		i++
	}
}

func (o *om) text() string {
	var b strings.Builder
	for _, n := range o.order {
		for _, l := range o.families[n] {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	b.WriteString("# EOF\n")
	return b.String()
}

// counter grows by perStep every 15 s from a large base (so that rate()'s
// extrapolation is never clipped at zero).
func counter(perStep float64) func(int) float64 {
	return func(i int) float64 { return 1e6 + perStep*float64(i) }
}

func constant(v float64) func(int) float64 { return func(int) float64 { return v } }

// histogram adds a histogram whose observations (n per step) all fall in the
// bucket (lo, hi]: its quantile q is lo + (hi-lo)*q.
func (o *om) histogram(name, labels string, bounds []float64, lo float64, n float64) {
	for _, le := range bounds {
		per := 0.0
		if le > lo {
			per = n
		}
		o.series(name+"_bucket", joinLabels(labels, fmt.Sprintf(`le="%v"`, le)), counter(per))
	}
	o.series(name+"_bucket", joinLabels(labels, `le="+Inf"`), counter(n))
	o.series(name+"_count", labels, counter(n))
	o.series(name+"_sum", labels, counter(n*lo))
}

func joinLabels(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}

// TestHealthOnPrometheus starts the real Prometheus with the shipped scrape
// configuration and checks that it scrapes chargewatch and cw-edge; and, over
// an hour of metrics with known rates loaded into the same Prometheus, runs
// every panel of the ingestion health dashboard as Grafana would and
// compares the results with the rates and values the scenario implies.
func TestHealthOnPrometheus(t *testing.T) {
	// Live targets: a chargewatch server's registry and a cw-edge gateway.
	reg := prometheus.NewRegistry()
	m := ingest.NewMetrics(reg)
	m.Connected.WithLabelValues(ingest.SessionTelemetry).Set(1)
	m.Accepted.WithLabelValues("reading").Add(42)
	if _, err := downsample.New(downsample.Config{Database: "x"}, downsample.QuerierFunc(nil), reg, nil); err != nil {
		t.Fatal(err)
	}
	server := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer server.Close()
	edgeReg := prometheus.NewRegistry()
	q := prometheus.NewGauge(prometheus.GaugeOpts{Name: "chargewatch_edge_queue_readings", Help: "Readings in the queue."})
	q.Set(17)
	edgeReg.MustRegister(q)
	edge := httptest.NewServer(promhttp.HandlerFor(edgeReg, promhttp.HandlerOpts{}))
	defer edge.Close()
	edgeDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(edgeDir, "gateways.yml"), fmt.Appendf(nil,
		"- targets: ['%s']\n  labels:\n    gateway: gw-test\n", strings.TrimPrefix(edge.URL, "http://")), 0o644); err != nil {
		t.Fatal(err)
	}
	config := renderPrometheusConfig(t, map[string]string{
		"CHARGEWATCH_TARGET": strings.TrimPrefix(server.URL, "http://"),
		"EDGE_TARGETS_DIR":   edgeDir,
		"SCRAPE_INTERVAL":    "1s",
	})
	cfgPath := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promBin(t, "promtool"), "check", "config", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}

	// The past hour, backfilled: T0 is half an hour ago, so live scrapes
	// (from now on) never fall into the panels' range.
	T0 := time.Now().UTC().Truncate(time.Minute).Add(-30 * time.Minute)
	o := &om{start: T0.Add(-70 * time.Minute), end: T0, families: map[string][]string{}}
	cw := `instance="cw:9466",job="chargewatch"`
	gw := func(n int) string { return fmt.Sprintf(`gateway="gw%d",instance="10.0.0.%d:9108",job="cw-edge"`, n, n) }
	o.series("up", cw, constant(1))
	o.series("up", gw(1), constant(1))
	o.series("up", gw(2), constant(0))
	for s, v := range map[string]float64{"telemetry": 1, "events": 1} {
		o.series("chargewatch_ingest_connected", cw+`,session="`+s+`"`, constant(v))
		o.series("chargewatch_ingest_log_full", cw+`,log="`+s+`"`, constant(0))
	}
	o.series("chargewatch_broker_publish_messages_dropped", cw, counter(2))
	for typ, per := range map[string]float64{"reading": 1500, "event": 15, "status": 3} {
		o.series("chargewatch_ingest_accepted_total", cw+`,type="`+typ+`"`, counter(per))
	}
	o.series("chargewatch_ingest_write_points_total", cw, counter(1515))
	for reason, per := range map[string]float64{"out_of_range": 3, "malformed_json": 15, "unknown_device": 0} {
		o.series("chargewatch_ingest_rejected_total", cw+`,reason="`+reason+`"`, counter(per))
	}
	for lc, v := range map[string]float64{"telemetry/writer": 4096, "telemetry/engine": 512, "events/writer": 0} {
		l, c, _ := strings.Cut(lc, "/")
		o.series("chargewatch_ingest_log_backlog_bytes", cw+`,consumer="`+c+`",log="`+l+`"`, constant(v))
		o.series("chargewatch_ingest_log_oldest_unconsumed_age_seconds", cw+`,consumer="`+c+`",log="`+l+`"`, constant(v/1024))
	}
	o.histogram("chargewatch_ingest_lag_seconds", cw, []float64{0.05, 0.1, 0.2, 0.4, 0.8}, 0.2, 100)
	o.histogram("chargewatch_ingest_ack_latency_seconds", cw, []float64{0.0004, 0.0008, 0.0016, 0.0032}, 0.0008, 600)
	for class, per := range map[string]float64{"server": 1, "network": 0} {
		o.series("chargewatch_ingest_write_errors_total", cw+`,class="`+class+`"`, counter(per))
	}
	o.series("chargewatch_ingest_write_quarantined_points_total", cw, counter(0))
	o.series("chargewatch_ingest_seq_missing_total", cw, counter(3))
	o.series("chargewatch_downsample_dirty_buckets", cw, constant(7))
	o.series("chargewatch_downsample_behind_seconds", cw, constant(0))
	o.series("chargewatch_downsample_late_buckets_total", cw, counter(1))
	for n, v := range map[int]float64{1: 250, 2: 0} {
		o.series("chargewatch_edge_queue_readings", gw(n), constant(v))
		o.series("chargewatch_edge_queue_oldest_age_seconds", gw(n), constant(v/2))
		o.series("chargewatch_edge_publish_failures_total", gw(n), counter(v/250*15))
	}
	dataDir := t.TempDir()
	omPath := filepath.Join(t.TempDir(), "health.om")
	if err := os.WriteFile(omPath, []byte(o.text()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promBin(t, "promtool"), "tsdb", "create-blocks-from", "openmetrics", "-q", omPath, dataDir).CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from: %v\n%s", err, out)
	}
	url := startPrometheus(t, config, dataDir)
	ds, err := grafana.LoadDatasources(datasourcesFile, map[string]string{"CHARGEWATCH_PROMETHEUS_URL": url})
	if err != nil {
		t.Fatal(err)
	}
	prom := ds[d.PrometheusUID].Prometheus

	t.Run("scrape", func(t *testing.T) {
		deadline := time.Now().Add(20 * time.Second)
		want := map[string]float64{
			`up{job="chargewatch"}`: 1, `up{job="cw-edge",gateway="gw-test"}`: 1,
			`chargewatch_ingest_connected{job="chargewatch",session="telemetry"}`: 1,
			`chargewatch_ingest_accepted_total{job="chargewatch",type="reading"}`: 42,
			`chargewatch_downsample_dirty_buckets{job="chargewatch"}`:             float64(len(downsample.DefaultRollups()) * 3),
			`chargewatch_edge_queue_readings{job="cw-edge",gateway="gw-test"}`:    17,
		}
		for expr, v := range want {
			for {
				res, err := prom.Run(context.Background(), grafana.Query{Text: expr, Instant: true, To: time.Now()})
				if err == nil && len(res) == 1 && len(res[0].Points) == 1 && res[0].Points[0].V == v {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: %v (err %v), want one series with %v", expr, res, err, v)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	})

	t.Run("panels", func(t *testing.T) {
		b := loadAll(t)[4]
		if b.UID != "cw-ingest" {
			t.Fatalf("dashboard 5 is %s", b.UID)
		}
		st, err := b.Resolve(context.Background(), ds, T0.Add(-time.Hour), T0, nil)
		if err != nil {
			t.Fatal(err)
		}
		ps := 1 / step.Seconds() // one unit per step, per second
		lagQ := func(q float64) float64 { return 0.2 + 0.2*q }
		want := map[string]map[string]float64{ // panel -> refId/labels -> value
			"Targets up":                      {"A/chargewatch": 1, "A/cw-edge": 1},
			"MQTT sessions connected":         {"A/events": 1, "A/telemetry": 1},
			"Durable log full":                {"A/events": 0, "A/telemetry": 0},
			"Broker drops, total":             {"A/": 1e6 + 2*float64(int(T0.Sub(o.start)/step))},
			"Throughput":                      {"A/event": 15 * ps, "A/reading": 1500 * ps, "A/status": 3 * ps, "B/": 1515 * ps},
			"Rejected, by reason":             {"A/malformed_json": 15 * ps, "A/out_of_range": 3 * ps},
			"Durable log backlog":             {"A/writer/events": 0, "A/engine/telemetry": 512, "A/writer/telemetry": 4096},
			"Oldest unconsumed record":        {"A/writer/events": 0, "A/engine/telemetry": 0.5, "A/writer/telemetry": 4},
			"Lag: measurement to InfluxDB":    {"A/": lagQ(0.5), "B/": lagQ(0.99)},
			"InfluxDB write errors, by class": {"A/server": ps},
			"Broker drops and loss":           {"A/": 2 * ps, "B/": 3 * ps},
			"Acknowledgement latency":         {"A/": 0.0008 + 0.0008*0.99},
			"Downsampling":                    {"A/": 7, "B/": 0, "C/": ps},
			"Gateway queues":                  {"A/10.0.0.1:9108": 250, "A/10.0.0.2:9108": 0},
			"Gateway queue age":               {"A/10.0.0.1:9108": 125, "A/10.0.0.2:9108": 0},
			"Gateway publish failures":        {"A/10.0.0.1:9108": 15 * ps, "A/10.0.0.2:9108": 0},
		}
		for _, p := range b.Panels {
			w, ok := want[p.Title]
			if !ok {
				t.Errorf("panel %q has no check", p.Title)
				continue
			}
			qs, err := b.PanelQueries(&p, st, T0.Add(-time.Hour), T0, ds)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]float64{}
			for _, q := range qs {
				res, err := prom.Run(context.Background(), q)
				if err != nil {
					t.Fatalf("%q %s: %v\n%s", p.Title, q.RefID, err, q.Text)
				}
				wantPoints := 1
				if !q.Instant {
					wantPoints = int(q.To.Truncate(q.Interval).Sub(q.From.Truncate(q.Interval))/q.Interval) + 1
				}
				for _, s := range res {
					k := q.RefID + "/" + labelValues(s.Labels)
					if len(s.Points) != wantPoints {
						t.Errorf("%q %s: %d points, want %d (no gaps)", p.Title, k, len(s.Points), wantPoints)
					}
					for _, pt := range s.Points {
						if prev, seen := got[k]; seen && math.Abs(prev-pt.V) > 1e-9*math.Max(1, math.Abs(prev)) {
							t.Errorf("%q %s: %v at %v, %v before; want one value all along", p.Title, k, pt.V, pt.T, prev)
						}
						got[k] = pt.V
					}
				}
			}
			gm, wm := map[string]any{}, map[string]any{}
			for k, v := range got {
				gm[k] = v
			}
			for k, v := range w {
				wm[k] = v
			}
			same(t, p.Title, gm, wm)
		}
	})
}

// labelValues joins a result's label values in label-name order.
func labelValues(l map[string]string) string {
	names := make([]string, 0, len(l))
	for k := range l {
		names = append(names, k)
	}
	sort.Strings(names)
	vals := make([]string, len(names))
	for i, n := range names {
		vals[i] = l[n]
	}
	return strings.Join(vals, "/")
}
