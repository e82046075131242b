package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting/report"
)

// reportEnv is newEnv's three alerts (major, fired at t0: mon1 in c1, m3
// in c2, m5 in c3), with mon1 acknowledged after 2 min and closed after
// 30 min, m5 acknowledged after 1 min, and the clock at t0 + 3 h.
func reportEnv(t *testing.T) *env {
	v := newEnv(t)
	step := func(at time.Duration, who, path, body string) {
		t.Helper()
		v.clock.Set(t0.Add(at))
		if code, got := v.do(who, "POST", path, body, nil); code != 200 {
			t.Fatalf("%s %s: %d %s", who, path, code, got)
		}
	}
	step(time.Minute, "gw3", fmt.Sprintf("/api/v1/alerts/%d/ack", v.ids["m5"]), `{"note":"on my way"}`)
	step(2*time.Minute, "gw1", fmt.Sprintf("/api/v1/alerts/%d/ack", v.ids["mon1"]), `{"note":"on my way"}`)
	step(30*time.Minute, "gw1", fmt.Sprintf("/api/v1/alerts/%d/close", v.ids["mon1"]), `{"outcome":"referred","note":"landlord to replace the cable"}`)
	v.clock.Set(t0.Add(3 * time.Hour))
	return v
}

const reportDay = "from=2026-01-05T00:00:00%2B08:00&to=2026-01-06T00:00:00%2B08:00"

func TestReportFigures(t *testing.T) {
	v := reportEnv(t)
	var r report.Report
	if code, got := v.do("adm", "GET", "/api/v1/report?level=all&"+reportDay, nil, &r); code != 200 {
		t.Fatalf("%d %s", code, got)
	}
	// row is level/place total acked ack-median ack-p90 closed close-median close-p90 overdue.
	type row struct {
		at                       string
		total, acked             int
		ackMed, ackP90           float64
		closed                   int
		closeMed, closeP90       float64
		overdue, resolvedUnacked int
	}
	var got []row
	for _, x := range r.Rows {
		g := row{at: string(x.Level) + "/" + x.Place, total: x.Total, acked: x.Acked, closed: x.Closed, overdue: x.Overdue, resolvedUnacked: x.ResolvedUnacked}
		for _, p := range []struct {
			dst *float64
			v   *float64
		}{{&g.ackMed, x.AckedMedianS}, {&g.ackP90, x.AckedP90S}, {&g.closeMed, x.ClosedMedianS}, {&g.closeP90, x.ClosedP90S}} {
			*p.dst = -1
			if p.v != nil {
				*p.dst = *p.v
			}
		}
		got = append(got, g)
	}
	want := []row{
		// Acked after 60 s (m5) and 120 s (mon1): median 90, p90 the 2nd = 120. m3 (firing)
		// and m5 (acknowledged, open) are past the 2 h deadline of a major alert.
		{"district/d1", 3, 2, 90, 120, 1, 1800, 1800, 2, 0},
		{"street/s1", 2, 1, 120, 120, 1, 1800, 1800, 1, 0},
		{"street/s2", 1, 1, 60, 60, 0, -1, -1, 1, 0},
		{"community/c1", 1, 1, 120, 120, 1, 1800, 1800, 0, 0},
		{"community/c2", 1, 0, -1, -1, 0, -1, -1, 1, 0},
		{"community/c3", 1, 1, 60, 60, 0, -1, -1, 1, 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("report rows:\n got %+v\nwant %+v", got, want)
	}
	if r.EscalationsCounted || r.Rows[0].Hazards["overload"] != 2 || r.Rows[0].Hazards["residual_current"] != 1 {
		t.Errorf("escalations counted %v, hazards %v", r.EscalationsCounted, r.Rows[0].Hazards)
	}

	// The default level is community; a later period has no alerts.
	if v.do("adm", "GET", "/api/v1/report?"+reportDay, nil, &r); len(r.Rows) != 3 || r.Rows[0].Level != report.LevelCommunity {
		t.Errorf("default level: %+v", r.Rows)
	}
	if v.do("adm", "GET", "/api/v1/report?level=street&from=2026-01-05T20:00:01%2B08:00&to=2026-01-06T00:00:00%2B08:00", nil, &r); len(r.Rows) != 0 {
		t.Errorf("later period: %+v", r.Rows)
	}
	// Without from and to: the last 24 h.
	if v.do("adm", "GET", "/api/v1/report", nil, &r); len(r.Rows) != 3 || !r.To.Equal(t0.Add(3*time.Hour)) || !r.From.Equal(t0.Add(-21*time.Hour)) {
		t.Errorf("last 24 h: %v to %v, %d rows", r.From, r.To, len(r.Rows))
	}
}

// TestReportScope: a grid worker's report holds only their communities'
// alerts, at every level.
func TestReportScope(t *testing.T) {
	v := reportEnv(t)
	var r report.Report
	if code, got := v.do("gw1", "GET", "/api/v1/report?level=all&"+reportDay, nil, &r); code != 200 {
		t.Fatalf("%d %s", code, got)
	}
	var at []string
	for _, x := range r.Rows {
		at = append(at, fmt.Sprintf("%s/%s:%d", x.Level, x.Place, x.Total))
	}
	if want := []string{"district/d1:1", "street/s1:1", "community/c1:1"}; !reflect.DeepEqual(at, want) {
		t.Errorf("gw1's report: %v, want %v", at, want)
	}
	if code, got := v.do("so1", "GET", "/api/v1/report?format=csv&"+reportDay, nil, nil); code != 200 || strings.Contains(got, "c3") || !strings.Contains(got, "\ncommunity,c2,") {
		t.Errorf("so1's CSV: %d %s", code, got)
	}
}

func TestReportCSV(t *testing.T) {
	v := reportEnv(t)
	req, _ := http.NewRequest("GET", v.srv.URL+"/api/v1/report?format=csv&"+reportDay, nil)
	req.Header.Set("Authorization", "Bearer "+v.tokens["gw3"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("%d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if len(lines) != 2 || lines[0] != strings.Join(report.CSVHeader(), ",") ||
		lines[1] != "community,c3,1,1,60,60,0,,,0,1,,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0" {
		t.Errorf("CSV:\n%s", body)
	}
}

func TestReportBadRequests(t *testing.T) {
	v := newEnv(t)
	for q, msg := range map[string]string{
		"level=building": "unknown level",
		"format=xml":     "unknown format",
		"from=2026-01-06T00:00:00Z&to=2026-01-05T00:00:00Z": "from must be before to",
		"from=2024-01-01T00:00:00Z&to=2026-01-05T00:00:00Z": "longer than 400 days",
		"from=yesterday": "neither RFC 3339",
		"state=open":     "unknown query parameter",
	} {
		if code, got := v.do("adm", "GET", "/api/v1/report?"+q, nil, nil); code != 400 || !strings.Contains(got, msg) {
			t.Errorf("?%s: %d %s, want 400 %q", q, code, got, msg)
		}
	}
}

// TestReportEscalationsFromTheOutbox: with the server's escalation counter
// the report counts escalations per place, asked from the report's start.
func TestReportEscalationsFromTheOutbox(t *testing.T) {
	var asked int64
	v := newEnvWith(t, Options{Escalations: func(_ context.Context, since int64) (report.Counts, error) {
		asked = since
		return report.Counts{1: 2, 2: 1}, nil
	}})
	v.clock.Set(t0.Add(3 * time.Hour))
	var r report.Report
	if code, got := v.do("adm", "GET", "/api/v1/report?level=district&"+reportDay, nil, &r); code != 200 {
		t.Fatalf("%d %s", code, got)
	}
	if !r.EscalationsCounted {
		t.Fatal("escalations not counted though the server has an outbox")
	}
	if want := time.Date(2026, 1, 5, 0, 0, 0, 0, time.FixedZone("", 8*3600)).UnixMilli(); asked != want {
		t.Errorf("escalations asked since %d, want the report's start %d", asked, want)
	}
	total := 0
	for _, row := range r.Rows {
		total += row.Escalations
	}
	if total == 0 {
		t.Errorf("no escalations in %+v", r.Rows)
	}
}
