package eval

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/simulators/elec"
	"github.com/chargewatch/chargewatch/simulators/household"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// lateStats says, for the detected sessions whose alert fired
// MaxMedianTTD or more after their start, which step fired it and what
// the charge's own step was doing at MaxMedianTTD (--explain-misses), and
// compares the own steps' features then with the false alarms' steps at
// their fire.
type lateStats struct {
	Sessions, Late int
	Hist           [10]int        // detected sessions by TTD (lateBins)
	Fired          map[string]int // which step fired the late alert: own, stale, later, by path
	AtW, AtVar     map[string]int // the own step's state at MaxMedianTTD, per core
	Both           map[string]int // the two cores' states together
	RelW           map[string]int // the firing step × the own W step's state
	KnownW         map[string]int // what the memory said of the own W step's size at MaxMedianTTD
	// Cycler: for own W steps whose size the memory knew as a cycler,
	// the appliance of the home with the most runs under an hour within
	// 10% of that size in the three days before (the simulator's truth)
	Cycler map[string]int
	// Other: the W steps outside every session still open at
	// MaxMedianTTD of their age (look-alikes), by their fast path's state
	// then; OtherF their features then
	Other  map[string]int
	OtherF []stepFeat
	NOther int
	// ZAge: the score's log-odds at 10, 15 and 20 minutes of age (the
	// last traced look then) of the own W steps of late sessions [0], of
	// early ones [1] and of the W steps outside every session [2], each
	// counted only if still open (not ended, not fired) at that age
	ZAge [3][3][]float32
	// features: the own step (W core, open at MaxMedianTTD) of late and of
	// early (< MaxMedianTTD) sessions at that age; the false alarms' steps
	// at their fire
	LateF, EarlyF, FAF []stepFeat
}

// lateBins are the bounds (min) of lateStats.Hist's bins.
var lateBins = []int64{5, 10, 15, 19, 20, 21, 23, 30, 60}

// stepFeat is a step's state at one judgement.
type stepFeat struct {
	Held, Quiet, T, Rise, Noise, Z, VarPerW, LevelW float64
	Path, Why                                       string
}

func (ls *lateStats) merge(o *lateStats) {
	ls.Sessions += o.Sessions
	ls.Late += o.Late
	for i, v := range o.Hist {
		ls.Hist[i] += v
	}
	for _, p := range []struct{ d, s *map[string]int }{{&ls.Fired, &o.Fired}, {&ls.AtW, &o.AtW}, {&ls.AtVar, &o.AtVar}, {&ls.Both, &o.Both}, {&ls.RelW, &o.RelW}, {&ls.KnownW, &o.KnownW}, {&ls.Other, &o.Other}, {&ls.Cycler, &o.Cycler}} {
		if *p.d == nil {
			*p.d = map[string]int{}
		}
		for k, v := range *p.s {
			(*p.d)[k] += v
		}
	}
	ls.LateF = append(ls.LateF, o.LateF...)
	ls.EarlyF = append(ls.EarlyF, o.EarlyF...)
	ls.FAF = append(ls.FAF, o.FAF...)
	ls.OtherF = append(ls.OtherF, o.OtherF...)
	for a := range ls.ZAge {
		for g := range ls.ZAge[a] {
			ls.ZAge[a][g] = append(ls.ZAge[a][g], o.ZAge[a][g]...)
		}
	}
	ls.NOther += o.NOther
}

// late fills ex.Late from the run's decisions.
func (t *tracer) late(o *Outcome, ex *Explanation, iv int64) {
	ls := &ex.Late
	ls.Fired, ls.AtW, ls.AtVar, ls.Both = map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	ls.RelW, ls.KnownW, ls.Other, ls.Cycler = map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	eps := episodesByUnit(o)
	for unit, cs := range t.cands {
		for _, c := range cs {
			if c.v || inSession(eps[unit], c.t0, iv) {
				continue
			}
			if c.t0 < o.From {
				continue // the warm-up: not scored, as the sessions
			}
			ls.zAges(c, 2)
			at := c.t0 + MaxMedianTTD.Milliseconds()
			if c.end > 0 && c.end <= at || c.firedAt > 0 && c.firedAt < at {
				continue
			}
			last := c.judgeAt(at)
			if last == nil {
				continue
			}
			ls.NOther++
			ls.Other["open: "+last.why]++
			f := feat(last, c, nil, at, iv)
			f.Why = last.why
			ls.OtherF = append(ls.OtherF, f)
		}
	}
	lim := MaxMedianTTD.Milliseconds()
	hit := match(o)
	for i := range o.Episodes {
		e := &o.Episodes[i]
		if !e.Scored || !e.Detected {
			continue
		}
		ls.Sessions++
		b := 0
		for b < len(lateBins) && e.TTD >= lateBins[b]*60000 {
			b++
		}
		ls.Hist[b]++
		a := &o.Alerts[e.Alert]
		at := e.Start + lim
		from, to := ownWindow(e, iv)
		// the own steps: opened near the start, on either core
		var own [2]*candLog
		lost := [2]string{}
		for _, c := range t.cands[e.Unit] {
			if c.t0 < from || c.t0 > to || c.openedAt > at {
				continue
			}
			k := 0
			if c.v {
				k = 1
			}
			alive := (c.end == 0 || c.end > at) && (c.firedAt == 0 || c.firedAt >= at)
			if c.firedAt > 0 && c.firedAt < at {
				alive = true // fired before: the session's alert is another
			}
			switch {
			case alive:
				if own[k] == nil || c.t0 < own[k].t0 {
					own[k] = c
				}
			case lost[k] == "":
				lost[k] = "lost before: " + c.endWhy
			}
		}
		if c := own[0]; c != nil {
			g := 0
			if e.TTD < lim {
				g = 1
			}
			ls.zAges(c, g)
		}
		if e.TTD < lim {
			if c := own[0]; c != nil {
				if f, ok := featAt(c, own[1], at, iv); ok {
					f.Path = pathOf(a.Why)
					ls.EarlyF = append(ls.EarlyF, f)
				}
			}
			continue
		}
		ls.Late++
		// the step that fired the alert
		var fc *candLog
		for _, c := range t.cands[e.Unit] {
			if c.firedAt == a.Fired && (fc == nil || abs64(c.t0-a.Start) < abs64(fc.t0-a.Start)) {
				fc = c
			}
		}
		rel := "not found"
		switch {
		case fc == nil:
		case fc.t0 < from:
			rel = "stale step (opened before the plug-in)"
		case fc.t0 <= to:
			rel = "own step"
		default:
			rel = "step opened > 10 min after the plug-in"
		}
		if a.Fired-e.Start < lim+3*60000 {
			rel += ", fired < 23 min"
		}
		ls.Fired[rel+" × "+pathOf(a.Why)]++
		state := func(k int) string {
			c := own[k]
			if c == nil {
				if lost[k] != "" {
					return lost[k]
				}
				return "never opened" + t.edgeWhy(e.Unit, from, to, k == 1)
			}
			if c.firedAt > 0 && c.firedAt < at {
				return "fired before (alert matched elsewhere)"
			}
			last := c.judgeAt(at)
			if last == nil {
				return "open, not judged (level not settled)"
			}
			return "open: " + last.why
		}
		sw, sv := state(0), state(1)
		r0, _, _ := strings.Cut(rel, ",")
		ls.RelW[r0+" | "+sw]++
		kn := "no own W step open"
		if c := own[0]; c != nil {
			kn = "not judged"
			if j := c.judgeAt(at); j != nil {
				kn = "memory: " + j.known
			}
			if kn == "memory: cycler" {
				ls.Cycler[o.lookalike(e.Unit, e.Start, c.levelAt(at))]++
			}
		}
		ls.KnownW[kn+" | "+sw]++
		ls.AtW[sw]++
		pf := "PF unknown"
		switch {
		case e.PF >= 0.9:
			pf = "PF >= 0.9 (PFC charger)"
		case e.PF > 0:
			pf = "PF < 0.9"
		}
		ls.AtVar[sv+" ("+pf+")"]++
		ls.Both[sw+" | "+sv]++
		if c := own[0]; c != nil && c.firedAt == 0 || c != nil && c.firedAt >= at {
			if f, ok := featAt(c, own[1], at, iv); ok {
				f.Path = pathOf(a.Why)
				ls.LateF = append(ls.LateF, f)
			}
		}
	}
	for ai := range o.Alerts {
		a := &o.Alerts[ai]
		if hit[ai] >= 0 || chargingDay(o, a.Unit, a.Fired) {
			continue
		}
		for _, c := range t.cands[a.Unit] {
			if c.firedAt == a.Fired && !c.v {
				f := feat(&c.fire, c, nil, a.Fired, iv)
				f.Path = pathOf(a.Why)
				ls.FAF = append(ls.FAF, f)
				break
			}
		}
	}
}

// zAgeMin are the ages (min) of lateStats.ZAge.
var zAgeMin = [3]int64{10, 15, 20}

// zAges records candidate c's score at each of zAgeMin if it was open then.
func (ls *lateStats) zAges(c *candLog, g int) {
	for a, m := range zAgeMin {
		at := c.t0 + m*60000
		if c.end > 0 && c.end <= at || c.firedAt > 0 && c.firedAt < at {
			continue
		}
		z, ok := float32(0), false
		for _, s := range c.scores {
			if s.ts > at {
				break
			}
			z, ok = s.z, true
		}
		if ok {
			ls.ZAge[a][g] = append(ls.ZAge[a][g], z)
		}
	}
}

// levelAt is the step's level at its last judgement at or before at.
func (c *candLog) levelAt(at int64) float64 {
	if j := c.judgeAt(at); j != nil {
		return float64(j.levelW)
	}
	return 0
}

// judgeAt is the step's last judgement at or before at; nil if none.
func (c *candLog) judgeAt(at int64) *judgeRec {
	var last *judgeRec
	for j := range c.judges {
		if c.judges[j].ts > at {
			break
		}
		last = &c.judges[j]
	}
	return last
}

// lookalike names the appliance of unit with the most runs under an hour
// within 10% of w watts in the three days before ts.
func (o *Outcome) lookalike(unit string, ts int64, w float64) string {
	u := o.hh[unit]
	if u == nil || w <= 0 {
		return "unknown"
	}
	n := map[string]int{}
	var segs []elec.Segment
	for d := simtime.DayOf(ts) - 3; d <= simtime.DayOf(ts); d++ {
		segs = u.Day(d, segs[:0])
		for i := range segs {
			sg := &segs[i]
			app := household.Appliance(sg.Tag)
			if app == household.Base || sg.End > ts || sg.End-sg.Start >= 3600000 {
				continue
			}
			if math.Abs(sg.Shape(sg.Start+60000)-w) <= 0.1*w {
				n[app.String()]++
			}
		}
	}
	best, bn := "none of its size", 0
	for k, v := range n {
		if v > bn || v == bn && k < best {
			best, bn = k, v
		}
	}
	return best
}

// edgeWhy says why no step opened at a session's start on a core.
func (t *tracer) edgeWhy(unit string, from, to int64, v bool) string {
	why := map[string]bool{}
	for _, g := range t.edges[unit] {
		if g.ts >= from && g.ts <= to && g.v == v {
			why[g.why] = true
		}
	}
	if len(why) == 0 {
		return ": no edge seen"
	}
	return ": edge " + strings.Join(slices.Sorted(maps.Keys(why)), "+")
}

// featAt is the W step c's last judgement at or before at (with the var
// step's level for its var per watt), at readings every iv ms.
func featAt(c, cv *candLog, at, iv int64) (stepFeat, bool) {
	last := c.judgeAt(at)
	if last == nil {
		return stepFeat{}, false
	}
	f := feat(last, c, cv, at, iv)
	f.Why = last.why
	return f, true
}

func feat(j *judgeRec, c, cv *candLog, at, iv int64) stepFeat {
	f := stepFeat{Held: float64(j.held), T: float64(j.t), Rise: float64(j.r), Noise: float64(j.noise), LevelW: float64(j.levelW),
		Z: math.NaN(), VarPerW: math.NaN(), Quiet: math.NaN()}
	if iv > 0 && j.held > 0 {
		f.Quiet = float64(j.n) / (float64(j.held) * 60000 / float64(iv))
	}
	for _, s := range c.scores {
		if s.ts > at {
			break
		}
		f.Z = float64(s.z)
	}
	if cv != nil && j.levelW > 0 {
		if jv := cv.judgeAt(at); jv != nil {
			f.VarPerW = float64(jv.levelW) / float64(j.levelW)
		}
	}
	return f
}

func (ls *lateStats) write(w io.Writer, iv time.Duration) {
	if ls.Sessions == 0 {
		return
	}
	fmt.Fprintf(w, "\nLATE DETECTIONS, readings every %s: %d of %d detected sessions found %.0f min or more after their start\n",
		fmtInterval(iv), ls.Late, ls.Sessions, MaxMedianTTD.Minutes())
	fmt.Fprintf(w, "detected sessions by TTD (min):")
	for i, v := range ls.Hist {
		lo := "0"
		if i > 0 {
			lo = fmt.Sprint(lateBins[i-1])
		}
		hi := "+"
		if i < len(lateBins) {
			hi = fmt.Sprint("-", lateBins[i])
		}
		fmt.Fprintf(w, " [%s%s) %d", lo, hi, v)
	}
	fmt.Fprintln(w)
	table := func(title string, m map[string]int, top int) {
		fmt.Fprintf(w, "%s\n", title)
		for i, k := range byCount(m) {
			if i >= top {
				break
			}
			fmt.Fprintf(w, "%5d  %4.1f%%  %s\n", m[k], 100*float64(m[k])/float64(max(ls.Late, 1)), k)
		}
	}
	table("the step that fired the late alert × its path", ls.Fired, 40)
	table(fmt.Sprintf("the charge's own step (W) at %.0f min", MaxMedianTTD.Minutes()), ls.AtW, 40)
	table(fmt.Sprintf("the charge's own step (var) at %.0f min", MaxMedianTTD.Minutes()), ls.AtVar, 40)
	table("both cores", ls.Both, 30)
	table("the firing step | the own W step at MaxMedianTTD", ls.RelW, 30)
	table("the memory of the own W step's size | its state", ls.KnownW, 30)
	table("own W steps whose size the memory knew as a cycler: the home's appliance of that size running under an hour in the 3 days before", ls.Cycler, 20)
	fmt.Fprintf(w, "W steps outside every session open at %.0f min of age: %d, by their state then (share of the late sessions' count)\n", MaxMedianTTD.Minutes(), ls.NOther)
	table("", ls.Other, 20)
	q := func(fs []stepFeat, get func(*stepFeat) float64) string {
		var v []float64
		for i := range fs {
			if x := get(&fs[i]); !math.IsNaN(x) {
				v = append(v, x)
			}
		}
		if len(v) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.3g/%.3g/%.3g/%.3g/%.3g (n %d)", quantile(v, 0.1), quantile(v, 0.25), quantile(v, 0.5), quantile(v, 0.75), quantile(v, 0.9), len(v))
	}
	only := func(fs []stepFeat, why string) []stepFeat {
		var out []stepFeat
		for _, f := range fs {
			if f.Why == why {
				out = append(out, f)
			}
		}
		return out
	}
	for _, why := range []string{"fast: noisy", "fast: start-up peak or not clean"} {
		lf, of := only(ls.LateF, why), only(ls.OtherF, why)
		fmt.Fprintf(w, "%q at %.0f min: late own steps vs other steps\n", why, MaxMedianTTD.Minutes())
		for _, g := range []struct {
			name string
			get  func(*stepFeat) float64
		}{
			{"quiet share", func(f *stepFeat) float64 { return f.Quiet }},
			{"noise", func(f *stepFeat) float64 { return f.Noise }},
			{"score z", func(f *stepFeat) float64 { return f.Z }},
			{"level W", func(f *stepFeat) float64 { return f.LevelW }},
		} {
			fmt.Fprintf(w, "  %-12s late %s\n  %-12s other %s\n", g.name, q(lf, g.get), "", q(of, g.get))
		}
	}
	fmt.Fprintf(w, "score z at %.0f min at or over: own W steps of late sessions / of early sessions / other W steps open then\n", MaxMedianTTD.Minutes())
	for _, z0 := range []float64{-3, -2, -1, 0, 1, 2, 3} {
		cnt := func(fs []stepFeat) int {
			n := 0
			for i := range fs {
				if fs[i].Z >= z0 {
					n++
				}
			}
			return n
		}
		fmt.Fprintf(w, "  %+.0f: %d / %d / %d\n", z0, cnt(ls.LateF), cnt(ls.EarlyF), cnt(ls.OtherF))
	}
	fmt.Fprintf(w, "score z at 10 / 15 / 20 min of a step's age (open then) at or over: own W steps of late sessions, of early sessions, W steps outside sessions\n")
	for _, z0 := range []float32{-1, 0, 1, 2, 2.94, 3.48} {
		fmt.Fprintf(w, "  %+5.2f:", z0)
		for a := range ls.ZAge {
			var n [3]int
			for g := range ls.ZAge[a] {
				for _, z := range ls.ZAge[a][g] {
					if z >= z0 {
						n[g]++
					}
				}
			}
			fmt.Fprintf(w, "   %d min %d/%d/%d", zAgeMin[a], n[0], n[1], n[2])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  (open then:")
	for a := range ls.ZAge {
		fmt.Fprintf(w, "   %d min %d/%d/%d", zAgeMin[a], len(ls.ZAge[a][0]), len(ls.ZAge[a][1]), len(ls.ZAge[a][2]))
	}
	fmt.Fprintln(w, ")")
	fmt.Fprintf(w, "step features p10/p25/p50/p75/p90: own W step at %.0f min of late and early sessions; false alarms' W steps at their fire\n", MaxMedianTTD.Minutes())
	for _, g := range []struct {
		name string
		get  func(*stepFeat) float64
	}{
		{"held (min)", func(f *stepFeat) float64 { return f.Held }},
		{"quiet share", func(f *stepFeat) float64 { return f.Quiet }},
		{"rise t", func(f *stepFeat) float64 { return f.T }},
		{"rise /h", func(f *stepFeat) float64 { return f.Rise }},
		{"noise", func(f *stepFeat) float64 { return f.Noise }},
		{"score z", func(f *stepFeat) float64 { return f.Z }},
		{"var per W", func(f *stepFeat) float64 { return f.VarPerW }},
		{"level W", func(f *stepFeat) float64 { return f.LevelW }},
	} {
		fmt.Fprintf(w, "  %-12s late %s\n  %-12s early %s\n  %-12s FA %s\n  %-12s other %s\n", g.name, q(ls.LateF, g.get), "", q(ls.EarlyF, g.get), "", q(ls.FAF, g.get), "", q(ls.OtherF, g.get))
	}
}
