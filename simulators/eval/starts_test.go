package eval

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// starts are the start-estimate figures of Figures, compared whole.
type starts struct {
	err                     []int64 // minutes, sorted
	open, near, early, late int
}

func startsOf(f *Figures) starts {
	var err []int64
	for _, v := range f.StartErr {
		err = append(err, v/simtime.Minute)
	}
	near, early, late := f.StartCounts()
	return starts{err, f.StartOpen, near, early, late}
}

// TestAlertStarts scores the estimated start of each detected session's
// alert on synthetic sessions and alerts (a two-day span).
func TestAlertStarts(t *testing.T) {
	mn := simtime.Minute
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	at := func(hours float64) int64 { return simtime.At(d0, hours) }
	from, to := simtime.DayStart(d0), simtime.DayStart(d0+2)
	s0, s1 := at(20), at(23) // the session of most cases: 20:00-23:00
	sess := func(start, end int64) Episode { return Episode{Unit: "a", Start: start, End: end, Scored: true} }
	// an alert of unit a estimating the start at start, fired at fired, resolved at 23:10
	alert := func(start, fired int64) Alert {
		return Alert{Unit: "a", Start: start, Fired: fired, Resolved: s1 + 10*mn}
	}
	for _, c := range []struct {
		name   string
		eps    []Episode
		alerts []Alert
		want   starts
	}{
		{"estimate at the start", []Episode{sess(s0, s1)}, []Alert{alert(s0, s0+20*mn)},
			starts{err: []int64{0}, near: 1}},
		{"estimate a reading late", []Episode{sess(s0, s1)}, []Alert{alert(s0+mn, s0+20*mn)},
			starts{err: []int64{1}, near: 1}},
		{"exactly 5 min early: near", []Episode{sess(s0, s1)}, []Alert{alert(s0-5*mn, s0+20*mn)},
			starts{err: []int64{-5}, near: 1}},
		{"6 min late: not near", []Episode{sess(s0, s1)}, []Alert{alert(s0+6*mn, s0+20*mn)},
			starts{err: []int64{6}}},
		{"a stale step 2 h before: early", []Episode{sess(s0, s1)}, []Alert{alert(s0-2*simtime.Hour, s0+20*mn)},
			starts{err: []int64{-120}, early: 1}},
		{"exactly 30 min early: not early", []Episode{sess(s0, s1)}, []Alert{alert(s0-30*mn, s0+20*mn)},
			starts{err: []int64{-30}}},
		{"45 min late", []Episode{sess(s0, s1)}, []Alert{alert(s0+45*mn, s0+60*mn)},
			starts{err: []int64{45}, late: 1}},
		{"exactly 30 min late: not late", []Episode{sess(s0, s1)}, []Alert{alert(s0+30*mn, s0+60*mn)},
			starts{err: []int64{30}}},
		{"two alerts: the first that fired counts", []Episode{sess(s0, s1)},
			[]Alert{{Unit: "a", Start: s0 + 50*mn, Fired: s0 + 70*mn, Resolved: s0 + 80*mn}, {Unit: "a", Start: s0 - 3*mn, Fired: s0 + 20*mn, Resolved: s0 + 40*mn}},
			starts{err: []int64{-3}, near: 1}},
		{"two alerts in fire order: the first that fired counts, not the last", []Episode{sess(s0, s1)},
			[]Alert{{Unit: "a", Start: s0 - 3*mn, Fired: s0 + 20*mn, Resolved: s0 + 40*mn}, {Unit: "a", Start: s0 + 50*mn, Fired: s0 + 80*mn, Resolved: s1 + 10*mn}},
			starts{err: []int64{-3}, near: 1}},
		{"fired at the session's start: counted, not already open", []Episode{sess(s0, s1)}, []Alert{alert(s0-2*mn, s0)},
			starts{err: []int64{-2}, near: 1}},
		{"two sessions, the later one's error the lower: sorted", []Episode{sess(s0, at(22)), sess(at(22.5), at(25))},
			[]Alert{{Unit: "a", Start: s0 + 10*mn, Fired: s0 + 20*mn, Resolved: at(22)}, {Unit: "a", Start: at(22.5) - 40*mn, Fired: at(22.6), Resolved: at(25)}},
			starts{err: []int64{-40, 10}, early: 1}},
		{"two bikes: against the first charge", []Episode{{Unit: "a", Start: s0, End: s1, Bikes: 2, Starts: []int64{s0, s0 + 60*mn}, Scored: true}},
			[]Alert{alert(s0+60*mn, s0+80*mn)},
			starts{err: []int64{60}, late: 1}},
		{"an alert already open when the session began: not counted", []Episode{sess(s0, at(22)), sess(at(22.5), at(25))},
			[]Alert{{Unit: "a", Start: s0 + 2*mn, Fired: s0 + 20*mn, Resolved: at(25)}},
			starts{err: []int64{2}, open: 1, near: 1}},
		{"two sessions, two alerts: each its own", []Episode{sess(s0, at(22)), sess(at(22.5), at(25))},
			[]Alert{{Unit: "a", Start: s0 - 40*mn, Fired: s0 + 20*mn, Resolved: at(22)}, {Unit: "a", Start: at(22.5) + 10*mn, Fired: at(22.6), Resolved: at(25)}},
			starts{err: []int64{-40, 10}, early: 1}},
		{"another unit's alert: missed", []Episode{sess(s0, s1)}, []Alert{{Unit: "b", Start: s0, Fired: s0 + 20*mn, Resolved: s1}},
			starts{}},
		{"fired after the session: missed", []Episode{sess(s0, s1)}, []Alert{alert(s0, s1+10*mn)},
			starts{}},
		{"unscored session: not counted", []Episode{{Unit: "a", Start: s0, End: s1}}, []Alert{alert(s0+45*mn, s0+60*mn)},
			starts{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := &Outcome{From: from, To: to, Episodes: c.eps, Alerts: c.alerts}
			f := Score(o, 0)
			got := startsOf(&f)
			if !slices.Equal(got.err, c.want.err) || got.open != c.want.open || got.near != c.want.near || got.early != c.want.early || got.late != c.want.late {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			if len(f.StartErr)+f.StartOpen != f.Detected {
				t.Errorf("%d errors + %d already open != %d detected", len(f.StartErr), f.StartOpen, f.Detected)
			}
			// Add keeps them
			var g Figures
			g.Add(&f)
			g.Add(&f)
			if len(g.StartErr) != 2*len(f.StartErr) || g.StartOpen != 2*f.StartOpen || !slices.IsSorted(g.StartErr) {
				t.Errorf("Add: %+v from %+v", startsOf(&g), startsOf(&f))
			}
		})
	}
}

// TestWriteStarts checks the report's line on start estimates.
func TestWriteStarts(t *testing.T) {
	mn := simtime.Minute
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	at := func(hours float64) int64 { return simtime.At(d0, hours) }
	o := &Outcome{From: simtime.DayStart(d0), To: simtime.DayStart(d0 + 2)}
	for i, e := range []int64{-120, -2, 0, 3, 45} {
		s0 := at(float64(i*4) + 1)
		o.Episodes = append(o.Episodes, Episode{Unit: "a", Start: s0, End: s0 + 3*simtime.Hour, Scored: true})
		o.Alerts = append(o.Alerts, Alert{Unit: "a", Start: s0 + e*mn, Fired: s0 + 50*mn, Resolved: s0 + 3*simtime.Hour})
	}
	// a session begun after the last one ended, under its alert, still open
	o.Episodes = append(o.Episodes, Episode{Unit: "a", Start: at(20.25), End: at(23), Scored: true})
	o.Alerts[4].Resolved = at(23)
	// a session begun 10 min after the first's alert resolved, which that
	// alert reopened for (alertBook: a fire within the grace), keeping its start
	o.Episodes = append(o.Episodes, Episode{Unit: "a", Start: at(4.25), End: at(4.75), Scored: true})
	o.Alerts[0].Resolved, o.Alerts[0].Reopens = at(4.75), 1
	var b strings.Builder
	writeStarts(&b, []*Outcome{o})
	wantText(t, b.String(), 1, "p10 / p50 [95% CI] / p90 -120 / 0 / +45 min, n 5 (2 detected sessions whose alert had fired before they began, open or reopened within the grace, not counted)",
		"within 5 min 3 (60.0% ", "> 30 min early 1 (20.0% ", "> 30 min late 1 (20.0% ")
}

// TestAlertBookStart checks that a unit's alert carries the start estimate
// (Since) of the fire that raised it: a second source (a plug, or another
// meter) joining the open alert, or a fire reopening it within the grace,
// keeps it; a fire after the grace raises a new alert with its own.
func TestAlertBookStart(t *testing.T) {
	mn := simtime.Minute
	t0 := simtime.At(simtime.DayOf(day(2026, 1, 5).UnixMilli()), 20)
	type sig struct {
		src       string
		op        detect.Op
		ts, since int64
	}
	for _, c := range []struct {
		name string
		sigs []sig
		want []int64 // each alert's Start - t0, minutes
	}{
		{"one fire", []sig{{"m1", detect.OpFire, t0 + 20*mn, t0 - 3*mn}}, []int64{-3}},
		{"a second source joins: the first's estimate", []sig{
			{"m1", detect.OpFire, t0 + 20*mn, t0 - 3*mn}, {"p1", detect.OpFire, t0 + 25*mn, t0 + mn}}, []int64{-3}},
		{"the first source clears, the second joined: the first's estimate", []sig{
			{"m1", detect.OpFire, t0 + 20*mn, t0 - 3*mn}, {"p1", detect.OpFire, t0 + 25*mn, t0 + mn},
			{"m1", detect.OpClear, t0 + 40*mn, t0 - 3*mn}, {"m1", detect.OpFire, t0 + 50*mn, t0 + 45*mn}}, []int64{-3}},
		{"reopened within the grace: the first fire's estimate", []sig{
			{"m1", detect.OpFire, t0 + 20*mn, t0 - 3*mn}, {"m1", detect.OpClear, t0 + 60*mn, t0 - 3*mn},
			{"p1", detect.OpFire, t0 + 80*mn, t0 + 70*mn}}, []int64{-3}},
		{"a fire after the grace: a new alert, its own estimate", []sig{
			{"m1", detect.OpFire, t0 + 20*mn, t0 - 3*mn}, {"m1", detect.OpClear, t0 + 60*mn, t0 - 3*mn},
			{"m1", detect.OpFire, t0 + 100*mn, t0 + 85*mn}}, []int64{-3, 85}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newAlertBook()
			for _, s := range c.sigs {
				b.signal("a", s.src, &detect.Signal{Op: s.op, Rule: alerting.RuleIndoorCharging, TS: s.ts, Since: s.since}, "")
			}
			var got []int64
			for _, a := range b.alerts {
				got = append(got, (a.Start-t0)/mn)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("alert starts %v min, want %v", got, c.want)
			}
		})
	}
}

// TestWriteReportStarts checks that the report has a start-estimate line
// under each table, the semi-synthetic one too, after its alert-end lines.
func TestWriteReportStarts(t *testing.T) {
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	s0 := simtime.At(d0, 20)
	o := func(e int64) *Outcome {
		return &Outcome{From: simtime.DayStart(d0), To: simtime.DayStart(d0 + 2),
			Episodes: []Episode{{Unit: "a", Start: s0, End: s0 + 3*simtime.Hour, Scored: true}},
			Alerts:   []Alert{{Unit: "a", Start: s0 + e*simtime.Minute, Fired: s0 + 20*simtime.Minute, Resolved: s0 + 3*simtime.Hour}}}
	}
	iv := time.Minute
	r := &Result{Intervals: []time.Duration{iv}, Runs: map[time.Duration][]*Outcome{iv: {o(-3)}}, Semi: map[time.Duration]*Outcome{iv: o(7)}}
	var b strings.Builder
	WriteReport(&b, r)
	var starts []string
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "start estimate:") {
			starts = append(starts, l)
			if i < 2 || !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "outlived") {
				t.Errorf("start line %d not after the alert ends' lines:\n%s", i, b.String())
			}
		}
	}
	if len(starts) != 2 || !strings.Contains(starts[0], "p10 / p50 [95% CI] / p90 -3 / -3 / -3 min") || !strings.Contains(starts[1], "p10 / p50 [95% CI] / p90 +7 / +7 / +7 min") {
		t.Errorf("start lines %q, want the simulated one (-3) and the semi-synthetic one (+7) in\n%s", starts, b.String())
	}
}
