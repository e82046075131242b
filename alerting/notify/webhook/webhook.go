// Package webhook delivers chargewatch notifications as signed JSON POSTs
// to a URL: a person's own webhook (its address in the registry), a fire
// brigade's duty system, a ticketing bridge.
//
// # Request
//
//	POST <the contact's URL>
//	Content-Type: application/json; charset=utf-8
//	User-Agent: chargewatch-webhook/1
//	X-Chargewatch-Delivery: <message id: the same on every retry>
//	X-Chargewatch-Event: <kind: firing, escalation, reminder, acknowledged, resolved>
//	X-Chargewatch-Timestamp: <Unix seconds when this attempt was signed>
//	X-Chargewatch-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
//	{"version":"1", "id":..., "kind":..., "severity":..., "alerts":[...], ...}
//
// The body is the notify.Message as JSON (with "version" added and the
// recipient's address left out). A receiver recomputes the signature over
// the raw body with its secret, compares in constant time, rejects
// timestamps more than five minutes away from its clock, and drops
// deliveries whose id it has already seen. Verify does all of that but the
// last. Any 2xx answer is success; 429 and 5xx are retried (honouring
// Retry-After), other answers fail the delivery on this contact.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/alerting/notify"
)

// Headers of a webhook request.
const (
	HeaderDelivery  = "X-Chargewatch-Delivery"
	HeaderEvent     = "X-Chargewatch-Event"
	HeaderTimestamp = "X-Chargewatch-Timestamp"
	HeaderSignature = "X-Chargewatch-Signature"
)

// Version is the version of the body's schema.
const Version = "1"

// Notifier posts messages to webhooks.
type Notifier struct {
	client    *http.Client
	secret    notify.Secret
	receivers []receiver
	redact    *notify.Redactor
	now       func() time.Time
}

type receiver struct {
	prefix string
	secret notify.Secret
}

// New returns a webhook notifier. client may be nil (a client with the
// configured timeout is used).
func New(c *Config, client *http.Client) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	n := &Notifier{client: client, now: time.Now}
	if n.client == nil {
		n.client = &http.Client{Timeout: c.timeout()}
	}
	var err error
	if n.secret, err = notify.LoadSecret("webhook.secret", c.Secret, c.SecretFile); err != nil {
		return nil, err
	}
	secrets := []notify.Secret{n.secret}
	for i, r := range c.Receivers {
		s, err := notify.LoadSecret(fmt.Sprintf("webhook.receivers[%d].secret", i), r.Secret, r.SecretFile)
		if err != nil {
			return nil, err
		}
		n.receivers = append(n.receivers, receiver{prefix: r.URLPrefix, secret: s})
		secrets = append(secrets, s)
	}
	n.redact = notify.NewRedactor(secrets...)
	return n, nil
}

// secretFor returns the secret of the longest receiver prefix of u, or the
// default secret.
func (n *Notifier) secretFor(u string) notify.Secret {
	best, s := -1, n.secret
	for _, r := range n.receivers {
		if strings.HasPrefix(u, r.prefix) && len(r.prefix) > best {
			best, s = len(r.prefix), r.secret
		}
	}
	return s
}

// body is the JSON body: the message with a version.
type body struct {
	Version string `json:"version"`
	*notify.Message
}

// Body returns the JSON body sent for m.
func Body(m *notify.Message) ([]byte, error) {
	c := *m
	c.Recipient.Address = ""
	return json.Marshal(body{Version: Version, Message: &c})
}

// Notify posts m to m.Recipient.Address.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	u, err := url.Parse(m.Recipient.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return notify.Permanent(notify.ReasonBadMessage, errors.New("webhook: the contact's address is not an http(s) URL"))
	}
	b, err := Body(m)
	if err != nil {
		return notify.Permanent(notify.ReasonBadMessage, fmt.Errorf("webhook: encode message %d: %w", m.ID, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(b))
	if err != nil {
		return notify.Permanent(notify.ReasonBadMessage, errors.New("webhook: cannot build the request"))
	}
	ts := strconv.FormatInt(n.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "chargewatch-webhook/1")
	req.Header.Set(HeaderDelivery, strconv.FormatInt(m.ID, 10))
	req.Header.Set(HeaderEvent, string(m.Kind))
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(n.secretFor(u.String()).Reveal(), ts, b))
	_, _, err = notify.Do(n.client, req, "webhook "+notify.RedactURL(u.String()), n.redact)
	return err
}

// Sign returns the signature header value of body signed at timestamp ts
// (Unix seconds, as sent in X-Chargewatch-Timestamp).
func Sign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("webhook: bad signature")
	ErrStale        = errors.New("webhook: timestamp too far from now")
)

// Verify checks a received request's signature header sig and timestamp
// header ts over the raw body, for receivers written in Go: the timestamp
// must be within tolerance of now (5 minutes is a good choice).
func Verify(secret string, ts, sig string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if math.Abs(float64(now.Unix()-sec)) > tolerance.Seconds() {
		return ErrStale
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(sig)) {
		return ErrBadSignature
	}
	return nil
}
