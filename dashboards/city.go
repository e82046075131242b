//lint:file-ignore SA1019 The classic dashboard model (dashboard.Dashboard, schema v1) is what Grafana 9 to 12 provision from files and import; the SDK marks it deprecated in favour of the v2 schema, which needs Grafana 12 with its new dashboard API.

package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/geomap"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// City returns the city overview: where the hazards are now, for the fire
// brigade's duty room.
func City() *dashboard.DashboardBuilder {
	loc := match("district", "street", "community")
	alertOpen := rp(SnapshotRP, AlertOpenMeasurement)

	// activeCount counts the active (pending, firing, acknowledged) alerts of
	// a rule in the last snapshot.
	activeCount := func(rule, as string) string {
		return fmt.Sprintf(`SELECT count("id") AS %q FROM %s WHERE %s AND "rule" = '%s' AND "state" =~ %s AND %s`,
			as, alertOpen, openNow, rule, activeStates, loc)
	}
	statPanel := func(title, desc, query, color string) *stat.PanelBuilder {
		return stat.NewPanelBuilder().Title(title).Description(desc).
			Datasource(*influxRef()).WithTarget(NewInfluxQL(query).RefID("A")).
			Height(4).Span(6).NoValue("0").
			ReduceOptions(reduceLast()).
			ColorMode(common.BigValueColorModeBackground).GraphMode(common.BigValueGraphModeNone).
			Thresholds(countThresholds(color))
	}

	// Active indoor charging alerts, averaged over each interval: snapshot
	// points (raw: one per alert per minute; rollup: their count per hour)
	// over the snapshots the interval holds.
	inProgress := `SELECT %s / ` + perSnapshot + ` AS "sessions" FROM %s WHERE $timeFilter AND "rule" = '%s' AND "state" =~ %s AND %s AND SWITCH GROUP BY time($__interval) fill(0)`

	return dashboard.NewDashboardBuilder("chargewatch: city overview").
		Uid("cw-city").
		Description("Where the fire hazards are now: buildings by their worst open alert, open alerts by district and hazard, indoor charging in progress, devices offline, smoke alarms.").
		Tags([]string{"chargewatch"}).
		Link(navLink()).
		Timezone("Asia/Shanghai").
		Time("now-24h", "now").
		Refresh("1m").
		Variables(locationVariables("community", "")).
		WithPanel(statPanel("Indoor charging now",
			"Units where an e-bike is being charged indoors now: active indoor_charging alerts in the last open-alert snapshot.",
			activeCount(RuleIndoorCharging, "sessions"), "red")).
		WithPanel(statPanel("Devices offline",
			"Devices that missed their heartbeats: active device_offline alerts in the last open-alert snapshot.",
			activeCount(RuleDeviceOffline, "devices"), "orange")).
		WithPanel(statPanel("Gateways offline",
			"Gateways that missed their heartbeats or went away: active gateway_offline alerts in the last open-alert snapshot.",
			activeCount(RuleGatewayOffline, "gateways"), "orange")).
		WithPanel(statPanel("Smoke alarms, last 24 h",
			"smoke_alarm events in the 24 hours up to the end of the time range.",
			fmt.Sprintf(`SELECT count("seq") AS "alarms" FROM %s WHERE time > ${__to}ms - 24h AND time <= ${__to}ms AND "type" = '%s' AND %s`,
				rp(RawRP, Event), EventSmokeAlarm, loc), "red")).
		WithPanel(geomap.NewPanelBuilder().
			Title("Buildings by worst open hazard").
			Description("Every building of the latest building snapshot at its position, coloured by the severity of its worst active alert (green: none, blue: info, yellow: warning, orange: major, red: critical) and sized by its number of active alerts.").
			Datasource(*influxRef()).
			WithTarget(NewInfluxQL(fmt.Sprintf(`SELECT last("lat") AS "lat", last("lon") AS "lon", last("worst_severity") AS "worst_severity", last("open_alerts") AS "open_alerts", last("worst_rule") AS "worst_rule", last("name") AS "name" FROM %s WHERE %s AND %s GROUP BY "building"`,
				rp(SnapshotRP, BuildingMeasurement), buildingNow, loc)).RefID("A").Table()).
			Height(14).Span(14).
			ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
			Thresholds(severityThresholds()).
			OverrideByName("worst_severity", []dashboard.DynamicConfigValue{{Id: "mappings", Value: severityMappings()}}).
			View(geomap.NewMapViewConfigBuilder().Id("fit").Padding(10).AllLayers(true)).
			Layers([]cog.Builder[common.MapLayerOptions]{common.NewMapLayerOptionsBuilder().
				Type("markers").Name("Buildings").Tooltip(true).
				Location(common.NewFrameGeometrySourceBuilder().Mode(common.FrameGeometrySourceModeCoords).Latitude("lat").Longitude("lon")).
				Config(map[string]any{
					"showLegend": true,
					"style": map[string]any{
						"color":   map[string]any{"field": "worst_severity", "fixed": "green"},
						"size":    map[string]any{"field": "open_alerts", "fixed": 5, "min": 4, "max": 16},
						"symbol":  map[string]any{"mode": "fixed", "fixed": "img/icons/marker/circle.svg"},
						"opacity": 0.8,
					},
				})})).
		WithPanel(newTable().
			Title("Open alerts by district and hazard").
			Description("Alerts not yet closed (pending, firing, acknowledged, resolved) in the last open-alert snapshot, by district and rule.").
			Datasource(*influxRef()).
			WithTarget(NewInfluxQL(fmt.Sprintf(`SELECT count("id") AS "open" FROM %s WHERE %s AND %s GROUP BY "district", "rule"`,
				alertOpen, openNow, loc)).RefID("A").Table()).
			Height(14).Span(10)).
		WithPanel(timeseries.NewPanelBuilder().
			Title("Indoor charging in progress").
			Description("Active indoor_charging alerts, on average over each interval, from the open-alert snapshots (their hourly rollup for ranges of a week and more).").
			Datasource(*influxRef()).
			Targets(longRange(
				fmt.Sprintf(inProgress, `count("id")`, alertOpen, RuleIndoorCharging, activeStates, loc),
				fmt.Sprintf(inProgress, `sum("points")`, rp(RollupRP, Rollup(AlertOpenMeasurement)), RuleIndoorCharging, activeStates, loc),
				func(q *InfluxQLBuilder) *InfluxQLBuilder { return q.Alias("indoor charging") })).
			MaxDataPoints(MaxDataPoints).Interval(influxDuration(SnapshotInterval)).
			Height(8).Span(12).Min(0).Decimals(0)).
		WithPanel(newTable().
			Title("Smoke alarm list, last 24 h").
			Description("Every smoke_alarm event in the 24 hours up to the end of the time range, newest first.").
			Datasource(*influxRef()).
			WithTarget(NewInfluxQL(fmt.Sprintf(`SELECT "seq", "detail" FROM %s WHERE time > ${__to}ms - 24h AND time <= ${__to}ms AND "type" = '%s' AND %s GROUP BY "district", "street", "community", "building", "unit", "device" ORDER BY time DESC`,
				rp(RawRP, Event), EventSmokeAlarm, loc)).RefID("A").Table()).
			Height(8).Span(12)).
		WithPanel(newTable().
			Title("Devices and gateways offline").
			Description("Active device_offline and gateway_offline alerts in the last open-alert snapshot, with how long each has been offline (seconds since the alert started).").
			Datasource(*influxRef()).
			WithTarget(NewInfluxQL(fmt.Sprintf(`SELECT "age_s" AS "offline_s" FROM %s WHERE %s AND "rule" =~ /^(%s|%s)$/ AND "state" =~ %s AND %s GROUP BY "rule", "building", "gateway", "device"`,
				alertOpen, openNow, RuleDeviceOffline, RuleGatewayOffline, activeStates, loc)).RefID("A").Table()).
			Unit("s").
			Height(8).Span(24))
}
