package eval

import (
	"math"
	"slices"

	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// Figures are the counts behind one row of the report.
type Figures struct {
	Sessions    int     // true sessions in scope
	Detected    int     // ... with an alert that overlaps them and fired before they ended
	Alerts      int     // alerts in scope (fired on a unit-day in scope)
	TruePos     int     // ... that overlap a true session
	FalseAlarms int     // alerts that overlap no session, fired on a charger-free unit-day in scope
	UnitDays    int     // unit-days in scope
	FreeDays    int     // ... without any charging
	TTD         []int64 // time to detect of the detected sessions, ms, sorted

	// FalseCharging are the alerts that overlap no session, fired on a
	// unit-day in scope where the unit charged (after an unplug, or on
	// another load in a home that charges): in precision's denominator,
	// not in FalseAlarms. Alerts = TruePos + FalseAlarms + FalseCharging.
	FalseCharging int

	// Alert ends, over the detected sessions (see alertEnds). Every
	// detected session is in exactly one of: judged (EndLag or StillOpen),
	// Bridged, EndAfterSpan.
	EndLag        []int64 // alert resolved - session end, ms, sorted, of the judged alerts that resolved
	Outlived      int     // ... that resolved more than Grace after the session ended
	EndedEarly    int     // ... that resolved more than Grace before it ended (unplugged)
	EndedCharging int     // ... of those, more than Grace before its charger stopped charging (DrawEnd)
	StillOpen     int     // judged alerts still open at the span's end (their session ended Grace before it at least)
	Bridged       int     // detected sessions whose alert went on into a later session, judged there
	EndAfterSpan  int     // detected sessions not judged: their alert's last session ended within Grace of the span's end, or after it

	// Start estimates, over the detected sessions (see scoreStart): every
	// detected session is in exactly one of StartErr and StartOpen.
	StartErr  []int64 // the detecting alert's estimated start - session start, ms, sorted
	StartOpen int     // detected sessions whose alert fired before they began (open, or resolved and reopened within the grace: its start is another's)
}

// Precision returns TruePos/Alerts with its Wilson interval.
func (f *Figures) Precision() (p, lo, hi float64) { return Wilson(f.TruePos, f.Alerts) }

// Recall returns Detected/Sessions with its Wilson interval.
func (f *Figures) Recall() (p, lo, hi float64) { return Wilson(f.Detected, f.Sessions) }

// F1 returns the harmonic mean of precision and recall, and the F1 of
// their interval bounds (F1 grows with both).
func (f *Figures) F1() (v, lo, hi float64) {
	p, plo, phi := f.Precision()
	r, rlo, rhi := f.Recall()
	return f1(p, r), f1(plo, rlo), f1(phi, rhi)
}

func f1(p, r float64) float64 {
	if math.IsNaN(p) || math.IsNaN(r) || p+r == 0 {
		return math.NaN()
	}
	return 2 * p * r / (p + r)
}

// FARate returns false alarms per 1,000 charger-free unit-days with the
// exact Poisson 95% interval.
func (f *Figures) FARate() (v, lo, hi float64) {
	if f.FreeDays == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	lo, hi = PoissonCI(f.FalseAlarms)
	k := 1000 / float64(f.FreeDays)
	return float64(f.FalseAlarms) * k, lo * k, hi * k
}

// Add adds g's counts to f.
func (f *Figures) Add(g *Figures) {
	f.Sessions += g.Sessions
	f.Detected += g.Detected
	f.Alerts += g.Alerts
	f.TruePos += g.TruePos
	f.FalseAlarms += g.FalseAlarms
	f.FalseCharging += g.FalseCharging
	f.UnitDays += g.UnitDays
	f.FreeDays += g.FreeDays
	f.TTD = append(f.TTD, g.TTD...)
	slices.Sort(f.TTD)
	f.EndLag = append(f.EndLag, g.EndLag...)
	slices.Sort(f.EndLag)
	f.Outlived += g.Outlived
	f.EndedEarly += g.EndedEarly
	f.EndedCharging += g.EndedCharging
	f.StillOpen += g.StillOpen
	f.Bridged += g.Bridged
	f.EndAfterSpan += g.EndAfterSpan
	f.StartErr = append(f.StartErr, g.StartErr...)
	slices.Sort(f.StartErr)
	f.StartOpen += g.StartOpen
}

// Judged returns how many alerts' ends were judged: those that resolved
// (EndLag) and those still open at the span's end.
func (f *Figures) Judged() int { return len(f.EndLag) + f.StillOpen }

// alertEnds returns, for every alert, the index of the last session of its
// unit it overlaps (eachOverlap, as match) and of the last scored one (-1 if none). An
// alert's end is judged once, at that scored session, against the end of
// the last session: an alert that covers two sessions of a unit (the
// second plugged in before the alert of the first ended) is judged against
// the second, and the first counts as bridged.
func alertEnds(o *Outcome) (last, at []int) {
	later := func(i, j int) bool { return j < 0 || o.Episodes[i].End > o.Episodes[j].End }
	last, at = make([]int, len(o.Alerts)), make([]int, len(o.Alerts))
	for ai := range o.Alerts {
		last[ai], at[ai] = -1, -1
	}
	eachOverlap(o, func(ai, ei int) {
		if later(ei, last[ai]) {
			last[ai] = ei
		}
		if o.Episodes[ei].Scored && later(ei, at[ai]) {
			at[ai] = ei
		}
	})
	return last, at
}

// scoreEnd sorts detected session i into f's alert-end figures, with the
// last sessions of the alerts from alertEnds.
func scoreEnd(f *Figures, o *Outcome, i int, last, at []int) {
	ai := o.Episodes[i].Alert
	a := &o.Alerts[ai]
	ref := &o.Episodes[last[ai]]
	grace := Grace.Milliseconds()
	switch {
	case at[ai] != i:
		f.Bridged++
	case ref.End > o.To-grace:
		f.EndAfterSpan++ // the half hour after the session's end is not all seen
	case a.Resolved == 0:
		f.StillOpen++
	default:
		lag := a.Resolved - ref.End
		f.EndLag = append(f.EndLag, lag)
		drawEnd := ref.DrawEnd
		if drawEnd == 0 {
			drawEnd = ref.End
		}
		switch {
		case lag > grace:
			f.Outlived++
		case lag < -grace:
			f.EndedEarly++
			if a.Resolved < drawEnd-grace {
				f.EndedCharging++
			}
		}
	}
}

// scoreStart sorts detected session i into f's start-estimate figures:
// the start error of the alert that detected it (the first that fired on
// it, Episode.Alert) is its estimated start (Alert.Start, the detector's
// Since at the fire) minus the session's start; for a two-bike session
// (overlapping charges merged) that is its first charge's start. An alert
// that fired before the session began was raised for something earlier (a
// session it bridged, or a false alarm), and was open when the session
// began or reopened for it within the grace (alertBook keeps the first
// fire's start): its estimate is not of this session, which counts in
// StartOpen instead.
func scoreStart(f *Figures, o *Outcome, i int) {
	e := &o.Episodes[i]
	a := &o.Alerts[e.Alert]
	if a.Fired < e.Start {
		f.StartOpen++
		return
	}
	f.StartErr = append(f.StartErr, a.Start-e.Start)
}

// match scores an outcome: it marks the detected episodes and returns for
// every alert the index of the first episode it overlaps, or -1.
func match(o *Outcome) []int {
	for i := range o.Episodes {
		o.Episodes[i].Detected, o.Episodes[i].Alert, o.Episodes[i].TTD = false, -1, 0
	}
	hit := make([]int, len(o.Alerts))
	for ai := range o.Alerts {
		hit[ai] = -1
	}
	eachOverlap(o, func(ai, ei int) {
		a, e := &o.Alerts[ai], &o.Episodes[ei]
		if hit[ai] < 0 {
			hit[ai] = ei
		}
		if !e.Detected || a.Fired < e.Start+e.TTD {
			e.Detected, e.Alert, e.TTD = true, ai, max(0, a.Fired-e.Start)
		}
	})
	return hit
}

// eachOverlap calls fn for every alert, in order, and every session of its
// unit, in order, that the alert overlaps: raised before the session
// ended, resolved (or still open) after it started. match and alertEnds
// share it, so "overlaps" has one definition.
func eachOverlap(o *Outcome, fn func(ai, ei int)) {
	byUnit := map[string][]int{}
	for i := range o.Episodes {
		byUnit[o.Episodes[i].Unit] = append(byUnit[o.Episodes[i].Unit], i)
	}
	for ai := range o.Alerts {
		a := &o.Alerts[ai]
		end := a.Resolved
		if end == 0 {
			end = math.MaxInt64
		}
		for _, ei := range byUnit[a.Unit] {
			if e := &o.Episodes[ei]; a.Fired < e.End && end > e.Start {
				fn(ai, ei)
			}
		}
	}
}

// Score returns the figures of an outcome for the sessions and unit-days
// of the given case (0: all).
func Score(o *Outcome, c Cases) Figures {
	hit := match(o)
	last, at := alertEnds(o)
	var f Figures
	for i := range o.Episodes {
		e := &o.Episodes[i]
		if !e.Scored || (c != 0 && e.Cases&c == 0) {
			continue
		}
		f.Sessions++
		if e.Detected {
			f.Detected++
			f.TTD = append(f.TTD, e.TTD)
			scoreEnd(&f, o, i, last, at)
			scoreStart(&f, o, i)
		}
	}
	slices.Sort(f.TTD)
	slices.Sort(f.EndLag)
	slices.Sort(f.StartErr)
	days := map[string]map[int64]DayTags{}
	for _, u := range o.Units {
		m := map[int64]DayTags{}
		for _, d := range u.Days {
			m[d.Day] = d
			if c != 0 && d.Cases&c == 0 {
				continue
			}
			f.UnitDays++
			if !d.Charging {
				f.FreeDays++
			}
		}
		days[u.Unit] = m
	}
	for ai := range o.Alerts {
		a := &o.Alerts[ai]
		d, ok := days[a.Unit][simtime.DayOf(a.Fired)]
		if !ok || (c != 0 && d.Cases&c == 0) {
			continue // on a partial day at the edge of the span, or out of scope
		}
		f.Alerts++
		if hit[ai] >= 0 {
			f.TruePos++
		} else if !d.Charging {
			f.FalseAlarms++
		} else {
			f.FalseCharging++
		}
	}
	return f
}
