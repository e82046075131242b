package eval

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/chargewatch/chargewatch/alerting/detect"
)

// FeatureRow is an open candidate step's score features at one of its
// ages (FeatureAges), labelled with the truth: Options.Features, for the
// learned confirmation score (detect.PhysicsParams.ScoreW, cw-sim
// fit-score).
type FeatureRow struct {
	Unit, Dev string
	Var       bool
	T0, TS    int64
	Held      float32 // minutes
	// Label: the step is a charger's plug-in: it started at a true charge's
	// start (from a reading before it to two readings and a minute after).
	// InSession: it started within a true charging session of its unit
	// (from two readings before its start to its end).
	Label, InSession bool
	// ChargingDay: the reading's unit-day has a charge; InSpan: it is in
	// the scored span.
	ChargingDay, InSpan bool
	Z                   float64 // the score's log-odds with the run's coefficients
	F                   [detect.ScoreFeatures]float32
}

// FeatureAges are the ages (minutes) at which a candidate's features are
// kept: the first scored judgement at or after each.
var FeatureAges = []float32{5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 90, 120, 150, 180, 240}

// featCollector keeps the feature rows of one run.
type featCollector struct {
	rows []FeatureRow
	next map[string]int // device/core/t0: index of the next age to keep
}

func newFeatCollector() *featCollector { return &featCollector{next: map[string]int{}} }

func (fc *featCollector) add(unit, dev string, tr *detect.ChargingTrace) {
	if tr.Event != "score" {
		return
	}
	key := dev + "/" + strconv.FormatBool(tr.Var) + "/" + strconv.FormatInt(tr.Start, 10)
	k := fc.next[key]
	held := float32(tr.Held.Minutes())
	if k >= len(FeatureAges) || held < FeatureAges[k] {
		return
	}
	for k < len(FeatureAges) && FeatureAges[k] <= held {
		k++
	}
	fc.next[key] = k
	fc.rows = append(fc.rows, FeatureRow{Unit: unit, Dev: dev, Var: tr.Var, T0: tr.Start, TS: tr.TS, Held: held, Z: tr.Score, F: tr.Feat})
}

// episodesByUnit groups o's sessions by unit.
func episodesByUnit(o *Outcome) map[string][]*Episode {
	by := map[string][]*Episode{}
	for i := range o.Episodes {
		by[o.Episodes[i].Unit] = append(by[o.Episodes[i].Unit], &o.Episodes[i])
	}
	return by
}

// inSession reports whether a step opened at t0 lies in one of a unit's
// sessions eps: from two readings (iv ms) before its start to its end.
func inSession(eps []*Episode, t0, iv int64) bool {
	for _, e := range eps {
		if t0 >= e.Start-2*iv && t0 <= e.End {
			return true
		}
	}
	return false
}

// label marks each row with the truth of outcome o.
func (fc *featCollector) label(o *Outcome) []FeatureRow {
	iv := o.Interval.Milliseconds()
	byUnit := episodesByUnit(o)
	for i := range fc.rows {
		r := &fc.rows[i]
		r.InSession = inSession(byUnit[r.Unit], r.T0, iv)
		for _, e := range byUnit[r.Unit] {
			for _, st := range e.Starts {
				if r.T0 >= st-iv && r.T0 <= st+2*iv+60000 {
					r.Label = true
				}
			}
		}
		r.InSpan = r.TS >= o.From && r.TS < o.To
		r.ChargingDay = chargingDay(o, r.Unit, r.TS)
	}
	return fc.rows
}

// WriteFeatures writes the feature rows of every run as CSV: the city, the
// interval, the candidate, its age, the labels, the log-odds, then the
// features (detect.ScoreNames).
func WriteFeatures(w io.Writer, r *Result) error {
	bw := bufio.NewWriter(w)
	fmt.Fprint(bw, "seed,interval_s,unit,dev,var,t0,ts,held_min,label,charging_day,in_span,z,in_session")
	for _, n := range detect.ScoreNames {
		fmt.Fprint(bw, ",", n)
	}
	fmt.Fprintln(bw)
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	for _, iv := range r.Intervals {
		for ci, o := range r.Runs[iv] {
			seed := r.Set.Cities[ci].Seed
			for i := range o.Features {
				f := &o.Features[i]
				fmt.Fprintf(bw, "%d,%d,%s,%s,%d,%d,%d,%.1f,%d,%d,%d,%.4f,%d", seed, int(iv/time.Second), f.Unit, f.Dev, b2i(f.Var), f.T0, f.TS, f.Held,
					b2i(f.Label), b2i(f.ChargingDay), b2i(f.InSpan), f.Z, b2i(f.InSession))
				for _, v := range f.F {
					bw.WriteByte(',')
					bw.WriteString(strconv.FormatFloat(float64(v), 'g', 6, 32))
				}
				bw.WriteByte('\n')
			}
		}
	}
	return bw.Flush()
}
