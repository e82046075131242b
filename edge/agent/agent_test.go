package agent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/edge/config"
	"github.com/chargewatch/chargewatch/edge/profile"
	"github.com/chargewatch/chargewatch/internal/testenv"
	"github.com/chargewatch/chargewatch/simulators/modbussim"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// meters serves n DDSU666 meters as units 1..n.
func meters(t *testing.T, n int) *modbussim.Server {
	t.Helper()
	var units []modbussim.Unit
	for i := 1; i <= n; i++ {
		var r devices.Reading
		r.Put(devices.FieldVoltage, 230)
		r.Put(devices.FieldCurrent, float64(i))
		r.Put(devices.FieldPower, float64(220*i))
		r.Put(devices.FieldPF, 0.95)
		r.Put(devices.FieldFreq, 50)
		r.Put(devices.FieldEnergy, float64(1000+i))
		units = append(units, modbussim.Unit{ID: uint8(i), Profile: profile.MustLoad("chint-ddsu666"), Values: modbussim.Constant(r)})
	}
	s, err := modbussim.NewServer(modbussim.Config{Units: units})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// testConfig is a gateway polling n meters at sim every interval.
func testConfig(t *testing.T, gw, brokerURL, simAddr string, n int, interval time.Duration, extra string) *config.Config {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `gateway: %s
metrics: {listen: "127.0.0.1:0"}
mqtt:
  url: %s
  keepalive: 2s
  connect_timeout: 1s
  reconnect_min: 50ms
  reconnect_max: 400ms
  ack_timeout: 1s
  batch_wait: 20ms
queue:
  dir: %s
  fsync: interval
  fsync_interval: 100ms
defaults: {interval: %s, timeout: 200ms, retries: 1}
buses:
  - name: tcp-1
    transport: tcp
    address: %s
    devices:
`, gw, brokerURL, t.TempDir(), interval, simAddr)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "      - {id: m-%d, profile: chint-ddsu666, slave: %d}\n", i, i)
	}
	b.WriteString(extra)
	c, err := config.Parse("edge.yaml", ".", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// received collects the telemetry of a gateway through a persistent session,
// so that nothing published while it reconnects is missed.
type received struct {
	mu   sync.Mutex
	seqs map[string][]uint64
	ts   map[string][]int64
	bad  int
}

func (r *received) count(dev string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seqs[dev])
}

func (r *received) distinct(dev string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[uint64]bool{}
	for _, s := range r.seqs[dev] {
		seen[s] = true
	}
	return len(seen)
}

func subscribe(t *testing.T, url, gw string) *received {
	t.Helper()
	r := &received{seqs: map[string][]uint64{}, ts: map[string][]int64{}}
	d := devices.NewDecoder(devices.DefaultLimits())
	var dmu sync.Mutex
	handle := func(_ mqtt.Client, m mqtt.Message) {
		tp, err := devices.ParseTopic(m.Topic())
		if err != nil || tp.Channel != devices.ChannelTelemetry {
			return
		}
		dmu.Lock()
		rs, errs, e := d.DecodeTelemetry(devices.KindMeter, m.Payload(), time.Now().UnixMilli(), nil, nil)
		dmu.Unlock()
		r.mu.Lock()
		defer r.mu.Unlock()
		if e != nil || len(errs) > 0 {
			r.bad++
			return
		}
		for _, x := range rs {
			r.seqs[tp.Device] = append(r.seqs[tp.Device], x.Seq)
			r.ts[tp.Device] = append(r.ts[tp.Device], x.TS)
		}
	}
	filter := devices.TopicPrefix + gw + "/+/telemetry"
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID("sub-" + gw).SetCleanSession(false).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(50 * time.Millisecond).
		SetMaxReconnectInterval(200 * time.Millisecond).SetDefaultPublishHandler(handle).SetOrderMatters(true)
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber: %v", tok.Error())
	}
	if tok := c.Subscribe(filter, 1, handle); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return r
}

func startAgent(t *testing.T, c *config.Config) (*Agent, func()) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	a, err := New(Options{Config: c, Logger: logger, Version: "test", ShutdownGrace: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return a, stop
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lastSeq is the seq of the last reading the agent stamped for dev.
func lastSeq(a *Agent, dev string) uint64 {
	a.st.mu.Lock()
	defer a.st.mu.Unlock()
	return a.st.seq[dev]
}

// checkReplay checks that every reading the agent stamped arrived, in seq
// order (a duplicate from a lost acknowledgement may come again later), and
// that timestamps are those of the polls, not of the replay.
func checkReplay(t *testing.T, a *Agent, r *received, devs int, interval time.Duration) (total, dups int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 1; i <= devs; i++ {
		dev := fmt.Sprintf("m-%d", i)
		n := lastSeq(a, dev)
		seqs, tss := r.seqs[dev], r.ts[dev]
		seen := map[uint64]bool{}
		var order []uint64
		var orderTS []int64
		for k, s := range seqs {
			if seen[s] {
				dups++
				continue
			}
			seen[s] = true
			order = append(order, s)
			orderTS = append(orderTS, tss[k])
		}
		if uint64(len(order)) != n {
			t.Errorf("%s: %d distinct readings arrived, %d were polled: %d lost", dev, len(order), n, int(n)-len(order))
		}
		same := 0
		for k, s := range order {
			if s != uint64(k+1) {
				t.Fatalf("%s: reading %d to arrive has seq %d: out of order or missing", dev, k+1, s)
			}
			if k > 0 {
				// Polls happen every interval; readings stamped at replay
				// time would bunch up. A starved machine can run two polls
				// within one millisecond now and then, but not often.
				gap := time.Duration(orderTS[k]-orderTS[k-1]) * time.Millisecond
				if gap < 0 || gap > 20*interval+time.Second {
					t.Fatalf("%s: seq %d is %v after seq %d", dev, s, gap, s-1)
				}
				if gap == 0 {
					same++
				}
			}
		}
		if same > len(order)/10 {
			t.Fatalf("%s: %d of %d readings share their predecessor's timestamp: stamped at replay, not at poll?", dev, same, len(order))
		}
		total += len(order)
	}
	if r.bad > 0 {
		t.Errorf("%d messages rejected by the contract decoder", r.bad)
	}
	return total, dups
}

// The outage test: the broker is stopped for many polls at an
// accelerated poll rate; every reading is replayed, in order, with its
// original timestamp, once it is back.
func TestBrokerOutageReplaysEverything(t *testing.T) {
	const devs, interval = 4, 20 * time.Millisecond
	sim := meters(t, devs)
	mq := testenv.StartMosquitto(t)
	sub := subscribe(t, mq.URL, "gw-outage")
	a, stop := startAgent(t, testConfig(t, "gw-outage", mq.URL, sim.Addr(), devs, interval, ""))

	waitUntil(t, 10*time.Second, "live readings", func() bool { return sub.count("m-4") >= 10 })
	if err := mq.Stop(); err != nil {
		t.Fatal(err)
	}
	outageStart := time.Now()
	time.Sleep(3 * time.Second) // about 150 polls of each meter
	depth := *a.Status().QueueDepth
	if !a.pub.Connected() && depth < 300 {
		t.Errorf("queue depth %d after a 3 s outage at 4x50 readings/s", depth)
	}
	if err := mq.Start(); err != nil {
		t.Fatal(err)
	}
	outage := time.Since(outageStart)
	time.Sleep(500 * time.Millisecond) // polling goes on meanwhile
	stop()                             // graceful: drains the queue first
	if st := a.q.Stats(); st.Records != 0 || st.DroppedSize+st.DroppedAge+st.DroppedBad != 0 {
		t.Fatalf("after shutdown the queue holds %d readings, dropped %d", st.Records, st.DroppedSize)
	}
	waitUntil(t, 10*time.Second, "the replay to arrive", func() bool {
		for i := 1; i <= devs; i++ {
			if uint64(sub.distinct(fmt.Sprintf("m-%d", i))) < lastSeq(a, fmt.Sprintf("m-%d", i)) {
				return false
			}
		}
		return true
	})
	total, dups := checkReplay(t, a, sub, devs, interval)
	t.Logf("outage of %v: queue peaked at %d readings; %d readings arrived, in order, %d duplicates", outage.Round(time.Millisecond), depth, total, dups)
}

// A broker that hangs (SIGSTOP) does not acknowledge: the publisher gives up
// after ack_timeout, reconnects once it answers, and republishes from the
// last acknowledged reading. Nothing is lost; duplicates are allowed.
func TestBrokerHangReplaysUnacknowledged(t *testing.T) {
	const devs, interval = 2, 20 * time.Millisecond
	sim := meters(t, devs)
	mq := testenv.StartMosquitto(t)
	sub := subscribe(t, mq.URL, "gw-hang")
	a, stop := startAgent(t, testConfig(t, "gw-hang", mq.URL, sim.Addr(), devs, interval, ""))
	waitUntil(t, 10*time.Second, "live readings", func() bool { return sub.count("m-2") >= 10 })
	if err := mq.Pause(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	if err := mq.Resume(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	stop()
	waitUntil(t, 15*time.Second, "the replay to arrive", func() bool {
		return uint64(sub.distinct("m-1")) >= lastSeq(a, "m-1") && uint64(sub.distinct("m-2")) >= lastSeq(a, "m-2")
	})
	total, dups := checkReplay(t, a, sub, devs, interval)
	t.Logf("hung broker: %d readings arrived, %d duplicates", total, dups)
}

// scrape reads /metrics into name{labels} -> value.
func scrape(t *testing.T, a *Agent) map[string]float64 {
	t.Helper()
	addr, err := a.MetricsAddr(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, _ := strconv.ParseFloat(line[i+1:], 64)
		m[line[:i]] = v
	}
	return m
}

// With no broker, the queue reaches its bound: the oldest readings are
// dropped, and counted in /metrics; the health fields say how deep and old
// the queue is.
func TestDiskBoundOverflowIsCounted(t *testing.T) {
	const devs = 4
	sim := meters(t, devs)
	c := testConfig(t, "gw-full", "tcp://127.0.0.1:1", sim.Addr(), devs, 10*time.Millisecond, "")
	c.Queue.MaxBytes = 48 << 10 // below what check allows, to fill it in a test
	a, stop := startAgent(t, c)
	waitUntil(t, 15*time.Second, "readings dropped for size", func() bool {
		return scrape(t, a)[`chargewatch_edge_queue_dropped_readings_total{reason="size"}`] > 0
	})
	stop()
	m := scrape2(t, a)
	stamped := m["chargewatch_edge_readings_total"]
	queued := m["chargewatch_edge_queue_readings"]
	dropped := m[`chargewatch_edge_queue_dropped_readings_total{reason="size"}`]
	if stamped != queued+dropped || m["chargewatch_edge_queue_bytes"] > 48<<10 {
		t.Fatalf("stamped %v != queued %v + dropped %v (queue %v bytes)", stamped, queued, dropped, m["chargewatch_edge_queue_bytes"])
	}
	for _, name := range []string{
		`chargewatch_edge_polls_total{bus="tcp-1",device="m-1",result="ok"}`,
		`chargewatch_edge_poll_errors_total{bus="tcp-1",device="m-1",kind="timeout"}`,
		`chargewatch_edge_mqtt_connects_total{result="error"}`,
		`chargewatch_edge_publish_latency_seconds_count`,
		`chargewatch_edge_queue_oldest_age_seconds`,
		`chargewatch_edge_clock_synced`,
	} {
		if _, ok := m[name]; !ok {
			t.Errorf("metric %s missing", name)
		}
	}
	st := a.Status()
	if *st.QueueDepth != int64(queued) || st.Clock != devices.ClockSynced || *st.UptimeS < 0 {
		t.Errorf("status %s", devices.AppendStatus(nil, st))
	}
	t.Logf("stamped %v readings: %v queued, %v dropped and counted", stamped, queued, dropped)
}

// scrape2 reads the metrics from the registry after the server stopped.
func scrape2(t *testing.T, a *Agent) map[string]float64 {
	t.Helper()
	mfs, err := a.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]float64{}
	for _, mf := range mfs {
		for _, x := range mf.GetMetric() {
			name := mf.GetName()
			var labels []string
			for _, l := range x.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case x.Counter != nil:
				m[name] = x.GetCounter().GetValue()
			case x.Gauge != nil:
				m[name] = x.GetGauge().GetValue()
			case x.Histogram != nil:
				m[name+"_count"] = float64(x.GetHistogram().GetSampleCount())
			}
		}
	}
	return m
}
