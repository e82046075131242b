package modbus

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the poller's Prometheus metrics. Devices are labels here: a
// gateway has tens of devices, and an installer wants to see which one
// fails.
type Metrics struct {
	polls    *prometheus.CounterVec
	errors   *prometheus.CounterVec
	up       *prometheus.GaugeVec
	duration *prometheus.HistogramVec
	overruns *prometheus.CounterVec
	errTotal atomic.Int64
}

// NewMetrics registers the poller's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_edge_polls_total",
			Help: "Polls of a device by result: ok (every register read), partial, failed (nothing read).",
		}, []string{"bus", "device", "result"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_edge_poll_errors_total",
			Help: "Failed Modbus requests (each attempt) and bad register values, by kind.",
		}, []string{"bus", "device", "kind"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chargewatch_edge_device_up",
			Help: "1 if the last poll of the device read something, else 0.",
		}, []string{"bus", "device"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chargewatch_edge_poll_duration_seconds",
			Help:    "Time to poll one device, all requests and retries included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"bus"}),
		overruns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_edge_poll_overruns_total",
			Help: "Polls that started late because the bus could not keep up with the configured intervals.",
		}, []string{"bus"}),
	}
	reg.MustRegister(m.polls, m.errors, m.up, m.duration, m.overruns)
	return m
}

// ErrorsTotal is the number of failed requests and bad values since start.
func (m *Metrics) ErrorsTotal() int64 { return m.errTotal.Load() }

type deviceMetrics struct {
	ok, partial, failed prometheus.Counter
	errors              map[ErrorKind]prometheus.Counter
	up                  prometheus.Gauge
}

// device pre-creates the series of one device.
func (m *Metrics) device(bus, dev string) deviceMetrics {
	d := deviceMetrics{
		ok:      m.polls.WithLabelValues(bus, dev, "ok"),
		partial: m.polls.WithLabelValues(bus, dev, "partial"),
		failed:  m.polls.WithLabelValues(bus, dev, "failed"),
		errors:  map[ErrorKind]prometheus.Counter{},
		up:      m.up.WithLabelValues(bus, dev),
	}
	for _, k := range ErrorKinds {
		d.errors[k] = m.errors.WithLabelValues(bus, dev, string(k))
	}
	m.duration.WithLabelValues(bus)
	m.overruns.WithLabelValues(bus)
	return d
}

// UpGauge returns the device_up gauge of a device.
func (m *Metrics) UpGauge(bus, device string) prometheus.Gauge {
	return m.up.WithLabelValues(bus, device)
}
