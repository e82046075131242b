package eval

import (
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting/detect"
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
	// alerts by path: one true, one false on a charger-free day
	o := &Outcome{Interval: time.Minute, From: simtime.DayStart(d0), To: simtime.DayStart(d0 + 2),
		Units:    []UnitDays{{Unit: "u", Days: []DayTags{{Day: d0, Charging: true}, {Day: d0 + 1}}}},
		Episodes: []Episode{{Unit: "u", Start: at(20), End: at(23), PlateauEnd: at(22), Scored: true, Alert: -1}},
		Alerts: []Alert{
			{Unit: "u", Fired: at(20.2), Resolved: at(23), Why: "fast after 10m0s: step 130 W"},
			{Unit: "u", Fired: simtime.At(d0+1, 20), Resolved: simtime.At(d0+1, 22), Why: "rise (var) after 1h0m0s: step 200 var"},
		},
	}
	ex := newTracer().explain(o, p)
	if ex.Paths["fast"] != [2]int{1, 0} || ex.Paths["rise (var)"] != [2]int{0, 1} || len(ex.Misses) != 0 {
		t.Errorf("paths %v misses %v", ex.Paths, ex.Misses)
	}
}
