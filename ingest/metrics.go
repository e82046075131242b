package ingest

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/devices"
)

// Metrics are the ingester's Prometheus metrics. Label values are
// pre-created so every series exists from the start.
type Metrics struct {
	Received        *prometheus.CounterVec   // messages by session
	Accepted        *prometheus.CounterVec   // readings/events/status accepted, by type
	Rejected        *prometheus.CounterVec   // rejections by reason
	AckLatency      prometheus.Histogram     // receive to PUBACK
	Reconnects      *prometheus.CounterVec   // by session
	Connected       *prometheus.GaugeVec     // 1 when the session is connected
	LogFull         *prometheus.GaugeVec     // 1 while the log is full and acks are held
	LogBytes        *prometheus.GaugeVec     // bytes held, by log
	LogMaxBytes     *prometheus.GaugeVec     // bound, by log
	Backlog         *prometheus.GaugeVec     // bytes not yet consumed, by log and consumer
	OldestAge       *prometheus.GaugeVec     // age of the oldest unconsumed record, by log and consumer
	SeqMissing      prometheus.Counter       // readings missing by seq
	SeqDuplicate    prometheus.Counter       // readings seen again by seq
	SeqResets       prometheus.Counter       // announced counter resets
	BrokerDropped   prometheus.Gauge         // $SYS/broker/publish/messages/dropped
	DevicesActive   prometheus.Gauge         // devices with readings in the last 5 minutes
	WriteBatches    *prometheus.CounterVec   // InfluxDB write batches by result
	WritePoints     prometheus.Counter       // points written
	WriteDuration   prometheus.Histogram     // one batch write
	WriteErrors     *prometheus.CounterVec   // by class
	Lag             prometheus.Histogram     // now minus reading ts when written
	QuarantinedByDB prometheus.Counter       // points InfluxDB refused, moved to rejected
	StageDuration   *prometheus.HistogramVec // handler stages
}

// WriteErrorClasses are the classes of InfluxDB write errors.
var WriteErrorClasses = []string{"network", "server", "throttled", "too_large", "bad_data", "other"}

// NewMetrics registers the ingester's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_ingest_messages_received_total", Help: "MQTT messages received, by session.",
		}, []string{"session"}),
		Accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_ingest_accepted_total", Help: "Readings, events and status messages accepted into the durable log, by type.",
		}, []string{"type"}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_ingest_rejected_total", Help: "Messages or items rejected to quarantine, by reason.",
		}, []string{"reason"}),
		AckLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "chargewatch_ingest_ack_latency_seconds", Help: "Time from receiving a message to acknowledging it after fsync.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		Reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_ingest_reconnects_total", Help: "Connections to the broker after the first, by session.",
		}, []string{"session"}),
		Connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chargewatch_ingest_connected", Help: "1 when the session is connected to the broker.",
		}, []string{"session"}),
		LogFull: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chargewatch_ingest_log_full", Help: "1 while the durable log is full and acknowledgements are held back.",
		}, []string{"log"}),
		LogBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chargewatch_ingest_log_bytes", Help: "Bytes held in the durable log.",
		}, []string{"log"}),
		LogMaxBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chargewatch_ingest_log_max_bytes", Help: "Bound of the durable log.",
		}, []string{"log"}),
		Backlog: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chargewatch_ingest_log_backlog_bytes", Help: "Durable bytes a consumer has not processed yet.",
		}, []string{"log", "consumer"}),
		OldestAge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chargewatch_ingest_log_oldest_unconsumed_age_seconds", Help: "Age of the oldest record a consumer has not processed yet (0 when caught up).",
		}, []string{"log", "consumer"}),
		SeqMissing: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargewatch_ingest_seq_missing_total", Help: "Readings missing according to per-device seq (loss between gateway and ingest).",
		}),
		SeqDuplicate: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargewatch_ingest_seq_duplicates_total", Help: "Readings received again (redelivery); stored once since points are keyed by ts.",
		}),
		SeqResets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargewatch_ingest_seq_resets_total", Help: "Announced per-device seq resets (device reboots).",
		}),
		BrokerDropped: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chargewatch_broker_publish_messages_dropped", Help: "The broker's own count of dropped messages ($SYS/broker/publish/messages/dropped).",
		}),
		DevicesActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chargewatch_ingest_devices_active", Help: "Devices that sent readings in the last 5 minutes.",
		}),
		WriteBatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_ingest_write_batches_total", Help: "InfluxDB write batches, by result.",
		}, []string{"result"}),
		WritePoints: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargewatch_ingest_write_points_total", Help: "Points written to InfluxDB.",
		}),
		WriteDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "chargewatch_ingest_write_duration_seconds", Help: "Duration of one InfluxDB batch write.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		WriteErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_ingest_write_errors_total", Help: "InfluxDB write errors, by class.",
		}, []string{"class"}),
		Lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "chargewatch_ingest_lag_seconds", Help: "Now minus the reading's measurement time when it was written to InfluxDB.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 16),
		}),
		QuarantinedByDB: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargewatch_ingest_write_quarantined_points_total", Help: "Points InfluxDB refused (partial writes), moved to the rejected measurement.",
		}),
		StageDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "chargewatch_ingest_log_sync_duration_seconds", Help: "Duration of one group-commit fsync, by log.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
		}, []string{"log"}),
	}
	reg.MustRegister(m.Received, m.Accepted, m.Rejected, m.AckLatency, m.Reconnects, m.Connected,
		m.LogFull, m.LogBytes, m.LogMaxBytes, m.Backlog, m.OldestAge, m.SeqMissing, m.SeqDuplicate,
		m.SeqResets, m.BrokerDropped, m.DevicesActive, m.WriteBatches, m.WritePoints, m.WriteDuration, m.WriteErrors,
		m.Lag, m.QuarantinedByDB, m.StageDuration)
	for _, r := range devices.Reasons {
		m.Rejected.WithLabelValues(string(r))
	}
	for _, s := range []string{SessionTelemetry, SessionEvents} {
		m.Received.WithLabelValues(s)
		m.Reconnects.WithLabelValues(s)
		m.Connected.WithLabelValues(s)
		m.LogFull.WithLabelValues(s)
		m.LogBytes.WithLabelValues(s)
		m.StageDuration.WithLabelValues(s)
	}
	for _, t := range []string{"reading", "event", "status"} {
		m.Accepted.WithLabelValues(t)
	}
	for _, c := range WriteErrorClasses {
		m.WriteErrors.WithLabelValues(c)
	}
	for _, r := range []string{"ok", "retry", "split", "partial"} {
		m.WriteBatches.WithLabelValues(r)
	}
	return m
}
