//lint:file-ignore SA1019 The classic dashboard model (dashboard.Dashboard, schema v1) is what Grafana 9 to 12 provision from files and import; the SDK marks it deprecated in favour of the v2 schema, which needs Grafana 12 with its new dashboard API.

package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// alertAnnotation marks alert transitions of the selected building on the
// time series panels.
func alertAnnotation(filter string) *dashboard.AnnotationQueryBuilder {
	q := NewInfluxQL(fmt.Sprintf(`SELECT "summary", "rule", "action" FROM %s WHERE $timeFilter AND "action" =~ /^(%s|%s|%s)$/ AND %s`,
		rp(AlertRP, AlertMeasurement), ActionFire, ActionResolve, ActionClose, filter)).
		RefID("Anno").Annotation("summary", "rule,action", "")
	return dashboard.NewAnnotationQueryBuilder().Name("Alerts").Datasource(*influxRef()).
		Enable(true).IconColor("red").Target(q)
}

// Building returns the dashboard of one building: its units' power, charging
// (at piles, and indoors), pile usage and its detectors.
func Building() *dashboard.DashboardBuilder {
	loc := match("district", "street", "community", "building")
	pile, pileH := rp(RawRP, Pile), rp(RollupRP, Rollup(Pile))
	return dashboard.NewDashboardBuilder("chargewatch: building").
		Uid("cw-building").
		Description("One building: power per unit with its alerts, charging at piles and indoors, pile usage, smoke detectors and electrical-fire monitors.").
		Tags([]string{"chargewatch"}).
		Link(navLink()).
		Timezone("Asia/Shanghai").
		Time("now-24h", "now").
		Refresh("1m").
		Variables(locationVariables("building", "building")).
		Annotation(alertAnnotation(match("building"))).
		WithPanel(timeseries.NewPanelBuilder().
			Title("Power by unit").
			Description("Active power of each unit (sum of its meters), averaged over each interval; alert transitions of the building are marked. Ranges of a week and more read the hourly rollup.").
			Datasource(*influxRef()).
			Targets(longRange(
				fmt.Sprintf(`SELECT sum("p") FROM (SELECT mean("power_w") AS "p" FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval), "unit", "device" fill(none)) WHERE $timeFilter GROUP BY time($__interval), "unit" fill(none)`,
					rp(RawRP, Meter), loc),
				fmt.Sprintf(`SELECT sum("p") FROM (SELECT mean("power_w_mean") AS "p" FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval), "unit", "device" fill(none)) WHERE $timeFilter GROUP BY time($__interval), "unit" fill(none)`,
					rp(RollupRP, Rollup(Meter)), loc),
				func(q *InfluxQLBuilder) *InfluxQLBuilder { return q.Alias("$tag_unit") })).
			MaxDataPoints(MaxDataPoints).Unit("watt").Min(0).
			Height(9).Span(24)).
		WithPanel(statetimeline.NewPanelBuilder().
			Title("Pile ports").
			Description("State of every charging-pile port (idle, charging, full, fault): the last state reported in each interval.").
			Datasource(*influxRef()).
			Targets(longRange(
				fmt.Sprintf(`SELECT last("state") FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval), "device", "port" fill(none)`, pile, loc),
				fmt.Sprintf(`SELECT last("state_last") FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval), "device", "port" fill(none)`, pileH, loc),
				func(q *InfluxQLBuilder) *InfluxQLBuilder { return q.Alias("$tag_device port $tag_port") })).
			MaxDataPoints(MaxDataPoints).
			Height(8).Span(12)).
		WithPanel(timeseries.NewPanelBuilder().
			Title("Ports charging").
			Description("Pile ports whose last state in the interval was charging.").
			Datasource(*influxRef()).
			Targets(longRange(
				fmt.Sprintf(`SELECT count("s") AS "charging" FROM (SELECT last("state") AS "s" FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval), "device", "port" fill(none)) WHERE $timeFilter AND "s" = 'charging' GROUP BY time($__interval) fill(0)`, pile, loc),
				fmt.Sprintf(`SELECT count("s") AS "charging" FROM (SELECT last("state_last") AS "s" FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval), "device", "port" fill(none)) WHERE $timeFilter AND "s" = 'charging' GROUP BY time($__interval) fill(0)`, pileH, loc),
				func(q *InfluxQLBuilder) *InfluxQLBuilder { return q.Alias("ports charging") })).
			MaxDataPoints(MaxDataPoints).Min(0).Decimals(0).
			Height(8).Span(12)).
		WithPanel(bargauge.NewPanelBuilder().
			Title("Pile usage: share of readings charging").
			Description("Per pile port, the percentage of its readings in the time range whose state was charging.").
			Datasource(*influxRef()).
			Targets(longRange(
				fmt.Sprintf(`SELECT count("c") / count("n") * 100 AS "charging_pct" FROM (SELECT "seq" AS "c" FROM %s WHERE $timeFilter AND %s AND SWITCH AND "state" = 'charging'), (SELECT "seq" AS "n" FROM %s WHERE $timeFilter AND %s AND SWITCH) GROUP BY "device", "port"`, pile, loc, pile, loc),
				fmt.Sprintf(`SELECT sum("charging_readings") / sum("readings") * 100 AS "charging_pct" FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY "device", "port"`, pileH, loc),
				func(q *InfluxQLBuilder) *InfluxQLBuilder { return q.Alias("$tag_device port $tag_port") })).
			MaxDataPoints(MaxDataPoints).Unit("percent").Min(0).Max(100).NoValue("0").
			ReduceOptions(reduceLast()).
			Height(8).Span(12)).
		WithPanel(newTable().
			Title("Charging sessions at piles, by port").
			Description("charge_start events in the time range, per pile port.").
			Datasource(*influxRef()).
			Targets(longRange(
				fmt.Sprintf(`SELECT count("seq") AS "sessions" FROM %s WHERE $timeFilter AND "type" = 'charge_start' AND %s AND SWITCH GROUP BY "device", "port"`, rp(RawRP, Event), loc),
				fmt.Sprintf(`SELECT sum("events") AS "sessions" FROM %s WHERE $timeFilter AND "type" = 'charge_start' AND %s AND SWITCH GROUP BY "device", "port"`, rp(RollupRP, Rollup(Event)), loc),
				func(q *InfluxQLBuilder) *InfluxQLBuilder { return q.Table() })).
			MaxDataPoints(MaxDataPoints).
			Height(8).Span(12)).
		WithPanel(newTable().
			Title("Indoor charging detected").
			Description("indoor_charging alerts that fired in the time range: the unit, what was seen, and the value that raised the alert.").
			Datasource(*influxRef()).
			WithTarget(NewInfluxQL(fmt.Sprintf(`SELECT "unit", "summary", "value" FROM %s WHERE $timeFilter AND "action" = '%s' AND "rule" = '%s' AND %s ORDER BY time DESC`,
				rp(AlertRP, AlertMeasurement), ActionFire, RuleIndoorCharging, loc)).RefID("A").Table()).
			Height(8).Span(12)).
		WithPanel(newTable().
			Title("Smoke detectors").
			Description("Each smoke detector's last report in the time range.").
			Datasource(*influxRef()).
			WithTarget(NewInfluxQL(fmt.Sprintf(`SELECT last("smoke") AS "smoke", last("battery_pct") AS "battery_pct", last("battery_low") AS "battery_low", last("tamper") AS "tamper", last("fault") AS "fault", last("rssi_dbm") AS "rssi_dbm" FROM %s WHERE $timeFilter AND %s GROUP BY "unit", "device"`,
				rp(RawRP, Smoke), loc)).RefID("A").Table()).
			Height(8).Span(12)).
		WithPanel(timeseries.NewPanelBuilder().
			Title("Leakage current (electrical-fire monitors)").
			Description("Highest residual current of each monitor in each interval.").
			Datasource(*influxRef()).
			Targets(longRange(
				fmt.Sprintf(`SELECT max("leak_ma") FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval), "device" fill(none)`, rp(RawRP, Monitor), loc),
				fmt.Sprintf(`SELECT max("leak_ma_max") FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval), "device" fill(none)`, rp(RollupRP, Rollup(Monitor)), loc),
				func(q *InfluxQLBuilder) *InfluxQLBuilder { return q.Alias("$tag_device") })).
			MaxDataPoints(MaxDataPoints).Unit("mamp").Min(0).
			Thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
				{Value: nil, Color: "green"}, {Value: ptr(300.0), Color: "red"},
			})).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine)).
			Height(8).Span(12))
}
