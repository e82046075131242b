package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/report"
	"github.com/chargewatch/chargewatch/alerting/store"
)

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "chargewatch.yaml")
	os.WriteFile(cfg, fmt.Appendf(nil, "data_dir: %s\n", dir), 0o644)
	var out, errb bytes.Buffer
	// No alert database yet: an error, and none is created.
	if code := run([]string{"report", "--config", cfg}, &out, &errb); code != 1 {
		t.Fatalf("no database: exit %d: %s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "alerts.db")); err == nil {
		t.Fatal("report created an alert database")
	}

	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "alerts.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 1, 5, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	ms := func(d time.Duration) int64 { return day.Add(d).UnixMilli() }
	c1 := alerting.Location{District: "d1", Street: "s1", Community: "c1", Device: "m1"}
	c2 := alerting.Location{District: "d1", Street: "s1", Community: "c2", Device: "m2"}
	err = st.Commit(ctx, &store.Batch{Alerts: []*alerting.Alert{
		// c1: acked after 2 min, closed after 1 h.
		{ID: 1, Rule: alerting.RuleOverload, Severity: alerting.SeverityMajor, State: alerting.StateClosed, PlaceKind: alerting.PlaceDevice,
			Place: "m1", Location: c1, StartedAt: ms(time.Hour), FiredAt: ms(time.Hour), AckedAt: ms(time.Hour + 2*time.Minute),
			ClosedAt: ms(2 * time.Hour), Outcome: alerting.OutcomeRectified, UpdatedAt: ms(2 * time.Hour)},
		// c2: a smoke alarm that resolved unacknowledged, a relapse.
		{ID: 2, Rule: alerting.RuleSmoke, Severity: alerting.SeverityCritical, State: alerting.StateResolved, PlaceKind: alerting.PlaceDevice,
			Place: "m2", Location: c2, StartedAt: ms(3 * time.Hour), FiredAt: ms(3 * time.Hour), ResolvedAt: ms(3*time.Hour + time.Minute),
			ResolvedUnacked: true, Relapse: true, UpdatedAt: ms(3 * time.Hour)},
		// The next day: outside the period.
		{ID: 3, Rule: alerting.RuleOverload, Severity: alerting.SeverityMajor, State: alerting.StateFiring, PlaceKind: alerting.PlaceDevice,
			Place: "m1", Location: c1, StartedAt: ms(25 * time.Hour), FiredAt: ms(25 * time.Hour), UpdatedAt: ms(25 * time.Hour)},
	}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	out.Reset()
	errb.Reset()
	if code := run([]string{"report", "--config", cfg, "--from", "2026-01-05", "--to", "2026-01-06"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	// c2's smoke alarm has been open since 2026-01-05 03:00: overdue now.
	want := []string{
		strings.Join(report.CSVHeader(), ","),
		"community,c1,1,1,120,120,1,3600,3600,0,0,,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0",
		"community,c2,1,0,,,0,,,1,1,,1,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("CSV:\n%s\nwant\n%s", out.String(), strings.Join(want, "\n"))
	}

	out.Reset()
	if code := run([]string{"report", "--config", cfg, "--from", "2026-01-05T00:00:00+08:00", "--to", "2026-01-06T00:00:00+08:00",
		"--level", "street", "--format", "json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r report.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if len(r.Rows) != 1 || r.Rows[0].Place != "s1" || r.Rows[0].Total != 2 || r.Rows[0].Relapses != 1 || *r.Rows[0].AckedMedianS != 120 {
		t.Errorf("JSON: %s", out.String())
	}

	for _, args := range [][]string{
		{"--level", "building"}, {"--format", "xml"}, {"--from", "2026-01-06", "--to", "2026-01-05"}, {"--from", "yesterday"}, {"extra"},
	} {
		errb.Reset()
		if code := run(append([]string{"report", "--config", cfg}, args...), &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, errb.String())
		}
	}
}
