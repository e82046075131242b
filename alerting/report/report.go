// Package report computes the accountability report that supervisors
// review: per district, street and community over a period, how many
// alerts of each hazard there were, how fast they were acknowledged and
// closed, how many resolved without anyone acknowledging them, how many are
// open past their deadline, how many escalations they triggered and how
// many were relapses. docs/api.md ("Accountability report") defines every
// figure.
//
// Compute is pure: it takes the alerts and an optional escalation count,
// so it works with or without notifications. WriteCSV, WriteJSON and
// Points encode a report for the API, the CLI and InfluxDB.
package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
)

// Level is the part of the hierarchy rows are grouped by.
type Level string

// Levels, widest first.
const (
	LevelDistrict  Level = "district"
	LevelStreet    Level = "street"
	LevelCommunity Level = "community"
)

// Levels lists the levels, widest first.
func Levels() []Level { return []Level{LevelDistrict, LevelStreet, LevelCommunity} }

// ParseLevel parses a level name.
func ParseLevel(s string) (Level, error) {
	for _, l := range Levels() {
		if string(l) == s {
			return l, nil
		}
	}
	return "", fmt.Errorf("unknown level %q: use community, street or district", s)
}

func (l Level) of(loc *alerting.Location) string {
	switch l {
	case LevelDistrict:
		return loc.District
	case LevelStreet:
		return loc.Street
	}
	return loc.Community
}

// Deadlines are how long an alert of each severity may stay open after it
// fired before it counts as overdue. Info alerts are never overdue.
var Deadlines = map[alerting.Severity]time.Duration{
	alerting.SeverityCritical: 15 * time.Minute,
	alerting.SeverityMajor:    2 * time.Hour,
	alerting.SeverityWarning:  24 * time.Hour,
}

// Overdue returns the default overdue test at now: the alert is open (not
// closed or cancelled) and fired longer ago than its severity's deadline
// (Deadlines). Being acknowledged does not stop the clock: a hazard is
// someone's until it is closed.
func Overdue(now time.Time) func(*alerting.Alert) bool {
	at := now.UnixMilli()
	return func(a *alerting.Alert) bool {
		d, ok := Deadlines[a.Severity]
		if !ok || !a.State.Open() || a.FiredAt == 0 {
			return false
		}
		return at-a.FiredAt > d.Milliseconds()
	}
}

// Report is the accountability report of one period.
type Report struct {
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	GeneratedAt time.Time `json:"generated_at"`
	// EscalationsCounted is false when no escalation count was available
	// (notifications are off, or the caller cannot see them): the rows'
	// escalations are then 0 and mean "unknown".
	EscalationsCounted bool  `json:"escalations_counted"`
	Rows               []Row `json:"rows"`
}

// Row is one place's figures. The time figures are in seconds and cover
// only the alerts that were acknowledged (Acked) or closed (Closed); they
// are null when there were none.
type Row struct {
	Level           Level                 `json:"level"`
	Place           string                `json:"place"`
	Total           int                   `json:"total"`
	Hazards         map[alerting.Rule]int `json:"hazards"` // alerts by rule; rules with none are left out
	Acked           int                   `json:"acked"`
	AckedMedianS    *float64              `json:"acked_median_s"`
	AckedP90S       *float64              `json:"acked_p90_s"`
	Closed          int                   `json:"closed"`
	ClosedMedianS   *float64              `json:"closed_median_s"`
	ClosedP90S      *float64              `json:"closed_p90_s"`
	ResolvedUnacked int                   `json:"resolved_unacked"`
	Overdue         int                   `json:"overdue"`
	Escalations     int                   `json:"escalations"`
	Relapses        int                   `json:"relapses"`
}

// Compute makes the report of the alerts that started in [from, to) and
// fired (pending and cancelled alerts never reached anyone and are left
// out). Each alert counts once at each level, under its district, street
// and community; an alert without a place at a level (an area outage has
// no community) is left out of that level. escalations, when not nil,
// gives the escalation messages triggered by an alert; overdue, when nil,
// is Overdue(now). Rows are by level (district, street, community), then
// place.
func Compute(alerts []alerting.Alert, escalations func(alertID int64) int, from, to, now time.Time, overdue func(*alerting.Alert) bool) Report {
	if overdue == nil {
		overdue = Overdue(now)
	}
	r := Report{From: from, To: to, GeneratedAt: now, EscalationsCounted: escalations != nil, Rows: []Row{}}
	type acc struct {
		row          Row
		acked, close []int64
	}
	groups := map[Level]map[string]*acc{}
	lo, hi := from.UnixMilli(), to.UnixMilli()
	for i := range alerts {
		a := &alerts[i]
		if a.StartedAt < lo || a.StartedAt >= hi || a.FiredAt == 0 || a.State == alerting.StatePending || a.State == alerting.StateCancelled {
			continue
		}
		esc := 0
		if escalations != nil {
			esc = escalations(a.ID)
		}
		late := overdue(a)
		for _, l := range Levels() {
			place := l.of(&a.Location)
			if place == "" {
				continue
			}
			if groups[l] == nil {
				groups[l] = map[string]*acc{}
			}
			g := groups[l][place]
			if g == nil {
				g = &acc{row: Row{Level: l, Place: place, Hazards: map[alerting.Rule]int{}}}
				groups[l][place] = g
			}
			g.row.Total++
			g.row.Hazards[a.Rule]++
			if a.AckedAt != 0 {
				g.acked = append(g.acked, max(a.AckedAt-a.FiredAt, 0))
			}
			if a.State == alerting.StateClosed && a.ClosedAt != 0 {
				g.close = append(g.close, max(a.ClosedAt-a.FiredAt, 0))
			}
			if a.ResolvedUnacked {
				g.row.ResolvedUnacked++
			}
			if late {
				g.row.Overdue++
			}
			if a.Relapse {
				g.row.Relapses++
			}
			g.row.Escalations += esc
		}
	}
	for _, l := range Levels() {
		places := make([]string, 0, len(groups[l]))
		for p := range groups[l] {
			places = append(places, p)
		}
		slices.Sort(places)
		for _, p := range places {
			g := groups[l][p]
			g.row.Acked, g.row.Closed = len(g.acked), len(g.close)
			g.row.AckedMedianS, g.row.AckedP90S = stats(g.acked)
			g.row.ClosedMedianS, g.row.ClosedP90S = stats(g.close)
			r.Rows = append(r.Rows, g.row)
		}
	}
	return r
}

// stats returns the median and the 90th percentile of durations in ms, in
// seconds, nil for none. The median of an even count is the mean of the
// two middle values; the 90th percentile is by nearest rank: the
// ceil(0.9 n)-th smallest value.
func stats(ms []int64) (median, p90 *float64) {
	n := len(ms)
	if n == 0 {
		return nil, nil
	}
	slices.Sort(ms)
	m := float64(ms[n/2])
	if n%2 == 0 {
		m = float64(ms[n/2-1]+ms[n/2]) / 2
	}
	p := float64(ms[int(math.Ceil(0.9*float64(n)))-1])
	m, p = m/1000, p/1000
	return &m, &p
}

// Only returns the report with the rows of level l only.
func (r Report) Only(l Level) Report {
	out := r
	out.Rows = []Row{}
	for _, row := range r.Rows {
		if row.Level == l {
			out.Rows = append(out.Rows, row)
		}
	}
	return out
}

// escape escapes a tag key or value of InfluxDB line protocol.
var escape = strings.NewReplacer(",", `\,`, " ", `\ `, "=", `\=`, "\n", `\n`)
