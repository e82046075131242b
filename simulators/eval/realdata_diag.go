package eval

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// semiDiag says how findable one semi-synthetic session is at the set's
// reading interval, from the data alone (no detector): whether its charger's
// step stands out of the background's reading-to-reading noise, and for how
// long the background stays still enough for the step to be told apart.
type semiDiag struct {
	StepW   float64       // the charger's power at the first reading of the session
	ReadW   float64       // the change the meter read there (background included)
	SigmaW  float64       // the detector's sd of the reading-to-reading change at the session's start (physCore.sigma)
	ThrW    float64       // max(25, 3 × SigmaW): an edge the detector would see
	Plateau time.Duration // how long the charger stays at 90% of StepW or more
	Quiet   time.Duration // until the background first moved by half the step from its level before it
	// FloorW is how far the lowest power the meter read in semiFloor after
	// the session's first reading stands over the lowest in semiFloor
	// before it; BgFloorW the same of the background alone
	FloorW, BgFloorW float64
	Class            string
	Hopeless         bool // not findable by these criteria
}

// semiFloor is how long a charger must stand under every other load's
// switching to be told from them: the detector's persistence window (the
// lowest power of 45 minutes that the "not persistent" rule reads).
const semiFloor = 45 * time.Minute

// semiWindow is how long a step must stand out to be judged: the fast
// paths' hold at 1 min (20 minutes for a size the unit does not know) and
// eight 5-min readings at 5 min (FastNewReadings).
func semiWindow(iv time.Duration) time.Duration {
	if iv >= 5*time.Minute {
		return 40 * time.Minute
	}
	return 20 * time.Minute
}

// semiDiagnose measures every episode of a semi-synthetic outcome; bg is a
// unit's background alone, chg its chargers alone.
func semiDiagnose(o *Outcome, bg map[string]func(int64) float64, chg func(unit string, t int64) float64) []semiDiag {
	iv := o.Interval.Milliseconds()
	win := semiWindow(o.Interval).Milliseconds()
	out := make([]semiDiag, len(o.Episodes))
	for i := range o.Episodes {
		e := &o.Episodes[i]
		b := bg[e.Unit]
		ta := o.From + (e.Start-o.From+iv-1)/iv*iv // first reading of the session
		tb := ta - iv
		d := &out[i]
		d.StepW = chg(e.Unit, ta) - chg(e.Unit, tb)
		d.ReadW = b(ta) + chg(e.Unit, ta) - b(tb) - chg(e.Unit, tb)
		// the detector's own estimate (physCore.quiet): a moving mean of
		// the absolute change of the readings that were not edges, from
		// the start of the unit's series
		na, prev := 0.0, b(o.From)+chg(e.Unit, o.From)
		for t := o.From + iv; t <= tb; t += iv {
			p := b(t) + chg(e.Unit, t)
			dd := math.Abs(p - prev)
			prev = p
			if dd < math.Max(25, 3*1.25*na) {
				na += 0.05 * (math.Min(dd, 3*1.25*na+1) - na)
			}
		}
		d.SigmaW = 1.25 * na
		d.ThrW = math.Max(25, 3*d.SigmaW)
		t := ta
		for ; t < e.End && chg(e.Unit, t) >= 0.9*d.StepW; t += iv {
		}
		d.Plateau = time.Duration(t-ta) * time.Millisecond
		lvl := b(tb)
		t = ta
		for ; t < min(e.End, o.To) && math.Abs(b(t)-lvl) < d.StepW/2; t += iv {
		}
		d.Quiet = time.Duration(t-ta) * time.Millisecond
		fl := semiFloor.Milliseconds()
		low := func(f func(int64) float64, a, b int64) float64 {
			m := math.Inf(1)
			for t := max(a, o.From); t <= min(b, o.To-iv); t += iv {
				m = math.Min(m, f(t))
			}
			return m
		}
		all := func(t int64) float64 { return b(t) + chg(e.Unit, t) }
		d.FloorW = low(all, ta, ta+fl) - low(all, tb-fl, tb)
		d.BgFloorW = low(b, ta, ta+fl) - low(b, tb-fl, tb)
		switch {
		case d.Plateau < 2*o.Interval:
			d.Class, d.Hopeless = "no plateau: the trace begins in its taper", true
		case d.ReadW < d.ThrW:
			d.Class, d.Hopeless = "step under the background's noise (under 3 sd of its change, or 25 W)", true
		case d.ReadW > 1.6*300 || d.ReadW < 0.8*70:
			d.Class, d.Hopeless = "step out of the band (another load switched in the same reading)", true
		case time.Duration(win)*time.Millisecond > d.Plateau:
			d.Class, d.Hopeless = fmt.Sprintf("plateau under %s", semiWindow(o.Interval)), true
		case d.FloorW < 0.7*d.StepW || math.Abs(d.BgFloorW) >= 0.3*d.StepW:
			d.Class, d.Hopeless = "the floor (lowest power of 45 min) did not rise by the step: other loads hide it", true
		case d.Quiet < time.Duration(win)*time.Millisecond:
			d.Class = fmt.Sprintf("findable by the floor: the background moved by half the step within %s, its floor did not", semiWindow(o.Interval))
		default:
			d.Class = fmt.Sprintf("findable: a step over the noise, the background still for %s", semiWindow(o.Interval))
		}
	}
	return out
}

// writeSemiSessions lists the semi-synthetic sessions one by one: how
// findable each is, and what the detector did with it.
func writeSemiSessions(w io.Writer, o *Outcome) {
	if len(o.semi) != len(o.Episodes) {
		return
	}
	fmt.Fprintf(w, "\nSEMI-SYNTHETIC SESSIONS, readings every %s: findable (from the data alone) x what the detector did\n", fmtInterval(o.Interval))
	byClass := map[string][2]int{}
	var hopeless, findable, foundH, foundF int
	for i := range o.Episodes {
		e, d := &o.Episodes[i], &o.semi[i]
		if !e.Scored {
			continue
		}
		did := ""
		switch {
		case e.Detected:
			a := &o.Alerts[e.Alert]
			did = fmt.Sprintf("detected after %d min by %s", e.TTD/60000, pathOf(a.Why))
		case o.Explain != nil && i < len(o.Explain.Class):
			did = "missed: " + o.Explain.Class[i]
		default:
			did = "missed"
		}
		n := byClass[d.Class]
		n[0]++
		if e.Detected {
			n[1]++
		}
		byClass[d.Class] = n
		if d.Hopeless {
			hopeless++
			if e.Detected {
				foundH++
			}
		} else {
			findable++
			if e.Detected {
				foundF++
			}
		}
		fmt.Fprintf(w, "%s %s %-38s step %5.1f W read %+6.1f sd %5.1f thr %5.1f plateau %4.0f quiet %4.0f min floor %+6.1f bg %+6.1f | %s | %s\n",
			e.Unit, time.UnixMilli(e.Start).In(simtime.Zone).Format("01-02 15:04"), strings.Join(e.Chargers, "+"), d.StepW, d.ReadW, d.SigmaW, d.ThrW,
			d.Plateau.Minutes(), d.Quiet.Minutes(), d.FloorW, d.BgFloorW, d.Class, did)
	}
	fmt.Fprintf(w, "\nSEMI-SYNTHETIC FINDABILITY, readings every %s: sessions / detected\n", fmtInterval(o.Interval))
	for _, k := range slices.Sorted(maps.Keys(byClass)) {
		fmt.Fprintf(w, "%5d / %3d  %s\n", byClass[k][0], byClass[k][1], k)
	}
	fmt.Fprintf(w, "%5d / %3d  findable in all; %d / %d hopeless\n", findable, foundF, hopeless, foundH)
}
