package ingest

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/record"
)

// staticDir is a Directory over a fixed map, for tests.
type staticDir struct {
	gateways map[string]bool
	devices  map[string]DeviceEntry
}

func (d staticDir) Device(id string) (DeviceEntry, bool) { e, ok := d.devices[id]; return e, ok }
func (d staticDir) GatewayKnown(id string) bool          { return d.gateways[id] }

var testLoc = Location{District: "d1", Street: "s1", Community: "c1", Building: "b1", Unit: "u1"}

func testDir() staticDir {
	return staticDir{
		gateways: map[string]bool{"gw-1": true, "gw-2": true, "sd-9": true},
		devices: map[string]DeviceEntry{
			"m-1":  {Kind: devices.KindMeter, Gateway: "gw-1", Loc: testLoc},
			"p-1":  {Kind: devices.KindPile, Gateway: "gw-1", Ports: 1, Loc: testLoc},
			"p-4":  {Kind: devices.KindPile, Gateway: "gw-1", Ports: 4, Loc: testLoc},
			"s-1":  {Kind: devices.KindSmoke, Gateway: "gw-1", Loc: testLoc},
			"sd-9": {Kind: devices.KindSmoke, Gateway: "sd-9", Loc: testLoc},
		},
	}
}

func newTestProcessor(t *testing.T) (*processor, *Metrics, time.Time) {
	t.Helper()
	m := NewMetrics(prometheus.NewRegistry())
	now := time.UnixMilli(1_800_000_000_000)
	d := testDir()
	p := newProcessor(func() Directory { return d }, devices.DefaultLimits(), func() time.Time { return now }, m, NewSeqTracker(m), slog.New(slog.NewTextHandler(io.Discard, nil)))
	return p, m, now
}

func decodeAll(t *testing.T, recs [][]byte) []record.Record {
	t.Helper()
	var out []record.Record
	for _, b := range recs {
		r, err := record.NewDecoder().Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		c := *r
		c.Readings = append([]devices.Reading(nil), r.Readings...)
		c.Events = append([]devices.Event(nil), r.Events...)
		out = append(out, c)
	}
	return out
}

func TestProcess(t *testing.T) {
	const ts = "1800000000000"
	cases := []struct {
		name         string
		topic        string
		payload      string
		wantReadings int
		wantEvents   int
		wantStatus   int
		wantRejected []devices.Reason
	}{
		{"meter reading", "cw/v1/gw-1/m-1/telemetry", `{"ts":` + ts + `,"seq":1,"power_w":120.5,"voltage_v":230}`, 1, 0, 0, nil},
		{"gateway batch", "cw/v1/gw-1/m-1/telemetry", `[{"ts":` + ts + `,"seq":1,"power_w":1},{"ts":` + ts + `,"seq":2,"power_w":2}]`, 2, 0, 0, nil},
		{"one bad reading keeps its neighbours", "cw/v1/gw-1/m-1/telemetry", `[{"ts":` + ts + `,"seq":1,"power_w":1},{"ts":` + ts + `,"seq":2,"power_w":1e9},{"ts":` + ts + `,"seq":3,"power_w":3}]`, 2, 0, 0, []devices.Reason{devices.ReasonOutOfRange}},
		{"malformed json", "cw/v1/gw-1/m-1/telemetry", `{"ts":`, 0, 0, 0, []devices.Reason{devices.ReasonMalformedJSON}},
		{"unknown gateway", "cw/v1/gw-x/m-1/telemetry", `{"ts":` + ts + `,"seq":1,"power_w":1}`, 0, 0, 0, []devices.Reason{devices.ReasonUnknownGateway}},
		{"unknown device", "cw/v1/gw-1/m-x/telemetry", `{"ts":` + ts + `,"seq":1,"power_w":1}`, 0, 0, 0, []devices.Reason{devices.ReasonUnknownDevice}},
		{"device under another gateway", "cw/v1/gw-2/m-1/telemetry", `{"ts":` + ts + `,"seq":1,"power_w":1}`, 0, 0, 0, []devices.Reason{devices.ReasonWrongGateway}},
		{"bad topic", "cw/v1/GW/m-1/telemetry", `{}`, 0, 0, 0, []devices.Reason{devices.ReasonBadTopic}},
		{"publishing on cmd", "cw/v1/gw-1/m-1/cmd", `{}`, 0, 0, 0, []devices.Reason{devices.ReasonBadTopic}},
		{"field of another kind", "cw/v1/gw-1/m-1/telemetry", `{"ts":` + ts + `,"seq":1,"smoke":true}`, 0, 0, 0, []devices.Reason{devices.ReasonUnknownField}},
		{"single-port pile may omit port", "cw/v1/gw-1/p-1/telemetry", `{"ts":` + ts + `,"seq":1,"power_w":150}`, 1, 0, 0, nil},
		{"multi-port pile must name the port", "cw/v1/gw-1/p-4/telemetry", `[{"ts":` + ts + `,"seq":1,"port":2,"power_w":150},{"ts":` + ts + `,"seq":2,"power_w":150}]`, 1, 0, 0, []devices.Reason{devices.ReasonMissingField}},
		{"empty retained status clears it", "cw/v1/gw-1/gw-1/status", ``, 0, 0, 0, nil},
		{"smoke event", "cw/v1/gw-1/s-1/event", `{"ts":` + ts + `,"seq":4,"type":"smoke_alarm"}`, 0, 1, 0, nil},
		{"event not for kind", "cw/v1/gw-1/s-1/event", `{"ts":` + ts + `,"seq":4,"type":"charge_start"}`, 0, 0, 0, []devices.Reason{devices.ReasonBadEvent}},
		{"gateway status", "cw/v1/gw-1/gw-1/status", `{"online":true,"ts":` + ts + `,"queue_depth":3}`, 0, 0, 1, nil},
		{"last will", "cw/v1/gw-1/gw-1/status", `{"online":false}`, 0, 0, 1, nil},
		{"self-connected device", "cw/v1/sd-9/sd-9/telemetry", `{"ts":` + ts + `,"seq":1,"battery_pct":80}`, 1, 0, 0, nil},
		{"ts too old", "cw/v1/gw-1/m-1/telemetry", `{"ts":1000,"seq":1,"power_w":1}`, 0, 0, 0, []devices.Reason{devices.ReasonTimestamp}},
		{"oversize", "cw/v1/gw-1/m-1/telemetry", `[` + strings.Repeat(" ", 70<<10) + `]`, 0, 0, 0, []devices.Reason{devices.ReasonOversize}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, m, now := newTestProcessor(t)
			recs := decodeAll(t, p.process(c.topic, []byte(c.payload), now))
			var readings, events, status int
			var rejected []devices.Reason
			for _, r := range recs {
				switch r.Type {
				case record.TypeReadings:
					readings += len(r.Readings)
					if r.Kind != devices.KindMeter && r.Kind != devices.KindSmoke && r.Kind != devices.KindPile {
						t.Errorf("readings record kind %v", r.Kind)
					}
				case record.TypeEvents:
					events += len(r.Events)
				case record.TypeStatus:
					status++
				case record.TypeRejected:
					rejected = append(rejected, r.Rejected.Reason)
					if r.Rejected.Topic != c.topic {
						t.Errorf("rejected topic %q, want %q", r.Rejected.Topic, c.topic)
					}
					if r.Rejected.Message == "" {
						t.Error("rejected without a message")
					}
					if r.Rejected.Size != len(c.payload) {
						t.Errorf("rejected size %d, want %d", r.Rejected.Size, len(c.payload))
					}
				}
			}
			if readings != c.wantReadings || events != c.wantEvents || status != c.wantStatus {
				t.Errorf("readings/events/status = %d/%d/%d, want %d/%d/%d", readings, events, status, c.wantReadings, c.wantEvents, c.wantStatus)
			}
			if len(rejected) != len(c.wantRejected) {
				t.Fatalf("rejected %v, want %v", rejected, c.wantRejected)
			}
			for i := range rejected {
				if rejected[i] != c.wantRejected[i] {
					t.Errorf("rejected[%d] = %v, want %v", i, rejected[i], c.wantRejected[i])
				}
				if got := testutil.ToFloat64(m.Rejected.WithLabelValues(string(c.wantRejected[i]))); got < 1 {
					t.Errorf("rejected counter for %v = %v", c.wantRejected[i], got)
				}
			}
		})
	}
}

func TestRejectionsGetUniqueTimestamps(t *testing.T) {
	p, _, now := newTestProcessor(t)
	seen := map[int64]bool{}
	for range 100 {
		for _, r := range decodeAll(t, p.process("bad", []byte("x"), now)) {
			if seen[r.Received] {
				t.Fatalf("two rejections share timestamp %d: they would overwrite each other in InfluxDB", r.Received)
			}
			seen[r.Received] = true
		}
	}
}

func TestSeqTracker(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	tr := NewSeqTracker(m)
	obs := func(dev string, seqs ...uint64) {
		var rs []devices.Reading
		for _, s := range seqs {
			r := devices.Reading{Seq: s}
			if s == 1 && len(seqs) > 0 && dev == "reset" {
				r.SeqReset = true
			}
			rs = append(rs, r)
		}
		tr.Observe(dev, rs)
	}
	obs("a", 10, 11, 12)  // first sighting mid-stream: nothing missing
	obs("a", 15)          // 13, 14 missing
	obs("a", 15, 16)      // 15 again: a duplicate
	obs("b", 1, 2, 3, 3)  // one duplicate
	obs("reset", 5, 6)    //
	obs("reset", 1, 2, 3) // announced reset: not a duplicate
	if got := testutil.ToFloat64(m.SeqMissing); got != 2 {
		t.Errorf("missing = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.SeqDuplicate); got != 2 {
		t.Errorf("duplicates = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.SeqResets); got != 1 {
		t.Errorf("resets = %v, want 1", got)
	}
	w := tr.Worst(10)
	if len(w) != 2 || w[0].Device != "a" || w[0].Missing != 2 || w[0].Duplicates != 1 || w[1].Device != "b" {
		t.Fatalf("worst = %+v", w)
	}
}

func BenchmarkProcessSingleReading(b *testing.B) {
	m := NewMetrics(prometheus.NewRegistry())
	var d Directory = testDir() // boxed once, as the registry's one-pointer Directory needs no boxing
	now := time.UnixMilli(1_800_000_000_000)
	p := newProcessor(func() Directory { return d }, devices.DefaultLimits(), func() time.Time { return now }, m, NewSeqTracker(m), slog.New(slog.NewTextHandler(io.Discard, nil)))
	payload := []byte(`{"ts":1800000000000,"seq":1,"voltage_v":229.8,"current_a":0.52,"power_w":112.4,"pf":0.97,"energy_kwh":1234.56,"freq_hz":50.01}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if n := len(p.process("cw/v1/gw-1/m-1/telemetry", payload, now)); n != 1 {
			b.Fatal(n)
		}
	}
}

func TestSeqTrackerForget(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	tr := NewSeqTracker(m)
	tr.Observe("x", []devices.Reading{{Seq: 500}, {Seq: 501}})
	tr.Forget("x") // replaced: the new hardware counts from 1
	tr.Observe("x", []devices.Reading{{Seq: 1}, {Seq: 2}})
	if got := testutil.ToFloat64(m.SeqDuplicate) + testutil.ToFloat64(m.SeqMissing); got != 0 {
		t.Fatalf("a replaced device's restart counted %v missing or duplicate readings", got)
	}
}
