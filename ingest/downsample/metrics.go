package downsample

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	dirty         prometheus.Gauge
	buckets       prometheus.Counter
	lateBuckets   prometheus.Counter
	queries       *prometheus.CounterVec
	queryDuration prometheus.Histogram
	ignored       *prometheus.CounterVec
	behind        prometheus.Gauge
	lastSuccess   prometheus.Gauge
}

// Reasons a Touch is ignored; values of the reason label.
const (
	ignoredTooOld = "too_old" // older than MaxAge: the raw data is gone or about to be
	ignoredTooNew = "too_new" // more than an hour ahead of the clock
)

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		dirty: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chargewatch_downsample_dirty_buckets",
			Help: "Hour buckets (per measurement) whose rollup must be (re)computed, waiting or running.",
		}),
		buckets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargewatch_downsample_buckets_total",
			Help: "Hour buckets (per measurement) downsampled.",
		}),
		lateBuckets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargewatch_downsample_late_buckets_total",
			Help: "Hour buckets downsampled again because readings arrived after the bucket was due (late data, edge replays).",
		}),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_downsample_queries_total",
			Help: "SELECT ... INTO statements sent to InfluxDB, by result.",
		}, []string{"result"}),
		queryDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chargewatch_downsample_query_duration_seconds",
			Help:    "Duration of one SELECT ... INTO statement.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}),
		ignored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_downsample_touches_ignored_total",
			Help: "Points not marked for downsampling because their time is out of range, by reason.",
		}, []string{"reason"}),
		behind: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chargewatch_downsample_behind_seconds",
			Help: "How long the oldest due bucket has been waiting since it became due (0 when caught up).",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chargewatch_downsample_last_success_timestamp_seconds",
			Help: "Time of the last pass that downsampled every due bucket.",
		}),
	}
	reg.MustRegister(m.dirty, m.buckets, m.lateBuckets, m.queries, m.queryDuration, m.ignored, m.behind, m.lastSuccess)
	for _, r := range []string{"ok", "error"} {
		m.queries.WithLabelValues(r)
	}
	for _, r := range []string{ignoredTooOld, ignoredTooNew} {
		m.ignored.WithLabelValues(r)
	}
	return m
}
