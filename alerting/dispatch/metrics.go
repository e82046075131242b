package dispatch

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/notify"
)

// metrics are the dispatcher's Prometheus metrics. A nil *metrics records
// nothing.
type metrics struct {
	deliveries  *prometheus.CounterVec
	failures    *prometheus.CounterVec
	latencies   *prometheus.HistogramVec
	attemptDur  *prometheus.HistogramVec
	messages    *prometheus.CounterVec
	escalations *prometheus.CounterVec
	reminders   *prometheus.CounterVec
	noRecipient *prometheus.CounterVec
	events      *prometheus.CounterVec
	rateLimit   *prometheus.CounterVec
	resyncs     *prometheus.CounterVec
	ackLinks    *prometheus.CounterVec
}

// Results of an attempt.
var results = []string{"sent", "retry", "fallback", "failed"}

func newMetrics(r prometheus.Registerer, channels []string, d *Dispatcher) (*metrics, error) {
	if r == nil {
		return nil, nil
	}
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_dispatch_deliveries_total",
			Help: "Delivery attempts by notifier and result (sent; retry: failed, tried again later; fallback: failed, moved to the person's next contact; failed: given up).",
		}, []string{"notifier", "result"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_dispatch_delivery_failures_total",
			Help: "Failed delivery attempts by notifier and reason.",
		}, []string{"notifier", "reason"}),
		latencies: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chargewatch_dispatch_delivery_latency_seconds",
			Help:    "Time from a message entering the outbox to its successful delivery, by notifier.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600},
		}, []string{"notifier"}),
		attemptDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chargewatch_dispatch_attempt_duration_seconds",
			Help:    "Duration of one delivery attempt (the notifier's request), by notifier.",
			Buckets: prometheus.ExponentialBuckets(0.002, 2, 14),
		}, []string{"notifier"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_dispatch_messages_total",
			Help: "Messages put in the outbox by kind (firing, escalation, reminder, acknowledged, resolved, forward).",
		}, []string{"kind"}),
		escalations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_dispatch_escalations_total",
			Help: "Escalation levels reached because nobody acknowledged in time, by severity.",
		}, []string{"severity"}),
		reminders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_dispatch_reminders_total",
			Help: "Reminders sent for alerts still not acknowledged, by severity.",
		}, []string{"severity"}),
		noRecipient: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_dispatch_no_recipient_total",
			Help: "Escalation levels with nobody on duty (the ladder moved on at once), by severity.",
		}, []string{"severity"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_dispatch_events_total",
			Help: "Routing events: inbox_overflow (a batch of transitions was read back from the audit log), silenced (alert not notified), no_channel (a person without a contact on a configured channel), resolved_unacked.",
		}, []string{"event"}),
		rateLimit: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_dispatch_rate_limited_total",
			Help: "Messages held back by the per-recipient rate limit, by notifier.",
		}, []string{"notifier"}),
		resyncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_dispatch_forward_resends_total",
			Help: "Periodic re-sends of open alerts to forwarders (Alertmanager), by notifier and result (ok, error).",
		}, []string{"notifier", "result"}),
		ackLinks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_dispatch_ack_links_total",
			Help: "Requests to personal acknowledgement links by outcome (shown, acknowledged, used, expired, invalid, refused: the person left the registry or is no longer responsible, error).",
		}, []string{"outcome"}),
	}
	pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "chargewatch_dispatch_outbox_pending",
		Help: "Messages in the outbox waiting to be delivered (the backlog).",
	}, func() float64 {
		b, err := d.backlogNow()
		if err != nil {
			return 0
		}
		return float64(b.Pending)
	})
	oldest := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "chargewatch_dispatch_outbox_oldest_age_seconds",
		Help: "Age of the oldest message waiting in the outbox; 0 when it is empty.",
	}, func() float64 {
		b, err := d.backlogNow()
		if err != nil || b.Pending == 0 {
			return 0
		}
		return max(d.clock.Now().Sub(b.Oldest).Seconds(), 0)
	})
	for _, c := range []prometheus.Collector{m.deliveries, m.failures, m.latencies, m.attemptDur, m.messages, m.escalations,
		m.reminders, m.noRecipient, m.events, m.rateLimit, m.resyncs, m.ackLinks, pending, oldest} {
		if err := r.Register(c); err != nil {
			return nil, err
		}
	}
	for _, ch := range channels {
		for _, res := range results {
			m.deliveries.WithLabelValues(ch, res)
		}
		for _, reason := range notify.Reasons() {
			m.failures.WithLabelValues(ch, string(reason))
		}
		m.latencies.WithLabelValues(ch)
		m.attemptDur.WithLabelValues(ch)
		m.rateLimit.WithLabelValues(ch)
	}
	for _, k := range notify.Kinds() {
		m.messages.WithLabelValues(string(k))
	}
	for s := alerting.SeverityInfo; s <= alerting.SeverityCritical; s++ {
		m.escalations.WithLabelValues(s.String())
		m.reminders.WithLabelValues(s.String())
		m.noRecipient.WithLabelValues(s.String())
	}
	for _, e := range []string{"inbox_overflow", "silenced", "no_channel", "resolved_unacked"} {
		m.events.WithLabelValues(e)
	}
	for _, o := range []string{"shown", "acknowledged", "used", "expired", "invalid", "refused", "error"} {
		m.ackLinks.WithLabelValues(o)
	}
	for name := range d.forwarders {
		m.resyncs.WithLabelValues(name, "ok")
		m.resyncs.WithLabelValues(name, "error")
	}
	return m, nil
}

// backlogNow reads the backlog for a scrape.
func (d *Dispatcher) backlogNow() (Backlog, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return d.Backlog(ctx)
}

func (m *metrics) result(ch, res string) {
	if m != nil {
		m.deliveries.WithLabelValues(ch, res).Inc()
	}
}

func (m *metrics) failure(ch string, r notify.Reason) {
	if m != nil {
		m.failures.WithLabelValues(ch, string(r)).Inc()
	}
}

func (m *metrics) latency(ch string, d time.Duration) {
	if m != nil {
		m.latencies.WithLabelValues(ch).Observe(max(d.Seconds(), 0))
	}
}

func (m *metrics) attempt(ch string, d time.Duration) {
	if m != nil && d > 0 {
		m.attemptDur.WithLabelValues(ch).Observe(d.Seconds())
	}
}

func (m *metrics) message(kind string) {
	if m != nil {
		m.messages.WithLabelValues(kind).Inc()
	}
}

// count adds the counts of a routing step: "escalation/<severity>",
// "reminder/<severity>", "no_recipient/<severity>" or an event name.
func (m *metrics) count(key string, n int) {
	if m == nil {
		return
	}
	what, sev, _ := strings.Cut(key, "/")
	switch what {
	case "escalation":
		m.escalations.WithLabelValues(sev).Add(float64(n))
	case "reminder":
		m.reminders.WithLabelValues(sev).Add(float64(n))
	case "no_recipient":
		m.noRecipient.WithLabelValues(sev).Add(float64(n))
	default:
		m.events.WithLabelValues(what).Add(float64(n))
	}
}

func (m *metrics) overflow() {
	if m != nil {
		m.events.WithLabelValues("inbox_overflow").Inc()
	}
}

func (m *metrics) rateLimited(ch string) {
	if m != nil {
		m.rateLimit.WithLabelValues(ch).Inc()
	}
}

func (m *metrics) resync(ch, res string) {
	if m != nil {
		m.resyncs.WithLabelValues(ch, res).Inc()
	}
}

func (m *metrics) ackLink(outcome string) {
	if m != nil {
		m.ackLinks.WithLabelValues(outcome).Inc()
	}
}
