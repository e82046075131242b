package eval

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Targets are the quality bars of design.md.
var Targets = map[time.Duration]struct{ P, R float64 }{
	time.Minute:     {0.95, 0.95},
	5 * time.Minute: {0.90, 0.90},
}

// MaxFAPer1000 is the false-alarm bar: under 1 per 1,000 unit-days.
const MaxFAPer1000 = 1.0

// MaxMedianTTD is the median time to detect at 1-minute intervals.
const MaxMedianTTD = 20 * time.Minute

// MinFreeDays is how many charger-free unit-days the false-alarm figure
// rests on at least.
const MinFreeDays = 3000

// caseRows lists the rows of a table: all sessions, then each hard case.
var caseRows = []Cases{0, CaseLookAlike, CaseTwoBikes, CasePartial, CaseKW}

func caseName(c Cases) string {
	if c == 0 {
		return "all"
	}
	return c.String()
}

// WriteTable writes the figures of one interval: a row for all sessions
// and one per hard case.
func WriteTable(w io.Writer, title string, outs []*Outcome) {
	fmt.Fprintf(w, "%s\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tsessions\tdetected\trecall [95% CI]\talerts\tprecision [95% CI]\tF1 [CI]\tunit-days\tcharger-free\tfalse alarms\tFA/1k unit-days [95% CI]\tTTD p25 / p50 [95% CI] / p90 (min)\tno session, charging day\t")
	for _, c := range caseRows {
		f := scoreAll(outs, c)
		r, rlo, rhi := f.Recall()
		p, plo, phi := f.Precision()
		f1, flo, fhi := f.F1()
		fa, falo, fahi := f.FARate()
		faText := "n/a (needs a charger)"
		if c == 0 || c == CaseLookAlike {
			faText = fmt.Sprintf("%s [%s, %s]", fnum(fa, 2), fnum(falo, 2), fnum(fahi, 2))
		}
		freeText, faCount := fmt.Sprint(f.FreeDays), fmt.Sprint(f.FalseAlarms)
		if c != 0 && c != CaseLookAlike {
			freeText, faCount = "-", "-"
		}
		// the last column (appended: scripts read the fields before it)
		// counts the alerts that overlap no session on unit-days with
		// charging, which precision counts and the false alarms do not
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s [%s, %s]\t%d\t%s [%s, %s]\t%s [%s, %s]\t%d\t%s\t%s\t%s\t%s\t%d\t\n",
			caseName(c), f.Sessions, f.Detected, fnum(r, 3), fnum(rlo, 3), fnum(rhi, 3), f.Alerts, fnum(p, 3), fnum(plo, 3), fnum(phi, 3),
			fnum(f1, 3), fnum(flo, 3), fnum(fhi, 3), f.UnitDays, freeText, faCount, faText, ttdText(f.TTD), f.FalseCharging)
	}
	tw.Flush()
}

func fnum(v float64, places int) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.*f", places, v)
}

func ttdText(ttd []int64) string {
	return spread(ttd, 0.25, func(v int64) string { return fmt.Sprintf("%.0f", float64(v)/60000) })
}

// spread formats sorted values as "q-quantile / p50 [95% CI] / p90" with m
// (the CI by MedianCI, where there are values enough); "-" if there are
// none. The TTD column, the alert ends and the start estimates share it.
func spread(sorted []int64, q float64, m func(int64) string) string {
	if len(sorted) == 0 {
		return "-"
	}
	mid := m(Quantile(sorted, 0.5))
	if lo, hi, ok := MedianCI(sorted); ok {
		mid += fmt.Sprintf(" [%s, %s]", m(lo), m(hi))
	}
	return fmt.Sprintf("%s / %s / %s", m(Quantile(sorted, q)), mid, m(Quantile(sorted, 0.9)))
}

// shareText formats k of n as "k (p% [lo, hi])", Wilson 95%.
func shareText(k, n int) string {
	p, lo, hi := Wilson(k, n)
	return fmt.Sprintf("%d (%s%% [%s, %s])", k, fnum(100*p, 1), fnum(100*lo, 1), fnum(100*hi, 1))
}

// scoreAll returns the figures of outs for case c (0: all), added up.
func scoreAll(outs []*Outcome, c Cases) Figures {
	var f Figures
	for _, o := range outs {
		g := Score(o, c)
		f.Add(&g)
	}
	return f
}

// WriteReport writes the whole evaluation: per interval the simulated
// table, the semi-synthetic one where it exists, and the verdict against
// the targets.
func WriteReport(w io.Writer, r *Result) {
	fmt.Fprintf(w, "Indoor e-bike charging detection, %s set: %s\n", r.Set.Name, r.Set.Seeds())
	fmt.Fprintf(w, "%d cities x %d units x %d scored days per interval (after a day of warm-up); %.0f%% of homes charge indoors.\n",
		len(r.Set.Cities), r.Set.Units, r.Set.Days, 100*IndoorShare)
	fmt.Fprintln(w, "An alert detects a session when it overlaps it and fired before it ended; an alert overlapping no session is a false alarm.")
	fmt.Fprintln(w, "False alarms count those on charger-free unit-days; the last column those on unit-days with charging (in precision, not in false alarms).")
	fmt.Fprintln(w, "Intervals: recall and precision Wilson 95%; F1 from their bounds; false alarms exact Poisson 95%; median TTD by order statistics.")
	if r.Feedback > 0 {
		fmt.Fprintf(w, "WITH GRID WORKERS' VERDICTS (simulated, --feedback %s): each alert visited %s after it fired; one overlapping no charging of its unit from its estimated start to the visit closed as a false alarm, which its devices' detectors learn from. Not the detector alone; the semi-synthetic set has no verdicts.\n",
			r.Feedback, r.Feedback)
	}
	for _, iv := range r.Intervals {
		fmt.Fprintln(w)
		WriteTable(w, fmt.Sprintf("simulated, readings every %s", fmtInterval(iv)), r.Runs[iv])
		writeVerdict(w, iv, r.Runs[iv])
		writeEnds(w, r.Runs[iv])
		writeStarts(w, r.Runs[iv])
		if r.Feedback > 0 {
			writeVisits(w, r.Runs[iv])
		}
		if semi := r.Semi[iv]; semi != nil {
			fmt.Fprintln(w)
			WriteTable(w, fmt.Sprintf("SEMI-SYNTHETIC (real charges on real household and appliance traces, %d units x 2 days), readings every %s", semiUnits, fmtInterval(iv)), []*Outcome{semi})
			writeEnds(w, []*Outcome{semi})
			writeStarts(w, []*Outcome{semi})
		}
	}
	fmt.Fprintf(w, "\n%d readings through the detector in %s.\n", r.Readings, r.Elapsed.Round(time.Second))
}

// writeVerdict compares an interval's figures with the targets.
func writeVerdict(w io.Writer, iv time.Duration, outs []*Outcome) {
	f := scoreAll(outs, 0)
	var parts []string
	p, _, _ := f.Precision()
	r, _, _ := f.Recall()
	if t, ok := Targets[iv]; ok {
		parts = append(parts, verdict("precision", p, t.P, true), verdict("recall", r, t.R, true))
	}
	fa, _, _ := f.FARate()
	fas := verdict("false alarms/1k unit-days", fa, MaxFAPer1000, false)
	if f.FreeDays < MinFreeDays {
		fas += fmt.Sprintf(" (only %d charger-free unit-days, need %d)", f.FreeDays, MinFreeDays)
	}
	parts = append(parts, fas)
	if iv == time.Minute && len(f.TTD) > 0 {
		med := time.Duration(Quantile(f.TTD, 0.5)) * time.Millisecond
		ok := "meets"
		if med >= MaxMedianTTD {
			ok = "MISSES"
		}
		parts = append(parts, fmt.Sprintf("median TTD %.0f min %s < %.0f", med.Minutes(), ok, MaxMedianTTD.Minutes()))
	}
	// precision if 8% of homes charged (the scenario default): sessions
	// scale with the share, false alarms per unit-day do not
	if f.UnitDays > 0 && f.Sessions > 0 && f.FreeDays > 0 {
		tp := float64(f.Sessions) / float64(f.UnitDays) * (0.08 / IndoorShare) * r
		fp := float64(f.FalseAlarms) / float64(f.FreeDays)
		parts = append(parts, fmt.Sprintf("precision if 8%% of homes charged: about %.2f", tp/(tp+fp)))
	}
	fmt.Fprintf(w, "targets: %s\n", strings.Join(parts, "; "))
}

// lagMin formats a lag in ms as signed whole minutes; a lag that rounds to
// zero is "0", not "-0".
func lagMin(v int64) string {
	r := math.RoundToEven(float64(v) / 60000)
	if r == 0 {
		return "0"
	}
	return fmt.Sprintf("%+.0f", r)
}

// writeEnds writes when the alerts of the detected sessions ended, all
// cases together, in two lines: the end lag's distribution, then the
// alerts that outlived their session, ended early or were still open, and
// the sessions not judged.
func writeEnds(w io.Writer, outs []*Outcome) {
	f := scoreAll(outs, 0)
	m := lagMin
	lag := spread(f.EndLag, 0.1, m)
	fmt.Fprintf(w, "alert ends: lag = alert resolved - session end (unplugged), p10 / p50 [95%% CI] / p90 %s min, n %d; %d of %d detected sessions judged, %d bridged into a later session, %d ending in the span's last %.0f min or after\n",
		lag, len(f.EndLag), f.Judged(), f.Detected, f.Bridged, f.EndAfterSpan, Grace.Minutes())
	share := func(k int) string { return shareText(k, f.Judged()) }
	// the alerts that outlived their session are the tail of EndLag
	by := ""
	if i, _ := slices.BinarySearch(f.EndLag, Grace.Milliseconds()+1); i < len(f.EndLag) {
		tail := f.EndLag[i:]
		by = fmt.Sprintf(", by p50 %s / max %s min", m(Quantile(tail, 0.5)), m(tail[len(tail)-1]))
	}
	fmt.Fprintf(w, "  outlived the session by > %.0f min %s%s; ended > %.0f min before it %s, %d of them > %.0f min before the charger stopped charging; still open at the span's end %s\n",
		Grace.Minutes(), share(f.Outlived), by, Grace.Minutes(), share(f.EndedEarly), f.EndedCharging, Grace.Minutes(), share(f.StillOpen))
}

// StartNear is how close an alert's estimated start counts as right.
const StartNear = 5 * time.Minute

// StartCounts returns, of the start errors in f, how many are within
// StartNear of the session's start, and how many put it more than Grace
// early (before the charge) or late (after it).
func (f *Figures) StartCounts() (near, early, late int) {
	for _, v := range f.StartErr {
		switch {
		case v < -Grace.Milliseconds():
			early++
		case v > Grace.Milliseconds():
			late++
		}
		if abs64(v) <= StartNear.Milliseconds() {
			near++
		}
	}
	return near, early, late
}

// writeStarts writes, in one line, how far the detected sessions' alerts
// put their start: the error's distribution, the share within StartNear,
// and the shares more than Grace early and late.
func writeStarts(w io.Writer, outs []*Outcome) {
	f := scoreAll(outs, 0)
	dist := spread(f.StartErr, 0.1, lagMin)
	share := func(k int) string { return shareText(k, len(f.StartErr)) }
	near, early, late := f.StartCounts()
	fmt.Fprintf(w, "start estimate: error = alert's estimated start - session start (a two-bike session's first charge), p10 / p50 [95%% CI] / p90 %s min, n %d (%d detected sessions whose alert had fired before they began, open or reopened within the grace, not counted); within %.0f min %s; > %.0f min early %s; > %.0f min late %s\n",
		dist, len(f.StartErr), f.StartOpen, StartNear.Minutes(), share(near), Grace.Minutes(), share(early), Grace.Minutes(), share(late))
}

func verdict(name string, v, target float64, atLeast bool) string {
	ok := v >= target
	rel := ">="
	if !atLeast {
		ok = v < target
		rel = "<"
	}
	word := "meets"
	if !ok {
		word = "MISSES"
	}
	return fmt.Sprintf("%s %s %s %s %g", name, fnum(v, 3), word, rel, target)
}

// writeVisits writes how many alerts the simulated grid workers visited
// and how many they closed as false alarms (Options.Feedback).
func writeVisits(w io.Writer, outs []*Outcome) {
	var v, n, l int
	for _, o := range outs {
		v, n, l = v+o.Visits, n+o.Verdicts, l+o.Learnt
	}
	fmt.Fprintf(w, "grid workers' verdicts: %d alerts visited, %d closed as false alarms, learnt by %d devices' detectors\n", v, n, l)
}
