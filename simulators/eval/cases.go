package eval

import (
	"slices"
	"strings"

	"github.com/chargewatch/chargewatch/simulators/elec"
	"github.com/chargewatch/chargewatch/simulators/household"
	"github.com/chargewatch/chargewatch/simulators/simtime"
	"github.com/chargewatch/chargewatch/simulators/truth"
)

// Cases is a set of hard cases.
type Cases uint8

// Hard cases. A session belongs to a case by what happened during it; a
// charger-free unit-day belongs to CaseLookAlike when a look-alike ran that
// day.
const (
	// CaseLookAlike: a load in the charger band (a TV, a desktop PC, a
	// laptop, a fan or lighting of 60-300 W, an electric blanket) ran
	// during the session's first hour; for a charger-free day, such loads
	// ran at least an hour.
	CaseLookAlike Cases = 1 << iota
	// CaseTwoBikes: two charges overlapped in the unit.
	CaseTwoBikes
	// CasePartial: a charge was unplugged before the charger finished, or
	// began with the pack already in the taper.
	CasePartial
	// CaseKW: a load of 400 W or more (kettle, cooker, heater, water
	// heater, air conditioner, stacked overload) was on during the
	// session's first hour.
	CaseKW
	numCases = 4
)

// CaseNames are the names of the cases in bit order.
var CaseNames = [numCases]string{"look-alikes", "two bikes", "partial charge", "kW loads"}

func (c Cases) String() string {
	var parts []string
	for i := 0; i < numCases; i++ {
		if c&(1<<i) != 0 {
			parts = append(parts, CaseNames[i])
		}
	}
	if len(parts) == 0 {
		return "plain"
	}
	return strings.Join(parts, ", ")
}

// lookAlike reports whether a household segment is a look-alike in the
// charger band.
func lookAlike(s *elec.Segment) bool {
	switch household.Appliance(s.Tag) {
	case household.TV, household.PC, household.Lights, household.Laptop, household.Fan:
		return s.W >= 60 && s.W <= 300
	case household.Blanket:
		// One zone of 60-150 W, or two of 35-75 W that together sit in
		// the band.
		return true
	}
	return false
}

// kW reports whether a segment is a kilowatt-class load.
func kW(s *elec.Segment) bool {
	return s.W+s.Exp >= 400 && household.Appliance(s.Tag) != household.TagCharger
}

// label merges the charging records into episodes, tags them with their
// hard cases, and tags every unit-day in [from, to).
func label(recs []truth.Record, hh map[string]*household.Unit, from, to int64) ([]Episode, []UnitDays) {
	byUnit := map[string][]truth.Record{}
	overloads := map[string][]truth.Record{}
	for _, r := range recs {
		switch r.Kind {
		case truth.IndoorCharging:
			byUnit[r.Unit] = append(byUnit[r.Unit], r)
		case truth.Overload:
			overloads[r.Unit] = append(overloads[r.Unit], r)
		}
	}
	d0, d1 := simtime.DayOf(from), simtime.DayOf(to-1)
	var eps []Episode
	var units []UnitDays
	ids := make([]string, 0, len(hh))
	for id := range hh {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		u := hh[id]
		var segs []elec.Segment
		for d := d0 - 1; d <= d1; d++ {
			segs = u.Day(d, segs)
		}
		for _, o := range overloads[id] {
			segs = append(segs, elec.Segment{Start: o.StartMS, End: o.EndMS, W: 1000, Tag: uint8(household.TagOverload)})
		}
		// One record per charge and device: keep one per episode id (a
		// meter and a plug record the same charge).
		rs := byUnit[id]
		seen := map[string]bool{}
		var charges []truth.Record
		for _, r := range rs {
			if !seen[r.Episode] {
				seen[r.Episode] = true
				charges = append(charges, r)
			}
		}
		slices.SortFunc(charges, func(a, b truth.Record) int { return int(a.StartMS - b.StartMS) })
		var mine []Episode
		for _, r := range charges {
			pw, _ := num(r.Details["plateau_w"])
			pf, _ := num(r.Details["pf"])
			ch, _ := r.Details["charger"].(string)
			fullMS, full := num(r.Details["full_ms"])
			partial := !full
			drawEnd := r.EndMS
			if full {
				drawEnd = min(drawEnd, int64(fullMS))
			}
			cvStart := r.EndMS
			if cv, ok := num(r.Details["cv_start_ms"]); ok {
				if int64(cv) <= r.StartMS {
					partial = true
				}
				cvStart = min(cvStart, max(int64(cv), r.StartMS))
			}
			if n := len(mine); n > 0 && r.StartMS <= mine[n-1].End {
				e := &mine[n-1]
				if r.StartMS < e.End {
					e.Cases |= CaseTwoBikes
				}
				e.End = max(e.End, r.EndMS)
				e.PlateauEnd = max(e.PlateauEnd, cvStart)
				e.DrawEnd = max(e.DrawEnd, drawEnd)
				e.Bikes++
				e.PlateauW = max(e.PlateauW, pw)
				e.PF = min(e.PF, pf)
				e.Chargers = append(e.Chargers, ch)
				e.Starts = append(e.Starts, r.StartMS)
				if partial {
					e.Cases |= CasePartial
				}
				continue
			}
			e := Episode{Unit: id, Start: r.StartMS, End: r.EndMS, PlateauEnd: cvStart, DrawEnd: drawEnd, Bikes: 1, PlateauW: pw, PF: pf, Chargers: []string{ch}, Starts: []int64{r.StartMS}, Alert: -1}
			if partial {
				e.Cases |= CasePartial
			}
			mine = append(mine, e)
		}
		for i := range mine {
			e := &mine[i]
			// Sessions are scored when they start in the span, an hour
			// before its end at the latest; the others still excuse the
			// alerts that overlap them.
			e.Scored = e.Start >= from && e.Start < to-simtime.Hour
			w0, w1 := e.Start, e.Start+simtime.Hour
			for j := range segs {
				s := &segs[j]
				if s.Start >= w1 || s.End <= w0 {
					continue
				}
				if lookAlike(s) {
					e.Cases |= CaseLookAlike
				}
				if kW(s) {
					e.Cases |= CaseKW
				}
			}
		}
		ud := UnitDays{Unit: id}
		for d := d0; d <= d1; d++ {
			ds, de := max(simtime.DayStart(d), from), min(simtime.DayStart(d+1), to)
			if de-ds < simtime.Day {
				continue // only whole days count
			}
			t := DayTags{Day: d}
			for _, e := range mine {
				if e.Start < de && e.End > ds {
					t.Charging = true
					t.Cases |= e.Cases
				}
			}
			var look int64
			for j := range segs {
				s := &segs[j]
				if lookAlike(s) {
					look += max(0, min(s.End, de)-max(s.Start, ds))
				}
			}
			if look >= simtime.Hour {
				t.Cases |= CaseLookAlike
			}
			ud.Days = append(ud.Days, t)
		}
		units = append(units, ud)
		eps = append(eps, mine...)
	}
	return eps, units
}

// num reads a number from truth details, as written by the simulator
// (int64, float64) or decoded from JSON (float64).
func num(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}
