package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/chargewatch/chargewatch/alerting/report"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/internal/server"
)

const reportUsage = `usage: chargewatch report --config FILE [--from TIME] [--to TIME] [--level community|street|district|all] [--format csv|json]

Prints the accountability report (docs/api.md, "Accountability report") of
the alerts that started in [from, to): by hazard, time to acknowledge and to
close, resolved without acknowledgement, overdue, escalations, relapses. It
reads the alert database (and the notification outbox, for escalations,
when notifications are configured) and changes nothing; the server may keep
running. TIME is RFC 3339 (2026-01-05T00:00:00+08:00) or a date
(2026-01-05, midnight in Asia/Shanghai); the default period is the last 24 h.
`

func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, reportUsage) }
	cfgPath := fs.String("config", "/etc/chargewatch/chargewatch.yaml", "server configuration file (for the alert database)")
	fromS := fs.String("from", "", "start of the period (default: 24 h before --to)")
	toS := fs.String("to", "", "end of the period, excluded (default: now)")
	levelS := fs.String("level", "community", "community, street, district or all")
	format := fs.String("format", "csv", "csv or json")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprint(stderr, reportUsage)
		return 2
	}
	now := time.Now()
	to, from := now, now.Add(-24*time.Hour)
	var err error
	if *toS != "" {
		if to, err = reportTime(*toS); err != nil {
			fmt.Fprintln(stderr, "--to:", err)
			return 2
		}
		from = to.Add(-24 * time.Hour)
	}
	if *fromS != "" {
		if from, err = reportTime(*fromS); err != nil {
			fmt.Fprintln(stderr, "--from:", err)
			return 2
		}
	}
	if !from.Before(to) {
		fmt.Fprintln(stderr, "--from must be before --to")
		return 2
	}
	var level report.Level
	if *levelS != "all" {
		if level, err = report.ParseLevel(*levelS); err != nil {
			fmt.Fprintln(stderr, "--level:", err)
			return 2
		}
	}
	if *format != "csv" && *format != "json" {
		fmt.Fprintf(stderr, "--format %q: use csv or json\n", *format)
		return 2
	}
	cfg, err := server.LoadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	// Never create an empty database for a mistyped path.
	if _, err := os.Stat(cfg.Alerting.DB); err != nil {
		fmt.Fprintln(stderr, "alert database:", err)
		return 1
	}
	st, err := store.Open(ctx, cfg.Alerting.DB, store.Options{Synchronous: cfg.Alerting.Synchronous})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer st.Close()
	as, err := report.Load(ctx, st, nil, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	var esc func(int64) int
	if cfg.Alerting.Notifications != "" {
		counts, err := report.EscalationsFromFile(ctx, cfg.Alerting.DispatchDB, from.UnixMilli())
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if counts != nil {
			esc = counts.Get
		}
	}
	rep := report.Compute(as, esc, from, to, now, nil)
	if level != "" {
		rep = rep.Only(level)
	}
	if *format == "json" {
		err = report.WriteJSON(stdout, rep)
	} else {
		err = report.WriteCSV(stdout, rep)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// reportTime parses RFC 3339, a date (midnight in Asia/Shanghai) or Unix
// milliseconds.
func reportTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, registry.Shanghai()); err == nil {
		return t, nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-01-05T00:00:00+08:00), a date (2026-01-05) nor Unix milliseconds", v)
}
