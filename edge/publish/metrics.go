package publish

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	connected    prometheus.Gauge
	connectedNow atomic.Bool
	connects     *prometheus.CounterVec
	readings     prometheus.Counter
	messages     prometheus.Counter
	failures     *prometheus.CounterVec
	latency      prometheus.Histogram
	corrupt      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chargewatch_edge_mqtt_connected",
			Help: "1 while connected to the MQTT broker.",
		}),
		connects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_edge_mqtt_connects_total",
			Help: "Connection attempts to the MQTT broker, by result (ok, error).",
		}, []string{"result"}),
		readings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargewatch_edge_published_readings_total",
			Help: "Readings published and acknowledged by the broker.",
		}),
		messages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargewatch_edge_published_messages_total",
			Help: "Telemetry messages published and acknowledged by the broker.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_edge_publish_failures_total",
			Help: "Publishes that failed, by reason: timeout (no acknowledgement in time), lost (connection lost), error.",
		}, []string{"reason"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chargewatch_edge_publish_latency_seconds",
			Help:    "Time from publishing a telemetry message to its acknowledgement by the broker.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		corrupt: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargewatch_edge_queue_undecodable_total",
			Help: "Queue records that could not be decoded and were skipped.",
		}),
	}
	for _, r := range []string{"ok", "error"} {
		m.connects.WithLabelValues(r)
	}
	for _, r := range []string{"timeout", "lost", "error"} {
		m.failures.WithLabelValues(r)
	}
	reg.MustRegister(m.connected, m.connects, m.readings, m.messages, m.failures, m.latency, m.corrupt)
	return m
}

func (m *metrics) setConnected(v bool) {
	m.connectedNow.Store(v)
	if v {
		m.connected.Set(1)
	} else {
		m.connected.Set(0)
	}
}
