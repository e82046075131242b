package city

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/simulators/scenario"
	"github.com/chargewatch/chargewatch/simulators/simtime"
	"github.com/chargewatch/chargewatch/simulators/sitegen"
	"github.com/chargewatch/chargewatch/simulators/truth"
)

var testFrom = time.Date(2026, 1, 12, 0, 0, 0, 0, simtime.Zone)

// testCity is a small generated city: 6 buildings of 10 units.
func testCity(t testing.TB, seed uint64, mut func(*scenario.Scenario)) *City {
	t.Helper()
	sc := scenario.Default()
	sc.Seed = seed
	g := scenario.DefaultGenerate()
	g.Buildings, g.StreetsPerDistrict, g.CommunitiesPerStreet = 6, 2, 1
	sc.Generate = &g
	if mut != nil {
		mut(sc)
	}
	site := sitegen.Generate(sc.Seed, *sc.Generate, sc.Intervals)
	c, err := New(sc, site, Options{Epoch: testFrom})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// busy raises the hazard rates so that a short run holds many episodes.
func busy(sc *scenario.Scenario) {
	sc.Hazards = scenario.Hazards{
		Overload: 0.15, Leakage: 0.5, CableOverTemp: 0.5, OverVoltage: 0.2, UnderVoltage: 0.2,
		SmokeAlarm: 0.1, SmokeTest: 0.1, Tamper: 0.05, LowBattery: 0.05,
		DeviceOffline: 0.05, GatewayOffline: 0.3, PowerCut: 0.4, PileFault: 0.05, PortOverTemp: 0.05,
	}
	sc.EBikes.IndoorUnits = 0.3
}

type sent struct {
	topic   string
	kind    devices.Kind
	payload []byte
	dev     *Device
	ch      devices.Channel
	replay  bool
	at      int64
}

type capture struct {
	msgs  []sent
	bytes bytes.Buffer
	truth bytes.Buffer
	recs  []truth.Record
}

func (cp *capture) opts(from, to time.Time, batch int) RunOptions {
	tw := truth.NewWriter(&cp.truth)
	return RunOptions{From: from, To: to, Batch: batch, StatusEvery: 10 * time.Minute,
		Emit: func(m *Message) error {
			p := m.AppendPayload(nil)
			s := sent{topic: m.Topic(), payload: p, dev: m.Device, ch: m.Channel, replay: m.Replay, at: m.At}
			if m.Device != nil {
				s.kind = m.Device.Kind
			}
			cp.msgs = append(cp.msgs, s)
			cp.bytes.WriteString(s.topic + " ")
			cp.bytes.Write(p)
			cp.bytes.WriteByte('\n')
			return nil
		},
		Truth: func(r *truth.Record) error {
			cp.recs = append(cp.recs, *r)
			return tw.Write(r)
		},
	}
}

func run(t testing.TB, c *City, from, to time.Time, batch int) (*capture, Stats) {
	t.Helper()
	var cp capture
	st, err := c.Run(context.Background(), cp.opts(from, to, batch))
	if err != nil {
		t.Fatal(err)
	}
	return &cp, st
}

// TestDeterminism: the same seed gives the same bytes, also from a city
// that has been read before; another seed gives other bytes.
func TestDeterminism(t *testing.T) {
	to := testFrom.Add(26 * time.Hour)
	c1 := testCity(t, 1, busy)
	a, _ := run(t, c1, testFrom, to, 1)
	c2 := testCity(t, 1, busy)
	// read some devices at random times first: caches must not leak into the stream
	for i, d := range c2.Devices() {
		d.ReadingAt(testFrom.Add(time.Duration(i*7919) * time.Second))
	}
	b, _ := run(t, c2, testFrom, to, 1)
	if !bytes.Equal(a.bytes.Bytes(), b.bytes.Bytes()) || !bytes.Equal(a.truth.Bytes(), b.truth.Bytes()) {
		t.Fatal("same seed, different traffic or truth")
	}
	if a.bytes.Len() < 1e6 {
		t.Fatalf("only %d bytes of traffic", a.bytes.Len())
	}
	c3 := testCity(t, 2, busy)
	c, _ := run(t, c3, testFrom, to, 1)
	if bytes.Equal(a.bytes.Bytes(), c.bytes.Bytes()) {
		t.Fatal("different seeds, same traffic")
	}
}

// TestContract decodes every message with the contract's own strict
// decoder: no message and no reading may be rejected, every timestamp is
// inside the span, and seq counts up by one per device except after a
// reboot, which is announced.
func TestContract(t *testing.T) {
	c := testCity(t, 3, busy)
	to := testFrom.Add(48 * time.Hour)
	cp, st := run(t, c, testFrom, to, 4)
	dec := devices.NewDecoder(devices.DefaultLimits())
	now := to.UnixMilli()
	lastSeq := map[string]uint64{}
	resets := 0
	var rs []devices.Reading
	var errs []devices.ItemError
	for _, m := range cp.msgs {
		switch m.ch {
		case devices.ChannelTelemetry:
			var e *devices.Error
			rs, errs, e = dec.DecodeTelemetry(m.kind, m.payload, now, rs[:0], errs[:0])
			if e != nil || len(errs) > 0 {
				t.Fatalf("%s %s: rejected: %v %v", m.topic, m.payload, e, errs)
			}
			for _, r := range rs {
				if r.TS < testFrom.UnixMilli() || r.TS >= now {
					t.Fatalf("%s: ts %d outside the span", m.topic, r.TS)
				}
				prev := lastSeq[m.dev.ID]
				switch {
				case r.SeqReset:
					if prev > 0 {
						resets++ // a reboot during the run, not the start
					}
					if r.Seq != 1 {
						t.Fatalf("%s: seq_reset with seq %d", m.topic, r.Seq)
					}
				case r.Seq != prev+1:
					t.Fatalf("%s: seq %d after %d", m.topic, r.Seq, prev)
				}
				lastSeq[m.dev.ID] = r.Seq
			}
		case devices.ChannelEvent:
			evs, errs2, e := dec.DecodeEvents(m.kind, m.payload, now, nil, nil)
			if e != nil || len(errs2) > 0 || len(evs) != 1 {
				t.Fatalf("%s %s: rejected: %v %v", m.topic, m.payload, e, errs2)
			}
			if evs[0].TS < testFrom.UnixMilli() || evs[0].TS >= now {
				t.Fatalf("%s: event ts outside the span", m.topic)
			}
		case devices.ChannelStatus:
			if _, e := dec.DecodeStatus(m.payload, now); e != nil {
				t.Fatalf("%s %s: %v", m.topic, m.payload, e)
			}
		}
		if _, err := devices.ParseTopic(m.topic); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d messages, %d readings, %d events, %d replayed, %d resets, episodes %v", st.Messages, st.Readings, st.Events, st.Replayed, resets, st.Episodes)
	if st.Replayed == 0 || resets == 0 {
		t.Errorf("expected gateway replays (%d) and reboots (%d) with these rates", st.Replayed, resets)
	}
}

// TestReadingAtMatchesStream: what Run publishes is what ReadingAt returns
// at the same instant (the Modbus slaves serve ReadingAt).
func TestReadingAtMatchesStream(t *testing.T) {
	c := testCity(t, 4, busy)
	cp, _ := run(t, c, testFrom, testFrom.Add(6*time.Hour), 1)
	dec := devices.NewDecoder(devices.DefaultLimits())
	checked := 0
	for i, m := range cp.msgs {
		if m.ch != devices.ChannelTelemetry || i%7 != 0 {
			continue
		}
		rs, _, _ := dec.DecodeTelemetry(m.kind, m.payload, testFrom.Add(7*time.Hour).UnixMilli(), nil, nil)
		for _, r := range rs {
			port := 1
			if v, ok := r.Get(devices.FieldPort); ok {
				port = int(v)
			}
			want := m.dev.PortReadingAt(time.UnixMilli(r.TS), port)
			want.Seq, want.SeqReset = r.Seq, r.SeqReset
			if !bytes.Equal(devices.AppendReading(nil, &r), devices.AppendReading(nil, &want)) {
				t.Fatalf("%s at %d: stream %s, ReadingAt %s", m.dev.ID, r.TS, devices.AppendReading(nil, &r), devices.AppendReading(nil, &want))
			}
			checked++
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d readings checked", checked)
	}
}

// TestBackfillWindow: a backfill of the longest allowed span ending at an
// injected now has every timestamp inside [now-span, now] and so inside the
// ingest window.
func TestBackfillWindow(t *testing.T) {
	sc := scenario.Default()
	sc.Clock, sc.Span = scenario.Backfill, 2*24*time.Hour
	now := time.Date(2026, 3, 3, 10, 17, 23, 0, time.UTC)
	from, to := sc.Window(now)
	c := testCity(t, 5, func(s *scenario.Scenario) { busy(s); s.Clock, s.Span = sc.Clock, sc.Span })
	cp, _ := run(t, c, from, to, 3)
	dec := devices.NewDecoder(devices.DefaultLimits())
	lo, hi := from.UnixMilli(), now.UnixMilli()
	n := 0
	for _, m := range cp.msgs {
		if m.at > hi {
			t.Fatalf("message sent at %d after now", m.at)
		}
		switch m.ch {
		case devices.ChannelTelemetry:
			rs, errs, e := dec.DecodeTelemetry(m.kind, m.payload, hi, nil, nil)
			if e != nil || len(errs) > 0 {
				t.Fatalf("rejected at now: %v %v", e, errs)
			}
			for _, r := range rs {
				if r.TS < lo || r.TS > hi {
					t.Fatalf("reading ts %d outside [%d, %d]", r.TS, lo, hi)
				}
				n++
			}
		case devices.ChannelEvent:
			evs, _, e := dec.DecodeEvents(m.kind, m.payload, hi, nil, nil)
			if e != nil || evs[0].TS < lo || evs[0].TS > hi {
				t.Fatalf("event outside the window: %s", m.payload)
			}
		}
	}
	for _, r := range cp.recs {
		if r.Kind != truth.Run && (r.StartMS > hi || r.EndMS < lo) {
			t.Fatalf("truth record outside the window: %+v", r)
		}
	}
	if n < 100000 {
		t.Fatalf("only %d readings", n)
	}
}

// TestEpisodesShowInReadings checks every labelled episode against what
// the devices measure.
func TestEpisodesShowInReadings(t *testing.T) {
	c := testCity(t, 6, busy)
	from, to := testFrom, testFrom.Add(72*time.Hour)
	cp, _ := run(t, c, from, to, 1)
	count := map[truth.Kind]int{}
	read := func(dev string, ms int64, port int) devices.Reading {
		d, ok := c.Device(dev)
		if !ok {
			t.Fatalf("truth names unknown device %q", dev)
		}
		return d.PortReadingAt(time.UnixMilli(ms), port)
	}
	val := func(r devices.Reading, f devices.Field) float64 {
		v, ok := r.Get(f)
		if !ok {
			t.Fatalf("reading lacks %s", f)
		}
		return v
	}
	for _, rec := range cp.recs {
		count[rec.Kind]++
		if rec.StartMS < from.UnixMilli() || rec.EndMS > to.UnixMilli() || rec.Device == "" {
			continue // partly outside the run, or an area-wide episode
		}
		d, _ := c.Device(rec.Device)
		num := func(k string) float64 {
			switch v := rec.Details[k].(type) {
			case float64:
				return v
			case int64:
				return float64(v)
			case int:
				return float64(v)
			}
			t.Fatalf("%s: detail %s is %T", rec.Kind, k, rec.Details[k])
			return 0
		}
		switch rec.Kind {
		case truth.IndoorCharging:
			if d.Kind != devices.KindMeter {
				continue
			}
			at := rec.StartMS + 5*minute
			if p := val(read(rec.Device, at, 1), devices.FieldPower); p < 0.9*num("start_w") && d.online(at) {
				t.Errorf("%s: charge of %.0f W but the meter reads %.0f W 5 min in", rec.Episode, num("start_w"), p)
			}
		case truth.Overload:
			at := rec.StartMS + 20*simtime.Second
			if i := val(read(rec.Device, at, 1), devices.FieldCurrent); i < 1.13*num("rated_a") && rec.EndMS > at && d.online(at) {
				t.Errorf("%s: overload but %.1f A on a %.0f A breaker", rec.Episode, i, num("rated_a"))
			}
			if rec.Details["tripped"] == true {
				after := rec.EndMS + simtime.Second
				if p := val(read(rec.Device, after, 1), devices.FieldPower); p != 0 && d.online(after) {
					t.Errorf("%s: breaker tripped but %.0f W after", rec.Episode, p)
				}
			}
		case truth.Leakage:
			if cross, ok := rec.Details["cross_300_ms"].(int64); ok && cross+minute < rec.EndMS {
				if l := val(read(rec.Device, cross+minute, 1), devices.FieldLeak); l < 300*0.95 { // 3% noise
					t.Errorf("%s: leakage %.0f mA a minute after crossing 300", rec.Episode, l)
				}
			}
		case truth.CableOverTemp:
			ch := []devices.Field{devices.FieldTemp1, devices.FieldTemp2, devices.FieldTemp3, devices.FieldTemp4}[int(num("channel"))-1]
			if tc := val(read(rec.Device, rec.EndMS-minute, 1), ch); tc < 80 {
				t.Errorf("%s: cable at %.1f °C near the end of an over-temperature episode", rec.Episode, tc)
			}
		case truth.OverVoltage, truth.UnderVoltage:
			v := val(read(rec.Device, (rec.StartMS+rec.EndMS)/2, max(1, rec.Port)), devices.FieldVoltage)
			if (rec.Kind == truth.OverVoltage && v < 253) || (rec.Kind == truth.UnderVoltage && v > 187) {
				t.Errorf("%s %s: %.1f V", rec.Kind, rec.Episode, v)
			}
		case truth.Smoke:
			if s := val(read(rec.Device, rec.StartMS, 1), devices.FieldSmoke); s != 1 {
				t.Errorf("%s: smoke alarm but smoke=%v", rec.Episode, s)
			}
		case truth.PortOverTemp:
			if cross, ok := rec.Details["cross_80_ms"].(int64); ok {
				if tc := val(read(rec.Device, cross, rec.Port), devices.FieldTemp); tc < 78 {
					t.Errorf("%s: port at %.1f °C when it should pass 80", rec.Episode, tc)
				}
			}
		case truth.PileCharging:
			mid := (rec.StartMS + rec.EndMS) / 2
			r := read(rec.Device, mid, rec.Port)
			st := devices.PileState(val(r, devices.FieldState))
			if st != devices.PileCharging && st != devices.PileFull && st != devices.PileFault {
				t.Errorf("%s: port %d is %s in the middle of a session", rec.Episode, rec.Port, st)
			}
		}
	}
	// Offline episodes: no reading of the device inside (power cuts: no
	// reading of any gateway of the street).
	var offline []truth.Record
	for _, r := range cp.recs {
		if r.Kind == truth.DeviceOffline {
			offline = append(offline, r)
		}
	}
	dec := devices.NewDecoder(devices.DefaultLimits())
	for _, m := range cp.msgs {
		if m.ch != devices.ChannelTelemetry {
			continue
		}
		rs, _, _ := dec.DecodeTelemetry(m.kind, m.payload, to.UnixMilli(), nil, nil)
		for _, r := range rs {
			for _, o := range offline {
				if o.Device == m.dev.ID && r.TS >= o.StartMS && r.TS < o.EndMS {
					t.Fatalf("%s reads at %d during its offline episode %s", o.Device, r.TS, o.Episode)
				}
			}
		}
	}
	t.Logf("episodes: %v", count)
	for _, k := range []truth.Kind{truth.IndoorCharging, truth.Overload, truth.Leakage, truth.CableOverTemp, truth.OverVoltage,
		truth.UnderVoltage, truth.Smoke, truth.SmokeTest, truth.PileCharging, truth.DeviceOffline, truth.GatewayOffline, truth.PowerCut} {
		if count[k] == 0 {
			t.Errorf("no %s episode in 3 busy days", k)
		}
	}
}

// TestDemoSite runs the registry's demo site as `make run` does: live with
// demo, whose scripted episodes all happen in the first minutes.
func TestDemoSite(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "demo-site.yaml")
	if _, err := os.Stat(path); err != nil {
		t.Fatal("examples/demo-site.yaml is missing")
	}
	site, err := registry.LoadSite(path)
	if err != nil {
		t.Fatal(err)
	}
	sc := scenario.ForSite(path)
	sc.Demo = true
	now := time.Date(2026, 2, 2, 15, 4, 5, 0, time.UTC)
	from, _ := sc.Window(now)
	c, err := New(sc, site, Options{Epoch: from, DemoAt: now})
	if err != nil {
		t.Fatal(err)
	}
	cp, st := run(t, c, from, now.Add(20*time.Minute), 1)
	seen := map[truth.Kind]bool{}
	for _, r := range cp.recs {
		seen[r.Kind] = true
	}
	for _, k := range []truth.Kind{truth.IndoorCharging, truth.Overload, truth.Smoke, truth.SmokeTest, truth.Leakage, truth.CableOverTemp,
		truth.UnderVoltage, truth.LowBattery, truth.GatewayOffline, truth.Tamper, truth.DeviceOffline, truth.PortOverTemp, truth.PileFault, truth.PileCharging} {
		if !seen[k] {
			t.Errorf("the demo's first 20 minutes have no %s", k)
		}
	}
	if st.Events == 0 || st.Replayed == 0 {
		t.Errorf("demo: %d events, %d replayed", st.Events, st.Replayed)
	}
	// The scripted charge is visible on its meter from the start.
	for _, r := range cp.recs {
		if r.Kind == truth.IndoorCharging && r.StartMS < from.UnixMilli()+30*minute {
			d, _ := c.Device(r.Device)
			rd := d.ReadingAt(now)
			if p, _ := rd.Get(devices.FieldPower); p < 80 {
				t.Errorf("demo charge in %s: meter reads %.0f W", r.Unit, p)
			}
			return
		}
	}
	t.Error("no charge already under way at the live point")
}

func TestKinds(t *testing.T) {
	c := testCity(t, 7, nil)
	var kinds []devices.Kind
	for _, d := range c.Devices() {
		if !slices.Contains(kinds, d.Kind) {
			kinds = append(kinds, d.Kind)
		}
		r := d.ReadingAt(testFrom.Add(20 * time.Hour))
		for _, f := range r.Set.Fields() {
			v, _ := r.Get(f)
			if _, ok := devices.CheckValue(f, v); !ok || !d.Kind.Vocabulary().Has(f) {
				t.Fatalf("%s: %s = %v invalid for a %s", d.ID, f, v, d.Kind)
			}
		}
		if math.IsNaN(r.Vals[devices.FieldPower]) {
			t.Fatal("NaN")
		}
	}
	if len(kinds) != 5 {
		t.Fatalf("kinds %v", kinds)
	}
}

// BenchmarkRunDay measures the cost of generating a day of a 200-unit city
// (readings, events and status), per reading.
func BenchmarkRunDay(b *testing.B) {
	c := testCity(b, 8, func(sc *scenario.Scenario) { sc.Generate.Buildings = 20 })
	b.ReportAllocs()
	var readings int64
	day := 0
	for b.Loop() {
		from := testFrom.Add(time.Duration(day) * 24 * time.Hour)
		st, err := c.Run(context.Background(), RunOptions{From: from, To: from.Add(24 * time.Hour), Batch: 1,
			Emit: func(m *Message) error { return nil }})
		if err != nil {
			b.Fatal(err)
		}
		readings += st.Readings
		day++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(readings), "ns/reading")
}

// TestConcurrentReads reads devices from several goroutines while a run
// goes on (as Modbus slaves do); run it with -race.
func TestConcurrentReads(t *testing.T) {
	c := testCity(t, 9, busy)
	done := make(chan struct{})
	errc := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			devs := c.Devices()
			for i := 0; ; i++ {
				select {
				case <-done:
					errc <- nil
					return
				default:
				}
				d := devs[(i*7+g)%len(devs)]
				at := testFrom.Add(time.Duration((i*131+g*17)%(12*3600)) * time.Second)
				rs := d.Readings(at)
				if len(rs) == 0 || rs[0].TS != at.UnixMilli() {
					errc <- errors.New("bad reading")
					return
				}
				d.Online(at)
			}
		}()
	}
	_, st := run(t, c, testFrom, testFrom.Add(6*time.Hour), 1)
	close(done)
	for g := 0; g < 4; g++ {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if st.Readings == 0 {
		t.Fatal("no readings")
	}
}
