package main

import (
	"context"
	"io"

	"github.com/chargewatch/chargewatch/simulators/eval"
)

const bgstatsHelp = `
cw-sim bgstats measures how hard the simulated households' background load is for the charging
detector, at 1-min readings, per hour: the robust SD of the reading-to-reading change (1.4826 ×
MAD), edges of 48-480 W, steps of that size split over 2-3 readings, the share of hours with a
load cycling in the 60-300 W band, and the mean level; by use and season, over the household
model alone (no chargers, no overloads). With the real traces (../shared/realdata) it prints the
same for the real UCI household, and each tracebase appliance's fluctuation while on against the
model's.

  cw-sim bgstats --seeds tuning --days 5

See docs/simulators.md.
`

func cmdBgStats(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bgstats", stderr, bgstatsHelp)
	seeds := fs.String("seeds", "tuning", "tuning, regression, or comma-separated seeds")
	days := fs.Int("days", 5, "days per city")
	units := fs.Int("units", 0, "units per city (default: the set's)")
	realdata := fs.String("realdata", "", `real traces (default: ../shared/realdata beside the repository; "none" to skip)`)
	if err := parse(fs, args); err != nil {
		return err
	}
	set, err := eval.ParseSet(*seeds)
	if err != nil {
		return usageError{err}
	}
	if *days < 1 {
		return usageErr("--days: %d is not a number of days", *days)
	}
	if *units > 0 {
		set.Units = *units
	}
	dir := *realdata
	switch dir {
	case "none":
		dir = ""
	case "":
		dir = findRealData()
	}
	return eval.BgStats(stdout, eval.BgStatsOptions{Set: set, Days: *days, RealDir: dir})
}
