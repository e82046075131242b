package eval

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/chargewatch/chargewatch/simulators/city"
	"github.com/chargewatch/chargewatch/simulators/elec"
	"github.com/chargewatch/chargewatch/simulators/household"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// Background statistics: how hard a unit's background load is for the
// charging detector, measured the same way on simulated homes and on the
// real UCI household (cw-sim bgstats). All on 1-min readings, per hour.
const (
	bgEdgeMinW, bgEdgeMaxW = 48.0, 480.0 // an edge: one reading-to-reading change of this size
	bgStageMinW            = 10.0        // a change of at least this is part of a step, not noise
	bgStageShare           = 0.2         // ... and each stage of a split step carries this share of it
	bgCycMinW, bgCycMaxW   = 60.0, 300.0 // the charger band of cycling loads
	bgCycTol               = 0.25        // an off-step within 25% of the on-step's size ends it
	bgCycMinOn, bgCycMaxOn = 3, 45       // minutes on of a cycle
)

// HourStats are the statistics of one hour of 1-min readings.
type HourStats struct {
	SD     float64 // 1.4826 × the median absolute deviation of the reading-to-reading changes, W
	Mean   float64 // mean level, W
	Edges  int     // changes of 48-480 W between two readings
	Splits int     // steps of 48-480 W reached over 2 or 3 readings, each stage ≥ 10 W and ≥ 20% of it
	Cycles int     // on-steps of 60-300 W matched by an off-step of the same size (±25%) 3-45 min later
}

// Cycling reports whether a load cycled in the charger band in the hour:
// two or more matched on/off pairs began in it (a thermostat cycling every
// 20-40 minutes; a fridge's 40-70 minute cycle makes one).
func (h HourStats) Cycling() bool { return h.Cycles >= 2 }

// bgStep is a change of the level over 1-3 readings.
type bgStep struct {
	at    int     // index of the reading before the change
	w     float64 // signed size, W
	split bool
}

// bgSteps returns the steps of w: maximal runs of 1-3 reading-to-reading
// changes of the same sign, each at least bgStageMinW. A run whose stages
// all carry at least bgStageShare of its total is split when it has 2 or 3
// stages; otherwise the run is one step (the largest stage, with noise
// beside it). Runs of more than 3 stages are ramps, not steps.
func bgSteps(w []float64) []bgStep {
	var out []bgStep
	for j := 0; j+1 < len(w); {
		d := w[j+1] - w[j]
		if math.Abs(d) < bgStageMinW {
			j++
			continue
		}
		k := j + 1 // end of the run (reading index)
		for k+1 < len(w) {
			e := w[k+1] - w[k]
			if math.Abs(e) < bgStageMinW || (e > 0) != (d > 0) {
				break
			}
			k++
		}
		if n := k - j; n <= 3 {
			total := w[k] - w[j]
			split := n > 1
			for i := j; i < k; i++ {
				if math.Abs(w[i+1]-w[i]) < bgStageShare*math.Abs(total) {
					split = false
				}
			}
			out = append(out, bgStep{at: j, w: total, split: split})
		}
		j = k
	}
	return out
}

// BgHours returns the statistics of each whole hour of w, 1-min readings
// whose first is at the start of an hour. NaN readings (gaps) break the
// changes around them.
func BgHours(w []float64) []HourStats {
	n := len(w) / 60
	out := make([]HourStats, n)
	diffs := make([][]float64, n)
	for i := 1; i < n*60; i++ {
		d := w[i] - w[i-1]
		if math.IsNaN(d) {
			continue
		}
		h := i / 60
		diffs[h] = append(diffs[h], d)
		if a := math.Abs(d); a >= bgEdgeMinW && a <= bgEdgeMaxW {
			out[h].Edges++
		}
	}
	for h := range n {
		out[h].SD = 1.4826 * mad(diffs[h])
		s, k := 0.0, 0
		for _, v := range w[h*60 : h*60+60] {
			if !math.IsNaN(v) {
				s += v
				k++
			}
		}
		out[h].Mean = s / float64(max(k, 1))
	}
	steps := bgSteps(w[:n*60])
	used := make([]bool, len(steps))
	for i, s := range steps {
		h := (s.at + 1) / 60
		if a := math.Abs(s.w); s.split && a >= bgEdgeMinW && a <= bgEdgeMaxW {
			out[h].Splits++
		}
		if s.w < bgCycMinW || s.w > bgCycMaxW {
			continue
		}
		for j := i + 1; j < len(steps); j++ {
			o := steps[j]
			dt := o.at - s.at
			if dt > bgCycMaxOn {
				break
			}
			if used[j] || dt < bgCycMinOn || o.w > 0 || math.Abs(-o.w-s.w) > bgCycTol*s.w {
				continue
			}
			used[j] = true
			out[h].Cycles++
			break
		}
	}
	return out
}

// mad returns the median absolute deviation of xs from their median.
func mad(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	m := median(xs)
	ds := make([]float64, len(xs))
	for i, x := range xs {
		ds[i] = math.Abs(x - m)
	}
	return median(ds)
}

func median(xs []float64) float64 { return quantile(xs, 0.5) }

// quantile returns the q-quantile of xs (linear between order statistics).
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	p := q * float64(len(s)-1)
	i := int(p)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (p-float64(i))*(s[i+1]-s[i])
}

// BgSummary summarises the hours of a group of units.
type BgSummary struct {
	Hours   int
	SD      [3]float64 // quartiles of the hourly robust SD of the changes, W
	Edges   float64    // mean per hour
	Splits  float64    // mean per hour
	Cycling float64    // share of hours with a load cycling in the band
	Mean    float64    // mean level, W
	Night   [3]float64 // quartiles of the robust SD in the hours 0-6, W
	EdgesBy [3]float64 // mean edges per hour 0-6, 6-18, 18-24 (hs are whole days from midnight)
}

// Summarize summarises hours; night marks the hours from midnight to 6:00.
func Summarize(hs []HourStats, night []bool) BgSummary {
	var s BgSummary
	var byN [3]float64
	s.Hours = len(hs)
	if len(hs) == 0 {
		return s
	}
	var sds, nsds []float64
	for i, h := range hs {
		sds = append(sds, h.SD)
		if night != nil && night[i] {
			nsds = append(nsds, h.SD)
		}
		s.Edges += float64(h.Edges)
		k := 0
		switch hd := i % 24; {
		case hd >= 18:
			k = 2
		case hd >= 6:
			k = 1
		}
		s.EdgesBy[k] += float64(h.Edges)
		byN[k]++
		s.Splits += float64(h.Splits)
		if h.Cycling() {
			s.Cycling++
		}
		s.Mean += h.Mean
	}
	n := float64(len(hs))
	for k := range byN {
		s.EdgesBy[k] /= max(byN[k], 1)
	}
	s.Edges, s.Splits, s.Cycling, s.Mean = s.Edges/n, s.Splits/n, s.Cycling/n, s.Mean/n
	s.SD = [3]float64{quantile(sds, 0.25), quantile(sds, 0.5), quantile(sds, 0.75)}
	s.Night = [3]float64{quantile(nsds, 0.25), quantile(nsds, 0.5), quantile(nsds, 0.75)}
	return s
}

// bgGroup is what the background of a group of simulated units is keyed by.
type bgGroup struct {
	use    household.Use
	season household.Season
}

// BgStatsOptions say what bgstats measures.
type BgStatsOptions struct {
	Set     Set
	Days    int    // days per city (0: the set's)
	RealDir string // ../shared/realdata; "" for no real data
}

// BgStats measures the background of the set's simulated units (the
// household model alone: no chargers, no overloads, as a meter would read
// it every minute) and, with a RealDir, of the UCI household and the
// tracebase appliances, and writes the tables to w.
func BgStats(w io.Writer, o BgStatsOptions) error {
	days := o.Days
	if days <= 0 {
		days = o.Set.Days
	}
	hours := map[bgGroup][]HourStats{}
	var rounded []HourStats // residential, read to 2 W as the UCI data are
	// Residential winter hours by the unit's busyness: under 0.6 (quiet,
	// mostly rooms for one), 0.6-1.4, 1.4 and over (busy family flats).
	var winterDays [][]HourStats // residential winter unit-days, for the spread between homes
	var byBusy [3][]HourStats
	var byBusyN [3][]bool
	nights := map[bgGroup][]bool{}
	for _, c := range o.Set.Cities {
		sp := Spec{Seed: c.Seed, Start: c.Start, Days: days, Interval: time.Minute, Buildings: max(1, o.Set.Units/10), Units: 10}
		sc, site := sp.scenario()
		d0 := simtime.DayOf(c.Start.UnixMilli())
		for _, us := range site.Units {
			use := city.UseOf(us.Type)
			if use == household.ChargingRoom {
				continue
			}
			hh := household.New(c.Seed, us.ID, use, household.Options{Season: sc.Households.Season, MixedUse: us.MixedUse})
			tl := elec.NewTimeline(hh.Day, simtime.DayStart(d0), 0)
			for d := d0; d < d0+int64(days); d++ {
				g := bgGroup{use, household.SeasonOn(sc.Households.Season, d)}
				series := make([]float64, 1440)
				t0 := simtime.DayStart(d)
				for m := range series {
					series[m], _ = tl.At(t0 + int64(m)*simtime.Minute)
				}
				hours[g] = append(hours[g], BgHours(series)...)
				for h := range 24 {
					nights[g] = append(nights[g], h < 6)
				}
				if use == household.Residential && g.season == household.Winter {
					k := 1
					switch {
					case hh.Busy() < 0.6:
						k = 0
					case hh.Busy() >= 1.4:
						k = 2
					}
					byBusy[k] = append(byBusy[k], hours[g][len(hours[g])-24:]...)
					winterDays = append(winterDays, hours[g][len(hours[g])-24:])
					byBusyN[k] = append(byBusyN[k], nights[g][len(nights[g])-24:]...)
				}
				if use == household.Residential {
					for m, v := range series {
						series[m] = 2 * math.Round(v/2)
					}
					rounded = append(rounded, BgHours(series)...)
				}
			}
		}
	}
	fmt.Fprintf(w, "Background at 1-min readings, per hour (%s, %d days; simulated: household model only)\n", o.Set.Seeds(), days)
	fmt.Fprintf(w, "%-26s %6s %20s %9s %6s %15s %6s %7s %6s\n", "group", "hours", "robust SD q1/med/q3", "night SD", "edges", "0-6/6-18/18-24", "splits", "cycling", "mean W")
	row := func(name string, s BgSummary) {
		fmt.Fprintf(w, "%-26s %6d %6.1f/%5.1f/%5.1f W %7.1f W %6.2f %4.1f/%4.1f/%4.1f %6.2f %6.0f%% %6.0f\n", name, s.Hours,
			s.SD[0], s.SD[1], s.SD[2], s.Night[1], s.Edges, s.EdgesBy[0], s.EdgesBy[1], s.EdgesBy[2], s.Splits, 100*s.Cycling, s.Mean)
	}
	var keys []bgGroup
	for g := range hours {
		keys = append(keys, g)
	}
	slices.SortFunc(keys, func(a, b bgGroup) int {
		if a.use != b.use {
			return int(a.use) - int(b.use)
		}
		return int(a.season) - int(b.season)
	})
	var allRes []HourStats
	var allResN []bool
	for _, g := range keys {
		row(fmt.Sprintf("sim %s %s", useName(g.use), g.season), Summarize(hours[g], nights[g]))
		if g.use == household.Residential {
			allRes = append(allRes, hours[g]...)
			allResN = append(allResN, nights[g]...)
		}
	}
	row("sim residential, all", Summarize(allRes, allResN))
	row("... read to 2 W like UCI", Summarize(rounded, allResN))
	for k, name := range []string{"sim res. winter busy<0.6", "sim res. winter 0.6-1.4", "sim res. winter busy>=1.4"} {
		row(name, Summarize(byBusy[k], byBusyN[k]))
	}
	if o.RealDir == "" {
		return nil
	}
	uci, err := loadUCI(filepath.Join(o.RealDir, "uci-household", "household_power_consumption_2007-02-01_02.tsv"))
	if err != nil {
		return err
	}
	hs := BgHours(uci)
	night := make([]bool, len(hs))
	for i := range night {
		night[i] = i%24 < 6
	}
	row("UCI household (Feb)", Summarize(hs, night))
	fmt.Fprintln(w)
	// The spread between homes: per unit-day, the edges per hour and the
	// median hourly robust SD, at the quantiles of the winter unit-days.
	var de, ds []float64
	for _, day := range winterDays {
		sm := Summarize(day, nil)
		de, ds = append(de, sm.Edges), append(ds, sm.SD[1])
	}
	fmt.Fprintf(w, "Residential winter unit-days (%d): edges per hour p10/p50/p90/p99 %.1f/%.1f/%.1f/%.1f, median robust SD %.1f/%.1f/%.1f/%.1f W\n",
		len(de), quantile(de, 0.1), quantile(de, 0.5), quantile(de, 0.9), quantile(de, 0.99), quantile(ds, 0.1), quantile(ds, 0.5), quantile(ds, 0.9), quantile(ds, 0.99))
	for d := 0; d+24 <= len(hs); d += 24 {
		sm := Summarize(hs[d:d+24], nil)
		fmt.Fprintf(w, "UCI day %d: edges per hour %.1f, median robust SD %.1f W\n", d/24+1, sm.Edges, sm.SD[1])
	}
	fmt.Fprintln(w)
	return applianceFluctuation(w, o.RealDir, o.Set, days)
}

func useName(u household.Use) string {
	return [...]string{"residential", "shop", "workshop", "charging_room"}[u]
}

// tracebaseApps are the tracebase appliances compared with the model, and
// the model's appliance for each (0: none).
var tracebaseApps = []struct {
	dir string
	tag household.Appliance
}{
	{"TV-LCD", household.TV}, {"PC-Desktop", household.PC}, {"Monitor-TFT", 0}, {"Refrigerator", household.Fridge},
	{"Freezer", household.Fridge}, {"Lamp", household.Lights}, {"Router", household.Base}, {"PC-Laptop", household.Laptop},
}

// Fluct is an appliance's fluctuation while on: the relative robust SD
// (1.4826 × MAD ÷ median level) of the changes between consecutive on
// readings, at 10 s and at 1 min.
type Fluct struct {
	Level     float64 // median level while on, W
	R10, R60  float64 // relative robust SD of the changes
	N10, N60  int     // changes measured
	Samples   int
	OnMinutes float64
}

// binMeans averages a trace (seconds of the day, watts) into bins of sec
// seconds; bins without a sample are NaN.
func binMeans(ts []int32, ws []float32, sec int32) []float64 {
	if len(ts) == 0 {
		return nil
	}
	n := int(ts[len(ts)-1]/sec) + 1
	sum := make([]float64, n)
	cnt := make([]int, n)
	for i, t := range ts {
		sum[t/sec] += float64(ws[i])
		cnt[t/sec]++
	}
	for i := range sum {
		if cnt[i] == 0 {
			sum[i] = math.NaN()
		} else {
			sum[i] /= float64(cnt[i])
		}
	}
	return sum
}

// onFluct measures the fluctuation of bins while on: a bin is on at
// 30% or more of the level (the 90th percentile of the non-zero bins);
// changes are taken between two on bins whose neighbours are also on (not
// a switching) and that differ by less than 30% of the level.
func onFluct(bins []float64) (level, rel float64, n int) {
	var nz []float64
	for _, b := range bins {
		if b > 1 {
			nz = append(nz, b)
		}
	}
	if len(nz) < 10 {
		return 0, math.NaN(), 0
	}
	top := quantile(nz, 0.9)
	on := func(i int) bool { return i >= 0 && i < len(bins) && bins[i] >= 0.3*top && !math.IsNaN(bins[i]) }
	var ds, lv []float64
	for i := 1; i < len(bins); i++ {
		if on(i-2) && on(i-1) && on(i) && on(i+1) && math.Abs(bins[i]-bins[i-1]) < 0.3*top {
			ds = append(ds, bins[i]-bins[i-1])
			lv = append(lv, bins[i])
		}
	}
	if len(ds) < 5 {
		return 0, math.NaN(), len(ds)
	}
	level = median(lv)
	return level, 1.4826 * mad(ds) / level, len(ds)
}

// TracebaseFluct measures a tracebase day file.
func TracebaseFluct(path string) (Fluct, error) {
	d, err := loadTracebase(path)
	if err != nil {
		return Fluct{}, err
	}
	var f Fluct
	f.Samples = len(d.sec)
	f.Level, f.R10, f.N10 = onFluct(binMeans(d.sec, d.w, 10))
	_, f.R60, f.N60 = onFluct(binMeans(d.sec, d.w, 60))
	return f, nil
}

// simFluct measures the model's appliance tag the way a meter reads it
// (its value at the instant of the reading), over the segments of the
// set's first city's residential units (the units where the appliance
// runs alone in its segment: every segment is sampled on its own).
func simFluct(set Set, days int, tag household.Appliance) (r10, r60 float64) {
	var d10, d60 []float64
	c := set.Cities[0]
	d0 := simtime.DayOf(c.Start.UnixMilli())
	for u := range 60 {
		hh := household.New(c.Seed, fmt.Sprintf("fluct-%d", u), household.Residential, household.Options{})
		for d := d0; d < d0+int64(days); d++ {
			for _, s := range hh.Day(d, nil) {
				if household.Appliance(s.Tag) != tag {
					continue
				}
				// Skip the first 5 minutes: a start-up transient is not the fluctuation.
				from := s.Start + 5*simtime.Minute
				for _, st := range []struct {
					step int64
					d    *[]float64
				}{{10 * simtime.Second, &d10}, {simtime.Minute, &d60}} {
					prev := math.NaN()
					for t := from - from%st.step + st.step; t < s.End && len(*st.d) < 200000; t += st.step {
						p, _ := s.P(t)
						if !math.IsNaN(prev) {
							*st.d = append(*st.d, (p-prev)/s.Shape(t))
						}
						prev = p
					}
				}
			}
		}
	}
	return 1.4826 * mad(d10), 1.4826 * mad(d60)
}

func applianceFluctuation(w io.Writer, dir string, set Set, days int) error {
	fmt.Fprintln(w, "Appliance fluctuation while on: relative robust SD of reading-to-reading changes (tracebase averaged per bin; model read at the instant)")
	fmt.Fprintf(w, "%-14s %-34s %8s %8s %8s %-14s %8s %8s\n", "appliance", "tracebase file", "level W", "10 s", "1 min", "model", "10 s", "1 min")
	for _, a := range tracebaseApps {
		files, err := filepath.Glob(filepath.Join(dir, "tracebase", "complete", a.dir, "*.csv"))
		if err != nil || len(files) == 0 {
			return fmt.Errorf("tracebase: no files for %s", a.dir)
		}
		model, m10, m60 := "-", "", ""
		if a.tag != 0 {
			r10, r60 := simFluct(set, days, a.tag)
			model, m10, m60 = a.tag.String(), pct(r10), pct(r60)
		}
		for _, path := range files {
			f, err := TracebaseFluct(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%-14s %-34s %8.1f %8s %8s %-14s %8s %8s\n", a.dir, filepath.Base(path), f.Level, pct(f.R10), pct(f.R60), model, m10, m60)
		}
	}
	return nil
}

func pct(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return strconv.FormatFloat(100*x, 'f', 2, 64) + "%"
}
