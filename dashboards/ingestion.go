//lint:file-ignore SA1019 The classic dashboard model (dashboard.Dashboard, schema v1) is what Grafana 9 to 12 provision from files and import; the SDK marks it deprecated in favour of the v2 schema, which needs Grafana 12 with its new dashboard API.

package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Scrape jobs of deploy/prometheus/prometheus.yml.
const (
	JobServer = "chargewatch"
	JobEdge   = "cw-edge"
)

// Ingestion returns the operators' dashboard of the ingest pipeline, from
// Prometheus: throughput, rejects, durable-log backlog, lag, InfluxDB write
// errors, broker drops, downsampling and the gateways' own queues.
func Ingestion() *dashboard.DashboardBuilder {
	ts := func(title, desc, unit string, qs ...*promQ) *timeseries.PanelBuilder {
		p := timeseries.NewPanelBuilder().Title(title).Description(desc).Datasource(*promRef()).
			Unit(unit).Height(8).Span(12).MaxDataPoints(MaxDataPoints)
		p.Targets(promTargets(qs))
		return p
	}
	st := func(title, desc string, q *promQ, thresholds *dashboard.ThresholdsConfigBuilder) *stat.PanelBuilder {
		return stat.NewPanelBuilder().Title(title).Description(desc).Datasource(*promRef()).
			Targets(promTargets([]*promQ{q})).ReduceOptions(reduceLast()).
			ColorMode(common.BigValueColorModeBackground).GraphMode(common.BigValueGraphModeNone).
			Thresholds(thresholds).Height(4).Span(6)
	}
	redAbove := func(limit float64) *dashboard.ThresholdsConfigBuilder {
		return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
			{Value: nil, Color: "green"}, {Value: ptr(limit), Color: "red"},
		})
	}
	greenFrom := func(limit float64) *dashboard.ThresholdsConfigBuilder {
		return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
			{Value: nil, Color: "red"}, {Value: ptr(limit), Color: "green"},
		})
	}
	return dashboard.NewDashboardBuilder("chargewatch: ingestion health").
		Uid("cw-ingest").
		Description("Is every reading getting in? Throughput, rejects, durable-log backlog, lag, InfluxDB write errors, broker drops, downsampling and the gateways' queues (Prometheus).").
		Tags([]string{"chargewatch"}).
		Link(navLink()).
		Timezone("Asia/Shanghai").
		Time("now-3h", "now").
		Refresh("30s").
		WithPanel(st("Targets up", "Scrape targets answering, per job (chargewatch server, cw-edge gateways).",
			&promQ{`sum by (job) (up{job=~"chargewatch|cw-edge"})`, "{{job}}", true}, greenFrom(1))).
		WithPanel(st("MQTT sessions connected", "1 per connected ingest session (telemetry, events).",
			&promQ{`sum by (session) (chargewatch_ingest_connected)`, "{{session}}", true}, greenFrom(1))).
		WithPanel(st("Durable log full", "1 while a durable log is full and acknowledgements are held back.",
			&promQ{`max by (log) (chargewatch_ingest_log_full)`, "{{log}}", true}, redAbove(1))).
		WithPanel(st("Broker drops, total", "Messages Mosquitto dropped (its own $SYS counter).",
			&promQ{`max(chargewatch_broker_publish_messages_dropped)`, "dropped", true}, redAbove(1))).
		WithPanel(ts("Throughput", "Readings, events and status messages accepted into the durable logs, and points written to InfluxDB, per second.", "reqps",
			&promQ{`sum by (type) (rate(chargewatch_ingest_accepted_total[$__rate_interval]))`, "accepted {{type}}", false},
			&promQ{`sum(rate(chargewatch_ingest_write_points_total[$__rate_interval]))`, "written to InfluxDB", false})).
		WithPanel(ts("Rejected, by reason", "Messages and readings quarantined (the rejected measurement), per second, by reason.", "reqps",
			&promQ{`sum by (reason) (rate(chargewatch_ingest_rejected_total[$__rate_interval])) > 0`, "{{reason}}", false})).
		WithPanel(ts("Durable log backlog", "Bytes each consumer (InfluxDB writer, alerting engine) has not processed yet, per log.", "bytes",
			&promQ{`max by (log, consumer) (chargewatch_ingest_log_backlog_bytes)`, "{{log}} / {{consumer}}", false})).
		WithPanel(ts("Oldest unconsumed record", "Age of the oldest record a consumer has not processed yet (0 when caught up).", "s",
			&promQ{`max by (log, consumer) (chargewatch_ingest_log_oldest_unconsumed_age_seconds)`, "{{log}} / {{consumer}}", false})).
		WithPanel(ts("Lag: measurement to InfluxDB", "Now minus the reading's time when it was written to InfluxDB: median and 99th percentile.", "s",
			&promQ{`histogram_quantile(0.5, sum by (le) (rate(chargewatch_ingest_lag_seconds_bucket[$__rate_interval])))`, "p50", false},
			&promQ{`histogram_quantile(0.99, sum by (le) (rate(chargewatch_ingest_lag_seconds_bucket[$__rate_interval])))`, "p99", false})).
		WithPanel(ts("InfluxDB write errors, by class", "Failed InfluxDB writes per second (retried; bad_data points go to quarantine), and points InfluxDB refused.", "reqps",
			&promQ{`sum by (class) (rate(chargewatch_ingest_write_errors_total[$__rate_interval])) > 0`, "{{class}}", false},
			&promQ{`sum(rate(chargewatch_ingest_write_quarantined_points_total[$__rate_interval])) > 0`, "points refused", false})).
		WithPanel(ts("Broker drops and loss", "Messages Mosquitto dropped, and readings missing by their per-device seq, per second.", "reqps",
			&promQ{`sum(rate(chargewatch_broker_publish_messages_dropped[$__rate_interval]))`, "broker dropped", false},
			&promQ{`sum(rate(chargewatch_ingest_seq_missing_total[$__rate_interval]))`, "missing by seq", false})).
		WithPanel(ts("Acknowledgement latency", "Receive to PUBACK (includes the fsync of the durable log): 99th percentile.", "s",
			&promQ{`histogram_quantile(0.99, sum by (le) (rate(chargewatch_ingest_ack_latency_seconds_bucket[$__rate_interval])))`, "p99", false})).
		WithPanel(ts("Downsampling", "Hour buckets waiting for their rollup, and how long the oldest due one has waited.", "short",
			&promQ{`sum(chargewatch_downsample_dirty_buckets)`, "dirty buckets", false},
			&promQ{`max(chargewatch_downsample_behind_seconds)`, "behind (s)", false},
			&promQ{`sum(rate(chargewatch_downsample_late_buckets_total[$__rate_interval]))`, "late buckets/s", false})).
		WithPanel(ts("Gateway queues", "Readings queued on each cw-edge gateway, not yet acknowledged by the broker.", "short",
			&promQ{`max by (instance) (chargewatch_edge_queue_readings)`, "{{instance}}", false})).
		WithPanel(ts("Gateway queue age", "Age of the oldest reading queued on each gateway.", "s",
			&promQ{`max by (instance) (chargewatch_edge_queue_oldest_age_seconds)`, "{{instance}}", false})).
		WithPanel(ts("Gateway publish failures", "Failed publishes per second, per gateway.", "reqps",
			&promQ{`sum by (instance) (rate(chargewatch_edge_publish_failures_total[$__rate_interval]))`, "{{instance}}", false}))
}

// promQ is one Prometheus target: instant for stat panels, range otherwise.
type promQ struct {
	expr, legend string
	instant      bool
}

func promTargets(qs []*promQ) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], len(qs))
	for i, q := range qs {
		b := promQuery(string(rune('A'+i)), q.expr, q.legend)
		if q.instant {
			b.Instant()
		}
		out[i] = b
	}
	return out
}
