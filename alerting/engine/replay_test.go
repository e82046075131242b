package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices"
)

// rec is one record of the ingest log as the adapter hands it over.
type rec struct {
	at     time.Duration // event time (and, 200 ms later, receive time) after t0
	dev    string
	r      *devices.Reading
	ev     *devices.Event
	status *devices.Status
	gw     string
}

func (x rec) received() time.Time { return t0.Add(x.at + 200*time.Millisecond) }

// script is six hours of a small site with an indoor charge seen by a
// meter and a plug, an overload, a temperature hovering at its threshold, a
// smoke alarm, a pile port overload, a device that falls silent for 40
// minutes and a gateway that drops off (its Last Will) for half an hour.
func script() []rec {
	var out []rec
	add := func(at time.Duration, dev string, kv ...any) {
		out = append(out, rec{at: at, dev: dev, r: reading(at, kv...)})
	}
	h := time.Hour
	in := func(at, from, to time.Duration) bool { return at >= from && at < to }
	for at := time.Duration(0); at < 6*h; at += time.Minute {
		w := func(from, to time.Duration) float64 {
			if in(at, from, to) {
				return 230
			}
			return 40
		}
		add(at, "m1", devices.FieldPower, w(30*time.Minute, 3*h+30*time.Minute))
		add(at+time.Second, "p1", devices.FieldPower, w(35*time.Minute, 3*h+30*time.Minute)-30)
		add(at+2*time.Second, "m2", devices.FieldPower, w(30*time.Minute, 3*h))
		amps := 10.0
		if in(at, 2*h, 2*h+20*time.Minute) {
			amps = 32 * 1.3
		}
		if !in(at, 4*h, 4*h+30*time.Minute) {
			add(at+3*time.Second, "m3", devices.FieldCurrent, amps, devices.FieldVoltage, 228.0)
		}
		add(at+4*time.Second, "m4", devices.FieldCurrent, 8.0)
		if !in(at, 2*h, 2*h+40*time.Minute) {
			add(at+5*time.Second, "m5", devices.FieldPower, 60.0)
		}
		if at%(5*time.Minute) == 0 {
			port2 := 150.0
			if in(at, 2*h+30*time.Minute, 2*h+40*time.Minute) {
				port2 = 2100
			}
			add(at+6*time.Second, "pile1", devices.FieldPort, 1, devices.FieldState, devices.PileCharging, devices.FieldPower, 180.0)
			add(at+7*time.Second, "pile1", devices.FieldPort, 2, devices.FieldState, devices.PileCharging, devices.FieldPower, port2)
		}
		if at%h == 0 {
			add(at+8*time.Second, "sd1", devices.FieldBatteryPct, 80.0, devices.FieldSmoke, false)
		}
	}
	for at := time.Duration(0); at < 6*h; at += 10 * time.Second {
		t := 30.0
		if in(at, h, h+30*time.Minute) {
			t = 78 + float64(at/(10*time.Second)%4) // 78, 79, 80, 81: hovering at 80
		}
		add(at+500*time.Millisecond, "mon1", devices.FieldTemp1, t, devices.FieldLeak, 20.0)
	}
	out = append(out,
		rec{at: 3 * h, dev: "sd1", ev: &devices.Event{TS: t0.Add(3 * h).UnixMilli(), Seq: 1, Type: devices.EventSmokeAlarm}},
		rec{at: 3*h + 5*time.Minute, dev: "sd1", ev: &devices.Event{TS: t0.Add(3*h + 5*time.Minute).UnixMilli(), Seq: 2, Type: devices.EventSmokeClear}},
		rec{at: 4 * h, gw: "g3", dev: "g3", status: &devices.Status{}},
		rec{at: 4*h + 30*time.Minute, gw: "g3", dev: "g3", status: &devices.Status{Online: true, TS: t0.Add(4*h + 30*time.Minute).UnixMilli()}},
	)
	slices.SortStableFunc(out, func(a, b rec) int { return int(a.at - b.at) })
	return out
}

func (r *rig) feed(x rec) {
	switch {
	case x.r != nil:
		r.e.Reading(r.dev(x.dev), x.r)
	case x.ev != nil:
		r.e.Event(r.dev(x.dev), x.ev)
	case x.status != nil:
		r.e.Status(x.gw, x.dev, *x.status, x.received())
	}
}

// essence describes alerts by what they say, leaving out ids and wall
// times (when someone or something acted), sorted by key and start.
func essence(as []*alerting.Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, fmt.Sprintf("%s %s started=%s fired=%s resolved=%s value=%.4g sources=%v reopens=%d unacked=%v evidence=%d",
			a.Key(), a.State, hm(a.StartedAt), hm(a.FiredAt), hm(a.ResolvedAt), a.Value, a.Sources, a.Reopens, a.ResolvedUnacked, len(a.Evidence)))
	}
	slices.Sort(out)
	return out
}

func hm(ms int64) string {
	if ms == 0 {
		return "-"
	}
	return time.UnixMilli(ms).Sub(t0).String()
}

// TestReplayEquivalence feeds the same log live (the clock following the
// records, ticking every 10 s, committing every 20 records) and replayed a
// day later (batches of 400 records, the clock a day ahead, the lag
// reported at each commit), and checks that both give the same alerts.
func TestReplayEquivalence(t *testing.T) {
	ctx := context.Background()
	recs := script()

	live := newRig(t, nil)
	var lastTick time.Time
	for i, x := range recs {
		live.clock.Set(x.received())
		live.feed(x)
		if i%20 == 19 {
			live.commit(fmt.Sprint(i))
		}
		if now := live.clock.Now(); now.Sub(lastTick) >= 10*time.Second {
			lastTick = now
			if err := live.e.Tick(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	live.commit("end")

	replay := newRig(t, nil)
	replay.clock.Set(t0.Add(30 * time.Hour))
	for start := 0; start < len(recs); start += 400 {
		batch := recs[start:min(start+400, len(recs))]
		for _, x := range batch {
			replay.feed(x)
		}
		lag := replay.clock.Now().Sub(batch[len(batch)-1].received())
		if err := replay.e.Commit(ctx, []byte(fmt.Sprint(start)), lag); err != nil {
			t.Fatal(err)
		}
		if err := replay.e.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}

	want := essence(live.alerts(store.Filter{Limit: 1000}))
	got := essence(replay.alerts(store.Filter{Limit: 1000}))
	if !slices.Equal(got, want) {
		t.Errorf("replayed alerts differ from live ones:\nlive:\n  %s\nreplay:\n  %s", strings.Join(want, "\n  "), strings.Join(got, "\n  "))
	}
	// The script raises what it was written to raise.
	var rules []string
	for _, w := range want {
		rules = append(rules, strings.Fields(w)[0]+" "+strings.Fields(w)[1])
	}
	for _, w := range []string{
		"indoor_charging/u1 resolved", "overload/m3 resolved", "over_temperature/mon1 resolved", "smoke/sd1 resolved",
		"port_overload/pile1/2 resolved", "device_offline/m5 resolved", "gateway_offline/g3 resolved",
	} {
		if !slices.Contains(rules, w) {
			t.Errorf("live run lacks %q; it has:\n  %s", w, strings.Join(want, "\n  "))
		}
	}
	for _, no := range []string{"indoor_charging/u2", "device_offline/m3"} {
		for _, w := range want {
			if strings.HasPrefix(w, no+" ") {
				t.Errorf("unexpected %s", w)
			}
		}
	}
}
