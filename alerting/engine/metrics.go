package engine

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/alerting"
)

// metrics are the engine's Prometheus metrics. A nil *metrics records
// nothing.
type metrics struct {
	alerts      *prometheus.GaugeVec
	transitions *prometheus.CounterVec
	inputs      *prometheus.CounterVec
	evalDur     prometheus.Histogram
	lag         prometheus.Gauge
	commits     *prometheus.CounterVec
	commitDur   prometheus.Histogram
	devOffline  prometheus.Gauge
	gwOffline   prometheus.Gauge
	verdicts    prometheus.Counter
	openStates  []alerting.State
}

func newMetrics(r prometheus.Registerer) (*metrics, error) {
	if r == nil {
		return nil, nil
	}
	m := &metrics{
		alerts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chargewatch_alerting_alerts",
			Help: "Open alerts by rule and state (pending, firing, acknowledged, resolved).",
		}, []string{"rule", "state"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_alerting_transitions_total",
			Help: "Committed alert transitions by rule and action (pending, fire, ack, resolve, reopen, close, cancel).",
		}, []string{"rule", "action"}),
		inputs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_alerting_inputs_total",
			Help: "Inputs fed to the engine by type (reading, event, status) and result (applied; late: not newer than the device's last; unknown: not in the registry).",
		}, []string{"type", "result"}),
		evalDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chargewatch_alerting_evaluation_seconds",
			Help:    "Time to evaluate one reading (detectors and lifecycle), sampled every 64th reading.",
			Buckets: prometheus.ExponentialBuckets(250e-9, 2, 14),
		}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chargewatch_alerting_lag_seconds",
			Help: "How far the engine is behind the head of the ingest log, as reported by its input adapter at the last commit.",
		}),
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_alerting_commits_total",
			Help: "Commits of the engine's state to SQLite by result (ok, error).",
		}, []string{"result"}),
		commitDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chargewatch_alerting_commit_seconds",
			Help:    "Time to commit the engine's state to SQLite.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		devOffline: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chargewatch_alerting_devices_offline",
			Help: "Devices whose offline condition holds (including those not alerted because their gateway is offline).",
		}),
		gwOffline: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chargewatch_alerting_gateways_offline",
			Help: "Gateways whose offline condition holds.",
		}),
		verdicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargewatch_alerting_charging_verdicts_total",
			Help: "False-alarm verdicts on indoor-charging alerts learnt by a device's charging detector (one per device), which then confirms a load of that size only by its rise or taper.",
		}),
		openStates: []alerting.State{alerting.StatePending, alerting.StateFiring, alerting.StateAcknowledged, alerting.StateResolved},
	}
	for _, r := range alerting.Rules() {
		for _, s := range m.openStates {
			m.alerts.WithLabelValues(string(r), string(s))
		}
		for _, a := range []alerting.Action{alerting.ActionPending, alerting.ActionFire, alerting.ActionAck, alerting.ActionResolve,
			alerting.ActionReopen, alerting.ActionClose, alerting.ActionCancel} {
			m.transitions.WithLabelValues(string(r), string(a))
		}
	}
	for _, t := range []string{"reading", "event", "status"} {
		for _, res := range []string{"applied", "late", "unknown"} {
			m.inputs.WithLabelValues(t, res)
		}
	}
	m.commits.WithLabelValues("ok")
	m.commits.WithLabelValues("error")
	var errs []error
	for _, c := range []prometheus.Collector{m.alerts, m.transitions, m.inputs, m.evalDur, m.lag, m.commits, m.commitDur, m.devOffline, m.gwOffline, m.verdicts} {
		if err := r.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	return m, errors.Join(errs...)
}

func (m *metrics) input(typ, result string) {
	if m != nil {
		m.inputs.WithLabelValues(typ, result).Inc()
	}
}

func (m *metrics) eval(d time.Duration) {
	if m != nil {
		m.evalDur.Observe(d.Seconds())
	}
}

func (m *metrics) setLag(d time.Duration) {
	if m != nil {
		m.lag.Set(d.Seconds())
	}
}

func (m *metrics) commit(d time.Duration, err error) {
	if m == nil {
		return
	}
	m.commitDur.Observe(d.Seconds())
	if err != nil {
		m.commits.WithLabelValues("error").Inc()
	} else {
		m.commits.WithLabelValues("ok").Inc()
	}
}

func (m *metrics) verdict() {
	if m != nil {
		m.verdicts.Inc()
	}
}

func (m *metrics) transition(r alerting.Rule, a alerting.Action) {
	if m != nil {
		m.transitions.WithLabelValues(string(r), string(a)).Inc()
	}
}

func (m *metrics) setGauges(counts map[[2]string]int, devOff, gwOff int) {
	if m == nil {
		return
	}
	for _, r := range alerting.Rules() {
		for _, s := range m.openStates {
			m.alerts.WithLabelValues(string(r), string(s)).Set(float64(counts[[2]string{string(r), string(s)}]))
		}
	}
	m.devOffline.Set(float64(devOff))
	m.gwOffline.Set(float64(gwOff))
}
