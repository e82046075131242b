package eval

import (
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// chargingDayOutcome is a unit "a" that charges on day d0 (20:00-23:00)
// and not on d0+1, and a unit "b" that never charges, with alerts.
func chargingDayOutcome(d0 int64, alerts ...Alert) *Outcome {
	at := func(d int64, hours float64) int64 { return simtime.At(d0+d, hours) }
	return &Outcome{Interval: time.Minute, From: simtime.DayStart(d0), To: simtime.DayStart(d0 + 2),
		Units: []UnitDays{
			{Unit: "a", Days: []DayTags{{Day: d0, Charging: true, Cases: CasePartial}, {Day: d0 + 1, Cases: CaseLookAlike}}},
			{Unit: "b", Days: []DayTags{{Day: d0}, {Day: d0 + 1}}},
		},
		Episodes: []Episode{{Unit: "a", Start: at(0, 20), End: at(0, 23), PlateauW: 150, Scored: true, Cases: CasePartial, Alert: -1}},
		Alerts:   alerts,
	}
}

// TestFalseCharging: an alert that overlaps no session on a unit-day with
// charging counts in FalseCharging (and Alerts), not in FalseAlarms; a
// charger-free day's counts as a false alarm as before; an alert that
// overlaps a session in neither.
func TestFalseCharging(t *testing.T) {
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	at := func(d int64, hours float64) int64 { return simtime.At(d0+d, hours) }
	cases := []struct {
		name                    string
		alert                   Alert
		c                       Cases
		truePos, fa, fcharge, n int // n: alerts in scope
	}{
		{"after the session ended, on its day", Alert{Unit: "a", Start: at(0, 20), Fired: at(0, 23.5), Resolved: at(0, 23.9)}, 0, 0, 0, 1, 1},
		{"after the session, still open", Alert{Unit: "a", Start: at(0, 23.2), Fired: at(0, 23.5)}, 0, 0, 0, 1, 1},
		{"before the session, on its day", Alert{Unit: "a", Start: at(0, 8), Fired: at(0, 9), Resolved: at(0, 10)}, 0, 0, 0, 1, 1},
		{"in the charging day's case", Alert{Unit: "a", Fired: at(0, 23.5), Resolved: at(0, 23.9)}, CasePartial, 0, 0, 1, 1},
		{"out of the case's days", Alert{Unit: "a", Fired: at(0, 23.5), Resolved: at(0, 23.9)}, CaseLookAlike, 0, 0, 0, 0},
		{"charger-free day of a charging unit", Alert{Unit: "a", Fired: at(1, 20), Resolved: at(1, 21)}, 0, 0, 1, 0, 1},
		{"charger-free day of a look-alike case", Alert{Unit: "a", Fired: at(1, 20), Resolved: at(1, 21)}, CaseLookAlike, 0, 1, 0, 1},
		{"unit that never charges", Alert{Unit: "b", Fired: at(0, 21), Resolved: at(0, 22)}, 0, 0, 1, 0, 1},
		{"overlapping the session", Alert{Unit: "a", Fired: at(0, 20.2), Resolved: at(0, 23)}, 0, 1, 0, 0, 1},
		{"fired before the session, open into it", Alert{Unit: "a", Fired: at(0, 19.5), Resolved: at(0, 20.5)}, 0, 1, 0, 0, 1},
		{"another unit's session", Alert{Unit: "b", Fired: at(0, 20.2), Resolved: at(0, 23)}, 0, 0, 1, 0, 1},
		{"after the span", Alert{Unit: "a", Fired: at(2, 1), Resolved: at(2, 2)}, 0, 0, 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := chargingDayOutcome(d0, c.alert)
			f := Score(o, c.c)
			if f.Alerts != c.n || f.TruePos != c.truePos || f.FalseAlarms != c.fa || f.FalseCharging != c.fcharge {
				t.Errorf("alerts %d true %d false alarms %d on charging days %d, want %d %d %d %d",
					f.Alerts, f.TruePos, f.FalseAlarms, f.FalseCharging, c.n, c.truePos, c.fa, c.fcharge)
			}
			var g Figures
			g.Add(&f)
			g.Add(&f)
			if g.FalseCharging != 2*f.FalseCharging {
				t.Errorf("Add: %d, want %d", g.FalseCharging, 2*f.FalseCharging)
			}
			if n := len(falseCharging(o)); n != c.fcharge && c.c == 0 {
				t.Errorf("falseCharging lists %d, Score counts %d", n, c.fcharge)
			}
			if n := len(falseAlarms(o)); n != c.fa && c.c == 0 {
				t.Errorf("falseAlarms lists %d, Score counts %d", n, c.fa)
			}
		})
	}
}

// TestTableColumns: scripts read fields 3, 7, 8 and 16 of the "all" row
// (detected, alerts, precision, false alarms); the alerts on charging days
// are the row's last field, after the time to detect.
func TestTableColumns(t *testing.T) {
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	at := func(d int64, hours float64) int64 { return simtime.At(d0+d, hours) }
	o := chargingDayOutcome(d0,
		Alert{Unit: "a", Fired: at(0, 20.2), Resolved: at(0, 23)},   // true
		Alert{Unit: "a", Fired: at(0, 23.5), Resolved: at(0, 23.9)}, // on a charging day
		Alert{Unit: "a", Fired: at(0, 8), Resolved: at(0, 9)},       // on a charging day
		Alert{Unit: "b", Fired: at(1, 20), Resolved: at(1, 21)},     // false alarm
	)
	var b strings.Builder
	WriteTable(&b, "t", []*Outcome{o})
	var row []string
	for _, l := range strings.Split(b.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "all" {
			row = f
		}
	}
	if len(row) < 16 {
		t.Fatalf("no all row in:\n%s", b.String())
	}
	if row[2] != "1" || row[6] != "4" || row[7] != "0.250" || row[15] != "1" || row[len(row)-1] != "2" {
		t.Errorf("fields 3, 7, 8, 16, last: %q %q %q %q %q, want 1 4 0.250 1 2 in:\n%s", row[2], row[6], row[7], row[15], row[len(row)-1], b.String())
	}
}

// TestRelate: an alert on a charging day that overlaps no session is
// measured against the unit's last session before its fire: after an
// unplug when its step was open at the unplug (the charger's step, an
// older one, or one begun during the charge), else unrelated.
func TestRelate(t *testing.T) {
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	at := func(hours float64) int64 { return simtime.At(d0, hours) }
	mn := int64(60000)
	sessions := []Episode{
		{Unit: "a", Start: at(8), End: at(9)},
		{Unit: "a", Start: at(20), End: at(23), Starts: []int64{at(20), at(21)}}, // two bikes
		{Unit: "b", Start: at(1), End: at(2)},                                    // another unit's
	}
	near := 3 * mn
	cases := []struct {
		name         string
		start, fired int64
		rel, step    string
		session      int
		gap          int64
	}{
		{"the charger's step", at(20) + mn, at(23) + 40*mn, AfterUnplug, ChargerStep, 1, 40 * mn},
		{"the second bike's step", at(21) - 2*mn, at(23) + 5*mn, AfterUnplug, ChargerStep, 1, 5 * mn},
		{"an older step", at(19), at(23) + mn, AfterUnplug, OlderStep, 1, mn},
		{"a step begun in the charge", at(22), at(23) + 10*mn, AfterUnplug, ChargeStep, 1, 10 * mn},
		{"a step begun at the unplug", at(23), at(23) + 20*mn, AfterUnplug, ChargeStep, 1, 20 * mn},
		{"a step begun after the unplug", at(23) + 5*mn, at(23) + 30*mn, Unrelated, "", 1, 30 * mn},
		{"between two sessions, begun after the first", at(12), at(13), Unrelated, "", 0, 4 * 60 * mn},
		{"before any session", at(6), at(7), Unrelated, "", 0, at(7) - at(9)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := &Outcome{Episodes: sessions}
			fa := FalseAlarm{Unit: "a", Start: c.start, Fired: c.fired}
			relate(&fa, o, near)
			if fa.Relation != c.rel || fa.Step != c.step || fa.Session != c.session || fa.Gap != c.gap {
				t.Errorf("%q %q session %d gap %d min, want %q %q %d %d min", fa.Relation, fa.Step, fa.Session, fa.Gap/mn, c.rel, c.step, c.session, c.gap/mn)
			}
		})
	}
	fa := FalseAlarm{Unit: "c", Start: at(20), Fired: at(21)}
	relate(&fa, &Outcome{Episodes: sessions}, near)
	if fa.Relation != Unrelated || fa.Session != -1 {
		t.Errorf("a unit without sessions: %+v", fa)
	}
}

// TestWriteFalseCharging: --explain-false lists the alerts on charging
// days apart from the false alarms, with their relation to the unit's
// session, and counts them by relation, cause and path.
func TestWriteFalseCharging(t *testing.T) {
	d0 := simtime.DayOf(day(2026, 1, 5).UnixMilli())
	at := func(d int64, hours float64) int64 { return simtime.At(d0+d, hours) }
	o := chargingDayOutcome(d0,
		Alert{Unit: "a", Start: at(0, 20), Fired: at(0, 20.2), Resolved: at(0, 22), Why: "fast after 10m0s: step 150 W"},              // true
		Alert{Unit: "a", Start: at(0, 20), Fired: at(0, 23.5), Resolved: at(0, 23.9), Why: "score (var) after 3h30m0s: step 150 var"}, // after the unplug
		Alert{Unit: "a", Start: at(0, 7), Fired: at(0, 8), Resolved: at(0, 9), Why: "rise after 1h0m0s: step 90 W"},                   // before the session
		Alert{Unit: "b", Start: at(1, 19), Fired: at(1, 20), Resolved: at(1, 21), Why: "rise after 1h0m0s: step 90 W"},                // false alarm
	)
	var b strings.Builder
	WriteFalseAlarms(&b, &Result{Intervals: []time.Duration{time.Minute}, Runs: map[time.Duration][]*Outcome{time.Minute: {o}}})
	out := b.String()
	for _, want := range []string{
		"FALSE ALARMS, readings every 1min: 1 ",
		"b 1min: rise, start 01-06 19:00",
		"NO SESSION ON CHARGING DAYS, readings every 1min: 2 alerts overlapping no session on a unit-day with charging (in precision, not in the false alarms): 1 after an unplug (1 the charger's step, 0 an older step, 0 a step begun in the charge; fired p25 / p50 / p90 30 / 30 / 30 min after it), 1 unrelated",
		"a 1min: score (var), start 01-05 20:00, fired 01-05 23:30, ended 01-05 23:54 (lasted 3h54m0s), plateau 0 W, charger 150 W; cause none on; after an unplug, the charger's step: session 01-05 20:00-23:00, step began 0 min after its start, fired 30 min after the unplug",
		"a 1min: rise, start 01-05 07:00, fired 01-05 08:00",
		"unrelated: the next session 01-05 20:00-23:00 began 720 min after the fire",
		"NO SESSION ON CHARGING DAYS BY RELATION × CAUSE × PATH, readings every 1min",
		"    1  after an unplug, the charger's step × none on × score (var)",
		"    1  unrelated × none on × rise",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	// the false alarms' block is as before: the charging day's alerts are not in it
	fa := out[:strings.Index(out, "NO SESSION ON CHARGING DAYS")]
	if strings.Contains(fa, "a 1min:") || !strings.Contains(fa, "    1  none on × rise") {
		t.Errorf("false alarms' block:\n%s", fa)
	}
}
