package eval

import (
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/simulators/elec"
	"github.com/chargewatch/chargewatch/simulators/household"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// TestExplainClassify feeds the tracer the decisions a detector could make
// around short sessions and checks the reason each miss is given, and the
// count of alerts by path.
func TestExplainClassify(t *testing.T) {
	p := detect.DefaultPhysicsParams()
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	at := func(hours float64) int64 { return simtime.At(d0, hours) }
	mn := int64(60000)
	ev := func(tr *tracer, unit, ev, why string, start, ts int64, v bool, riseT float64) {
		tr.add(unit, unit+"-m", &detect.ChargingTrace{TS: ts, Event: ev, Reason: why, Start: start, LevelW: 130, RiseT: riseT, Rise: 0.02,
			Held: time.Duration(ts-start) * time.Millisecond, Var: v})
	}
	cases := []struct {
		name string
		feed func(tr *tracer, s int64)
		want string
	}{
		{"no edge", func(tr *tracer, s int64) {
			tr.add("u", "u-m", &detect.ChargingTrace{TS: s + mn, Event: "edge", Reason: "small", Start: s + mn, StepW: 120})
		}, "never opened: step under the edge threshold (busy home)"},
		{"out of band", func(tr *tracer, s int64) {
			tr.add("u", "u-m", &detect.ChargingTrace{TS: s, Event: "edge", Reason: "band", Start: s, StepW: 2100})
		}, "never opened: up-edge over the band (with another load)"},
		{"nothing", func(tr *tracer, s int64) {}, "never opened: no up-step seen (split over readings, masked, or a gap)"},
		{"switched off on the plateau", func(tr *tracer, s int64) {
			ev(tr, "u", "open", "", s, s, false, 0)
			ev(tr, "u", "judge", "fast: noisy", s, s+20*mn, false, 0)
			ev(tr, "u", "drop", "switched off", s, s+30*mn, false, 0)
		}, "opened, lost on the plateau: switched off (W)"},
		{"lost in the taper with a rise", func(tr *tracer, s int64) {
			ev(tr, "u", "open", "", s, s, true, 0)
			ev(tr, "u", "judge", "fast: var, unknown", s, s+60*mn, true, 2.5)
			ev(tr, "u", "drop", "not persistent", s, s+2*60*mn+5*mn, true, 0)
		}, "opened, held through the plateau, lost in the taper/float: not persistent (var), best rise t >= 2"},
		{"held, rise short", func(tr *tracer, s int64) {
			ev(tr, "u", "open", "", s, s, false, 0)
			ev(tr, "u", "judge", "fast: noisy", s, s+50*mn, false, 3)
			ev(tr, "u", "judge", "fast: noisy", s, s+3*60*mn, false, 3.2)
		}, "held, rise t 2-3.75 (W)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := newTracer()
			s := at(20)
			c.feed(tr, s)
			o := &Outcome{Interval: time.Minute, From: simtime.DayStart(d0), To: simtime.DayStart(d0 + 1),
				Units:    []UnitDays{{Unit: "u", Days: []DayTags{{Day: d0, Charging: true}}}},
				Episodes: []Episode{{Unit: "u", Start: s, End: s + 4*simtime.Hour, PlateauEnd: s + 2*simtime.Hour, Scored: true, Alert: -1}},
			}
			ex := tr.explain(o, p)
			if ex.Misses[c.want] != 1 || len(ex.Misses) != 1 {
				t.Errorf("misses %v, want %q", ex.Misses, c.want)
			}
		})
	}
	// alerts by path: one true, one false on a charger-free day, one
	// overlapping no session on the charging day
	o := &Outcome{Interval: time.Minute, From: simtime.DayStart(d0), To: simtime.DayStart(d0 + 2),
		Units:    []UnitDays{{Unit: "u", Days: []DayTags{{Day: d0, Charging: true}, {Day: d0 + 1}}}},
		Episodes: []Episode{{Unit: "u", Start: at(20), End: at(23), PlateauEnd: at(22), Scored: true, Alert: -1}},
		Alerts: []Alert{
			{Unit: "u", Fired: at(20.2), Resolved: at(23), Why: "fast after 10m0s: step 130 W"},
			{Unit: "u", Fired: simtime.At(d0+1, 20), Resolved: simtime.At(d0+1, 22), Why: "rise (var) after 1h0m0s: step 200 var"},
			{Unit: "u", Fired: at(23.5), Resolved: at(23.9), Why: "rise (var) after 1h0m0s: step 130 var"},
			{Unit: "u", Fired: simtime.At(d0+2, 1), Resolved: simtime.At(d0+2, 2), Why: "rise (var) after 1h0m0s: step 130 var"}, // after the span
		},
	}
	ex := newTracer().explain(o, p)
	if ex.Paths["fast"] != [3]int{1, 0, 0} || ex.Paths["rise (var)"] != [3]int{0, 1, 1} || len(ex.Misses) != 0 {
		t.Errorf("paths %v misses %v", ex.Paths, ex.Misses)
	}
}

// TestFalseAlarms lists an alert on a charger-free day with the appliances
// the simulator switched at its estimated start, names the one whose power
// is nearest the alert's plateau as its cause, and leaves out alerts that
// overlap a session or fire on a charging day.
func TestFalseAlarms(t *testing.T) {
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	u := household.New(7, "b0001-101", household.Residential, household.Options{Season: household.Winter})
	// the unit's evening lights of day d0+1: the alert starts with them
	var lights *elec.Segment
	for _, s := range u.Day(d0+1, nil) {
		if household.Appliance(s.Tag) == household.Lights && simtime.HourOf(s.Start) > 15 {
			lights = &s
			break
		}
	}
	if lights == nil {
		t.Fatal("no evening lights")
	}
	st := lights.Start + 60000
	o := &Outcome{Interval: time.Minute, From: simtime.DayStart(d0), To: simtime.DayStart(d0 + 2),
		Units:    []UnitDays{{Unit: "b0001-101", Days: []DayTags{{Day: d0, Charging: true}, {Day: d0 + 1}}}},
		Episodes: []Episode{{Unit: "b0001-101", Start: simtime.At(d0, 20), End: simtime.At(d0, 23), PlateauW: 150, Scored: true, Alert: -1}},
		Alerts: []Alert{
			{Unit: "b0001-101", Start: simtime.At(d0, 20), Fired: simtime.At(d0, 20.3), Resolved: simtime.At(d0, 23), Why: "fast after 20m0s: step 150 W"},
			{Unit: "b0001-101", Start: simtime.At(d0, 23.5), Fired: simtime.At(d0, 23.7), Resolved: simtime.At(d0, 23.8), Why: "score after 20m0s: step 80 W"},
			{Unit: "b0001-101", Start: st, Fired: st + 3600000, Resolved: st + 2*3600000, StepW: lights.W, Why: "rise after 1h0m0s: step 99 W"},
		},
		hh: map[string]*household.Unit{"b0001-101": u},
	}
	fas := falseAlarms(o)
	if len(fas) != 1 {
		t.Fatalf("%d false alarms, want 1 (the true alert and the one on a charging day are not): %+v", len(fas), fas)
	}
	fa := fas[0]
	if fa.Path != "rise" || fa.Cause != "lights" || fa.ChargerW != 150 || fa.Start != st {
		t.Errorf("path %q cause %q charger %g W: %+v", fa.Path, fa.Cause, fa.ChargerW, fa)
	}
	found := false
	for _, l := range fa.Switched {
		found = found || l.App == "lights" && l.On == lights.Start
	}
	if !found {
		t.Errorf("the lights are not listed as switched at the start: %+v", fa.Switched)
	}
	for _, l := range append(fa.AtStart, fa.AtFire...) {
		if l.On > fa.Fired+Near.Milliseconds() || l.Off < fa.Start {
			t.Errorf("%+v listed, not on around the alert", l)
		}
	}
	var b strings.Builder
	WriteFalseAlarms(&b, &Result{Intervals: []time.Duration{time.Minute}, Runs: map[time.Duration][]*Outcome{time.Minute: {o}}})
	for _, want := range []string{"FALSE ALARMS, readings every 1min: 1", "b0001-101 1min: rise", "cause lights", "FALSE ALARMS BY CAUSE × PATH", "1  lights × rise"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in:\n%s", want, b.String())
		}
	}
}

// TestFalseAlarmCause: the cause is the appliance (or pair) that came on at
// the start with the power nearest the plateau; "none on" when none came on.
func TestFalseAlarmCause(t *testing.T) {
	mn := int64(60000)
	cases := []struct {
		name string
		sw   []Load
		w    float64
		want string
	}{
		{"nothing switched", nil, 100, "none on"},
		{"only a load that went off", []Load{{App: "tv", W: 120, On: -60 * mn, Off: 0}}, 100, "none on"},
		{"the nearest in power", []Load{{App: "fridge", W: 150, On: 0, Off: 15 * mn}, {App: "lights", W: 95, On: mn, Off: 300 * mn}}, 100, "lights"},
		{"a pair nearer than either", []Load{{App: "pc", W: 100, On: 0, Off: 300 * mn}, {App: "shop_lights", W: 170, On: 0, Off: 600 * mn}}, 270, "pc+shop_lights"},
	}
	for _, c := range cases {
		fa := FalseAlarm{StepW: c.w, Switched: c.sw}
		if got := cause(&fa); got != c.want {
			t.Errorf("%s: cause %q, want %q", c.name, got, c.want)
		}
	}
}
