package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/adapters/accounts"
	"github.com/chargewatch/chargewatch/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// e2eDir registers one gateway with two devices of every kind, plus a
// smoke detector that connects by itself.
func e2eDir() staticDir {
	d := staticDir{gateways: map[string]bool{"gw-e2e": true, "sd-self": true}, devices: map[string]DeviceEntry{}}
	for _, k := range devices.Kinds() {
		for i := 1; i <= 2; i++ {
			loc := Location{District: "xihu", Street: "lingyin", Community: "c-" + k.String(), Building: fmt.Sprintf("b-%d", i), Unit: fmt.Sprintf("u-%s-%d", k, i)}
			d.devices[fmt.Sprintf("%s-%d", k, i)] = DeviceEntry{Kind: k, Gateway: "gw-e2e", Loc: loc}
		}
	}
	d.devices["sd-self"] = DeviceEntry{Kind: devices.KindSmoke, Gateway: "sd-self", Loc: Location{District: "xihu", Street: "lingyin", Community: "c-smoke", Building: "b-9", Unit: "u-9"}}
	return d
}

// valueFor gives field f of reading n a deterministic value inside its
// range, exercising the whole range over many readings.
func valueFor(f devices.Field, n int) float64 {
	sp := f.Spec()
	switch sp.Type {
	case devices.TypeBool:
		return float64(n % 2)
	case devices.TypeState:
		return float64(n % 4)
	case devices.TypeInt:
		return sp.Min + float64(n%int(sp.Max-sp.Min+1))
	}
	frac := float64((n*37+int(f)*11)%101) / 100
	v := sp.Min + (sp.Max-sp.Min)*frac
	return math.Round(v*1000) / 1000
}

func makeReading(kind devices.Kind, ts int64, seq uint64) devices.Reading {
	r := devices.Reading{TS: ts, Seq: seq}
	for _, f := range kind.Vocabulary().Fields() {
		r.Put(f, valueFor(f, int(seq)))
	}
	return r
}

type e2eRun struct {
	ing    *Ingester
	cancel context.CancelFunc
	done   chan error
	reg    *prometheus.Registry
}

func startIngester(t *testing.T, mq *testenv.Mosquitto, inf *testenv.Influx, db string, dir Directory, mutate func(*Config)) *e2eRun {
	t.Helper()
	cfg := Config{
		Broker:  BrokerConfig{URL: mq.URL, ClientID: "ingest-" + db},
		Influx:  InfluxConfig{URL: inf.URL, Database: db},
		DataDir: filepath.Join(t.TempDir(), "data"),
		Writer:  WriterConfig{MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	reg := prometheus.NewRegistry()
	ing, err := New(cfg, func() Directory { return dir }, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	run := &e2eRun{ing: ing, cancel: cancel, done: make(chan error, 1), reg: reg}
	go func() { run.done <- ing.Run(ctx) }()
	deadline := time.Now().Add(15 * time.Second)
	for ing.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("ingester not ready: %v", ing.Ready())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { run.stop(t) })
	return run
}

func (r *e2eRun) stop(t *testing.T) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		t.Errorf("ingester Run: %v", err)
	}
}

func publisher(t *testing.T, url, id string) mqtt.Client {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(true))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func publish(t *testing.T, c mqtt.Client, topic string, payload []byte) {
	t.Helper()
	tok := c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// TestEndToEndEveryKindAndField publishes a deterministic set of readings
// of every kind and field, as single messages and as gateway arrays,
// through the real broker, and checks every point in InfluxDB by count,
// tags and values.
func TestEndToEndEveryKindAndField(t *testing.T) {
	mq, inf := testenv.SharedMosquitto(t), testenv.SharedInflux(t)
	db := testenv.DBName(t)
	dir := e2eDir()
	startIngester(t, mq, inf, db, dir, nil)
	pub := publisher(t, mq.URL, "pub-"+db)

	base := time.Now().Add(-time.Hour).Truncate(time.Second).UnixMilli()
	want := map[string]devices.Reading{} // device/seq -> reading
	var ids []string
	for id := range dir.devices {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	total := 0
	for _, id := range ids {
		e := dir.devices[id]
		const perDevice = 110
		var batch []devices.Reading
		for seq := uint64(1); seq <= perDevice; seq++ {
			r := makeReading(e.Kind, base+int64(seq)*1000, seq)
			want[fmt.Sprintf("%s/%d", id, seq)] = r
			total++
			if seq%2 == 1 {
				// odd readings alone, even ones in gateway arrays of 5
				publish(t, pub, devices.TopicFor(e.Gateway, id, devices.ChannelTelemetry), devices.AppendTelemetry(nil, []devices.Reading{r}))
				continue
			}
			batch = append(batch, r)
			if len(batch) == 5 {
				publish(t, pub, devices.TopicFor(e.Gateway, id, devices.ChannelTelemetry), devices.AppendTelemetry(nil, batch))
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			publish(t, pub, devices.TopicFor(e.Gateway, id, devices.ChannelTelemetry), devices.AppendTelemetry(nil, batch))
		}
	}
	if total < 1000 {
		t.Fatalf("only %d readings: the test must cover at least 1000", total)
	}
	// Wait until every point is queryable.
	counted := func() int {
		n := 0
		for _, k := range devices.Kinds() {
			rows, err := inf.QueryErr(db, fmt.Sprintf(`SELECT count(seq) FROM %q`, k.String()))
			if err == nil && len(rows) == 1 {
				n += int(rows[0].Int(0, "count"))
			}
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for counted() < total && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := counted(); got != total {
		t.Fatalf("InfluxDB holds %d points, published %d", got, total)
	}
	checked := 0
	for _, k := range devices.Kinds() {
		for _, s := range inf.Query(t, db, fmt.Sprintf(`SELECT * FROM %q`, k.String())) {
			for row := range s.Values {
				dev := s.String(row, "device")
				seq := s.Int(row, "seq")
				r, ok := want[fmt.Sprintf("%s/%d", dev, seq)]
				if !ok {
					t.Fatalf("unexpected point %s/%d", dev, seq)
				}
				e := dir.devices[dev]
				if !s.Time(row).Equal(time.UnixMilli(r.TS)) {
					t.Errorf("%s/%d: time %v, want %v", dev, seq, s.Time(row), time.UnixMilli(r.TS))
				}
				for col, v := range map[string]string{"gateway": e.Gateway, "district": e.Loc.District, "street": e.Loc.Street,
					"community": e.Loc.Community, "building": e.Loc.Building, "unit": e.Loc.Unit} {
					if got := s.String(row, col); got != v {
						t.Errorf("%s/%d: tag %s = %q, want %q", dev, seq, col, got, v)
					}
				}
				for _, f := range k.Vocabulary().Fields() {
					v, _ := r.Get(f)
					checkField(t, s, row, dev, int(seq), f, v)
				}
				checked++
			}
		}
	}
	if checked != total {
		t.Fatalf("checked %d points, want %d", checked, total)
	}
}

func checkField(t *testing.T, s testenv.Series, row int, dev string, seq int, f devices.Field, want float64) {
	t.Helper()
	sp := f.Spec()
	switch {
	case f == devices.FieldPort:
		if got := s.String(row, "port"); got != fmt.Sprint(int(want)) {
			t.Errorf("%s/%d: port tag %q, want %d", dev, seq, got, int(want))
		}
	case sp.Type == devices.TypeBool:
		if got := s.Value(row, sp.Name); got != (want != 0) {
			t.Errorf("%s/%d: %s = %v, want %v", dev, seq, sp.Name, got, want != 0)
		}
	case sp.Type == devices.TypeState:
		if got := s.String(row, sp.Name); got != devices.PileState(want).String() {
			t.Errorf("%s/%d: %s = %q, want %q", dev, seq, sp.Name, got, devices.PileState(want))
		}
	default:
		if got := s.Float(row, sp.Name); got != want {
			t.Errorf("%s/%d: %s = %v, want %v", dev, seq, sp.Name, got, want)
		}
	}
}

// TestRejectsBadTrafficAndCarriesOn sends a malformed message, an unknown
// device and a device under the wrong gateway between valid readings: the
// bad ones land in quarantine with their reasons, the valid ones in their
// measurement.
func TestRejectsBadTrafficAndCarriesOn(t *testing.T) {
	mq, inf := testenv.SharedMosquitto(t), testenv.SharedInflux(t)
	db := testenv.DBName(t)
	dir := e2eDir()
	dir.gateways["gw-other"] = true
	run := startIngester(t, mq, inf, db, dir, nil)
	pub := publisher(t, mq.URL, "pub-"+db)
	now := time.Now().UnixMilli()
	good := func(seq uint64) []byte {
		return devices.AppendTelemetry(nil, []devices.Reading{makeReading(devices.KindMeter, now+int64(seq), seq)})
	}
	publish(t, pub, "cw/v1/gw-e2e/meter-1/telemetry", good(1))
	publish(t, pub, "cw/v1/gw-e2e/meter-1/telemetry", []byte(`{"ts":`))
	publish(t, pub, "cw/v1/gw-e2e/meter-1/telemetry", good(2))
	publish(t, pub, "cw/v1/gw-e2e/ghost-7/telemetry", good(3))
	publish(t, pub, "cw/v1/gw-other/meter-1/telemetry", good(4))
	publish(t, pub, "cw/v1/gw-e2e/meter-1/telemetry", []byte{0xff, 0xfe, '{'})
	publish(t, pub, "cw/v1/gw-e2e/meter-1/telemetry", good(5))

	rows := inf.WaitFor(t, 20*time.Second, db, `SELECT reason, topic, message, payload, payload_b64, size FROM rejected`, func(s []testenv.Series) bool {
		return len(s) == 1 && len(s[0].Values) == 4
	})
	var reasons []string
	for i := range rows[0].Values {
		reasons = append(reasons, rows[0].String(i, "reason"))
		if rows[0].String(i, "message") == "" {
			t.Errorf("rejected row %d has no message", i)
		}
	}
	sort.Strings(reasons)
	if want := "malformed_json malformed_json unknown_device wrong_gateway"; strings.Join(reasons, " ") != want {
		t.Errorf("reasons %q, want %q", strings.Join(reasons, " "), want)
	}
	var sawB64 bool
	for i := range rows[0].Values {
		if rows[0].String(i, "payload_b64") == "//4{" || rows[0].String(i, "payload_b64") == "//57" {
			sawB64 = true
		}
	}
	if !sawB64 {
		t.Errorf("invalid UTF-8 payload not kept as base64: %v", rows[0].Values)
	}
	meter := inf.WaitFor(t, 20*time.Second, db, `SELECT seq FROM meter WHERE device='meter-1'`, func(s []testenv.Series) bool {
		return len(s) == 1 && len(s[0].Values) == 3
	})
	for i, want := range []int64{1, 2, 5} {
		if got := meter[0].Int(i, "seq"); got != want {
			t.Errorf("valid reading %d: seq %d, want %d", i, got, want)
		}
	}
	for reason, want := range map[string]float64{"malformed_json": 2, "unknown_device": 1, "wrong_gateway": 1} {
		if got := testutil.ToFloat64(run.ing.metrics.Rejected.WithLabelValues(reason)); got != want {
			t.Errorf("chargewatch_ingest_rejected_total{reason=%q} = %v, want %v", reason, got, want)
		}
	}
}

// TestEventsAndStatusOnTheirOwnSession checks the events session stores
// smoke alarms and the gateway's status and Last Will.
func TestEventsAndStatusOnTheirOwnSession(t *testing.T) {
	mq, inf := testenv.SharedMosquitto(t), testenv.SharedInflux(t)
	db := testenv.DBName(t)
	startIngester(t, mq, inf, db, e2eDir(), nil)
	pub := publisher(t, mq.URL, "pub-"+db)
	now := time.Now().UnixMilli()
	ev := devices.Event{TS: now, Seq: 9, Type: devices.EventSmokeAlarm, Detail: "kitchen"}
	publish(t, pub, "cw/v1/gw-e2e/smoke-1/event", devices.AppendEvent(nil, &ev))
	publish(t, pub, "cw/v1/gw-e2e/gw-e2e/status", devices.AppendStatus(nil, devices.Status{Online: true, TS: now}))
	publish(t, pub, "cw/v1/gw-e2e/gw-e2e/status", devices.LastWill)
	rows := inf.WaitFor(t, 20*time.Second, db, `SELECT seq, detail, community FROM event WHERE "type"='smoke_alarm'`, func(s []testenv.Series) bool {
		return len(s) == 1 && len(s[0].Values) == 1
	})
	if rows[0].String(0, "detail") != "kitchen" || rows[0].String(0, "community") != "c-smoke" {
		t.Errorf("event row %v", rows[0].Values)
	}
	st := inf.WaitFor(t, 20*time.Second, db, `SELECT online FROM status WHERE device='gw-e2e'`, func(s []testenv.Series) bool {
		return len(s) == 1 && len(s[0].Values) == 2
	})
	if st[0].Value(0, "online") != true || st[0].Value(1, "online") != false {
		t.Errorf("status rows %v, want online then offline", st[0].Values)
	}
}

// TestNoAckAcrossReconnect drops the ingester's connection while messages
// are in flight (the broker is restarted) and checks that everything the
// publisher got a PUBACK for reaches InfluxDB exactly once per (device, seq).
func TestNoLossAcrossBrokerRestart(t *testing.T) {
	mq := testenv.StartMosquitto(t)
	inf := testenv.SharedInflux(t)
	db := testenv.DBName(t)
	startIngester(t, mq, inf, db, e2eDir(), func(c *Config) { c.Broker.KeepAlive = 2 * time.Second })
	const n = 3000
	acked := make(chan uint64, n)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(mq.URL).SetClientID("pub-restart").SetCleanSession(false).
			SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).SetMaxReconnectInterval(500 * time.Millisecond))
		c.Connect().WaitTimeout(10 * time.Second)
		defer c.Disconnect(100)
		base := time.Now().UnixMilli()
		for seq := uint64(1); seq <= n; seq++ {
			r := makeReading(devices.KindMeter, base+int64(seq), seq)
			for {
				tok := c.Publish("cw/v1/gw-e2e/meter-2/telemetry", 1, false, devices.AppendTelemetry(nil, []devices.Reading{r}))
				if tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
					acked <- seq
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}()
	// Restart the broker (persistence on) in the middle of the stream.
	for len(acked) < n/3 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := mq.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := mq.Start(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(acked)
	rows := inf.WaitFor(t, 60*time.Second, db, `SELECT count(seq) FROM meter WHERE device='meter-2'`, func(s []testenv.Series) bool {
		return len(s) == 1 && s[0].Int(0, "count") >= n
	})
	if got := rows[0].Int(0, "count"); got != n {
		t.Fatalf("InfluxDB holds %d points for %d published (duplicates must overwrite, not add)", got, n)
	}
	distinct := inf.Query(t, db, `SELECT count(distinct(seq)) FROM meter WHERE device='meter-2'`)
	if got := distinct[0].Int(0, "count"); got != n {
		t.Fatalf("%d distinct seqs in InfluxDB, want %d", got, n)
	}
}

// TestInfluxOutageUnderLoad stops InfluxDB while readings flow, starts it
// again, and checks that nothing was lost, the log drained, and the
// metrics showed the outage.
func TestInfluxOutageUnderLoad(t *testing.T) {
	mq := testenv.SharedMosquitto(t)
	inf := testenv.StartInflux(t)
	db := testenv.DBName(t)
	run := startIngester(t, mq, inf, db, e2eDir(), nil)
	pub := publisher(t, mq.URL, "pub-"+db)
	base := time.Now().Add(-time.Minute).UnixMilli()
	const n = 1500
	for seq := uint64(1); seq <= n; seq++ {
		if seq == n/3 {
			if err := inf.Stop(); err != nil {
				t.Fatal(err)
			}
		}
		if seq == 2*n/3 {
			// Readings pile up in the durable log while the store is down,
			// and the metrics show the failing writes.
			deadline := time.Now().Add(10 * time.Second)
			for testutil.ToFloat64(run.ing.metrics.WriteErrors.WithLabelValues("network")) == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if errs := testutil.ToFloat64(run.ing.metrics.WriteErrors.WithLabelValues("network")); errs == 0 {
				t.Error("the outage left no trace in chargewatch_ingest_write_errors_total{class=\"network\"}")
			}
			if b := run.ing.Log(SessionTelemetry).Backlog(ConsumerWriter); b == 0 {
				t.Error("log backlog is 0 during the outage")
			}
			if err := inf.Start(); err != nil {
				t.Fatal(err)
			}
		}
		publish(t, pub, "cw/v1/gw-e2e/meter-1/telemetry", devices.AppendTelemetry(nil, []devices.Reading{makeReading(devices.KindMeter, base+int64(seq), seq)}))
	}
	rows := inf.WaitFor(t, 30*time.Second, db, `SELECT count(seq) FROM meter`, func(s []testenv.Series) bool {
		return len(s) == 1 && s[0].Int(0, "count") >= n
	})
	if got := rows[0].Int(0, "count"); got != n {
		t.Fatalf("%d readings in InfluxDB, %d published", got, n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for run.ing.Log(SessionTelemetry).Backlog(ConsumerWriter) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if b := run.ing.Log(SessionTelemetry).Backlog(ConsumerWriter); b != 0 {
		t.Errorf("log did not drain: %d bytes left", b)
	}
}

// TestMetricsPassPromtool checks the whole exposition with promtool.
func TestMetricsPassPromtool(t *testing.T) {
	mq, inf := testenv.SharedMosquitto(t), testenv.SharedInflux(t)
	db := testenv.DBName(t)
	run := startIngester(t, mq, inf, db, e2eDir(), nil)
	pub := publisher(t, mq.URL, "pub-"+db)
	publish(t, pub, "cw/v1/gw-e2e/meter-1/telemetry", devices.AppendTelemetry(nil, []devices.Reading{makeReading(devices.KindMeter, time.Now().UnixMilli(), 1)}))
	inf.WaitFor(t, 10*time.Second, db, `SELECT count(seq) FROM meter`, func(s []testenv.Series) bool { return len(s) == 1 })
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool (Debian package prometheus) is missing: run scripts/install-deps.sh: %v", err)
	}
	mfs, err := run.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestAdapterDeviceThroughTheIngester: a Tasmota plug publishing on its
// own topics (tele/<topic>/SENSOR) is mapped onto the contract, stored
// like any registered plug, and a payload the adapter cannot read is
// quarantined with the foreign topic.
func TestAdapterDeviceThroughTheIngester(t *testing.T) {
	mq, inf := testenv.SharedMosquitto(t), testenv.SharedInflux(t)
	db := testenv.DBName(t)
	dir := e2eDir()
	f, err := accounts.Parse("adapters.yaml", []byte(`accounts:
  - username: plug-athom
    gateway: gw-e2e
    tasmota:
      devices:
        athomspv3a: plug-1
`))
	if err != nil {
		t.Fatal(err)
	}
	router, err := f.Build()
	if err != nil {
		t.Fatal(err)
	}
	startIngester(t, mq, inf, db, dir, func(c *Config) { c.Adapters = router })
	pub := publisher(t, mq.URL, "plug-athom")
	ts := time.Now().UTC().Truncate(time.Second)
	publish(t, pub, "tele/athomspv3a/SENSOR", fmt.Appendf(nil, `{"Time":"%s","ENERGY":{"Total":1066.000,"Power":118.5,"Factor":0.97,"Voltage":227.7,"Current":0.537}}`,
		ts.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02T15:04:05")))
	publish(t, pub, "tele/athomspv3a/SENSOR", []byte(`{"ENERGY":`))
	rows := inf.WaitFor(t, 20*time.Second, db, `SELECT power_w, voltage_v, pf FROM plug WHERE device='plug-1'`, func(s []testenv.Series) bool {
		return len(s) == 1 && len(s[0].Values) == 1
	})
	if p := rows[0].Float(0, "power_w"); p != 118.5 {
		t.Errorf("power_w = %v, want 118.5", p)
	}
	rej := inf.WaitFor(t, 20*time.Second, db, `SELECT topic, message FROM rejected`, func(s []testenv.Series) bool {
		return len(s) == 1 && len(s[0].Values) == 1
	})
	if got := rej[0].String(0, "topic"); got != "tele/athomspv3a/SENSOR" {
		t.Errorf("quarantined with topic %q, want the foreign topic", got)
	}
}
