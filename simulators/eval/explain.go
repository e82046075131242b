package eval

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/simulators/elec"
	"github.com/chargewatch/chargewatch/simulators/household"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// Explanation says, for one run, why each missed session was missed and
// which path fired each false alarm (Options.Explain; off by default: it
// records every decision of the detector).
type Explanation struct {
	Misses map[string]int // reason: missed scored sessions
	// Paths counts the alerts by the path that fired them: true ones
	// (overlapping a session), false alarms (on charger-free days) and
	// those overlapping no session on days with charging (FalseCharging).
	Paths map[string][3]int
	// TTD holds, by the path of the alert that detected it, the time to
	// detect of every scored detected session (ms), and Age the age of
	// the alert's step when it fired (ms): the wait of the path itself.
	TTD, Age map[string][]int64
	// Late: the detected sessions found MaxMedianTTD or more after their
	// start, and what stopped an earlier confirmation (late.go).
	Late lateStats
	// Held are the missed sessions whose candidate held until the session
	// ended, with the best the detector saw of them.
	Held []HeldMiss
	// Class is, per episode of the outcome (same index), why it was missed
	// ("" when detected or not scored).
	Class []string
}

// HeldMiss is a missed session whose candidate step held to its end.
type HeldMiss struct {
	Unit     string
	Var      bool
	Held     time.Duration
	MaxT     float64 // highest t statistic of the rise while it was judged
	RiseAtT  float64 // relative rise per hour at that time
	Noise    float64 // relative noise at the session's end
	LevelW   float64
	PlateauW float64
	FastWhy  string // why the fast paths did not confirm it, at the session's end
}

// candLog is what the detector did with one candidate step.
type candLog struct {
	dev      string
	v        bool
	t0       int64
	end      int64  // drop, fire or end event; 0 while open
	endEv    string // its event
	endWhy   string
	judges   []judgeRec
	levelW   float64
	firedAt  int64
	openedAt int64
	fire     judgeRec   // the step at its fire (late.go)
	scores   []scoreRec // its score's log-odds at each traced look (ScoreTrace 1)
}

type scoreRec struct {
	ts int64
	z  float32
}

type judgeRec struct {
	ts           int64
	t, r, noise  float32
	held, levelW float32
	n            uint16 // quiet readings since its start
	why, known   string
}

type edgeRec struct {
	ts  int64
	why string
	v   bool
	d   float32
}

// tracer collects the decisions of a run's detectors per unit.
type tracer struct {
	cands map[string][]*candLog // unit: its candidates, in order of opening
	open  map[string]*candLog   // device/core/t0: a candidate not ended
	edges map[string][]edgeRec  // unit: up-changes not followed
}

func newTracer() *tracer {
	return &tracer{cands: map[string][]*candLog{}, open: map[string]*candLog{}, edges: map[string][]edgeRec{}}
}

func (t *tracer) add(unit, dev string, tr *detect.ChargingTrace) {
	key := fmt.Sprintf("%s/%v/%d", dev, tr.Var, tr.Start)
	switch tr.Event {
	case "edge":
		t.edges[unit] = append(t.edges[unit], edgeRec{ts: tr.TS, why: tr.Reason, v: tr.Var, d: float32(tr.StepW)})
	case "open":
		c := &candLog{dev: dev, v: tr.Var, t0: tr.Start, openedAt: tr.TS}
		t.cands[unit] = append(t.cands[unit], c)
		t.open[key] = c
	case "judge":
		if c := t.open[key]; c != nil {
			c.judges = append(c.judges, judgeRec{ts: tr.TS, t: float32(tr.RiseT), r: float32(tr.Rise), noise: float32(tr.Noise),
				held: float32(tr.Held.Minutes()), levelW: float32(tr.LevelW), n: uint16(min(tr.N, 65535)), why: tr.Reason, known: tr.Known})
			c.levelW = tr.LevelW
		}
	case "score":
		if c := t.open[key]; c != nil {
			c.scores = append(c.scores, scoreRec{ts: tr.TS, z: float32(tr.Score)})
		}
	case "fire":
		if c := t.open[key]; c != nil {
			c.firedAt = tr.TS
			c.levelW = tr.LevelW
			c.fire = judgeRec{ts: tr.TS, t: float32(tr.RiseT), r: float32(tr.Rise), noise: float32(tr.Noise),
				held: float32(tr.Held.Minutes()), levelW: float32(tr.LevelW), n: uint16(min(tr.N, 65535)), why: tr.Reason}
		}
	case "drop", "end":
		if c := t.open[key]; c != nil {
			c.end, c.endEv, c.endWhy = tr.TS, tr.Event, tr.Reason
			delete(t.open, key)
		}
	}
}

// explain classifies the missed sessions of an outcome and counts its
// alerts by path.
func (t *tracer) explain(o *Outcome, p detect.PhysicsParams) *Explanation {
	ex := &Explanation{Misses: map[string]int{}, Paths: map[string][3]int{}, TTD: map[string][]int64{}, Age: map[string][]int64{},
		Class: make([]string, len(o.Episodes))}
	hit := match(o)
	for ai := range o.Alerts {
		a := &o.Alerts[ai]
		path := pathOf(a.Why)
		n := ex.Paths[path]
		switch {
		case hit[ai] >= 0:
			n[0]++
		default:
			switch charging, scored := dayOf(o, a.Unit, a.Fired); {
			case !scored:
			case !charging:
				n[1]++
			default:
				n[2]++
			}
		}
		ex.Paths[path] = n
	}
	iv := o.Interval.Milliseconds()
	t.late(o, ex, iv)
	for i := range o.Episodes {
		e := &o.Episodes[i]
		if !e.Scored {
			continue
		}
		if e.Detected {
			a := &o.Alerts[e.Alert]
			path := pathOf(a.Why)
			ex.TTD[path] = append(ex.TTD[path], e.TTD)
			ex.Age[path] = append(ex.Age[path], a.Fired-a.Start)
			continue
		}
		ex.Class[i] = t.classify(e, iv, p, ex)
		ex.Misses[ex.Class[i]]++
	}
	return ex
}

// ownWindow is the span in which a session's own steps open, at readings
// every iv ms: from two readings before its start to ten minutes after
// (classify, late).
func ownWindow(e *Episode, iv int64) (from, to int64) {
	return e.Start - 2*iv, e.Start + 10*60000
}

func chargingDay(o *Outcome, unit string, ts int64) bool {
	charging, scored := dayOf(o, unit, ts)
	return charging || !scored // not a scored day: not counted as a false alarm
}

// dayOf says whether unit charged on the day of ts, and whether that day
// is scored (false: an alert then counts nowhere).
func dayOf(o *Outcome, unit string, ts int64) (charging, scored bool) {
	for _, u := range o.Units {
		if u.Unit != unit {
			continue
		}
		for _, d := range u.Days {
			if d.Day == simtime.DayOf(ts) {
				return d.Charging, true
			}
		}
	}
	return false, false
}

// classify says what happened to the candidates of a missed session: the
// step that got furthest among those opened within ten minutes of its start
// (on either core, meter or plug).
func (t *tracer) classify(e *Episode, iv int64, p detect.PhysicsParams, ex *Explanation) string {
	from, to := ownWindow(e, iv)
	var best *candLog
	rank := func(c *candLog) (int, int64) {
		held := c.end
		if held == 0 {
			held = e.End
		}
		switch {
		case c.firedAt > 0:
			return 3, 0
		case c.end == 0 || c.end >= e.End-10*60000:
			return 2, held - c.t0
		}
		return 1, held - c.t0
	}
	for _, c := range t.cands[e.Unit] {
		if c.t0 < from || c.t0 > to {
			continue
		}
		if best == nil {
			best = c
			continue
		}
		r1, h1 := rank(c)
		r0, h0 := rank(best)
		if r1 > r0 || r1 == r0 && h1 > h0 {
			best = c
		}
	}
	if best == nil {
		why := map[string]bool{}
		var big float32
		for _, g := range t.edges[e.Unit] {
			if g.ts >= from && g.ts <= to && !g.v {
				why[g.why] = true
				if g.why == "band" {
					big = max(big, g.d)
				}
			}
		}
		switch {
		case why["no room"]:
			return "never opened: no candidate slot free"
		case why["band"] && big > 300:
			return "never opened: up-edge over the band (with another load)"
		case why["band"]:
			return "never opened: up-edge under the band"
		case why["small"]:
			return "never opened: step under the edge threshold (busy home)"
		}
		return "never opened: no up-step seen (split over readings, masked, or a gap)"
	}
	core := "W"
	if best.v {
		core = "var"
	}
	r, _ := rank(best)
	switch r {
	case 3:
		return "confirmed after the session ended (" + core + ")"
	case 1:
		if best.end < e.PlateauEnd-10*60000 {
			return "opened, lost on the plateau: " + best.endWhy + " (" + core + ")"
		}
		return "opened, held through the plateau, lost in the taper/float: " + best.endWhy + " (" + core + ")" + riseBucket(best, e.PlateauEnd, p)
	}
	// held to the session's end: the best it showed, and its state then
	var last *judgeRec
	maxT, rAt := float32(-1e9), float32(0)
	for i := range best.judges {
		j := &best.judges[i]
		if j.ts > e.End {
			break
		}
		last = j
		if j.held >= float32(p.SlowHold.Minutes()) && j.t > maxT {
			maxT, rAt = j.t, j.r
		}
	}
	if last == nil {
		return "held, never judged (level not settled) (" + core + ")"
	}
	hm := HeldMiss{Unit: e.Unit, Var: best.v, Held: time.Duration(last.held) * time.Minute, MaxT: float64(maxT), RiseAtT: float64(rAt),
		Noise: float64(last.noise), LevelW: float64(last.levelW), PlateauW: e.PlateauW, FastWhy: last.why}
	ex.Held = append(ex.Held, hm)
	maxRise := p.MaxRise
	if best.v {
		maxRise = p.VarMaxRise
	}
	switch {
	case last.why == "level":
		return "held, level out of the band (" + core + ")"
	case last.held < float32(p.SlowHold.Minutes()):
		return "held, ended before the rise is judged (" + core + "); fast: " + strings.TrimPrefix(last.why, "fast: ")
	case maxT < 2:
		return "held, rise t < 2 (" + core + ")"
	case maxT < float32(p.RiseT) && float64(rAt) <= maxRise:
		return fmt.Sprintf("held, rise t 2-%.2f (%s)", p.RiseT, core)
	case float64(rAt) > maxRise:
		return "held, rise too steep (" + core + ")"
	}
	return "held, other (" + core + ")"
}

// riseBucket says how far the rise of a candidate got while it was on its
// plateau (until the taper began).
func riseBucket(c *candLog, until int64, p detect.PhysicsParams) string {
	maxT := float32(-1e9)
	for i := range c.judges {
		j := &c.judges[i]
		if j.ts > until {
			break
		}
		if j.held >= float32(p.SlowHold.Minutes()) && j.t > maxT {
			maxT = j.t
		}
	}
	switch {
	case maxT < -1e8:
		return ", held < SlowHold"
	case maxT < 2:
		return ", best rise t < 2"
	}
	return ", best rise t >= 2"
}

// WriteExplanation prints the miss reasons and the alerts by path of every
// interval, summed over the cities, then the same for the semi-synthetic
// set where it was explained, with its sessions one by one.
func WriteExplanation(w io.Writer, r *Result) {
	for _, iv := range r.Intervals {
		writeExplained(w, iv, "", r.Runs[iv])
	}
	for _, iv := range r.Intervals {
		if semi := r.Semi[iv]; semi != nil && semi.Explain != nil {
			writeExplained(w, iv, "SEMI-SYNTHETIC ", []*Outcome{semi})
			writeSemiSessions(w, semi)
		}
	}
}

// writeExplained prints the explanation of one interval's outcomes; label
// ("" for the simulated set) heads each block.
func writeExplained(w io.Writer, iv time.Duration, label string, outs []*Outcome) {
	misses := map[string]int{}
	paths := map[string][3]int{}
	ttd, age := map[string][]int64{}, map[string][]int64{}
	var held []HeldMiss
	var late lateStats
	for _, o := range outs {
		if o.Explain == nil {
			continue
		}
		for k, v := range o.Explain.Misses {
			misses[k] += v
		}
		for k, v := range o.Explain.Paths {
			n := paths[k]
			n[0] += v[0]
			n[1] += v[1]
			n[2] += v[2]
			paths[k] = n
		}
		for k, v := range o.Explain.TTD {
			ttd[k] = append(ttd[k], v...)
			age[k] = append(age[k], o.Explain.Age[k]...)
		}
		held = append(held, o.Explain.Held...)
		late.merge(&o.Explain.Late)
	}
	fmt.Fprintf(w, "\n%sMISSED SESSIONS, readings every %s: what happened to the candidate that got furthest\n", label, fmtInterval(iv))
	total := 0
	for _, v := range misses {
		total += v
	}
	for _, k := range byCount(misses) {
		fmt.Fprintf(w, "%5d  %4.1f%%  %s\n", misses[k], 100*float64(misses[k])/float64(max(total, 1)), k)
	}
	fmt.Fprintf(w, "%5d         missed in all\n", total)
	fmt.Fprintf(w, "\n%sALERTS BY PATH, readings every %s: true / false alarms (charger-free days) / overlapping no session on days with charging\n", label, fmtInterval(iv))
	pk := slices.Sorted(maps.Keys(paths))
	for _, k := range pk {
		fmt.Fprintf(w, "%5d / %3d / %3d  %s\n", paths[k][0], paths[k][1], paths[k][2], k)
	}
	if label != "" {
		return // the time-to-detect blocks are read by scripts: the simulated set's only
	}
	writeTTDByPath(w, iv, ttd, age)
	late.write(w, iv)
	if len(held) > 0 {
		var ts []float64
		for _, h := range held {
			ts = append(ts, h.MaxT)
		}
		slices.Sort(ts)
		fmt.Fprintf(w, "held to the end and missed: %d; their best rise t: p25 %.1f, median %.1f, p75 %.1f\n",
			len(held), ts[len(ts)/4], ts[len(ts)/2], ts[3*len(ts)/4])
	}
}

// FalseAlarm is one false alarm (an alert that overlaps no session, fired
// on a charger-free unit-day, as Score counts it) with what the
// simulator's ground truth says the unit's appliances were doing.
type FalseAlarm struct {
	Unit     string
	Interval time.Duration
	Path     string // the path that fired it ("rise (var)", "known charger", ...)
	Why      string // the detector's reason and features at the fire
	Start    int64  // the detector's estimate of the step's start
	Fired    int64
	Resolved int64   // 0 if still open at the end of the run
	StepW    float64 // the alert's plateau power over the background
	ChargerW float64 // the plateau of the unit's charger (largest), 0 if it charges no bike
	// Switched are the appliances that came on or went off within Near of
	// the estimated start; AtStart the others on at the start; AtFire
	// those on at the fire, or that switched within Near of it.
	Switched, AtStart, AtFire []Load
	Cause                     string // the appliance that most likely made the step (see cause)

	// Of an alert on a day with charging (falseCharging; see relate):
	// Relation is AfterUnplug or Unrelated, Step (AfterUnplug only) where
	// its step began against the session (ChargerStep, OlderStep,
	// ChargeStep); Session the unit's session it is measured against (-1:
	// the unit has none), and Gap its fire - that session's end, ms
	// (negative: the session began after the fire).
	Relation, Step     string
	Session            int
	SessStart, SessEnd int64
	Gap                int64
}

// The relations of an alert that overlaps no session on a day with
// charging to the unit's sessions (FalseAlarm.Relation), and where the
// step of one after an unplug began (FalseAlarm.Step).
const (
	// AfterUnplug: its step was open when a session of the unit ended
	// (estimated start before the unplug) and it fired after the unplug.
	AfterUnplug = "after an unplug"
	// Unrelated: its step began after the unit's last unplug before its
	// fire, or the unit had none before it.
	Unrelated = "unrelated"

	ChargerStep = "the charger's step"         // began within Near of a charge's start: the plug-in
	OlderStep   = "an older step"              // began before the session
	ChargeStep  = "a step begun in the charge" // began during the session, not at a plug-in
)

// relate measures a charging day's unmatched alert against the unit's
// sessions (scored or not; it overlaps none of them). The session that
// ended last before its fire: if its step was open at that unplug (the
// estimated start before the session's end) the alert is AfterUnplug, its
// step the charger's (within near ms of a charge's start), older than the
// session or begun during it; else, or if the unit had no session before
// the fire (measured then against the first after), Unrelated.
func relate(fa *FalseAlarm, o *Outcome, near int64) {
	fa.Relation, fa.Step, fa.Session = Unrelated, "", -1
	before, after := -1, -1
	for i := range o.Episodes {
		e := &o.Episodes[i]
		if e.Unit != fa.Unit {
			continue
		}
		if e.End <= fa.Fired && (before < 0 || e.End > o.Episodes[before].End) {
			before = i
		}
		if e.Start > fa.Fired && (after < 0 || e.Start < o.Episodes[after].Start) {
			after = i
		}
	}
	fa.Session = before
	if before < 0 {
		fa.Session = after
	}
	if fa.Session < 0 {
		return
	}
	e := &o.Episodes[fa.Session]
	fa.SessStart, fa.SessEnd, fa.Gap = e.Start, e.End, fa.Fired-e.End
	if before < 0 || fa.Start > e.End {
		return
	}
	fa.Relation, fa.Step = AfterUnplug, ChargeStep
	starts := e.Starts
	if len(starts) == 0 {
		starts = []int64{e.Start}
	}
	for _, st := range starts {
		if abs64(fa.Start-st) <= near {
			fa.Step = ChargerStep
		}
	}
	if fa.Step != ChargerStep && fa.Start < e.Start {
		fa.Step = OlderStep
	}
}

// Load is an appliance segment of the simulator's ground truth.
type Load struct {
	App     string
	W       float64 // its power at the estimated start (or at its own start when it came on later)
	On, Off int64
}

// Near is how close to an alert's estimated start an appliance must switch
// to be listed as switching there (at least two reading intervals).
const Near = 3 * time.Minute

// falseAlarms lists the false alarms of an outcome with the appliances
// behind them.
func falseAlarms(o *Outcome) []FalseAlarm { return unmatched(o, false) }

// falseCharging lists the alerts of an outcome that overlap no session on
// a unit-day with charging (Figures.FalseCharging), as falseAlarms does,
// each with the unit's session nearest its fire (see relate).
func falseCharging(o *Outcome) []FalseAlarm { return unmatched(o, true) }

// unmatched lists the alerts of an outcome that overlap no session and
// fired on a scored unit-day with charging (charging true) or without.
func unmatched(o *Outcome, charging bool) []FalseAlarm {
	hit := match(o)
	days := map[string]map[int64]bool{} // unit: day: charging
	for _, u := range o.Units {
		m := map[int64]bool{}
		for _, d := range u.Days {
			m[d.Day] = d.Charging
		}
		days[u.Unit] = m
	}
	chargerW := map[string]float64{}
	for i := range o.Episodes {
		e := &o.Episodes[i]
		chargerW[e.Unit] = max(chargerW[e.Unit], e.PlateauW)
	}
	near := max(Near.Milliseconds(), 2*o.Interval.Milliseconds())
	var out []FalseAlarm
	for ai := range o.Alerts {
		a := &o.Alerts[ai]
		ch, ok := days[a.Unit][simtime.DayOf(a.Fired)]
		if !ok || ch != charging || hit[ai] >= 0 {
			continue
		}
		fa := FalseAlarm{Unit: a.Unit, Interval: o.Interval, Path: pathOf(a.Why), Why: a.Why, Start: a.Start, Fired: a.Fired,
			Resolved: a.Resolved, StepW: a.StepW, ChargerW: chargerW[a.Unit]}
		if charging {
			relate(&fa, o, near)
		}
		if u := o.hh[a.Unit]; u != nil {
			var segs []elec.Segment
			for d := simtime.DayOf(a.Start) - 1; d <= simtime.DayOf(a.Fired); d++ {
				segs = u.Day(d, segs)
			}
			for i := range segs {
				s := &segs[i]
				app := household.Appliance(s.Tag)
				if app == household.Base {
					continue
				}
				ld := Load{App: app.String(), On: s.Start, Off: s.End, W: s.Shape(max(s.Start, a.Start))}
				switch {
				case abs64(s.Start-a.Start) <= near || abs64(s.End-a.Start) <= near:
					fa.Switched = append(fa.Switched, ld)
				case s.Start < a.Start && s.End > a.Start:
					fa.AtStart = append(fa.AtStart, ld)
				}
				if s.Start-near <= a.Fired && s.End+near > a.Fired {
					ld.W = s.Shape(max(s.Start, a.Fired))
					fa.AtFire = append(fa.AtFire, ld)
				}
			}
		}
		fa.Cause = cause(&fa)
		out = append(out, fa)
	}
	return out
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// pathOf is the path of an alert's reason: what precedes " after ".
func pathOf(why string) string {
	if i := strings.Index(why, " after "); i >= 0 {
		why = why[:i]
	}
	if why == "" {
		return "(no trace)"
	}
	return why
}

// cause names the appliance that most likely made a false alarm's step:
// of those that came on near its estimated start, the one whose power is
// nearest the alert's plateau ("+" joins a second one that came on too
// when the two together are nearer); "none on" when none came on (the step
// was made of loads that switched earlier or a load that went off).
func cause(fa *FalseAlarm) string {
	var ons []Load
	for _, l := range fa.Switched {
		if abs64(l.On-fa.Start) <= abs64(l.Off-fa.Start) {
			ons = append(ons, l)
		}
	}
	if len(ons) == 0 {
		return "none on"
	}
	best, bestD := "", math.Inf(1)
	for i, l := range ons {
		if d := math.Abs(l.W - fa.StepW); d < bestD {
			best, bestD = l.App, d
		}
		for _, m := range ons[i+1:] {
			if d := math.Abs(l.W + m.W - fa.StepW); d < bestD {
				a, b := l.App, m.App
				if a > b {
					a, b = b, a
				}
				best, bestD = a+"+"+b, d
			}
		}
	}
	return best
}

// WriteFalseAlarms lists every false alarm of every interval with the
// appliances the simulator ran around it, then counts them by cause and
// path; then the same for the alerts that overlap no session on days with
// charging (Figures.FalseCharging), each measured against the unit's
// session nearest its fire, counted by relation, cause and path.
func WriteFalseAlarms(w io.Writer, r *Result) {
	for _, iv := range r.Intervals {
		var fas, fcs []FalseAlarm
		for _, o := range r.Runs[iv] {
			fas = append(fas, falseAlarms(o)...)
			fcs = append(fcs, falseCharging(o)...)
		}
		fmt.Fprintf(w, "\nFALSE ALARMS, readings every %s: %d (estimated start, fire, end in Shanghai time; appliances from the simulator)\n", fmtInterval(iv), len(fas))
		groups := writeUnmatched(w, fas)
		fmt.Fprintf(w, "\nFALSE ALARMS BY CAUSE × PATH, readings every %s\n", fmtInterval(iv))
		for _, k := range byCount(groups) {
			fmt.Fprintf(w, "%5d  %s\n", groups[k], k)
		}
		rel := map[string]int{}
		var gaps []int64
		for _, fa := range fcs {
			rel[fa.Relation]++
			rel[fa.Step]++
			if fa.Relation == AfterUnplug {
				gaps = append(gaps, fa.Gap)
			}
		}
		slices.Sort(gaps)
		gap := "-"
		if len(gaps) > 0 {
			m := func(v int64) string { return fmt.Sprintf("%.0f", math.Round(float64(v)/60000)) }
			gap = fmt.Sprintf("%s / %s / %s min", m(Quantile(gaps, 0.25)), m(Quantile(gaps, 0.5)), m(Quantile(gaps, 0.9)))
		}
		fmt.Fprintf(w, "\nNO SESSION ON CHARGING DAYS, readings every %s: %d alerts overlapping no session on a unit-day with charging (in precision, not in the false alarms): %d %s (%d %s, %d %s, %d %s; fired p25 / p50 / p90 %s after it), %d %s\n",
			fmtInterval(iv), len(fcs), rel[AfterUnplug], AfterUnplug, rel[ChargerStep], ChargerStep, rel[OlderStep], OlderStep, rel[ChargeStep], ChargeStep,
			gap, rel[Unrelated], Unrelated)
		groups = writeUnmatched(w, fcs)
		fmt.Fprintf(w, "\nNO SESSION ON CHARGING DAYS BY RELATION × CAUSE × PATH, readings every %s\n", fmtInterval(iv))
		for _, k := range byCount(groups) {
			fmt.Fprintf(w, "%5d  %s\n", groups[k], k)
		}
	}
}

// writeUnmatched lists alerts that overlap no session, each with the
// appliances around it (and for a charging day's, the session it is
// measured against), and returns their counts by (relation ×) cause ×
// path.
func writeUnmatched(w io.Writer, fas []FalseAlarm) map[string]int {
	loc := simtime.Zone
	hm := func(ts int64) string {
		if ts == 0 {
			return "open"
		}
		return time.UnixMilli(ts).In(loc).Format("01-02 15:04")
	}
	clock := func(ts int64) string { return time.UnixMilli(ts).In(loc).Format("15:04") }
	loads := func(ls []Load) string {
		var parts []string
		for _, l := range ls {
			parts = append(parts, fmt.Sprintf("%s %.0f W %s-%s", l.App, l.W, clock(l.On), clock(l.Off)))
		}
		if len(parts) == 0 {
			return "-"
		}
		return strings.Join(parts, ", ")
	}
	mins := func(ms int64) string { return fmt.Sprintf("%.0f min", math.Round(float64(ms)/60000)) }
	offset := func(ms int64) string { // "N min after" / "N min before"
		if ms < 0 {
			return mins(-ms) + " before"
		}
		return mins(ms) + " after"
	}
	groups := map[string]int{}
	for _, fa := range fas {
		dur := "open"
		if fa.Resolved > 0 {
			dur = (time.Duration(fa.Resolved-fa.Start) * time.Millisecond).Round(time.Minute).String()
		}
		ch := "no charger"
		if fa.ChargerW > 0 {
			ch = fmt.Sprintf("charger %.0f W", fa.ChargerW)
		}
		rel := ""
		switch {
		case fa.Relation == "":
		case fa.Session < 0:
			rel = "; " + fa.Relation + ": the unit has no session"
		case fa.Relation == AfterUnplug:
			rel = fmt.Sprintf("; %s, %s: session %s-%s, step began %s its start, fired %s after the unplug",
				fa.Relation, fa.Step, hm(fa.SessStart), clock(fa.SessEnd), offset(fa.Start-fa.SessStart), mins(fa.Gap))
		case fa.Gap >= 0:
			rel = fmt.Sprintf("; %s: step began %s after the unplug of the last session %s-%s, fired %s after it", fa.Relation,
				mins(fa.Start-fa.SessEnd), hm(fa.SessStart), clock(fa.SessEnd), mins(fa.Gap))
		default:
			rel = fmt.Sprintf("; %s: the next session %s-%s began %s after the fire", fa.Relation, hm(fa.SessStart), clock(fa.SessEnd), mins(fa.SessStart-fa.Fired))
		}
		fmt.Fprintf(w, "%s %s: %s, start %s, fired %s, ended %s (lasted %s), plateau %.0f W, %s; cause %s%s\n", fa.Unit, fmtInterval(fa.Interval), fa.Path,
			hm(fa.Start), hm(fa.Fired), hm(fa.Resolved), dur, fa.StepW, ch, fa.Cause, rel)
		fmt.Fprintf(w, "    switched at the start: %s\n    on at the start: %s\n    on at the fire: %s\n    why: %s\n",
			loads(fa.Switched), loads(fa.AtStart), loads(fa.AtFire), fa.Why)
		key := fa.Cause + " × " + fa.Path
		switch {
		case fa.Step != "":
			key = fa.Relation + ", " + fa.Step + " × " + key
		case fa.Relation != "":
			key = fa.Relation + " × " + key
		}
		groups[key]++
	}
	return groups
}

// byCount returns m's keys, the largest count first, ties by name (the
// order of every "busiest first" table of the explain output).
func byCount(m map[string]int) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	return keys
}

// writeTTDByPath prints, by the path of the alert that detected them, the
// detected sessions, the quartiles of their time to detect and of their
// step's age when the alert fired, and how many of them were detected
// within 20 minutes (MaxMedianTTD), busiest path first.
func writeTTDByPath(w io.Writer, iv time.Duration, ttd, age map[string][]int64) {
	var all []int64
	for _, v := range ttd {
		all = append(all, v...)
	}
	if len(all) == 0 {
		return
	}
	m := func(v []int64, q float64) string {
		return fmt.Sprintf("%.0f", (time.Duration(Quantile(v, q)) * time.Millisecond).Minutes())
	}
	fmt.Fprintf(w, "\nTIME TO DETECT BY PATH, readings every %s: sessions (share), TTD p25/p50/p90, step age at the alert p25/p50/p90 (min), detected within %.0f min\n",
		fmtInterval(iv), MaxMedianTTD.Minutes())
	keys := slices.Collect(maps.Keys(ttd))
	slices.SortFunc(keys, func(a, b string) int {
		if len(ttd[a]) != len(ttd[b]) {
			return len(ttd[b]) - len(ttd[a])
		}
		return strings.Compare(a, b)
	})
	row := func(name string, v, a []int64) {
		slices.Sort(v)
		slices.Sort(a)
		fast := 0
		for _, x := range v {
			if x < MaxMedianTTD.Milliseconds() {
				fast++
			}
		}
		fmt.Fprintf(w, "%5d  %4.1f%%  %4s %4s %4s   %4s %4s %4s   %5d  %s\n", len(v), 100*float64(len(v))/float64(len(all)),
			m(v, 0.25), m(v, 0.5), m(v, 0.9), m(a, 0.25), m(a, 0.5), m(a, 0.9), fast, name)
	}
	var ages []int64
	for _, k := range keys {
		row(k, ttd[k], age[k])
		ages = append(ages, age[k]...)
	}
	row("all", all, ages)
}
