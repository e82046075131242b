// Package alertmanager forwards chargewatch alerts to Prometheus
// Alertmanager through its v2 API, so that sites that already route
// alerts with Alertmanager see chargewatch's too.
//
// # Request
//
//	POST <url>/api/v2/alerts
//	Content-Type: application/json
//
//	[{"labels": {"alertname": "smoke", "severity": "critical", "alert_id": "17",
//	             "district": "d-gs", "street": "st-msx", "community": "c-dt",
//	             "building": "b-dt-01", "unit": "u-dt-01-302", "place": "sd-1",
//	             "source": "chargewatch"},
//	  "annotations": {"summary": "...", "description": "...", "hazard": "烟感报警",
//	                  "place": "拱墅区 米市巷街道 ...", "state": "firing", ...},
//	  "startsAt": "2026-01-05T06:02:00.000Z",
//	  "endsAt": "2026-01-05T06:12:00.000Z",
//	  "generatorURL": "https://chargewatch.example.org/alerts/17"}]
//
// Alertmanager resolves an alert at its endsAt, or resolve_timeout after
// the last post when endsAt is empty. chargewatch therefore posts each
// firing or acknowledged alert again every resend_interval (Forwarder)
// with endsAt four intervals ahead, as Prometheus does, and posts it once
// more with endsAt at its resolution when it resolves or closes. Labels
// identify an alert and never change while it is open; its state
// (firing, acknowledged) is an annotation.
package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/notify"
	"github.com/chargewatch/chargewatch/devices/registry"
)

// PostableAlert is Alertmanager's v2 postableAlert.
type PostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     string            `json:"startsAt,omitempty"`
	EndsAt       string            `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Notifier forwards alerts to one or more Alertmanagers (all of them: an
// HA pair each gets every alert).
type Notifier struct {
	c      *Config
	client *http.Client
	auth   func(*http.Request)
	redact *notify.Redactor
	now    func() time.Time
}

// New returns an Alertmanager notifier. client may be nil.
func New(c *Config, client *http.Client) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	n := &Notifier{c: c, client: client, auth: func(*http.Request) {}, redact: &notify.Redactor{}, now: time.Now}
	if n.client == nil {
		n.client = &http.Client{Timeout: c.timeout()}
	}
	switch {
	case c.BasicAuth != nil:
		pw, err := notify.LoadSecret("alertmanager.basic_auth.password", c.BasicAuth.Password, c.BasicAuth.PasswordFile)
		if err != nil {
			return nil, err
		}
		user := c.BasicAuth.Username
		n.auth = func(r *http.Request) { r.SetBasicAuth(user, pw.Reveal()) }
		n.redact.Add(pw.Reveal())
	case c.BearerToken != "" || c.BearerTokenFile != "":
		tok, err := notify.LoadSecret("alertmanager.bearer_token", c.BearerToken, c.BearerTokenFile)
		if err != nil {
			return nil, err
		}
		n.auth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok.Reveal()) }
		n.redact.Add(tok.Reveal())
	}
	return n, nil
}

// ResendInterval is how often active alerts are posted again.
func (n *Notifier) ResendInterval() time.Duration { return n.c.resend() }

// Alerts returns the postable alerts for m at time now.
func (n *Notifier) Alerts(m *notify.Message, now time.Time) ([]PostableAlert, error) {
	out := make([]PostableAlert, 0, len(m.Alerts))
	for i := range m.Alerts {
		a := &m.Alerts[i]
		one := &notify.Message{Kind: notify.KindForward, Severity: a.Severity, Locale: m.Locale, At: now, Alerts: []notify.Alert{*a}}
		if err := notify.Render(one, registry.Shanghai()); err != nil {
			return nil, err
		}
		p := PostableAlert{Labels: map[string]string{}, Annotations: map[string]string{}, GeneratorURL: a.URL}
		for k, v := range n.c.Labels {
			p.Labels[k] = v
		}
		l := &a.Location
		for k, v := range map[string]string{
			"alertname": string(a.Rule), "severity": a.Severity.String(), "alert_id": strconv.FormatInt(a.ID, 10),
			"place": a.Place, "district": l.District, "street": l.Street, "community": l.Community,
			"building": l.Building, "unit": l.Unit, "device": l.Device, "source": "chargewatch",
		} {
			if v != "" {
				p.Labels[k] = v
			}
		}
		if a.Port != 0 {
			p.Labels["port"] = strconv.Itoa(a.Port)
		}
		for k, v := range map[string]string{
			"summary": one.Title, "description": one.Text, "hazard": notify.Hazard(m.Locale, a.Rule),
			"place": notify.Place(m.Locale, a), "address": a.Names.Address, "state": string(a.State), "acked_by": a.AckedBy,
		} {
			if v != "" {
				p.Annotations[k] = v
			}
		}
		if a.Relapse {
			p.Annotations["relapse"] = "true"
		}
		start := a.FiredAt
		if start == 0 {
			start = a.StartedAt
		}
		if start != 0 {
			p.StartsAt = stamp(time.UnixMilli(start))
		}
		switch {
		case a.State == alerting.StateFiring || a.State == alerting.StateAcknowledged:
			p.EndsAt = stamp(now.Add(4 * n.c.resend()))
		case a.ResolvedAt != 0:
			p.EndsAt = stamp(time.UnixMilli(a.ResolvedAt))
		case a.ClosedAt != 0:
			p.EndsAt = stamp(time.UnixMilli(a.ClosedAt))
		default:
			p.EndsAt = stamp(now)
		}
		if p.StartsAt != "" && p.EndsAt < p.StartsAt {
			p.EndsAt = p.StartsAt
		}
		out = append(out, p)
	}
	return out, nil
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// Notify posts m's alerts to every configured Alertmanager. It fails if
// any of them fails (a retry posts to all again: posting is idempotent).
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	if len(m.Alerts) == 0 {
		return nil
	}
	as, err := n.Alerts(m, n.now())
	if err != nil {
		return notify.Permanent(notify.ReasonBadMessage, fmt.Errorf("alertmanager: %w", err))
	}
	b, err := json.Marshal(as)
	if err != nil {
		return notify.Permanent(notify.ReasonBadMessage, fmt.Errorf("alertmanager: %w", err))
	}
	var errs []error
	for _, base := range n.c.URLs {
		u := strings.TrimSuffix(base, "/") + "/api/v2/alerts"
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
		if err != nil {
			errs = append(errs, notify.Permanent(notify.ReasonBadMessage, errors.New("alertmanager: cannot build the request")))
			continue
		}
		req.Header.Set("Content-Type", "application/json")
		n.auth(req)
		if _, _, err := notify.Do(n.client, req, "alertmanager "+notify.RedactURL(u), n.redact); err != nil {
			errs = append(errs, err)
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	// Several: retryable unless all are permanent.
	for _, e := range errs {
		if !notify.IsPermanent(e) {
			return notify.Retryable(notify.ReasonOf(e), notify.RetryAfter(e), errors.Join(errs...))
		}
	}
	return notify.Permanent(notify.ReasonOf(errs[0]), errors.Join(errs...))
}
