package dashboards

import (
	"fmt"
	"strings"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// Location levels, top down, as InfluxDB tags and as template variables.
var levels = []string{"district", "street", "community", "building", "device"}

var levelLabels = map[string]string{
	"district": "District", "street": "Street", "community": "Community",
	"building": "Building", "device": "Device",
}

// readingsFrom is the FROM list of the location variables: every reading
// measurement, so that a building with only smoke detectors is listed too.
func readingsFrom() string {
	q := make([]string, len(Kinds))
	for i, k := range Kinds {
		q[i] = quote(k)
	}
	return strings.Join(q, ", ")
}

func quote(s string) string { return `"` + s + `"` }

// match returns the filter on the given location tags: `"district" =~
// /^$district$/ AND ...`. Variables always go inside a regex: Grafana formats
// every variable of an InfluxDB query as a regex (escaped, and `(a|b)` for
// several values), so `"building" = '$building'` would compare with an
// escaped string.
func match(tags ...string) string {
	parts := make([]string, len(tags))
	for i, t := range tags {
		parts[i] = fmt.Sprintf(`%q =~ /^$%s$/`, t, t)
	}
	return strings.Join(parts, " AND ")
}

// locationVariable is one of the chained location variables. Its query asks
// the index only (SHOW TAG VALUES, no time range), narrowed by the levels
// above it. Multi-valued ones offer All as the regex .*, not as an
// alternation of every value (which for 10,000 buildings would be a huge
// regex in every panel query).
func locationVariable(name string, multi bool) *dashboard.QueryVariableBuilder {
	parents := levels[:indexOf(levels, name)]
	q := fmt.Sprintf(`SHOW TAG VALUES FROM %s WITH KEY = %q`, readingsFrom(), name)
	if len(parents) > 0 {
		q += " WHERE " + match(parents...)
	}
	v := dashboard.NewQueryVariableBuilder(name).
		Label(levelLabels[name]).
		Datasource(*influxRef()).
		Query(dashboard.StringOrMap{String: &q}).
		Definition(q).
		Refresh(dashboard.VariableRefreshOnDashboardLoad).
		Sort(dashboard.VariableSortAlphabeticalAsc)
	if multi {
		all, allValue := "All", "$__all"
		v.Multi(true).IncludeAll(true).AllValue(".*").Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{ArrayOfString: []string{all}},
			Value: dashboard.StringOrArrayOfString{ArrayOfString: []string{allValue}},
		})
	}
	return v
}

// locationVariables returns the chain down to last; levels from single on
// take one value (the dashboard is about one building or device).
func locationVariables(last, single string) []cog.Builder[dashboard.VariableModel] {
	var out []cog.Builder[dashboard.VariableModel]
	multi := true
	for _, l := range levels {
		if l == single {
			multi = false
		}
		out = append(out, locationVariable(l, multi))
		if l == last {
			break
		}
	}
	return out
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	panic("dashboards: unknown level " + v)
}

// Rollup switch conditions: see RollupSwitchMs.
var (
	rawOnly    = fmt.Sprintf("$__interval_ms < %d", RollupSwitchMs)
	rollupOnly = fmt.Sprintf("$__interval_ms >= %d", RollupSwitchMs)
)

// openNow selects the points of the last complete open-alert snapshot before
// the end of the dashboard's range (see SnapshotSettle), so a range in the
// past shows the state then.
var openNow = fmt.Sprintf("time > ${__to}ms - %s + 500u AND time <= ${__to}ms - %s + 500u",
	influxDuration(SnapshotInterval+SnapshotSettle), influxDuration(SnapshotSettle))

// buildingNow selects each building's recent snapshot points; the panels take
// the last one per building.
var buildingNow = fmt.Sprintf("time > ${__to}ms - %s AND time <= ${__to}ms", influxDuration(SnapshotLookback))

// perSnapshot turns a count of snapshot points in an interval into the
// average number of alerts in it: the count over the snapshots the interval
// holds.
var perSnapshot = fmt.Sprintf("($__interval_ms / %d)", SnapshotInterval.Milliseconds())

// overdue is the condition of an overdue alert in a snapshot (see OverdueUnacked).
var overdue = fmt.Sprintf(`(("state" =~ /^(pending|firing)$/ AND "age_s" > %d) OR "age_s" > %d)`,
	int64(OverdueUnacked.Seconds()), int64(OverdueOpen.Seconds()))

// activeStates is a regex over the state tag: the alert's condition holds.
const activeStates = `/^(pending|firing|acknowledged)$/`

func rp(policy, m string) string { return quote(policy) + "." + quote(m) }

// targets assigns refIds A, B, ... to InfluxQL targets.
func targets(qs ...*InfluxQLBuilder) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], len(qs))
	for i, q := range qs {
		out[i] = q.RefID(string(rune('A' + i)))
	}
	return out
}

// longRange returns the two targets of a panel that reads raw points for short
// ranges and the hourly rollup for long ones (see RollupSwitchMs). Each query
// holds the placeholder SWITCH wherever its switch condition goes.
func longRange(raw, rollup string, shape func(*InfluxQLBuilder) *InfluxQLBuilder) []cog.Builder[variants.Dataquery] {
	a := NewInfluxQL(strings.ReplaceAll(raw, "SWITCH", rawOnly))
	b := NewInfluxQL(strings.ReplaceAll(rollup, "SWITCH", rollupOnly))
	if shape != nil {
		a, b = shape(a), shape(b)
	}
	return targets(a, b)
}

func promQuery(refID, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().RefId(refID).Expr(expr).LegendFormat(legend).Range().Datasource(*promRef())
}

func ptr[T any](v T) *T { return &v }

// severityThresholds colour a worst_severity value 0..4.
func severityThresholds() *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
		{Value: nil, Color: "green"},
		{Value: ptr(1.0), Color: "blue"},
		{Value: ptr(2.0), Color: "yellow"},
		{Value: ptr(3.0), Color: "orange"},
		{Value: ptr(4.0), Color: "red"},
	})
}

// countThresholds colour counts: green at 0, then the given colour.
func countThresholds(color string) *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
		{Value: nil, Color: "green"},
		{Value: ptr(1.0), Color: color},
	})
}

func severityMappings() []dashboard.ValueMapping {
	opts := map[string]dashboard.ValueMappingResult{}
	for i, s := range []string{"none", "info", "warning", "major", "critical"} {
		opts[fmt.Sprint(i)] = dashboard.ValueMappingResult{Text: ptr(s), Index: ptr(int32(i))}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}

func reduceLast() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)
}

// influxDuration renders a whole number of seconds, minutes or hours as an
// InfluxQL duration literal ("2m", "24h").
func influxDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// merge is Grafana's "merge" transformation: the frames of several targets
// of a table become one table, joined on their common columns.
func merge() dashboard.DataTransformerConfig {
	return dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}
}

// newTable returns a table panel builder with its footer off (set explicitly:
// the SDK leaves the footer's reducer null otherwise).
func newTable() *table.PanelBuilder {
	return table.NewPanelBuilder().Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{}).CountRows(false))
}

// navLink links every chargewatch dashboard to the others, keeping the time
// range and the location variables.
func navLink() *dashboard.DashboardLinkBuilder {
	return dashboard.NewDashboardLinkBuilder("chargewatch").Type(dashboard.DashboardLinkTypeDashboards).
		Tags([]string{"chargewatch"}).AsDropdown(true).KeepTime(true).IncludeVars(true)
}
