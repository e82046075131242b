package api

import "github.com/prometheus/client_golang/prometheus"

// Label values of the API's counters, all pre-created.
const (
	limitAuth   = "auth"  // failed authentications per client address
	limitWrite  = "write" // changes per caller
	authMissing = "missing"
	authInvalid = "invalid" // unknown, revoked or expired token, or a person no longer in the registry
)

type metrics struct {
	limited      *prometheus.CounterVec
	authFailures *prometheus.CounterVec
}

func newMetrics(r prometheus.Registerer) metrics {
	m := metrics{
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_api_rate_limited_total",
			Help: "API requests refused with 429: limit is auth (failed authentications from one address) or write (changes by one caller).",
		}, []string{"limit"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargewatch_api_auth_failures_total",
			Help: "API requests with a missing or invalid token.",
		}, []string{"reason"}),
	}
	for _, l := range []string{limitAuth, limitWrite} {
		m.limited.WithLabelValues(l)
	}
	for _, r := range []string{authMissing, authInvalid} {
		m.authFailures.WithLabelValues(r)
	}
	if r != nil {
		r.MustRegister(m.limited, m.authFailures)
	}
	return m
}
