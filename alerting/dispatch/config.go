package dispatch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/notify"
	"github.com/chargewatch/chargewatch/alerting/notify/alertmanager"
	"github.com/chargewatch/chargewatch/alerting/notify/dingtalk"
	"github.com/chargewatch/chargewatch/alerting/notify/sms"
	"github.com/chargewatch/chargewatch/alerting/notify/webhook"
	"github.com/chargewatch/chargewatch/alerting/notify/wecom"
)

// Config is the notification configuration: docs/notifications.md shows
// it whole. Build it with DefaultConfig, ParseConfig or LoadConfig.
type Config struct {
	// PublicURL is where people reach chargewatch (https://host[/prefix]):
	// the base of the links in messages. Without it messages carry no links.
	PublicURL string `yaml:"public_url"`
	// AlertURL is the link to an alert's page, with {id} for its id;
	// default PublicURL + "/alerts/{id}". The page asks for the reader's
	// token.
	AlertURL string `yaml:"alert_url"`
	// Locale is the language of messages to group robots and forwards,
	// and of people without one: zh (default) or en.
	Locale string `yaml:"locale"`
	// GroupWait is how long the first notice of a non-critical alert
	// waits for others in the same building, so that they go out as one
	// message. Critical alerts never wait.
	GroupWait time.Duration `yaml:"group_wait"`
	// GroupMax bounds the alerts in one message.
	GroupMax int `yaml:"group_max"`
	// JoinWindow: an alert whose first notice goes out within this time
	// after that of an earlier, still unacknowledged alert of the same
	// building, severity and level joins the earlier one's ladder, so
	// their escalations and reminders go out together, as one message
	// (at most JoinWindow sooner than on its own, never later). It is how
	// ten smoke detectors of one building, each notified at once, make
	// one escalation and not ten. 0 turns it off.
	JoinWindow time.Duration `yaml:"join_window"`
	// NotifyAcknowledged and NotifyResolved tell everyone who was notified
	// of an alert when it is acknowledged (except the person who did) and
	// when it resolves.
	NotifyAcknowledged bool `yaml:"notify_acknowledged"`
	NotifyResolved     bool `yaml:"notify_resolved"`
	// Escalation holds the ladders, keyed by severity (info, warning,
	// major, critical) or by rule (smoke, indoor_charging, ...); a rule's
	// ladder wins over its severity's. A ladder given here replaces the
	// default of its key whole.
	Escalation map[string]*Ladder `yaml:"escalation"`
	AckLink    AckLinkConfig      `yaml:"ack_link"`
	Outbox     OutboxConfig       `yaml:"outbox"`
	// RateLimits bound the messages per contact address (a phone, a
	// robot) by channel. Critical messages are counted but never held back.
	RateLimits map[string]RateLimit `yaml:"rate_limits"`
	Channels   Channels             `yaml:"channels"`
}

// Ladder is the escalation ladder of a severity or rule.
type Ladder struct {
	// RemindEvery repeats the notice to every level reached so far until
	// the alert is acknowledged; 0 never.
	RemindEvery time.Duration `yaml:"remind_every"`
	// MaxReminders stops reminders after this many; 0 no limit.
	MaxReminders int `yaml:"max_reminders"`
	// Levels in order; the first has after: 0. An empty list notifies no
	// one (the alert is still forwarded to Alertmanager).
	Levels []Level `yaml:"levels"`
}

// Level is one rung of a ladder.
type Level struct {
	// After is how long after the first notice the level is told, if
	// nobody has acknowledged.
	After time.Duration `yaml:"after"`
	// To are roles, each resolved to the people on duty for the alert's
	// place at that moment: grid_worker (its community), street_officer
	// (its street), district_officer and fire_brigade (its district).
	To []string `yaml:"to"`
	// People are registry person ids told as well, on duty or not.
	People []string `yaml:"people"`
}

// Roles a level may name.
const (
	ToGridWorker      = "grid_worker"
	ToStreetOfficer   = "street_officer"
	ToDistrictOfficer = "district_officer"
	ToFireBrigade     = "fire_brigade"
)

// AckLinkConfig configures the personal acknowledgement links.
type AckLinkConfig struct {
	// Path is where the server mounts AckHandler; default /ack/.
	Path string `yaml:"path"`
	// TTL is how long a link works; default 24h.
	TTL time.Duration `yaml:"ttl"`
	// Secret ("env:NAME") or SecretFile signs the links. Without one, a
	// random key is made once and kept in the dispatch database.
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
}

// OutboxConfig tunes delivery.
type OutboxConfig struct {
	// Concurrency bounds the requests in flight.
	Concurrency int `yaml:"concurrency"`
	// Queue bounds the batches of transitions waiting to be routed; when
	// full, the dispatcher catches up from the alert store's audit log.
	Queue int `yaml:"queue"`
	// InitialBackoff doubles after each failed attempt up to MaxBackoff
	// (with ±20% jitter); a longer Retry-After from the receiver wins.
	InitialBackoff time.Duration `yaml:"initial_backoff"`
	MaxBackoff     time.Duration `yaml:"max_backoff"`
	// FallbackAfter is how many failed attempts on one contact move the
	// message to the person's next contact (a permanent failure moves it
	// at once).
	FallbackAfter int `yaml:"fallback_after"`
	// MaxAttempts and MaxAge give up on the last contact.
	MaxAttempts int           `yaml:"max_attempts"`
	MaxAge      time.Duration `yaml:"max_age"`
	// Keep is how long receipts of finished deliveries are kept.
	Keep time.Duration `yaml:"keep"`
	// Timeout bounds one attempt (the notifiers' own timeouts apply too).
	Timeout time.Duration `yaml:"timeout"`
}

// RateLimit allows Count messages per Per to one address.
type RateLimit struct {
	Count int           `yaml:"count"`
	Per   time.Duration `yaml:"per"`
}

// Channels configures the notifiers; a channel left out is not used, and
// contacts on it are skipped in favour of the person's next contact.
type Channels struct {
	Webhook      *webhook.Config      `yaml:"webhook"`
	WeCom        *wecom.Config        `yaml:"wecom"`
	DingTalk     *dingtalk.Config     `yaml:"dingtalk"`
	SMS          *sms.Config          `yaml:"sms"`
	Alertmanager *alertmanager.Config `yaml:"alertmanager"`
}

// Channel names: the registry's contact channels, and alertmanager.
const (
	ChannelSMS          = "sms"
	ChannelWebhook      = "webhook"
	ChannelWeCom        = "wecom"
	ChannelDingTalk     = "dingtalk"
	ChannelAlertmanager = "alertmanager"
)

// Notifiers builds the configured notifiers, by channel: the one place
// where integrations are wired. Secrets are loaded here.
func (c *Channels) Notifiers() (map[string]notify.Notifier, error) {
	out := map[string]notify.Notifier{}
	var errs []error
	add := func(name string, n notify.Notifier, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("channels.%s: %w", name, err))
			return
		}
		out[name] = n
	}
	if c.Webhook != nil {
		n, err := webhook.New(c.Webhook, nil)
		add(ChannelWebhook, n, err)
	}
	if c.WeCom != nil {
		n, err := wecom.New(c.WeCom, nil)
		add(ChannelWeCom, n, err)
	}
	if c.DingTalk != nil {
		n, err := dingtalk.New(c.DingTalk, nil)
		add(ChannelDingTalk, n, err)
	}
	if c.SMS != nil {
		n, err := sms.New(c.SMS, nil)
		add(ChannelSMS, n, err)
	}
	if c.Alertmanager != nil {
		n, err := alertmanager.New(c.Alertmanager, nil)
		add(ChannelAlertmanager, n, err)
	}
	return out, errors.Join(errs...)
}

// DefaultLadders returns the default escalation ladders.
func DefaultLadders() map[string]*Ladder {
	return map[string]*Ladder{
		// Smoke: the grid worker at once, the street after 5 minutes, the
		// district and the fire brigade after 15; reminders every 5.
		alerting.SeverityCritical.String(): {RemindEvery: 5 * time.Minute, Levels: []Level{
			{After: 0, To: []string{ToGridWorker}},
			{After: 5 * time.Minute, To: []string{ToStreetOfficer}},
			{After: 15 * time.Minute, To: []string{ToDistrictOfficer, ToFireBrigade}},
		}},
		// Hazards (indoor charging, overload, leakage, ...): the street
		// after 30 minutes, the district after 2 hours.
		alerting.SeverityMajor.String(): {RemindEvery: 30 * time.Minute, Levels: []Level{
			{After: 0, To: []string{ToGridWorker}},
			{After: 30 * time.Minute, To: []string{ToStreetOfficer}},
			{After: 2 * time.Hour, To: []string{ToDistrictOfficer}},
		}},
		// Follow-up within the day (device faults, tamper, long sessions).
		alerting.SeverityWarning.String(): {RemindEvery: 8 * time.Hour, Levels: []Level{
			{After: 0, To: []string{ToGridWorker}},
			{After: 24 * time.Hour, To: []string{ToStreetOfficer}},
		}},
		// Recorded and shown, nobody woken up.
		alerting.SeverityInfo.String(): {},
	}
}

// DefaultConfig returns the built-in configuration: no channels, the
// default ladders.
func DefaultConfig() *Config {
	return &Config{
		Locale:             notify.LocaleZH,
		GroupWait:          30 * time.Second,
		GroupMax:           20,
		JoinWindow:         2 * time.Minute,
		NotifyAcknowledged: true,
		NotifyResolved:     true,
		Escalation:         DefaultLadders(),
		AckLink:            AckLinkConfig{Path: "/ack/", TTL: 24 * time.Hour},
		Outbox: OutboxConfig{
			Concurrency: 8, Queue: 1024, InitialBackoff: time.Second, MaxBackoff: 5 * time.Minute,
			FallbackAfter: 2, MaxAttempts: 20, MaxAge: 24 * time.Hour, Keep: 90 * 24 * time.Hour, Timeout: 15 * time.Second,
		},
		RateLimits: map[string]RateLimit{
			ChannelSMS:      {Count: 6, Per: 10 * time.Minute},
			ChannelWeCom:    {Count: 20, Per: time.Minute}, // the robots' own limit
			ChannelDingTalk: {Count: 20, Per: time.Minute}, // the robots' own limit
			ChannelWebhook:  {Count: 60, Per: time.Minute},
		},
	}
}

// LoadConfig reads and parses a notification config file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("notification config: %w", err)
	}
	return ParseConfig(path, b)
}

// ParseConfig parses a notification config over the defaults. Unknown
// keys are errors; every problem is reported, not just the first.
// Secrets are not loaded here but by Channels.Notifiers.
func ParseConfig(file string, data []byte) (*Config, error) {
	c := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}

// Validate checks the whole config and reports every problem.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			bad("public_url must be an http(s) URL such as https://chargewatch.example.org")
		}
	}
	if c.AlertURL != "" && !strings.Contains(c.AlertURL, "{id}") {
		bad("alert_url must contain {id}")
	}
	if c.Locale != notify.LocaleZH && c.Locale != notify.LocaleEN {
		bad("locale %q: use zh or en", c.Locale)
	}
	if c.GroupWait < 0 || c.GroupWait > 10*time.Minute {
		bad("group_wait must be between 0 and 10m")
	}
	if c.GroupMax < 1 {
		bad("group_max must be at least 1")
	}
	if c.JoinWindow < 0 || c.JoinWindow > 30*time.Minute {
		bad("join_window must be between 0 and 30m")
	}
	keys := make([]string, 0, len(c.Escalation))
	for k := range c.Escalation {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, err := alerting.ParseSeverity(k); err != nil && !alerting.Rule(k).Valid() {
			bad("escalation.%s: not a severity (info, warning, major, critical) or a rule", k)
			continue
		}
		l := c.Escalation[k]
		if l == nil {
			bad("escalation.%s: empty: write {levels: []} to notify no one", k)
			continue
		}
		if l.RemindEvery < 0 || (l.RemindEvery > 0 && l.RemindEvery < time.Minute) {
			bad("escalation.%s.remind_every must be 0 (never) or at least 1m", k)
		}
		if l.MaxReminders < 0 {
			bad("escalation.%s.max_reminders cannot be negative", k)
		}
		for i, lv := range l.Levels {
			at := fmt.Sprintf("escalation.%s.levels[%d]", k, i)
			switch {
			case i == 0 && lv.After != 0:
				bad("%s.after must be 0: the first level is the first notice", at)
			case i > 0 && lv.After <= l.Levels[i-1].After:
				bad("%s.after must be later than the level before", at)
			}
			if len(lv.To) == 0 && len(lv.People) == 0 {
				bad("%s: give to (roles) or people", at)
			}
			for _, r := range lv.To {
				if !slices.Contains([]string{ToGridWorker, ToStreetOfficer, ToDistrictOfficer, ToFireBrigade}, r) {
					bad("%s.to: %q: use grid_worker, street_officer, district_officer or fire_brigade", at, r)
				}
			}
		}
	}
	for _, s := range []string{"info", "warning", "major", "critical"} {
		if c.Escalation[s] == nil {
			bad("escalation.%s is missing: every severity needs a ladder", s)
		}
	}
	a := c.AckLink
	if !strings.HasPrefix(a.Path, "/") || !strings.HasSuffix(a.Path, "/") {
		bad("ack_link.path must start and end with /, e.g. /ack/")
	}
	if a.TTL < time.Minute || a.TTL > 30*24*time.Hour {
		bad("ack_link.ttl must be between 1m and 720h")
	}
	if a.Secret != "" && !strings.HasPrefix(a.Secret, "env:") {
		bad("ack_link.secret: write env:NAME, or use secret_file: secrets are not written in the config")
	}
	o := c.Outbox
	switch {
	case o.Concurrency < 1 || o.Concurrency > 256:
		bad("outbox.concurrency must be between 1 and 256")
	case o.Queue < 1:
		bad("outbox.queue must be at least 1")
	case o.InitialBackoff <= 0 || o.MaxBackoff < o.InitialBackoff:
		bad("outbox: initial_backoff must be positive and max_backoff at least as long")
	case o.FallbackAfter < 1 || o.MaxAttempts < 1:
		bad("outbox: fallback_after and max_attempts must be at least 1")
	case o.MaxAge <= 0 || o.Keep <= 0 || o.Timeout <= 0:
		bad("outbox: max_age, keep and timeout must be positive")
	}
	for ch, rl := range c.RateLimits {
		if !slices.Contains([]string{ChannelSMS, ChannelWebhook, ChannelWeCom, ChannelDingTalk}, ch) {
			bad("rate_limits.%s: not a channel (sms, webhook, wecom, dingtalk)", ch)
		}
		if rl.Count < 1 || rl.Per <= 0 {
			bad("rate_limits.%s: count must be at least 1 and per positive", ch)
		}
	}
	ch := &c.Channels
	if ch.Webhook != nil {
		errs = append(errs, ch.Webhook.Validate())
	}
	if ch.WeCom != nil {
		errs = append(errs, ch.WeCom.Validate())
	}
	if ch.DingTalk != nil {
		errs = append(errs, ch.DingTalk.Validate())
	}
	if ch.SMS != nil {
		errs = append(errs, ch.SMS.Validate())
	}
	if ch.Alertmanager != nil {
		errs = append(errs, ch.Alertmanager.Validate())
	}
	return errors.Join(errs...)
}

// ladder returns the ladder of an alert and its key.
func (c *Config) ladder(a *alerting.Alert) (string, *Ladder) {
	if l, ok := c.Escalation[string(a.Rule)]; ok {
		return string(a.Rule), l
	}
	k := a.Severity.String()
	if l, ok := c.Escalation[k]; ok {
		return k, l
	}
	return "", &Ladder{}
}

// alertURL returns the link to an alert's page, or "".
func (c *Config) alertURL(id int64) string {
	t := c.AlertURL
	if t == "" {
		if c.PublicURL == "" {
			return ""
		}
		t = strings.TrimSuffix(c.PublicURL, "/") + "/alerts/{id}"
	}
	return strings.ReplaceAll(t, "{id}", fmt.Sprint(id))
}

// ackURL returns the personal link for a token, or "".
func (c *Config) ackURL(token string) string {
	if c.PublicURL == "" {
		return ""
	}
	return strings.TrimSuffix(c.PublicURL, "/") + c.AckLink.Path + token
}
