package eval

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// City is one simulated city of an evaluation set: its seed and the first
// scored day. Cities of a set start in different seasons (heaters in
// winter, air conditioning in summer).
type City struct {
	Seed  uint64
	Start time.Time
}

// A Set is a named list of cities, all simulated with the same size.
type Set struct {
	Name   string
	Cities []City
	Units  int // units per city (buildings of 10 units)
	Days   int // scored days per city (plus a day of warm-up)
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, simtime.Zone) }

// HeldOut is the fixed set the reported figures come from. It was never
// used for tuning: the detector's parameters were chosen on Tuning. Four
// cities, one per season, 100 units for 10 days each: 4,000 unit-days per
// reading interval, of which more than 3,000 are without any charging.
var HeldOut = Set{
	Name: "held-out",
	Cities: []City{
		{Seed: 90001, Start: day(2026, 1, 12)},
		{Seed: 90002, Start: day(2026, 4, 13)},
		{Seed: 90003, Start: day(2026, 7, 13)},
		{Seed: 90004, Start: day(2026, 10, 12)},
	},
	Units: 100, Days: 10,
}

// Tuning is the set the parameters are tuned on: other seeds, one city per
// season like HeldOut but on other dates, smaller. 101 (winter) and 102
// (summer: heaters and air conditioners, the busiest homes) were the whole
// set until issue #7's third round, when they had twice failed to predict
// the held-out spring and autumn false alarms; 103 (spring) and 104
// (autumn) were added then.
var Tuning = Set{
	Name: "tuning",
	Cities: []City{
		{Seed: 101, Start: day(2026, 1, 12)},
		{Seed: 102, Start: day(2026, 7, 6)},
		{Seed: 103, Start: day(2026, 4, 6)},
		{Seed: 104, Start: day(2026, 10, 5)},
	},
	Units: 100, Days: 5,
}

// Regression is the small fixed scenario of the regression test: every
// hard case occurs in it (TestRegression checks that), figures are pinned.
var Regression = Set{
	Name: "regression",
	Cities: []City{
		{Seed: 4242, Start: day(2026, 1, 19)},
		{Seed: 4243, Start: day(2026, 7, 20)},
	},
	Units: 30, Days: 3,
}

// ParseSet returns a named set, or a set of the given comma-separated
// seeds (each city starting on a date in a season cycled by position).
func ParseSet(s string) (Set, error) {
	switch s {
	case "heldout", "held-out":
		return HeldOut, nil
	case "tuning":
		return Tuning, nil
	case "regression":
		return Regression, nil
	}
	set := Set{Name: "seeds " + s, Units: 100, Days: 5}
	starts := []time.Time{day(2026, 1, 12), day(2026, 4, 13), day(2026, 7, 13), day(2026, 10, 12)}
	for i, f := range strings.Split(s, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return Set{}, fmt.Errorf("seed %q: use heldout, tuning, regression or comma-separated numbers", f)
		}
		set.Cities = append(set.Cities, City{Seed: n, Start: starts[i%len(starts)]})
	}
	return set, nil
}

// specs returns the simulation specs of the set at one reading interval.
func (s *Set) specs(iv time.Duration) []Spec {
	var out []Spec
	for _, c := range s.Cities {
		out = append(out, Spec{
			Seed: c.Seed, Start: c.Start, Days: s.Days, Interval: iv,
			Buildings: max(1, s.Units/10), Units: 10,
			Indoor: IndoorShare, TwoBikes: 0.3, Plugs: 0.05, Overload: 0.01,
		})
	}
	return out
}

// Seeds lists the set's seeds.
func (s *Set) Seeds() string {
	var b strings.Builder
	for i, c := range s.Cities {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d (%s)", c.Seed, c.Start.Format("2006-01-02"))
	}
	return b.String()
}

// IndoorShare is the share of homes that charge an e-bike indoors in the
// evaluation cities: higher than the scenario default (8%) so that each
// run holds hundreds of sessions. False alarms per unit-day do not depend
// on it; precision does, and the report also gives it at 8%. The other
// habits are the scenario defaults, except two bikes (30% of charging
// homes, default 15%) and overloads (0.01 per unit-day, default 0.002),
// raised so that the hard cases are frequent.
const IndoorShare = 0.3
