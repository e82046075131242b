//lint:file-ignore SA1019 The classic dashboard model (dashboard.Dashboard, schema v1) is what Grafana 9 to 12 provision from files and import; the SDK marks it deprecated in favour of the v2 schema, which needs Grafana 12 with its new dashboard API.

package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// levelVariable chooses the level the accountability tables group by.
func levelVariable() *dashboard.CustomVariableBuilder {
	values := "district,street,community"
	opt := func(v string, selected bool) dashboard.VariableOption {
		return dashboard.VariableOption{Selected: ptr(selected),
			Text: dashboard.StringOrArrayOfString{String: ptr(v)}, Value: dashboard.StringOrArrayOfString{String: ptr(v)}}
	}
	return dashboard.NewCustomVariableBuilder("level").Label("Per").
		Values(dashboard.StringOrMap{String: &values}).
		Current(opt("district", true)).
		Options([]dashboard.VariableOption{opt("district", true), opt("street", false), opt("community", false)})
}

// Accountability returns the dashboard that holds districts, streets and
// communities to account: how many alerts are open and overdue, how fast they
// are acknowledged and closed, how they end, and how often hazards come back.
func Accountability() *dashboard.DashboardBuilder {
	loc := match("district", "street", "community")
	alerts := rp(AlertRP, AlertMeasurement)
	alertOpen := rp(SnapshotRP, AlertOpenMeasurement)
	tbl := func(title, desc string, qs ...*InfluxQLBuilder) *table.PanelBuilder {
		for _, q := range qs {
			q.Table()
		}
		p := newTable().Title(title).Description(desc).Datasource(*influxRef()).
			Targets(targets(qs...)).Height(8).Span(12)
		if len(qs) > 1 {
			p.WithTransformation(merge())
		}
		return p
	}
	q := func(format string, args ...any) *InfluxQLBuilder { return NewInfluxQL(fmt.Sprintf(format, args...)) }
	duration := func(field, action string) *InfluxQLBuilder {
		return q(`SELECT count(%[1]q) AS "alerts", mean(%[1]q) / 60 AS "mean_min", median(%[1]q) / 60 AS "median_min", percentile(%[1]q, 90) / 60 AS "p90_min", max(%[1]q) / 60 AS "max_min" FROM %[2]s WHERE $timeFilter AND "action" = '%[3]s' AND %[4]s GROUP BY "$level"`,
			field, alerts, action, loc)
	}
	closed := func(outcome string) *InfluxQLBuilder {
		return q(`SELECT count("id") AS %q FROM %s WHERE $timeFilter AND "action" = '%s' AND "outcome" = '%s' AND %s GROUP BY "$level"`,
			outcome, alerts, ActionClose, outcome, loc)
	}
	overTime := `SELECT %s / ` + perSnapshot + ` AS "open" FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval), "$level" fill(0)`
	vars := append(locationVariables("community", ""), cog.Builder[dashboard.VariableModel](levelVariable()))
	return dashboard.NewDashboardBuilder("chargewatch: accountability").
		Uid("cw-accountability").
		Description("Per district, street or community: open and overdue alerts, time to acknowledge and to close, outcomes, relapses.").
		Tags([]string{"chargewatch"}).
		Link(navLink()).
		Timezone("Asia/Shanghai").
		Time("now-30d", "now").
		Refresh("5m").
		Variables(vars).
		WithPanel(tbl("Open and overdue now, per $level",
			fmt.Sprintf("Alerts not closed in the last open-alert snapshot; overdue: not acknowledged within %d minutes of starting, or open for %d days; relapses: hazards back within 30 days of a rectified close.",
				int(OverdueUnacked.Minutes()), int(OverdueOpen.Hours()/24)),
			q(`SELECT count("id") AS "open" FROM %s WHERE %s AND %s GROUP BY "$level"`, alertOpen, openNow, loc),
			q(`SELECT count("id") AS "overdue" FROM %s WHERE %s AND %s AND %s GROUP BY "$level"`, alertOpen, openNow, overdue, loc),
			q(`SELECT count("id") AS "relapses" FROM %s WHERE %s AND "relapse" = true AND %s GROUP BY "$level"`, alertOpen, openNow, loc))).
		WithPanel(timeseries.NewPanelBuilder().
			Title("Open alerts over time, per $level").
			Description("Alerts not closed, on average over each interval, from the open-alert snapshots (raw for 30 days; their hourly rollup, kept 400 days, for ranges of a week and more).").
			Datasource(*influxRef()).
			Targets(longRange(
				fmt.Sprintf(overTime, `count("id")`, alertOpen, loc),
				fmt.Sprintf(overTime, `sum("points")`, rp(RollupRP, Rollup(AlertOpenMeasurement)), loc),
				func(q *InfluxQLBuilder) *InfluxQLBuilder { return q.Alias("$tag_${level}") })).
			MaxDataPoints(MaxDataPoints).Interval(influxDuration(SnapshotInterval)).Min(0).
			Height(8).Span(12)).
		WithPanel(tbl("Time to acknowledge, per $level",
			"Alerts acknowledged in the time range, and minutes from firing to acknowledgement.",
			duration(AlertAckSeconds, ActionAck))).
		WithPanel(tbl("Time to close, per $level",
			"Alerts closed in the time range, and minutes from firing to closing.",
			duration(AlertCloseSeconds, ActionClose))).
		WithPanel(tbl("Alerts raised, per $level and severity",
			"Alerts that fired in the time range.",
			q(`SELECT count("id") AS "raised" FROM %s WHERE $timeFilter AND "action" = '%s' AND %s GROUP BY "$level", "severity"`,
				alerts, ActionFire, loc))).
		WithPanel(tbl("Closed, per $level and outcome",
			"Alerts closed in the time range, by outcome: rectified, false_alarm, referred.",
			closed(AlertOutcomeRectified), closed(AlertOutcomeFalseAlarm), closed(AlertOutcomeReferred))).
		WithPanel(tbl("Relapses, per $level and hazard",
			"Alerts that fired in the time range for the same hazard at the same place within 30 days of a rectified close.",
			q(`SELECT count("id") AS "relapses" FROM %s WHERE $timeFilter AND "action" = '%s' AND "relapse" = true AND %s GROUP BY "$level", "rule"`,
				alerts, ActionFire, loc))).
		WithPanel(tbl("Resolved before anyone acknowledged, per $level",
			"Alerts whose condition cleared in the time range while nobody had acknowledged them.",
			q(`SELECT count("id") AS "unacknowledged" FROM %s WHERE $timeFilter AND "action" = '%s' AND %q = true AND %s GROUP BY "$level"`,
				alerts, ActionResolve, AlertResolvedUnacked, loc)))
}
