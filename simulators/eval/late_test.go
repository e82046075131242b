package eval

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// TestExplainLate: a session detected 35 minutes after its plug-in by its
// own step, refused by the fast path at 20 minutes as noisy, is counted
// late under "own step" and "open: fast: noisy"; one detected by a step
// opened before its plug-in under "stale step", its own step lost for
// room; one found at 11 minutes is early and its features at 20 minutes
// are kept apart; a step outside every session open at 20 minutes counts
// among the others by its state then.
func TestExplainLate(t *testing.T) {
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	at := func(hours float64) int64 { return simtime.At(d0, hours) }
	mn := int64(60000)
	o := &Outcome{Interval: time.Minute, From: simtime.DayStart(d0), To: simtime.DayStart(d0 + 1),
		Units: []UnitDays{{Unit: "u", Days: []DayTags{{Day: d0, Charging: true}}}, {Unit: "v", Days: []DayTags{{Day: d0, Charging: true}}},
			{Unit: "w", Days: []DayTags{{Day: d0, Charging: true}}}},
		Episodes: []Episode{
			{Unit: "u", Start: at(10), End: at(14), Scored: true, Alert: -1},
			{Unit: "v", Start: at(10), End: at(14), Scored: true, Alert: -1},
			{Unit: "w", Start: at(10), End: at(14), Scored: true, Alert: -1},
		},
		Alerts: []Alert{
			{Unit: "u", Start: at(10), Fired: at(10) + 35*mn, Resolved: at(14), Why: "score after 35m0s"},
			{Unit: "v", Start: at(9), Fired: at(10) + 70*mn, Resolved: at(14), Why: "taper, declined after 2h10m0s"},
			{Unit: "w", Start: at(10), Fired: at(10) + 11*mn, Resolved: at(14), Why: "fast, known charger after 11m0s"},
		},
	}
	tr := newTracer()
	judge := func(unit string, t0, ts int64, why string, noise float64) {
		tr.add(unit, "meter", &detect.ChargingTrace{TS: ts, Event: "judge", Reason: why, Start: t0, LevelW: 120, Noise: noise,
			Held: time.Duration(ts-t0) * time.Millisecond, N: int((ts - t0) / mn / 2)})
	}
	// u: its own step, noisy at 20 minutes, fired by the score at 35
	tr.add("u", "meter", &detect.ChargingTrace{TS: at(10), Event: "open", Start: at(10)})
	for m := int64(10); m <= 34; m++ {
		judge("u", at(10), at(10)+m*mn, "fast: noisy", 0.03)
	}
	tr.add("u", "meter", &detect.ChargingTrace{TS: at(10) + 35*mn, Event: "fire", Start: at(10)})
	// v: a step opened an hour before fired; its own step lost for room
	tr.add("v", "meter", &detect.ChargingTrace{TS: at(9), Event: "open", Start: at(9)})
	tr.add("v", "meter", &detect.ChargingTrace{TS: at(10), Event: "open", Start: at(10)})
	tr.add("v", "meter", &detect.ChargingTrace{TS: at(10) + 5*mn, Event: "drop", Reason: "no room", Start: at(10)})
	tr.add("v", "meter", &detect.ChargingTrace{TS: at(10) + 70*mn, Event: "fire", Start: at(9)})
	// w: its own step, fired at 11 minutes
	tr.add("w", "meter", &detect.ChargingTrace{TS: at(10), Event: "open", Start: at(10)})
	judge("w", at(10), at(10)+10*mn, "fast: new, held too short", 0.004)
	tr.add("w", "meter", &detect.ChargingTrace{TS: at(10) + 11*mn, Event: "fire", Start: at(10)})
	// u, outside its session: a lamp's step, not clean at 20 minutes
	tr.add("u", "meter", &detect.ChargingTrace{TS: at(16), Event: "open", Start: at(16)})
	judge("u", at(16), at(16)+20*mn, "fast: start-up peak or not clean", 0.006)

	ex := tr.explain(o, detect.DefaultPhysicsParams())
	ls := &ex.Late
	if ls.Sessions != 3 || ls.Late != 2 {
		t.Fatalf("sessions %d late %d, want 3 and 2", ls.Sessions, ls.Late)
	}
	if n := ls.Fired["own step × score"]; n != 1 {
		t.Errorf("own step × score %d, want 1 (%v)", n, ls.Fired)
	}
	if n := ls.Fired["stale step (opened before the plug-in) × taper, declined"]; n != 1 {
		t.Errorf("stale step × taper %d, want 1 (%v)", n, ls.Fired)
	}
	if ls.AtW["open: fast: noisy"] != 1 || ls.AtW["lost before: no room"] != 1 {
		t.Errorf("own W steps at 20 min %v, want one noisy, one lost for room", ls.AtW)
	}
	if len(ls.LateF) != 1 || math.Abs(ls.LateF[0].Noise-0.03) > 1e-6 || ls.LateF[0].Held != 20 || ls.LateF[0].Quiet != 0.5 {
		t.Errorf("late features %+v, want one at 20 min of noise 0.03, quiet half its readings", ls.LateF)
	}
	if len(ls.EarlyF) != 1 {
		t.Errorf("early features %+v, want one", ls.EarlyF)
	}
	if ls.NOther != 1 || ls.Other["open: fast: start-up peak or not clean"] != 1 {
		t.Errorf("other steps %d %v, want the lamp's", ls.NOther, ls.Other)
	}
	if ls.Hist[2] != 1 || ls.Hist[8] != 1 || ls.Hist[9] != 1 {
		t.Errorf("TTD histogram %v, want one each in 10-15, 30-60 and 60+", ls.Hist)
	}
	var all lateStats
	all.merge(ls)
	all.merge(ls)
	var b strings.Builder
	all.write(&b, time.Minute)
	out := b.String()
	for _, want := range []string{"LATE DETECTIONS, readings every 1min: 4 of 6 detected sessions found 20 min or more",
		"    2  50.0%  own step × score\n", "    2  50.0%  open: fast: noisy\n", "[10-15) 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("printout lacks %q:\n%s", want, out)
		}
	}
}
