// Command ingestbench measures the ingester end to end on this machine
// (make bench-ingest). It starts its own Mosquitto and InfluxDB, registers
// the load's devices, runs the real chargewatch binary, drives it with the
// simulators' load mode (cw-sim load) at QoS 1, and prints:
//
//   - whole-run and steady-state throughput with every point queryable in
//     InfluxDB (counted there, not assumed);
//   - the chargewatch process's CPU per message and its peak RSS, and the
//     CPU per message of Mosquitto, InfluxDB and the load generator, so the
//     whole machine's budget is visible;
//   - publish-to-queryable latency (p50, p99) at half of the peak rate,
//     measured with a probe device whose readings carry their publish time.
//
// It runs once with single-reading messages and once with gateway batches
// of 32 readings. Figures go to docs/performance.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/internal/benchutil"
	"github.com/chargewatch/chargewatch/internal/testenv"
	"github.com/chargewatch/chargewatch/simulators/load"
)

func main() { os.Exit(run()) }

type options struct {
	messages    int64
	batchMsgs   int64
	devices     int
	connections int
	latencyFor  time.Duration
	modes       string
	keep        bool
	cpuprofile  string
	alerting    bool
	batchPoints int
	batchWait   time.Duration
	bin         string
	profileFor  time.Duration
}

func run() int {
	var o options
	flag.Int64Var(&o.messages, "messages", 1_000_000, "single-reading messages to publish")
	flag.Int64Var(&o.batchMsgs, "batch-messages", 100_000, "32-reading messages to publish")
	flag.IntVar(&o.devices, "devices", 10_000, "meters")
	flag.IntVar(&o.connections, "connections", 1, "publishing MQTT connections (gateways)")
	flag.DurationVar(&o.latencyFor, "latency-for", 30*time.Second, "how long to measure latency at half of peak")
	flag.StringVar(&o.modes, "modes", "single,batch32", "which runs: single, batch32")
	flag.BoolVar(&o.keep, "keep", false, "keep the data directories")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "save CPU profiles (-profile-for) of chargewatch and InfluxDB during each flat-out run to FILE.<mode> and FILE.<mode>.influxd")
	flag.BoolVar(&o.alerting, "alerting", true, "run the alerting engine on the logs as the server does (false: the ingester and InfluxDB writer alone)")
	flag.IntVar(&o.batchPoints, "batch-points", 5000, "the server's ingest.batch_points")
	flag.DurationVar(&o.batchWait, "batch-wait", 200*time.Millisecond, "the server's ingest.batch_wait")
	flag.DurationVar(&o.profileFor, "profile-for", 5*time.Second, "length of the -cpuprofile profiles (they start 1 s into the flat-out run)")
	flag.StringVar(&o.bin, "bin", "", "run this chargewatch binary instead of building the working tree's (for interleaved A/B runs of two builds)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := bench(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "ingestbench:", err)
		return 1
	}
	return 0
}

type result struct {
	mode                  string
	messages, readings    int64
	wholeMsgs, wholeReads float64 // per second, publish start to all queryable
	steadyMsgs, steadyRds float64 // median per-second rate of points written, middle of the run
	cpuPerMsg             time.Duration
	peakRSS               int64
	loadCPUPerMsg         time.Duration
	brokerCPUPerMsg       time.Duration // Mosquitto
	influxCPUPerMsg       time.Duration // InfluxDB
	pointsPerWrite        float64       // average points per InfluxDB write request
	p50, p99              time.Duration
	latencyRate           float64
	latencySamples        int
}

func bench(ctx context.Context, o options) error {
	work, err := os.MkdirTemp("", "ingestbench-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(work)
	}
	bin := o.bin
	if bin == "" {
		step("building chargewatch")
		if bin, err = benchutil.BuildChargewatch(work); err != nil {
			return err
		}
	}
	step("starting Mosquitto and InfluxDB")
	mq, err := testenv.LaunchMosquitto()
	if err != nil {
		return err
	}
	defer mq.Close()
	inf, err := testenv.LaunchInflux()
	if err != nil {
		return err
	}
	defer inf.Close()
	var results []result
	for _, mode := range strings.Split(o.modes, ",") {
		batch, msgs := 1, o.messages
		if mode == "batch32" {
			batch, msgs = 32, o.batchMsgs
		} else if mode != "single" {
			return fmt.Errorf("unknown mode %q: use single or batch32", mode)
		}
		r, err := runMode(ctx, o, mode, batch, msgs, bin, work, mq, inf)
		if err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
		results = append(results, r)
	}
	fmt.Println()
	engine := "with the alerting engine"
	if !o.alerting {
		engine = "alerting engine off"
	}
	fmt.Printf("ingestbench: %d meters, %d publishing connections, QoS 1, %s, batches of up to %d points or %v, %s, %d cores\n",
		o.devices, o.connections, engine, o.batchPoints, o.batchWait, time.Now().UTC().Format("2006-01-02"), benchutil.NumCPU())
	fmt.Println("| mode | messages | readings | whole run msgs/s | whole run readings/s | steady readings/s | chargewatch CPU µs/msg | peak RSS MiB | latency p50 | latency p99 (at msgs/s) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		fmt.Printf("| %s | %d | %d | %.0f | %.0f | %.0f | %.1f | %.0f | %v | %v (%.0f, n=%d) |\n", r.mode, r.messages, r.readings,
			r.wholeMsgs, r.wholeReads, r.steadyRds, us(r.cpuPerMsg), float64(r.peakRSS)/(1<<20),
			r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond), r.latencyRate, r.latencySamples)
	}
	fmt.Println()
	fmt.Println("CPU per message during the flat-out run, every process on the machine's cores:")
	fmt.Println("| mode | chargewatch µs/msg | Mosquitto µs/msg | InfluxDB µs/msg | load generator µs/msg | total µs/msg | points per InfluxDB write |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, r := range results {
		fmt.Printf("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f |\n", r.mode, us(r.cpuPerMsg), us(r.brokerCPUPerMsg), us(r.influxCPUPerMsg),
			us(r.loadCPUPerMsg), us(r.cpuPerMsg+r.brokerCPUPerMsg+r.influxCPUPerMsg+r.loadCPUPerMsg), r.pointsPerWrite)
	}
	return nil
}

var step = benchutil.Step

func runMode(ctx context.Context, o options, mode string, batch int, msgs int64, bin, work string, mq *testenv.Mosquitto, inf *testenv.Influx) (result, error) {
	res := result{mode: mode}
	db := "bench_" + mode
	dir := filepath.Join(work, mode)
	os.MkdirAll(dir, 0o755)
	cfg := load.NewConfig()
	cfg.Broker = mq.URL
	cfg.Devices = o.devices
	cfg.Connections = o.connections
	cfg.Batch = batch
	cfg.Messages = msgs
	cfg.Prefix = "b" + strconv.Itoa(batch)
	step("%s: registering %d meters and a probe", mode, o.devices)
	site := load.Site(cfg)
	site.Gateways = append(site.Gateways, registry.GatewaySpec{ID: "probe-gw", Building: site.Buildings[0].ID})
	site.Devices = append(site.Devices, registry.DeviceSpec{ID: "probe", Kind: devices.KindMeter, Gateway: "probe-gw",
		Building: site.Buildings[0].ID, RatedCurrentA: 16, Interval: time.Second})
	regPath := filepath.Join(dir, "registry.db")
	rdb, err := registry.OpenDB(ctx, regPath)
	if err != nil {
		return res, err
	}
	if _, err := registry.Import(ctx, rdb, site); err != nil {
		rdb.Close()
		return res, err
	}
	rdb.Close()
	srv, err := benchutil.StartServer(ctx, bin, dir, fmt.Sprintf("data_dir: %s\nregistry: %s\nhttp: {listen: \"127.0.0.1:%%d\"}\nmqtt: {url: %q, client_id: %q}\ninfluxdb: {url: %q, database: %q}\nalerting: {enabled: %t}\ningest: {batch_points: %d, batch_wait: %s}\n",
		filepath.Join(dir, "data"), regPath, mq.URL, "bench-"+mode, inf.URL, db, o.alerting, o.batchPoints, o.batchWait))
	if err != nil {
		return res, err
	}
	defer srv.Stop()

	// Throughput: flat out.
	step("%s: publishing %d messages of %d reading(s) flat out", mode, msgs, batch)
	pid := srv.Pid()
	cpu0 := benchutil.ProcCPU(pid)
	brokerCPU0, influxCPU0 := benchutil.ProcCPU(mq.Pid()), benchutil.ProcCPU(inf.Pid())
	var samples []sample
	sampler := startSampler(ctx, srv, &samples)
	start := time.Now()
	cfg.Progress = progressLine
	if o.cpuprofile != "" {
		secs := max(1, int(o.profileFor.Round(time.Second)/time.Second))
		go saveProfile(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", srv.HTTP, secs), o.cpuprofile+"."+mode)
		go saveProfile(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", inf.URL, secs), o.cpuprofile+"."+mode+".influxd")
	}
	sum, err := load.Run(ctx, cfg)
	fmt.Println()
	if err != nil {
		return res, err
	}
	if sum.Acked != sum.Published {
		return res, fmt.Errorf("only %d of %d messages acknowledged by the broker", sum.Acked, sum.Published)
	}
	res.messages, res.readings = sum.Published, sum.Readings
	res.loadCPUPerMsg = sum.CPUPerMsg()
	step("%s: waiting until all %d readings are queryable in InfluxDB", mode, sum.Readings)
	if err := waitCount(ctx, inf, db, sum.Readings, 10*time.Minute); err != nil {
		return res, err
	}
	elapsed := time.Since(start)
	sampler()
	cpu := benchutil.ProcCPU(pid) - cpu0
	if writes, ok := srv.Metric(`chargewatch_ingest_write_batches_total{result="ok"}`); ok && writes > 0 {
		points, _ := srv.Metric("chargewatch_ingest_write_points_total")
		res.pointsPerWrite = points / writes
	}
	res.brokerCPUPerMsg = (benchutil.ProcCPU(mq.Pid()) - brokerCPU0) / time.Duration(sum.Published)
	res.influxCPUPerMsg = (benchutil.ProcCPU(inf.Pid()) - influxCPU0) / time.Duration(sum.Published)
	res.wholeMsgs = float64(sum.Published) / elapsed.Seconds()
	res.wholeReads = float64(sum.Readings) / elapsed.Seconds()
	res.steadyRds = steady(samples)
	res.steadyMsgs = res.steadyRds / float64(batch)
	res.cpuPerMsg = cpu / time.Duration(sum.Published)
	res.peakRSS = benchutil.ProcHWM(pid)
	fmt.Printf("    %d msgs in %v: %.0f msgs/s, %.0f readings/s whole run; steady %.0f readings/s; CPU µs/msg: chargewatch %.1f, Mosquitto %.1f, InfluxDB %.1f, load generator %.1f; %.0f points per InfluxDB write\n",
		sum.Published, elapsed.Round(time.Millisecond), res.wholeMsgs, res.wholeReads, res.steadyRds,
		us(res.cpuPerMsg), us(res.brokerCPUPerMsg), us(res.influxCPUPerMsg), us(res.loadCPUPerMsg), res.pointsPerWrite)

	// Latency at half of the peak message rate.
	rate := res.wholeMsgs / 2
	step("%s: latency at %.0f msgs/s (half of peak) for %v", mode, rate, o.latencyFor)
	lcfg := cfg
	lcfg.Messages, lcfg.Duration, lcfg.Rate = 0, o.latencyFor, rate
	lcfg.Prefix = cfg.Prefix // same devices: their readings continue where they stopped
	lcfg.Progress = nil
	lctx, lcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := load.Run(lctx, lcfg)
		done <- err
	}()
	lat, err := probeLatency(ctx, mq.URL, inf, db, o.latencyFor)
	lcancel()
	<-done
	if err != nil {
		return res, err
	}
	slices.Sort(lat)
	res.latencyRate, res.latencySamples = rate, len(lat)
	if len(lat) > 0 {
		res.p50 = lat[len(lat)/2]
		res.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	if rss := benchutil.ProcHWM(pid); rss > res.peakRSS {
		res.peakRSS = rss
	}
	fmt.Printf("    latency p50 %v p99 %v over %d probe readings\n", res.p50.Round(time.Millisecond), res.p99.Round(time.Millisecond), len(lat))
	return res, nil
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

func saveProfile(url, path string) {
	time.Sleep(time.Second)
	resp, err := http.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return
	}
	defer f.Close()
	io.Copy(f, resp.Body)
}

func waitCount(ctx context.Context, inf *testenv.Influx, db string, want int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var got int64
	for time.Now().Before(deadline) {
		rows, err := inf.QueryErr(db, `SELECT count(seq) FROM meter WHERE device != 'probe'`)
		if err == nil && len(rows) == 1 {
			got = rows[0].Int(0, "count")
			if got >= want {
				if got > want {
					return fmt.Errorf("InfluxDB holds %d readings, more than the %d published", got, want)
				}
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return fmt.Errorf("after %v InfluxDB holds %d of %d readings", limit, got, want)
}

// sample is one reading of the server's write counter.
type sample struct {
	at     time.Time
	points float64
}

func startSampler(ctx context.Context, srv *benchutil.Server, out *[]sample) (stop func()) {
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			if v, ok := srv.Metric("chargewatch_ingest_write_points_total"); ok {
				*out = append(*out, sample{time.Now(), v})
			}
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

func progressLine(p load.Progress) {
	fmt.Printf("\r    %6.1fs published %9d acked %9d readings %10d", p.Elapsed.Seconds(), p.Published, p.Acked, p.Readings)
}

// steady is the median of the per-second write rates, leaving out the
// first and last fifth of the run (ramp-up and drain).
func steady(s []sample) float64 {
	var rates []float64
	for i := 1; i < len(s); i++ {
		rates = append(rates, (s[i].points-s[i-1].points)/s[i].at.Sub(s[i-1].at).Seconds())
	}
	if len(rates) >= 5 {
		rates = rates[len(rates)/5 : len(rates)-len(rates)/5]
	}
	if len(rates) == 0 {
		return 0
	}
	slices.Sort(rates)
	return rates[len(rates)/2]
}

// probeLatency publishes one probe reading every 50 ms stamped with its
// publish time, and polls InfluxDB every 20 ms for the newest probe seq:
// each reading's latency is when it was first seen minus when it was
// published (so the figure includes up to 20 ms of polling).
func probeLatency(ctx context.Context, url string, inf *testenv.Influx, db string, d time.Duration) ([]time.Duration, error) {
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID("probe-gw"))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("probe connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	sent := map[int64]time.Time{}
	var lat []time.Duration
	seen := int64(0)
	seq := int64(0)
	end := time.Now().Add(d)
	nextPub := time.Now()
	for time.Now().Before(end) || (seen < seq && time.Now().Before(end.Add(10*time.Second))) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		now := time.Now()
		if now.After(nextPub) && now.Before(end) {
			seq++
			r := devices.Reading{TS: now.UnixMilli(), Seq: uint64(seq)}
			r.Put(devices.FieldPower, 100)
			sent[seq] = now
			c.Publish(devices.TopicFor("probe-gw", "probe", devices.ChannelTelemetry), 1, false, devices.AppendTelemetry(nil, []devices.Reading{r}))
			nextPub = now.Add(50 * time.Millisecond)
		}
		rows, err := inf.QueryErr(db, `SELECT last(seq) FROM meter WHERE device = 'probe'`)
		if err == nil && len(rows) == 1 {
			last := rows[0].Int(0, "last")
			at := time.Now()
			for s := seen + 1; s <= last; s++ {
				if t0, ok := sent[s]; ok {
					lat = append(lat, at.Sub(t0))
				}
			}
			seen = max(seen, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if seen < seq {
		return lat, fmt.Errorf("probe readings %d..%d never became queryable", seen+1, seq)
	}
	return lat, nil
}
