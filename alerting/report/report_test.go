package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
)

var (
	shanghai = time.FixedZone("CST", 8*3600)
	day      = time.Date(2026, 1, 5, 0, 0, 0, 0, shanghai) // the period is this day
	at       = func(m float64) int64 { return day.Add(time.Duration(m * float64(time.Minute))).UnixMilli() }
)

func f(v float64) *float64 { return &v }

// fixture: one day, district d1; street s1 has communities c1 and c2,
// street s2 has c3. Times are minutes after the start of the day.
func fixture() []alerting.Alert {
	c1 := alerting.Location{District: "d1", Street: "s1", Community: "c1"}
	c2 := alerting.Location{District: "d1", Street: "s1", Community: "c2"}
	c3 := alerting.Location{District: "d1", Street: "s2", Community: "c3"}
	s2 := alerting.Location{District: "d1", Street: "s2"}
	return []alerting.Alert{
		// c1: acked after 90.5 s, closed after 30 min.
		{ID: 1, Rule: alerting.RuleOverload, Severity: alerting.SeverityMajor, State: alerting.StateClosed, Location: c1,
			StartedAt: at(60), FiredAt: at(61), AckedAt: at(61) + 90500, ClosedAt: at(91), Outcome: alerting.OutcomeRectified},
		// c1: acked after 3 min, closed after 60 min; 1 escalation.
		{ID: 2, Rule: alerting.RuleOverload, Severity: alerting.SeverityMajor, State: alerting.StateClosed, Location: c1,
			StartedAt: at(119), FiredAt: at(120), AckedAt: at(123), ClosedAt: at(180), Outcome: alerting.OutcomeRectified},
		// c1: acked after 10 min, still acknowledged; open 1240 min < 24 h: not overdue; 2 escalations.
		{ID: 3, Rule: alerting.RuleIndoorCharging, Severity: alerting.SeverityWarning, State: alerting.StateAcknowledged, Location: c1,
			StartedAt: at(200), FiredAt: at(200), AckedAt: at(210)},
		// c1: critical, resolved without ack, not closed: overdue; a relapse; 3 escalations.
		{ID: 4, Rule: alerting.RuleSmoke, Severity: alerting.SeverityCritical, State: alerting.StateResolved, Location: c1,
			StartedAt: at(300), FiredAt: at(300), ResolvedAt: at(320), ResolvedUnacked: true, Relapse: true, RelapseOf: 1},
		// c2: major, firing since 400: overdue (1040 min > 2 h).
		{ID: 5, Rule: alerting.RuleResidualCurrent, Severity: alerting.SeverityMajor, State: alerting.StateFiring, Location: c2,
			StartedAt: at(400), FiredAt: at(400)},
		// c3: acked after 1 min, closed after 60 min; a relapse.
		{ID: 6, Rule: alerting.RuleOverload, Severity: alerting.SeverityWarning, State: alerting.StateClosed, Location: c3,
			StartedAt: at(500), FiredAt: at(500), AckedAt: at(501), ClosedAt: at(560), Outcome: alerting.OutcomeRectified, Relapse: true},
		// Left out: pending, cancelled, started before the period, started at its end.
		{ID: 7, Rule: alerting.RuleOverload, Severity: alerting.SeverityMajor, State: alerting.StatePending, Location: c1, StartedAt: at(600)},
		{ID: 8, Rule: alerting.RuleOverload, Severity: alerting.SeverityMajor, State: alerting.StateCancelled, Location: c1, StartedAt: at(600)},
		{ID: 9, Rule: alerting.RuleOverload, Severity: alerting.SeverityMajor, State: alerting.StateFiring, Location: c1, StartedAt: at(-60), FiredAt: at(-60)},
		{ID: 10, Rule: alerting.RuleOverload, Severity: alerting.SeverityMajor, State: alerting.StateFiring, Location: c1, StartedAt: at(1440), FiredAt: at(1440)},
		// s2: an area outage (no community), closed after 30 min without ack.
		{ID: 11, Rule: alerting.RuleAreaOutage, Severity: alerting.SeverityMajor, State: alerting.StateClosed, Location: s2,
			StartedAt: at(600), FiredAt: at(600), ResolvedAt: at(620), ResolvedUnacked: true, ClosedAt: at(630), Outcome: alerting.OutcomeReferred},
		// c2: info, firing: never overdue.
		{ID: 12, Rule: alerting.RuleLowBattery, Severity: alerting.SeverityInfo, State: alerting.StateFiring, Location: c2,
			StartedAt: at(700), FiredAt: at(700)},
	}
}

var escalations = map[int64]int{2: 1, 3: 2, 4: 3}

func escalationsOf(id int64) int { return escalations[id] }

type H = map[alerting.Rule]int

// want is the fixture's report, worked out by hand.
var want = []Row{
	// d1: alerts 1-6, 11, 12. Acked 60, 90.5, 180, 600 s: median (90.5+180)/2 = 135.25,
	// p90 the ceil(3.6) = 4th = 600. Closed 1800 (1), 3600 (2), 3600 (6), 1800 (11):
	// sorted 1800 1800 3600 3600, median 2700, p90 the 4th = 3600. Resolved unacked 4, 11;
	// overdue 4, 5; escalations 1+2+3; relapses 4, 6.
	{Level: LevelDistrict, Place: "d1", Total: 8,
		Hazards: H{"overload": 3, "indoor_charging": 1, "smoke": 1, "residual_current": 1, "area_outage": 1, "low_battery": 1},
		Acked:   4, AckedMedianS: f(135.25), AckedP90S: f(600), Closed: 4, ClosedMedianS: f(2700), ClosedP90S: f(3600),
		ResolvedUnacked: 2, Overdue: 2, Escalations: 6, Relapses: 2},
	// s1: alerts 1-5, 12. Acked 90.5, 180, 600: median 180, p90 the ceil(2.7) = 3rd = 600.
	// Closed 1800, 3600: median 2700, p90 the ceil(1.8) = 2nd = 3600.
	{Level: LevelStreet, Place: "s1", Total: 6,
		Hazards: H{"overload": 2, "indoor_charging": 1, "smoke": 1, "residual_current": 1, "low_battery": 1},
		Acked:   3, AckedMedianS: f(180), AckedP90S: f(600), Closed: 2, ClosedMedianS: f(2700), ClosedP90S: f(3600),
		ResolvedUnacked: 1, Overdue: 2, Escalations: 6, Relapses: 1},
	// s2: alerts 6, 11. Acked 60. Closed 3600, 1800: median 2700, p90 3600.
	{Level: LevelStreet, Place: "s2", Total: 2, Hazards: H{"overload": 1, "area_outage": 1},
		Acked: 1, AckedMedianS: f(60), AckedP90S: f(60), Closed: 2, ClosedMedianS: f(2700), ClosedP90S: f(3600),
		ResolvedUnacked: 1, Relapses: 1},
	// c1: alerts 1-4, as s1 without c2's.
	{Level: LevelCommunity, Place: "c1", Total: 4, Hazards: H{"overload": 2, "indoor_charging": 1, "smoke": 1},
		Acked: 3, AckedMedianS: f(180), AckedP90S: f(600), Closed: 2, ClosedMedianS: f(2700), ClosedP90S: f(3600),
		ResolvedUnacked: 1, Overdue: 1, Escalations: 6, Relapses: 1},
	// c2: alerts 5 (overdue) and 12 (info: never overdue); none acked or closed.
	{Level: LevelCommunity, Place: "c2", Total: 2, Hazards: H{"residual_current": 1, "low_battery": 1}, Overdue: 1},
	// c3: alert 6.
	{Level: LevelCommunity, Place: "c3", Total: 1, Hazards: H{"overload": 1},
		Acked: 1, AckedMedianS: f(60), AckedP90S: f(60), Closed: 1, ClosedMedianS: f(3600), ClosedP90S: f(3600), Relapses: 1},
}

func TestCompute(t *testing.T) {
	end := day.Add(24 * time.Hour)
	r := Compute(fixture(), escalationsOf, day, end, end, nil)
	if !r.EscalationsCounted || !r.From.Equal(day) || !r.To.Equal(end) {
		t.Errorf("report header %v %v %v", r.EscalationsCounted, r.From, r.To)
	}
	if len(r.Rows) != len(want) {
		t.Fatalf("%d rows, want %d: %s", len(r.Rows), len(want), js(r.Rows))
	}
	for i := range want {
		if !reflect.DeepEqual(r.Rows[i], want[i]) {
			t.Errorf("row %d:\n got %s\nwant %s", i, js(r.Rows[i]), js(want[i]))
		}
	}
	c := r.Only(LevelCommunity)
	if len(c.Rows) != 3 || c.Rows[0].Place != "c1" || c.Rows[2].Place != "c3" {
		t.Errorf("Only(community): %s", js(c.Rows))
	}
}

func TestComputeEmptyAndWithoutEscalations(t *testing.T) {
	end := day.Add(24 * time.Hour)
	r := Compute(nil, nil, day, end, end, nil)
	if r.Rows == nil || len(r.Rows) != 0 || r.EscalationsCounted {
		t.Errorf("empty report: %+v", r)
	}
	if b := js(r); !strings.Contains(b, `"rows":[]`) {
		t.Errorf("empty rows are not []: %s", b)
	}
	r = Compute(fixture(), nil, day, end, end, nil)
	for _, row := range r.Rows {
		if row.Escalations != 0 {
			t.Errorf("%s %s: escalations %d without a count", row.Level, row.Place, row.Escalations)
		}
	}
}

func TestOverdue(t *testing.T) {
	fired := day
	for _, c := range []struct {
		sev   alerting.Severity
		state alerting.State
		after time.Duration
		want  bool
	}{
		{alerting.SeverityCritical, alerting.StateFiring, 15 * time.Minute, false}, // exactly the deadline: not yet
		{alerting.SeverityCritical, alerting.StateFiring, 15*time.Minute + time.Millisecond, true},
		{alerting.SeverityCritical, alerting.StateAcknowledged, time.Hour, true}, // acknowledged does not stop the clock
		{alerting.SeverityCritical, alerting.StateClosed, time.Hour, false},
		{alerting.SeverityMajor, alerting.StateResolved, 2*time.Hour + time.Second, true},
		{alerting.SeverityMajor, alerting.StateFiring, 119 * time.Minute, false},
		{alerting.SeverityWarning, alerting.StateFiring, 25 * time.Hour, true},
		{alerting.SeverityWarning, alerting.StateFiring, 23 * time.Hour, false},
		{alerting.SeverityInfo, alerting.StateFiring, 1000 * time.Hour, false},
	} {
		a := &alerting.Alert{Severity: c.sev, State: c.state, FiredAt: fired.UnixMilli()}
		if got := Overdue(fired.Add(c.after))(a); got != c.want {
			t.Errorf("%s %s after %s: overdue %v, want %v", c.sev, c.state, c.after, got, c.want)
		}
	}
}

func TestCSV(t *testing.T) {
	end := day.Add(24 * time.Hour)
	var b bytes.Buffer
	if err := WriteCSV(&b, Compute(fixture(), escalationsOf, day, end, end, nil).Only(LevelCommunity)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	wantLines := []string{
		"level,place,total,acked,acked_median_s,acked_p90_s,closed,closed_median_s,closed_p90_s,resolved_unacked,overdue,escalations,relapses," +
			"hazard_indoor_charging,hazard_overload,hazard_port_overload,hazard_residual_current,hazard_over_temperature," +
			"hazard_over_voltage,hazard_under_voltage,hazard_arc_fault,hazard_phase_loss,hazard_pile_fault,hazard_port_over_temperature," +
			"hazard_long_session,hazard_no_taper,hazard_smoke,hazard_tamper,hazard_low_battery,hazard_device_fault," +
			"hazard_device_offline,hazard_gateway_offline,hazard_area_outage",
		"community,c1,4,3,180,600,2,2700,3600,1,1,6,1,1,2,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0",
		"community,c2,2,0,,,0,,,0,1,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0",
		"community,c3,1,1,60,60,1,3600,3600,0,0,0,1,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0",
	}
	if !reflect.DeepEqual(lines, wantLines) {
		t.Errorf("CSV:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(wantLines, "\n"))
	}
	// Without an escalation count the cell is empty, not 0.
	b.Reset()
	WriteCSV(&b, Compute(fixture(), nil, day, end, end, nil).Only(LevelCommunity))
	if got := strings.Split(b.String(), "\n")[1]; got != "community,c1,4,3,180,600,2,2700,3600,1,1,,1,1,2,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0" {
		t.Errorf("CSV without escalations: %s", got)
	}
}

func TestJSON(t *testing.T) {
	end := day.Add(24 * time.Hour)
	var b bytes.Buffer
	if err := WriteJSON(&b, Compute(fixture(), escalationsOf, day, end, end, nil).Only(LevelCommunity)); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Rows, want[3:]) {
		t.Errorf("JSON round trip: %s", b.String())
	}
	for _, s := range []string{`"from":"2026-01-05T00:00:00+08:00"`, `"escalations_counted":true`,
		`{"level":"community","place":"c2","total":2,"hazards":{"low_battery":1,"residual_current":1},"acked":0,"acked_median_s":null,"acked_p90_s":null,"closed":0,"closed_median_s":null,"closed_p90_s":null,"resolved_unacked":0,"overdue":1,"escalations":0,"relapses":0}`} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("JSON lacks %s: %s", s, b.String())
		}
	}
}

func TestPoints(t *testing.T) {
	end := day.Add(24 * time.Hour)
	r := Compute(fixture(), escalationsOf, day, end, end, nil)
	r.Rows = append(r.Rows, Row{Level: LevelCommunity, Place: "Xi Hu, 1=2", Total: 1})
	got := Points(r, end)
	ts := " 1767628800000000000"
	wantPts := []string{
		"accountability,level=district,place=d1 total=8i,acked_median_s=135.25,acked_p90_s=600,closed_median_s=2700,closed_p90_s=3600,resolved_unacked=2i,overdue=2i,escalations=6i,relapses=2i" + ts,
		"accountability,level=street,place=s1 total=6i,acked_median_s=180,acked_p90_s=600,closed_median_s=2700,closed_p90_s=3600,resolved_unacked=1i,overdue=2i,escalations=6i,relapses=1i" + ts,
		"accountability,level=street,place=s2 total=2i,acked_median_s=60,acked_p90_s=60,closed_median_s=2700,closed_p90_s=3600,resolved_unacked=1i,overdue=0i,escalations=0i,relapses=1i" + ts,
		"accountability,level=community,place=c1 total=4i,acked_median_s=180,acked_p90_s=600,closed_median_s=2700,closed_p90_s=3600,resolved_unacked=1i,overdue=1i,escalations=6i,relapses=1i" + ts,
		"accountability,level=community,place=c2 total=2i,resolved_unacked=0i,overdue=1i,escalations=0i,relapses=0i" + ts,
		"accountability,level=community,place=c3 total=1i,acked_median_s=60,acked_p90_s=60,closed_median_s=3600,closed_p90_s=3600,resolved_unacked=0i,overdue=0i,escalations=0i,relapses=1i" + ts,
		`accountability,level=community,place=Xi\ Hu\,\ 1\=2 total=1i,resolved_unacked=0i,overdue=0i,escalations=0i,relapses=0i` + ts,
	}
	if !reflect.DeepEqual(got, wantPts) {
		t.Errorf("points:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantPts, "\n"))
	}
	// Without an escalation count, the field is left out.
	r.EscalationsCounted = false
	if p := Points(r, end)[4]; p != "accountability,level=community,place=c2 total=2i,resolved_unacked=0i,overdue=1i,relapses=0i"+ts {
		t.Errorf("point without escalations: %s", p)
	}
}

func TestParseLevel(t *testing.T) {
	for _, l := range Levels() {
		if got, err := ParseLevel(string(l)); err != nil || got != l {
			t.Errorf("ParseLevel(%s) = %s, %v", l, got, err)
		}
	}
	if _, err := ParseLevel("building"); err == nil {
		t.Error("ParseLevel(building): no error")
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
