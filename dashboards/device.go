//lint:file-ignore SA1019 The classic dashboard model (dashboard.Dashboard, schema v1) is what Grafana 9 to 12 provision from files and import; the SDK marks it deprecated in favour of the v2 schema, which needs Grafana 12 with its new dashboard API.

package dashboards

import (
	"fmt"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/chargewatch/chargewatch/devices"
)

// Field names of the wire contract by value type (devices package).
func fieldsOf(types ...devices.ValueType) []string {
	var out []string
	for f := devices.Field(0); f < devices.NumFields; f++ {
		if f == devices.FieldPort {
			continue // a tag
		}
		if slices.Contains(types, f.Spec().Type) {
			out = append(out, f.String())
		}
	}
	return out
}

// fieldRegex returns an InfluxQL field regex /^(a|b)suffix$/.
func fieldRegex(names []string, suffix string) string {
	return "/^(" + strings.Join(names, "|") + ")" + suffix + "$/"
}

// fromAll is a FROM list of one measurement per kind in a retention policy.
func fromAll(policy string, rollup bool) string {
	q := make([]string, len(Kinds))
	for i, k := range Kinds {
		if rollup {
			k = Rollup(k)
		}
		q[i] = rp(policy, k)
	}
	return strings.Join(q, ", ")
}

// Device returns the dashboard of one device: every field over time, its
// events, alerts and status reports.
func Device() *dashboard.DashboardBuilder {
	dev := match("device")
	numbers := fieldsOf(devices.TypeFloat, devices.TypeInt)
	flags := fieldsOf(devices.TypeBool)
	// In the rollup, numbers have _mean/_max/_min and energy and battery a
	// _last (ingest/downsample); flags a _max (true if set at any time in the hour).
	return dashboard.NewDashboardBuilder("chargewatch: device").
		Uid("cw-device").
		Description("One device: every field it reports over time, its flags and pile states, how many readings arrived, its events, alerts and status reports.").
		Tags([]string{"chargewatch"}).
		Link(navLink()).
		Timezone("Asia/Shanghai").
		Time("now-24h", "now").
		Refresh("1m").
		Variables(locationVariables("device", "building")).
		WithPanel(timeseries.NewPanelBuilder().
			Title("Measurements").
			Description("Every numeric field of the device, averaged over each interval (one series per field, and per port for piles). Ranges of a week and more read the hourly rollup: mean, max and min of each field, last of energy and battery.").
			Datasource(*influxRef()).
			Targets(longRange(
				fmt.Sprintf(`SELECT mean(%s) FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval), "port" fill(none)`,
					fieldRegex(numbers, ""), fromAll(RawRP, false), dev),
				fmt.Sprintf(`SELECT mean(/_mean$/), max(%s), min(/_min$/), last(/^(energy_kwh|battery_pct)_last$/) FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval), "port" fill(none)`,
					fieldRegex(numbers, "_max"), fromAll(RollupRP, true), dev),
				nil)).
			MaxDataPoints(MaxDataPoints).
			Height(10).Span(24)).
		WithPanel(statetimeline.NewPanelBuilder().
			Title("Flags").
			Description("Boolean fields (smoke, battery_low, tamper, fault, relay_on): true if set at any time in the interval.").
			Datasource(*influxRef()).
			Targets(longRange(
				fmt.Sprintf(`SELECT max(%s) FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval), "port" fill(none)`,
					fieldRegex(flags, ""), fromAll(RawRP, false), dev),
				fmt.Sprintf(`SELECT max(%s) FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval), "port" fill(none)`,
					fieldRegex(flags, "_max"), fromAll(RollupRP, true), dev),
				nil)).
			MaxDataPoints(MaxDataPoints).
			Height(7).Span(12)).
		WithPanel(statetimeline.NewPanelBuilder().
			Title("Pile port state").
			Description("For a charging pile, the last state of each port in each interval.").
			Datasource(*influxRef()).
			Targets(longRange(
				fmt.Sprintf(`SELECT last("state") FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval), "port" fill(none)`, rp(RawRP, Pile), dev),
				fmt.Sprintf(`SELECT last("state_last") FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval), "port" fill(none)`, rp(RollupRP, Rollup(Pile)), dev),
				func(q *InfluxQLBuilder) *InfluxQLBuilder { return q.Alias("port $tag_port") })).
			MaxDataPoints(MaxDataPoints).
			Height(7).Span(12)).
		WithPanel(timeseries.NewPanelBuilder().
			Title("Readings received").
			Description("Readings stored per interval: gaps show when the device or its gateway was silent.").
			Datasource(*influxRef()).
			Targets(longRange(
				fmt.Sprintf(`SELECT count("seq") AS "readings" FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval) fill(0)`, fromAll(RawRP, false), dev),
				fmt.Sprintf(`SELECT sum("readings") AS "readings" FROM %s WHERE $timeFilter AND %s AND SWITCH GROUP BY time($__interval) fill(0)`, fromAll(RollupRP, true), dev),
				nil)).
			MaxDataPoints(MaxDataPoints).Min(0).Decimals(0).
			DrawStyle("bars").
			Height(7).Span(24)).
		WithPanel(newTable().
			Title("Events").
			Description("The device's events in the time range, newest first.").
			Datasource(*influxRef()).
			WithTarget(NewInfluxQL(fmt.Sprintf(`SELECT "type", "port", "code", "detail", "seq" FROM %s WHERE $timeFilter AND %s ORDER BY time DESC LIMIT 1000`,
				rp(RawRP, Event), dev)).RefID("A").Table()).
			Height(10).Span(12)).
		WithPanel(newTable().
			Title("Alerts").
			Description("Transitions of alerts about the device, newest first.").
			Datasource(*influxRef()).
			WithTarget(NewInfluxQL(fmt.Sprintf(`SELECT "rule", "severity", "action", "state", "summary", "value", "limit", "actor" FROM %s WHERE $timeFilter AND %s ORDER BY time DESC LIMIT 1000`,
				rp(AlertRP, AlertMeasurement), dev)).RefID("A").Table()).
			Height(10).Span(12)).
		WithPanel(newTable().
			Title("Status reports").
			Description("Online/offline reports about the device and its health fields, newest first.").
			Datasource(*influxRef()).
			WithTarget(NewInfluxQL(fmt.Sprintf(`SELECT "online", "uptime_s", "queue_depth", "queue_age_s", "poll_errors", "clock", "version" FROM %s WHERE $timeFilter AND %s ORDER BY time DESC LIMIT 200`,
				rp(RawRP, Status), dev)).RefID("A").Table()).
			Height(7).Span(24))
}
