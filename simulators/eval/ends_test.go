package eval

import (
	"slices"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// ends are the alert-end figures of Figures, compared whole.
type ends struct {
	lag                                                           []int64 // minutes, sorted
	outlived, early, charging, open, bridged, afterSpan, detected int
}

func endsOf(f *Figures) ends {
	var lag []int64
	for _, v := range f.EndLag {
		lag = append(lag, v/simtime.Minute)
	}
	return ends{lag, f.Outlived, f.EndedEarly, f.EndedCharging, f.StillOpen, f.Bridged, f.EndAfterSpan, f.Detected}
}

// TestAlertEnds scores the end of each detected session's alert on
// synthetic sessions and alerts (one unit, a two-day span).
func TestAlertEnds(t *testing.T) {
	mn := simtime.Minute
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	at := func(hours float64) int64 { return simtime.At(d0, hours) }
	from, to := simtime.DayStart(d0), simtime.DayStart(d0+2)
	s0, s1 := at(20), at(23) // the session of most cases: 20:00-23:00
	sess := func(start, end int64) Episode { return Episode{Unit: "a", Start: start, End: end, Scored: true} }
	// a fire at ts and a clear at each of clears, through the lifecycle's
	// merging (a fire within the grace reopens)
	book := func(sig ...int64) []Alert {
		b := newAlertBook()
		for i, ts := range sig {
			op := detect.OpFire
			if i%2 == 1 {
				op = detect.OpClear
			}
			b.signal("a", "m1", &detect.Signal{Op: op, Rule: alerting.RuleIndoorCharging, TS: ts, Since: ts}, "")
		}
		return b.alerts
	}
	for _, c := range []struct {
		name   string
		eps    []Episode
		alerts []Alert
		want   ends
	}{
		{"ends at the session's end", []Episode{sess(s0, s1)}, []Alert{{Unit: "a", Fired: s0 + 20*mn, Resolved: s1}},
			ends{lag: []int64{0}, detected: 1}},
		{"ends 30 min after: not outlived", []Episode{sess(s0, s1)}, []Alert{{Unit: "a", Fired: s0 + 20*mn, Resolved: s1 + 30*mn}},
			ends{lag: []int64{30}, detected: 1}},
		{"outlives it by 45 min", []Episode{sess(s0, s1)}, []Alert{{Unit: "a", Fired: s0 + 20*mn, Resolved: s1 + 45*mn}},
			ends{lag: []int64{45}, outlived: 1, detected: 1}},
		{"ends 60 min early, charging", []Episode{sess(s0, s1)}, []Alert{{Unit: "a", Fired: s0 + 20*mn, Resolved: s1 - 60*mn}},
			ends{lag: []int64{-60}, early: 1, charging: 1, detected: 1}},
		{"ends 60 min before the unplug, after the charge was full", []Episode{{Unit: "a", Start: s0, End: s1, DrawEnd: s1 - 90*mn, Scored: true}},
			[]Alert{{Unit: "a", Fired: s0 + 20*mn, Resolved: s1 - 60*mn}},
			ends{lag: []int64{-60}, early: 1, detected: 1}},
		{"ends 60 min before the unplug, 40 min before the charge was full", []Episode{{Unit: "a", Start: s0, End: s1, DrawEnd: s1 - 20*mn, Scored: true}},
			[]Alert{{Unit: "a", Fired: s0 + 20*mn, Resolved: s1 - 60*mn}},
			ends{lag: []int64{-60}, early: 1, charging: 1, detected: 1}},
		{"still open at the span's end", []Episode{sess(s0, s1)}, []Alert{{Unit: "a", Fired: s0 + 20*mn}},
			ends{open: 1, detected: 1}},
		{"spans two sessions: judged against the second", []Episode{sess(s0, at(22)), sess(at(22.5), at(25))},
			[]Alert{{Unit: "a", Fired: s0 + 20*mn, Resolved: at(25) + 10*mn}},
			ends{lag: []int64{10}, bridged: 1, detected: 2}},
		{"spans two sessions, outlives the second", []Episode{sess(s0, at(22)), sess(at(22.5), at(25))},
			[]Alert{{Unit: "a", Fired: s0 + 20*mn, Resolved: at(25) + 50*mn}},
			ends{lag: []int64{50}, outlived: 1, bridged: 1, detected: 2}},
		{"two sessions, two alerts", []Episode{sess(s0, at(22)), sess(at(22.5), at(25))},
			[]Alert{{Unit: "a", Fired: s0 + 20*mn, Resolved: at(21)}, {Unit: "a", Fired: at(22.6), Resolved: at(25) + 5*mn}},
			ends{lag: []int64{-60, 5}, early: 1, charging: 1, detected: 2}},
		{"reopened within the grace: its last clear counts", []Episode{sess(s0, s1)},
			book(s0+20*mn, at(21), at(21)+20*mn, s1+5*mn),
			ends{lag: []int64{5}, detected: 1}},
		{"reopened within the grace after the end: outlived", []Episode{sess(s0, s1)},
			book(s0+20*mn, s1, s1+25*mn, s1+50*mn),
			ends{lag: []int64{50}, outlived: 1, detected: 1}},
		{"cleared, fired again after the grace: the first alert ended early", []Episode{sess(s0, s1)},
			book(s0+20*mn, at(21), at(21)+40*mn, s1),
			ends{lag: []int64{-120}, early: 1, charging: 1, detected: 1}},
		{"ends exactly 30 min early: not early", []Episode{sess(s0, s1)}, []Alert{{Unit: "a", Fired: s0 + 20*mn, Resolved: s1 - 30*mn}},
			ends{lag: []int64{-30}, detected: 1}},
		{"ends 60 min early, exactly 30 min before the charge was full: not while charging", []Episode{{Unit: "a", Start: s0, End: s1, DrawEnd: s1 - 30*mn, Scored: true}},
			[]Alert{{Unit: "a", Fired: s0 + 20*mn, Resolved: s1 - 60*mn}},
			ends{lag: []int64{-60}, early: 1, detected: 1}},
		{"session ends exactly 30 min before the span's end: judged", []Episode{sess(to-3*simtime.Hour, to-30*mn)},
			[]Alert{{Unit: "a", Fired: to - 2*simtime.Hour, Resolved: to - 25*mn}},
			ends{lag: []int64{5}, detected: 1}},
		{"session ends 20 min before the span's end: not judged", []Episode{sess(to-3*simtime.Hour, to-20*mn)},
			[]Alert{{Unit: "a", Fired: to - 2*simtime.Hour}},
			ends{afterSpan: 1, detected: 1}},
		{"session ends after the span: not judged", []Episode{sess(to-2*simtime.Hour, to+simtime.Hour)},
			[]Alert{{Unit: "a", Fired: to - simtime.Hour, Resolved: to - 50*mn}},
			ends{afterSpan: 1, detected: 1}},
		{"spans into an unscored session: judged against it", []Episode{sess(to-3*simtime.Hour, to-2*simtime.Hour), {Unit: "a", Start: to - 50*mn, End: to - 40*mn}},
			[]Alert{{Unit: "a", Fired: to - 170*mn, Resolved: to - 39*mn}},
			ends{lag: []int64{1}, detected: 1}},
		{"missed: not judged", []Episode{sess(s0, s1)}, []Alert{{Unit: "a", Fired: s1 + 10*mn, Resolved: s1 + 60*mn}},
			ends{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := &Outcome{From: from, To: to, Episodes: c.eps, Alerts: c.alerts}
			f := Score(o, 0)
			if got := endsOf(&f); !slices.Equal(got.lag, c.want.lag) || got.outlived != c.want.outlived || got.early != c.want.early ||
				got.charging != c.want.charging || got.open != c.want.open || got.bridged != c.want.bridged ||
				got.afterSpan != c.want.afterSpan || got.detected != c.want.detected {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			if f.Judged()+f.Bridged+f.EndAfterSpan != f.Detected {
				t.Errorf("%d judged + %d bridged + %d after the span != %d detected", f.Judged(), f.Bridged, f.EndAfterSpan, f.Detected)
			}
			// Add keeps them
			var g Figures
			g.Add(&f)
			g.Add(&f)
			if len(g.EndLag) != 2*len(f.EndLag) || g.Outlived != 2*f.Outlived || g.EndedEarly != 2*f.EndedEarly || g.EndedCharging != 2*f.EndedCharging ||
				g.StillOpen != 2*f.StillOpen || g.Bridged != 2*f.Bridged || g.EndAfterSpan != 2*f.EndAfterSpan {
				t.Errorf("Add: %+v from %+v", endsOf(&g), endsOf(&f))
			}
		})
	}
}

// TestWriteEnds checks the report's lines on alert ends.
func TestWriteEnds(t *testing.T) {
	mn := simtime.Minute
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	at := func(hours float64) int64 { return simtime.At(d0, hours) }
	o := &Outcome{From: simtime.DayStart(d0), To: simtime.DayStart(d0 + 2)}
	for i, lag := range []int64{-60, 0, 5, 10, 45} {
		s0 := at(float64(i*4) + 1)
		o.Episodes = append(o.Episodes, Episode{Unit: "a", Start: s0, End: s0 + 3*simtime.Hour, Scored: true})
		o.Alerts = append(o.Alerts, Alert{Unit: "a", Fired: s0 + 20*mn, Resolved: s0 + 3*simtime.Hour + lag*mn})
	}
	var b strings.Builder
	writeEnds(&b, []*Outcome{o})
	wantText(t, b.String(), 2, "p10 / p50 [95% CI] / p90 -60 / +5 / +45 min, n 5", "5 of 5 detected sessions judged",
		"outlived the session by > 30 min 1 (20.0% ", "by p50 +45 / max +45 min", "ended > 30 min before it 1 (20.0% ", "still open at the span's end 0 ")
}

// wantText fails t unless s holds every one of wants and has exactly lines
// lines (the report lines the writeEnds and writeStarts tests read).
func wantText(t *testing.T, s string, lines int, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(s, want) {
			t.Errorf("no %q in\n%s", want, s)
		}
	}
	if n := strings.Count(s, "\n"); n != lines {
		t.Errorf("%d lines, want %d:\n%s", n, lines, s)
	}
}

// TestRealDrawEnd: a real trace's charger stops at its first float sample
// (within charger.GreenW of the final float), not at the trace's end; a
// trace cut while drawing stops at its end.
func TestRealDrawEnd(t *testing.T) {
	mn := simtime.Minute
	ts := []int64{0, 10 * mn, 20 * mn, 30 * mn, 40 * mn, 50 * mn, 60 * mn}
	for _, c := range []struct {
		name string
		w    []float64
		want int64
	}{
		{"full, then floats 40 min", []float64{100, 95, 30, 8, 5, 4.6, 4.5}, 30 * mn},
		{"full at the last sample but one", []float64{100, 95, 90, 80, 60, 20, 4.5}, 60 * mn},
		{"cut while drawing", []float64{100, 98, 97, 96, 95, 91, 85}, 60 * mn},
	} {
		r := realSession{t: ts, w: c.w}
		if got := r.drawEnd(); got != c.want {
			t.Errorf("%s: drawEnd %d min, want %d", c.name, got/mn, c.want/mn)
		}
	}
}

// TestLagMin: lags print as signed whole minutes, and one that rounds to
// zero prints as "0" whichever its sign.
func TestLagMin(t *testing.T) {
	for _, c := range []struct {
		ms   int64
		want string
	}{
		{0, "0"}, {-24000, "0"}, {24000, "0"}, {-36000, "-1"}, {90 * 60000, "+90"}, {-45 * 60000, "-45"},
	} {
		if got := lagMin(c.ms); got != c.want {
			t.Errorf("lagMin(%d) = %q, want %q", c.ms, got, c.want)
		}
	}
}
