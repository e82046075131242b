package eval

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// TestLateBins: a session found at each band's bounds falls in the band
// its printed label names ([lo-hi), lo included, hi not), the late count
// starts at MaxMedianTTD exactly, every table of the late sessions counts
// each once (its counts add up to the late count), and the var core's
// table names the charger's power factor.
func TestLateBins(t *testing.T) {
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	t0 := simtime.At(d0, 10)
	mn := int64(60000)
	cases := []struct {
		ttd  int64 // min
		band string
		pf   float64
	}{
		{4, "[0-5)", 0.95}, {5, "[5-10)", 0.95}, {14, "[10-15)", 0.95}, {15, "[15-19)", 0.95},
		{18, "[15-19)", 0.95}, {19, "[19-20)", 0.95}, {20, "[20-21)", 0.95}, {21, "[21-23)", 0.6},
		{22, "[21-23)", 0}, {23, "[23-30)", 0.95}, {29, "[23-30)", 0.6}, {30, "[30-60)", 0},
		{59, "[30-60)", 0.95}, {60, "[60+)", 0.95}, {200, "[60+)", 0.6},
	}
	o := &Outcome{Interval: time.Minute, From: simtime.DayStart(d0), To: simtime.DayStart(d0 + 1)}
	want := map[string]int{}
	late := 0
	for i, c := range cases {
		u := fmt.Sprint("u", i)
		o.Units = append(o.Units, UnitDays{Unit: u, Days: []DayTags{{Day: d0, Charging: true}}})
		o.Episodes = append(o.Episodes, Episode{Unit: u, Start: t0, End: t0 + 4*60*mn, Scored: true, Alert: -1, PF: c.pf})
		o.Alerts = append(o.Alerts, Alert{Unit: u, Start: t0, Fired: t0 + c.ttd*mn, Resolved: t0 + 4*60*mn, Why: "score after 1m0s"})
		want[c.band]++
		if c.ttd >= 20 {
			late++
		}
	}
	ex := newTracer().explain(o, detect.DefaultPhysicsParams())
	ls := &ex.Late
	if ls.Sessions != len(cases) || ls.Late != late {
		t.Fatalf("sessions %d late %d, want %d and %d", ls.Sessions, ls.Late, len(cases), late)
	}
	var b strings.Builder
	ls.write(&b, time.Minute)
	out := b.String()
	line := out[strings.Index(out, "detected sessions by TTD"):]
	line = line[:strings.IndexByte(line, '\n')]
	for band, n := range want {
		if !strings.Contains(line, fmt.Sprintf(" %s %d", band, n)) {
			t.Errorf("band %s: want %d in %q", band, n, line)
		}
	}
	for name, m := range map[string]map[string]int{"Fired": ls.Fired, "AtW": ls.AtW, "AtVar": ls.AtVar, "Both": ls.Both, "RelW": ls.RelW, "KnownW": ls.KnownW} {
		n := 0
		for _, v := range m {
			n += v
		}
		if n != late {
			t.Errorf("%s counts %d sessions, want each late one once (%d): %v", name, n, late, m)
		}
	}
	pf := map[string]int{}
	for k, v := range ls.AtVar {
		for _, s := range []string{"(PF >= 0.9 (PFC charger))", "(PF < 0.9)", "(PF unknown)"} {
			if strings.HasSuffix(k, s) {
				pf[s] += v
			}
		}
	}
	if w := map[string]int{"(PF >= 0.9 (PFC charger))": 4, "(PF < 0.9)": 3, "(PF unknown)": 2}; !reflect.DeepEqual(pf, w) {
		t.Errorf("var core by power factor %v, want %v", pf, w)
	}
}

// TestLateMerge: merge adds every count and table of a run.
func TestLateMerge(t *testing.T) {
	one := func() *lateStats {
		ls := &lateStats{Sessions: 3, Late: 2, NOther: 5}
		ls.Hist[6] = 2
		for i, m := range []*map[string]int{&ls.Fired, &ls.AtW, &ls.AtVar, &ls.Both, &ls.RelW, &ls.KnownW, &ls.Cycler, &ls.Other} {
			*m = map[string]int{fmt.Sprint("k", i): i + 1}
		}
		ls.LateF, ls.EarlyF, ls.FAF, ls.OtherF = []stepFeat{{Held: 1}}, []stepFeat{{Held: 2}}, []stepFeat{{Held: 3}}, []stepFeat{{Held: 4}}
		for a := range ls.ZAge {
			for g := range ls.ZAge[a] {
				ls.ZAge[a][g] = []float32{float32(a*3 + g)}
			}
		}
		return ls
	}
	var all lateStats
	all.merge(one())
	all.merge(one())
	w := one()
	w.Sessions, w.Late, w.NOther, w.Hist[6] = 6, 4, 10, 4
	for _, m := range []map[string]int{w.Fired, w.AtW, w.AtVar, w.Both, w.RelW, w.KnownW, w.Cycler, w.Other} {
		for k := range m {
			m[k] *= 2
		}
	}
	w.LateF, w.EarlyF, w.FAF, w.OtherF = append(w.LateF, w.LateF...), append(w.EarlyF, w.EarlyF...), append(w.FAF, w.FAF...), append(w.OtherF, w.OtherF...)
	for a := range w.ZAge {
		for g := range w.ZAge[a] {
			w.ZAge[a][g] = append(w.ZAge[a][g], w.ZAge[a][g]...)
		}
	}
	if !reflect.DeepEqual(&all, w) {
		t.Errorf("merged %+v\nwant %+v", all, *w)
	}
}

// TestLateOtherWarmup: a W step outside every session opened in the
// warm-up (before the scored span) counts neither among the other steps
// open at 20 minutes nor in their scores at 10/15/20 minutes of age; the
// same step in the scored span counts in both.
func TestLateOtherWarmup(t *testing.T) {
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	mn := int64(60000)
	o := &Outcome{Interval: time.Minute, From: simtime.DayStart(d0), To: simtime.DayStart(d0 + 1),
		Units:    []UnitDays{{Unit: "u", Days: []DayTags{{Day: d0, Charging: true}}}},
		Episodes: []Episode{{Unit: "u", Start: simtime.At(d0, 10), End: simtime.At(d0, 14), Scored: true, Alert: -1}},
		Alerts:   []Alert{{Unit: "u", Start: simtime.At(d0, 10), Fired: simtime.At(d0, 10) + 30*mn, Resolved: simtime.At(d0, 14), Why: "score after 30m0s"}},
	}
	tr := newTracer()
	step := func(t0 int64) {
		tr.add("u", "meter", &detect.ChargingTrace{TS: t0, Event: "open", Start: t0})
		for m := int64(1); m <= 25; m++ {
			tr.add("u", "meter", &detect.ChargingTrace{TS: t0 + m*mn, Event: "judge", Reason: "fast: noisy", Start: t0, LevelW: 120, Held: time.Duration(m) * time.Minute})
			tr.add("u", "meter", &detect.ChargingTrace{TS: t0 + m*mn, Event: "score", Score: 1, Start: t0})
		}
		tr.add("u", "meter", &detect.ChargingTrace{TS: t0 + 26*mn, Event: "drop", Reason: "fell", Start: t0})
	}
	step(o.From - 3*60*mn) // the warm-up
	step(simtime.At(d0, 16))
	ls := &tr.explain(o, detect.DefaultPhysicsParams()).Late
	if ls.NOther != 1 || len(ls.OtherF) != 1 {
		t.Errorf("other steps %d (%d features), want the scored span's one", ls.NOther, len(ls.OtherF))
	}
	for a := range ls.ZAge {
		if n := len(ls.ZAge[a][2]); n != 1 {
			t.Errorf("scores of other steps at %d min: %d, want the scored span's one (as NOther)", zAgeMin[a], n)
		}
	}
}

// TestLateQuietShare: the quiet share of a late session's own step is its
// quiet readings over the readings it held (at the run's interval), as
// for the other steps, even when it was judged only every other reading.
func TestLateQuietShare(t *testing.T) {
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	mn := int64(60000)
	t0 := simtime.At(d0, 10)
	o := &Outcome{Interval: time.Minute, From: simtime.DayStart(d0), To: simtime.DayStart(d0 + 1),
		Units:    []UnitDays{{Unit: "u", Days: []DayTags{{Day: d0, Charging: true}}}},
		Episodes: []Episode{{Unit: "u", Start: t0, End: t0 + 4*60*mn, Scored: true, Alert: -1}},
		Alerts:   []Alert{{Unit: "u", Start: t0, Fired: t0 + 35*mn, Resolved: t0 + 4*60*mn, Why: "score after 35m0s"}},
	}
	tr := newTracer()
	tr.add("u", "meter", &detect.ChargingTrace{TS: t0, Event: "open", Start: t0})
	for m := int64(2); m <= 34; m += 2 {
		tr.add("u", "meter", &detect.ChargingTrace{TS: t0 + m*mn, Event: "judge", Reason: "fast: noisy", Start: t0, LevelW: 120,
			Held: time.Duration(m) * time.Minute, N: int(m / 2)})
	}
	tr.add("u", "meter", &detect.ChargingTrace{TS: t0 + 35*mn, Event: "fire", Start: t0})
	ls := &tr.explain(o, detect.DefaultPhysicsParams()).Late
	if len(ls.LateF) != 1 || ls.LateF[0].Quiet != 0.5 {
		t.Errorf("late features %+v, want one of quiet share 0.5 (10 quiet of 20 readings)", ls.LateF)
	}
}

// TestLateZAges: a step's score counts at each age it was still open:
// one fired by the early score at 15 minutes at 10 and 15 (its firing
// look), not at 20; one dropped at 12 minutes at 10 only; one never
// scored nowhere; one open throughout at each age, by its look then.
func TestLateZAges(t *testing.T) {
	mn := int64(60000)
	scores := []scoreRec{{10 * mn, 1}, {15 * mn, 3}, {20 * mn, 4}}
	var ls lateStats
	ls.zAges(&candLog{t0: 0, firedAt: 15 * mn, scores: scores}, 0)
	ls.zAges(&candLog{t0: 0, end: 12 * mn, scores: scores}, 1)
	ls.zAges(&candLog{t0: 0}, 2)
	ls.zAges(&candLog{t0: 0, scores: scores}, 2)
	want := [3][3][]float32{{{1}, {1}, {1}}, {{3}, nil, {3}}, {nil, nil, {4}}}
	if !reflect.DeepEqual(ls.ZAge, want) {
		t.Errorf("ZAge %v, want %v", ls.ZAge, want)
	}
}
