// Package sms delivers chargewatch notifications through an SMS gateway
// reached over HTTP. Gateways differ (field names, signatures, success
// codes), so the request is a template: url, headers and body are Go
// text/templates over the message, and success is a status plus,
// optionally, a field of the JSON answer.
//
// Template data:
//
//	.Phone        the recipient's number as in the registry (13800000001 or +8613800000001)
//	.Text         the message text (short, with the personal acknowledgement link), cut to max_length runes
//	.Title        the one-line title
//	.ID           the delivery id, the same on every retry
//	.Timestamp    Unix seconds of this attempt;  .TimestampMs  the same in milliseconds
//	.Nonce        16 random hex digits, new for each attempt
//
// Functions, besides text/template's (urlquery, print, ...):
//
//	secret "name"                 a secret of the secrets map (from a file or the environment)
//	json .Text                    a JSON string literal, quotes included
//	hmacSHA256Hex key msg         hex HMAC-SHA256;  hmacSHA256Base64 key msg  the same in base64
//	sha256Hex s, md5Hex s         hex digests (md5 only because some gateways sign with it)
//	base64 s, upper s, lower s
//
// Secrets reach only the request: errors name the gateway by its redacted
// URL and quote its answer with every secret value removed.
package sms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/chargewatch/chargewatch/alerting/notify"
)

// Request is the data the templates see.
type Request struct {
	Phone       string
	Text        string
	Title       string
	ID          int64
	Timestamp   int64
	TimestampMs int64
	Nonce       string
}

// Notifier sends SMS through an HTTP gateway.
type Notifier struct {
	c       *Config
	client  *http.Client
	url     *template.Template
	body    *template.Template
	headers map[string]*template.Template
	secrets map[string]notify.Secret
	redact  *notify.Redactor
	now     func() time.Time
}

// New returns an SMS notifier: it parses the templates and loads the
// secrets. client may be nil.
func New(c *Config, client *http.Client) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	n := &Notifier{c: c, client: client, headers: map[string]*template.Template{}, secrets: map[string]notify.Secret{}, now: time.Now}
	if n.client == nil {
		n.client = &http.Client{Timeout: c.timeout()}
	}
	names := make([]string, 0, len(c.Secrets))
	for name := range c.Secrets {
		names = append(names, name)
	}
	slices.Sort(names)
	var all []notify.Secret
	for _, name := range names {
		s, err := notify.ParseSecretRef("sms.secrets."+name, c.Secrets[name])
		if err != nil {
			return nil, err
		}
		n.secrets[name] = s
		all = append(all, s)
	}
	n.redact = notify.NewRedactor(all...)
	var err error
	if n.url, err = n.parse("url", c.URL); err != nil {
		return nil, err
	}
	if n.body, err = n.parse("body", c.Body); err != nil {
		return nil, err
	}
	for k, v := range c.Headers {
		if n.headers[k], err = n.parse("headers."+k, v); err != nil {
			return nil, err
		}
	}
	// Dry run: the templates must execute, and the URL must be one.
	if _, _, _, err := n.build(&Request{Phone: "13800000000", Text: "test", Title: "test", ID: 1, Nonce: "0"}); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Notifier) parse(key, text string) (*template.Template, error) {
	t, err := template.New(key).Option("missingkey=error").Funcs(template.FuncMap{
		"secret": func(name string) (string, error) {
			s, ok := n.secrets[name]
			if !ok {
				return "", fmt.Errorf("no secret %q in sms.secrets", name)
			}
			return s.Reveal(), nil
		},
		"json": func(s string) (string, error) {
			b, err := json.Marshal(s)
			return string(b), err
		},
		"hmacSHA256Hex":    func(key, msg string) string { return hex.EncodeToString(mac(key, msg)) },
		"hmacSHA256Base64": func(key, msg string) string { return base64.StdEncoding.EncodeToString(mac(key, msg)) },
		"sha256Hex":        func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) },
		"md5Hex":           func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) },
		"base64":           func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"upper":            strings.ToUpper,
		"lower":            strings.ToLower,
	}).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("sms.%s: %w", key, err)
	}
	return t, nil
}

func mac(key, msg string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// build executes the templates.
func (n *Notifier) build(r *Request) (u string, body []byte, headers http.Header, err error) {
	exec := func(key string, t *template.Template) (string, error) {
		var b bytes.Buffer
		if err := t.Execute(&b, r); err != nil {
			// Template errors quote no data, only the template's own text.
			return "", fmt.Errorf("sms.%s: %s", key, n.redact.String(err.Error()))
		}
		return b.String(), nil
	}
	if u, err = exec("url", n.url); err != nil {
		return
	}
	u = strings.TrimSpace(u)
	pu, perr := url.Parse(u)
	if perr != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return "", nil, nil, errors.New("sms.url: the rendered URL is not an http(s) URL")
	}
	b, err := exec("body", n.body)
	if err != nil {
		return
	}
	headers = http.Header{}
	for k, t := range n.headers {
		v, err := exec("headers."+k, t)
		if err != nil {
			return "", nil, nil, err
		}
		headers.Set(k, strings.TrimSpace(v))
	}
	return u, []byte(b), headers, nil
}

// Notify sends m.Text to m.Recipient.Address.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	phone := strings.TrimSpace(m.Recipient.Address)
	if !validPhone(phone) {
		return notify.Permanent(notify.ReasonBadMessage, errors.New("sms: the contact's address is not a phone number"))
	}
	now := n.now()
	var nonce [8]byte
	rand.Read(nonce[:])
	r := &Request{
		Phone: phone, Text: cutRunes(m.Text, n.c.maxLength()), Title: m.Title, ID: m.ID,
		Timestamp: now.Unix(), TimestampMs: now.UnixMilli(), Nonce: hex.EncodeToString(nonce[:]),
	}
	u, body, headers, err := n.build(r)
	if err != nil {
		return notify.Permanent(notify.ReasonBadMessage, err)
	}
	what := "sms gateway " + n.redact.String(notify.RedactURL(u))
	var rd io.Reader
	if n.c.method() != http.MethodGet {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, n.c.method(), u, rd)
	if err != nil {
		return notify.Permanent(notify.ReasonBadMessage, fmt.Errorf("%s: cannot build the request", what))
	}
	if rd != nil {
		req.Header.Set("Content-Type", n.c.contentType())
	}
	for k, v := range headers {
		req.Header[k] = v
	}
	status, resp, err := notify.Do(n.client, req, what, n.redact)
	if err != nil {
		return err
	}
	return n.check(what, status, resp)
}

// check applies the success rules to a 2xx answer.
func (n *Notifier) check(what string, status int, body []byte) error {
	s := &n.c.Success
	if len(s.Status) > 0 && !slices.Contains(s.Status, status) {
		return notify.Permanent(notify.ReasonProvider, fmt.Errorf("%s: HTTP %d is not a success status: %s", what, status, notify.Snippet(body, n.redact)))
	}
	if s.JSONField == "" {
		return nil
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return notify.Retryable(notify.ReasonProvider, 0, fmt.Errorf("%s: answer is not JSON: %s", what, notify.Snippet(body, n.redact)))
	}
	got, ok := lookup(doc, s.JSONField)
	if ok && got == s.Equals {
		return nil
	}
	err := fmt.Errorf("%s: %s is %q, not %q: %s", what, s.JSONField, got, s.Equals, notify.Snippet(body, n.redact))
	if slices.Contains(s.Retry, got) {
		return notify.Retryable(notify.ReasonProvider, 0, err)
	}
	return notify.Permanent(notify.ReasonProvider, err)
}

// lookup finds a dotted path in a JSON document and returns it as text.
func lookup(doc any, path string) (string, bool) {
	for p := range strings.SplitSeq(path, ".") {
		m, ok := doc.(map[string]any)
		if !ok {
			return "", false
		}
		if doc, ok = m[p]; !ok {
			return "", false
		}
	}
	switch v := doc.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	case nil:
		return "null", true
	}
	b, _ := json.Marshal(doc)
	return string(b), true
}

func validPhone(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if len(s) < 5 || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
