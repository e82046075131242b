package dashboards

import (
	"time"

	"github.com/chargewatch/chargewatch/ingest/downsample"
)

// This file is the one place that names what the dashboards read from
// InfluxDB. Readings, events and status come from docs/ingest.md; rollups from
// ingest/downsample; alerts and snapshots from alerting/influx (docs/alerting.md,
// "InfluxDB"). The tests write their alert points through these constants, so
// a change here carries over to them.

// Datasources, as provisioned by provisioning/datasources/chargewatch.yaml.
const (
	InfluxUID      = "chargewatch-influxdb"
	InfluxType     = "influxdb"
	PrometheusUID  = "chargewatch-prometheus"
	PrometheusType = "prometheus"
)

// Retention policies created by ingest.EnsureDatabase.
const (
	RawRP    = "raw"    // readings, events, status; 30 days; the default policy
	RollupRP = "rollup" // hourly rollups (ingest/downsample); 400 days
)

// Reading measurements (docs/ingest.md), one per device kind, and events.
const (
	Meter   = "meter"
	Monitor = "monitor"
	Pile    = "pile"
	Smoke   = "smoke"
	Plug    = "plug"
	Event   = "event"
	Status  = "status"
)

// Kinds lists the reading measurements.
var Kinds = []string{Meter, Monitor, Pile, Smoke, Plug}

// Rollup returns the rollup measurement of a raw measurement ("meter_1h").
func Rollup(m string) string { return downsample.RollupName(m) }

// RollupSwitchMs is the $__interval_ms from which a panel reads the hourly
// rollups instead of raw readings. Every panel that can cover long ranges has
// two targets, one with `$__interval_ms < RollupSwitchMs` and one with
// `$__interval_ms >= RollupSwitchMs`; InfluxDB folds the literal comparison,
// so exactly one of them reads anything. With MaxDataPoints points per panel,
// Grafana's interval reaches 1 h (rounded from 45 min) at a range of
// 45 min x MaxDataPoints: 6 days 6 hours.
const (
	RollupSwitchMs = 3600000
	MaxDataPoints  = 200
)

// Alert transitions (alerting/influx AlertPoint): one point per entry of an
// alert's audit log, at the transition's wall time (plus the audit id modulo
// 10^6 in nanoseconds, so points never overwrite each other).
//
//	measurement  alert, in the writer's retention policy (raw, the default)
//	tags         rule, severity (info|warning|major|critical), state (after the
//	             transition), action (pending|fire|ack|resolve|reopen|close|cancel),
//	             district, street, community, building, unit, device, gateway, port
//	fields       id, audit_id, actor, value, limit, started_at, event_ts,
//	             summary, relapse (bool), silenced (bool), lat, lon, outcome
//	             (close), note
//
// and, for accountability (InfluxQL cannot subtract a field from the point's
// time, so the durations are written with the point):
//
//	ack_s             on ack: seconds from firing to acknowledgement
//	close_s           on close: seconds from firing to closing
//	resolved_unacked  on resolve: resolved with nobody having acknowledged it
const (
	AlertRP                = RawRP
	AlertMeasurement       = "alert"
	AlertAckSeconds        = "ack_s"
	AlertCloseSeconds      = "close_s"
	AlertResolvedUnacked   = "resolved_unacked"
	AlertOutcomeRectified  = "rectified"
	AlertOutcomeFalseAlarm = "false_alarm"
	AlertOutcomeReferred   = "referred"
)

// Alert actions (values of the action tag), as alerting.Action.
const (
	ActionFire    = "fire"
	ActionAck     = "ack"
	ActionResolve = "resolve"
	ActionClose   = "close"
)

// Snapshot of open alerts (alerting/influx Snapshot): every SnapshotInterval,
// one point per alert not closed (pending, firing, acknowledged, resolved),
// all at the snapshot's time aligned to the interval (each a nanosecond
// apart).
//
//	measurement  alert_open, retention policy SnapshotRP
//	tags         rule, severity, state, district, street, community, building,
//	             unit, device, gateway, port
//	fields       id, value, limit, started_at, age_s (seconds since it started),
//	             severity_level (1-4), summary, silenced, relapse (bool), lat, lon
//	rollup       alert_open_1h in RollupRP (ingest/downsample): "points", the
//	             number of snapshot points per hour and tag set
//
// Snapshot of buildings, written every SnapshotInterval for every registered
// building, with or without alerts:
//
//	measurement  building, retention policy SnapshotRP
//	tags         district, street, community, building
//	fields       name, lat, lon, open_alerts (active alerts), worst_severity
//	             (0 none, 1 info .. 4 critical), worst_rule ("none" when none),
//	             worst_alert_id
const (
	SnapshotRP           = RawRP
	AlertOpenMeasurement = "alert_open"
	BuildingMeasurement  = "building"
	SnapshotInterval     = time.Minute
)

// A snapshot of open alerts lists only open alerts, and its points carry no
// per-alert tag, so "now" panels count the points of exactly one snapshot:
// those in the SnapshotInterval that ends SnapshotSettle before the end of
// the dashboard's range. The window is as long as the interval, so it holds
// at most one snapshot, and it ends late enough for the snapshot of that
// minute to have been written. Its bounds sit half a millisecond past the
// millisecond, so they never split a snapshot's points (which are a
// nanosecond apart from the aligned time).
const SnapshotSettle = 10 * time.Second

// Building snapshots list every building, so the map takes each building's
// last point within SnapshotLookback before the end of the range.
const SnapshotLookback = 2 * SnapshotInterval

// Overdue, from the snapshot's fields: an alert not acknowledged (pending or
// firing) OverdueUnacked after it started, or open for OverdueOpen. The
// engine's escalation ladders are finer; an overdue field written by the
// engine would replace this.
const (
	OverdueUnacked = 30 * time.Minute
	OverdueOpen    = 7 * 24 * time.Hour
)

// Rules the dashboards single out (alerting.Rule values).
const (
	RuleIndoorCharging = "indoor_charging"
	RuleDeviceOffline  = "device_offline"
	RuleGatewayOffline = "gateway_offline"
)

// EventSmokeAlarm is the event type of a smoke alarm.
const EventSmokeAlarm = "smoke_alarm"
