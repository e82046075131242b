package eval

import (
	"slices"
	"sort"

	"github.com/chargewatch/chargewatch/simulators/truth"
)

// workers simulates the grid workers of a city (Options.Feedback): each
// alert is visited delay after it fired; one that overlaps no charging of
// its unit, from its estimated start to the visit, is closed as a false
// alarm, and every device that raised it learns so at the visit
// (detect.Device.NotCharging with the alert's step). The ground truth a
// worker sees is the simulator's: the city emits each charge's record at
// its start, before any reading of that time, so at a visit every charge
// that began before it is known.
type workers struct {
	delay   int64 // ms; 0: no visits
	charges map[string][]truth.Record
	devs    map[string]*devRun
	book    *alertBook
	out     *Outcome
	due     []visitDue // by the time of the visit
}

type visitDue struct {
	at    int64 // event time of the visit
	alert int   // index in book.alerts
}

// truth takes a record of the city's ground truth.
func (w *workers) truth(r *truth.Record) {
	if w.delay > 0 && r.Kind == truth.IndoorCharging {
		w.charges[r.Unit] = append(w.charges[r.Unit], *r)
	}
}

// plan schedules a visit to every alert opened since the book held n.
func (w *workers) plan(n int) {
	if w.delay <= 0 {
		return
	}
	for i := n; i < len(w.book.alerts); i++ {
		// kept in time order: an alert raised from readings a gateway
		// held through an outage fired before alerts planned earlier
		v := visitDue{at: w.book.alerts[i].Fired + w.delay, alert: i}
		k := sort.Search(len(w.due), func(j int) bool { return w.due[j].at > v.at })
		w.due = slices.Insert(w.due, k, v)
	}
}

// visit makes every visit due by ts (a reading's event time).
func (w *workers) visit(ts int64) {
	for len(w.due) > 0 && w.due[0].at <= ts {
		v := w.due[0]
		w.due = w.due[1:]
		a := &w.book.alerts[v.alert]
		w.out.Visits++
		if w.charged(a.Unit, a.Start, v.at) {
			continue
		}
		w.out.Verdicts++
		for _, src := range a.Sources {
			if d := w.devs[src]; d != nil && d.det.NotCharging(v.at, a.StepW) {
				w.out.Learnt++
			}
		}
	}
}

// charged reports whether a charge of the unit overlaps [from, to].
func (w *workers) charged(unit string, from, to int64) bool {
	for i := range w.charges[unit] {
		if r := &w.charges[unit][i]; r.StartMS <= to && r.EndMS >= from {
			return true
		}
	}
	return false
}
