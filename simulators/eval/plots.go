package eval

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// WritePlots draws, for every hard case, a detected and a missed session
// (when the interval has one) and a false alarm, as SVG files in dir, and
// returns their paths. label names the set in the file names.
func WritePlots(dir, label string, outs []*Outcome) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	write := func(name string, p *Plot) error {
		path := filepath.Join(dir, name+".svg")
		if err := os.WriteFile(path, p.SVG(), 0o644); err != nil {
			return err
		}
		paths = append(paths, path)
		return nil
	}
	for _, o := range outs {
		match(o)
	}
	for _, c := range []Cases{CaseLookAlike, CaseTwoBikes, CasePartial, CaseKW} {
		for _, detected := range []bool{true, false} {
			o, e := pickEpisode(outs, c, detected)
			if e == nil {
				continue
			}
			what := "missed"
			if detected {
				what = fmt.Sprintf("detected %.0f min after the start", float64(e.TTD)/60000)
			}
			title := fmt.Sprintf("%s, %s: %s, readings every %s", label, c, what, fmtInterval(o.Interval))
			name := fmt.Sprintf("%s-%s-%s-%s", slug(label), slug(c.String()), fmtInterval(o.Interval), map[bool]string{true: "detected", false: "missed"}[detected])
			if err := write(name, episodePlot(o, e, title)); err != nil {
				return paths, err
			}
		}
	}
	if o, a := pickFalseAlarm(outs); a != nil {
		ts, ws := o.series(a.Unit, a.Fired-4*simtime.Hour, alertEnd(a, o.To)+2*simtime.Hour)
		p := &Plot{Title: fmt.Sprintf("%s, false alarm in %s, readings every %s", label, a.Unit, fmtInterval(o.Interval)), TS: ts, W: ws,
			Alerts: []Alert{*a}, Notes: []string{"no charger in this unit at that time", a.Why}}
		if err := write(fmt.Sprintf("%s-false-alarm-%s", slug(label), fmtInterval(o.Interval)), p); err != nil {
			return paths, err
		}
	}
	return paths, nil
}

func alertEnd(a *Alert, to int64) int64 {
	if a.Resolved == 0 {
		return to
	}
	return a.Resolved
}

// pickEpisode returns the first scored session of a case (in city order)
// that was detected, or missed; preferring a single-session unit-day so the
// picture is clear.
func pickEpisode(outs []*Outcome, c Cases, detected bool) (*Outcome, *Episode) {
	for _, o := range outs {
		for i := range o.Episodes {
			e := &o.Episodes[i]
			if e.Scored && e.Cases&c != 0 && e.Detected == detected {
				return o, e
			}
		}
	}
	return nil, nil
}

func pickFalseAlarm(outs []*Outcome) (*Outcome, *Alert) {
	for _, o := range outs {
		hit := match(o)
		for i := range o.Alerts {
			if hit[i] < 0 && o.Alerts[i].Fired >= o.From {
				return o, &o.Alerts[i]
			}
		}
	}
	return nil, nil
}

// episodePlot draws the unit's power from three hours before a session to
// an hour after it (at most 14 hours), with its sessions and alerts.
func episodePlot(o *Outcome, e *Episode, title string) *Plot {
	from := e.Start - 3*simtime.Hour
	to := min(e.End, e.Start+10*simtime.Hour) + simtime.Hour
	ts, ws := o.series(e.Unit, from, to)
	p := &Plot{Title: title, TS: ts, W: ws}
	for _, x := range o.Episodes {
		if x.Unit == e.Unit && x.Start < to && x.End > from {
			p.Truth = append(p.Truth, [2]int64{x.Start, x.End})
		}
	}
	var why string
	for _, a := range o.Alerts {
		if a.Unit == e.Unit && a.Fired < to && alertEnd(&a, o.To) > from {
			p.Alerts = append(p.Alerts, a)
			if why == "" && a.Why != "" {
				why = "alert: " + a.Why
			}
		}
	}
	p.Notes = append(p.Notes, fmt.Sprintf("unit %s, %s, session %s to %s, chargers %s, plateau %.0f W, cases: %s",
		e.Unit, o.Label, simtime.Time(e.Start).Format("01-02 15:04"), simtime.Time(e.End).Format("01-02 15:04"),
		strings.Join(e.Chargers, "+"), e.PlateauW, e.Cases))
	if why != "" {
		p.Notes = append(p.Notes, why)
	}
	return p
}

func slug(s string) string {
	return strings.NewReplacer(" ", "-", ",", "", "(", "", ")", "").Replace(strings.ToLower(s))
}

// TempPlotDir makes a fresh folder for pictures under the system's
// temporary folder.
func TempPlotDir() (string, error) {
	return os.MkdirTemp("", "cw-sim-eval-"+time.Now().Format("20060102-150405")+"-")
}
