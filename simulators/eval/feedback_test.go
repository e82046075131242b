package eval

import (
	"context"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/simulators/truth"
)

// TestWorkersVisit: a visit falls due delay after its alert fired, and
// closes it as a false alarm only when no charge of its unit overlaps the
// alert's estimated start to the visit.
func TestWorkersVisit(t *testing.T) {
	const h = int64(time.Hour / time.Millisecond)
	for _, c := range []struct {
		name        string
		charge      [2]int64 // a charge of unit "a"; {0, 0}: none
		alertUnit   string
		visitAt     int64 // the reading time the visits are made by
		wantVisits  int
		wantVerdict int
	}{
		{"no charge", [2]int64{}, "a", 14 * h, 1, 1},
		{"not yet due", [2]int64{}, "a", 13*h + h/2, 0, 0},
		{"charge during the alert", [2]int64{10*h + h/2, 12 * h}, "a", 14 * h, 1, 0},
		{"charge began before the visit", [2]int64{13 * h, 15 * h}, "a", 14 * h, 1, 0},
		{"charge ended before the alert's start", [2]int64{5 * h, 9 * h}, "a", 14 * h, 1, 1},
		{"charge began after the visit", [2]int64{14*h + 1, 16 * h}, "a", 14 * h, 1, 1},
		{"another unit's charge", [2]int64{10 * h, 12 * h}, "b", 14 * h, 1, 1},
	} {
		out := &Outcome{}
		book := newAlertBook()
		w := &workers{delay: 2 * h, charges: map[string][]truth.Record{}, book: book, out: out}
		if c.charge[1] > 0 {
			w.truth(&truth.Record{Kind: truth.IndoorCharging, Unit: "a", StartMS: c.charge[0], EndMS: c.charge[1]})
		}
		w.truth(&truth.Record{Kind: truth.Overload, Unit: c.alertUnit, StartMS: 0, EndMS: 20 * h}) // not a charge
		book.alerts = append(book.alerts, Alert{Unit: c.alertUnit, Start: 10 * h, Fired: 12 * h, StepW: 100, Sources: []string{"m1"}})
		w.plan(0)
		w.visit(c.visitAt)
		if out.Visits != c.wantVisits || out.Verdicts != c.wantVerdict {
			t.Errorf("%s: %d visits, %d false-alarm verdicts; want %d, %d", c.name, out.Visits, out.Verdicts, c.wantVisits, c.wantVerdict)
		}
	}
	// no delay: no visits
	out := &Outcome{}
	book := newAlertBook()
	w := &workers{charges: map[string][]truth.Record{}, book: book, out: out}
	book.alerts = append(book.alerts, Alert{Unit: "a", Fired: 1})
	w.plan(0)
	w.visit(100 * h)
	if out.Visits != 0 || len(w.due) != 0 {
		t.Errorf("no delay: %d visits, %d due", out.Visits, len(w.due))
	}
}

// TestFeedbackCity runs a small city with the grid workers' verdicts: every
// alert fired at least the delay before the last reading is visited, and
// the false-alarm verdicts are exactly the visited alerts that overlap no
// labelled session of their unit from their estimated start to the visit
// (the episodes the scorer uses, built apart from the visits' records);
// the devices that raised them learn them (the seed is one whose verdicts
// fall on sizes the memory does not hold as a charger).
func TestFeedbackCity(t *testing.T) {
	s := Spec{Seed: 7, Start: day(2026, 3, 2), Days: 4, Interval: time.Minute, Buildings: 3, Units: 10, Indoor: 0.1, TwoBikes: 0.3}
	p := detect.DefaultPhysicsParams()
	p.Feedback = 32
	const fb = 2 * time.Hour
	o, err := runCity(context.Background(), s, Physics(p), nil, fb)
	if err != nil {
		t.Fatal(err)
	}
	last := o.To - s.Interval.Milliseconds()
	visits, verdicts := 0, 0
	for _, a := range o.Alerts {
		at := a.Fired + fb.Milliseconds()
		if at > last {
			continue
		}
		visits++
		found := false
		for _, e := range o.Episodes {
			if e.Unit == a.Unit && e.Start <= at && e.End >= a.Start {
				found = true
			}
		}
		if !found {
			verdicts++
		}
	}
	if visits == 0 {
		t.Fatal("no alert was visited: the city is too small to test the verdicts")
	}
	if o.Visits != visits || o.Verdicts != verdicts {
		t.Errorf("%d visits, %d false-alarm verdicts; want %d, %d", o.Visits, o.Verdicts, visits, verdicts)
	}
	if o.Learnt > o.Verdicts*2 || o.Verdicts > 0 && o.Learnt == 0 {
		t.Errorf("%d verdicts learnt by %d detectors (a unit has a meter and at most a plug)", o.Verdicts, o.Learnt)
	}
	t.Logf("%d alerts, %d visited, %d closed as false alarms, learnt by %d", len(o.Alerts), o.Visits, o.Verdicts, o.Learnt)
}

// TestWorkersVisitOrder: visits are made in the order they fall due, not
// the order their alerts were raised: an alert raised later from readings a
// gateway held through an outage, fired before one raised earlier, is
// visited when its own visit falls due.
func TestWorkersVisitOrder(t *testing.T) {
	const h = int64(time.Hour / time.Millisecond)
	out := &Outcome{}
	book := newAlertBook()
	w := &workers{delay: 2 * h, charges: map[string][]truth.Record{}, book: book, out: out}
	book.alerts = append(book.alerts, Alert{Unit: "a", Start: 9 * h, Fired: 10 * h, StepW: 100})
	w.plan(0)
	book.alerts = append(book.alerts, Alert{Unit: "b", Start: 5 * h, Fired: 6 * h, StepW: 100}) // held readings
	w.plan(1)
	w.visit(9 * h)
	if out.Visits != 1 || len(w.due) != 1 || w.due[0].alert != 0 {
		t.Errorf("at 9 h: %d visits, due %+v; want the held alert's visit made, the other due", out.Visits, w.due)
	}
	w.visit(12 * h)
	if out.Visits != 2 || len(w.due) != 0 {
		t.Errorf("at 12 h: %d visits, %d due; want 2, 0", out.Visits, len(w.due))
	}
}
