// Package sms delivers chargewatch notifications through an SMS gateway
// reached over HTTP. Gateways differ (field names, signatures, success
// codes), so the request is a template: url, headers and body are Go
// text/templates over the message, and success is a status plus,
// optionally, a field of the JSON answer. The functions are enough to
// write the signatures of Alibaba Cloud SMS (RPC, HMAC-SHA1) and Tencent
// Cloud SMS (TC3-HMAC-SHA256) as templates: see
// examples/notifications/sms-aliyun.yaml and sms-tencent.yaml.
//
// Template data:
//
//	.Phone        the recipient's number as in the registry (13800000001 or +8613800000001)
//	.Text         the message text (short, with the personal acknowledgement link), cut to max_length runes
//	.Title        the one-line title
//	.AckURL       the recipient's personal acknowledgement link alone ("" if none)
//	.Hazard       the first alert's hazard (烟感报警), .Place its place, in the message's language
//	.ID           the delivery id, the same on every retry
//	.Timestamp    Unix seconds of this attempt;  .TimestampMs  the same in milliseconds
//	.Nonce        16 random hex digits, new for each attempt;  .UUID  a random UUID, new for each attempt
//	.Host         host (and port) of the rendered url: in the body and header templates
//	.Body         the rendered body: in the header templates only
//
// All templates of one attempt see the same data, so a signature computed
// in a header covers the body and the url exactly as sent.
//
// Functions, besides text/template's (urlquery, print, ...):
//
//	secret "name"                 a secret of the secrets map (from a file or the environment)
//	json .Text                    a JSON string literal, quotes included
//	jsonObject "k" v "k2" v2 ...  a JSON object of strings, keys sorted: {"k":"v","k2":"v2"}
//	hmacSHA1 key msg              raw HMAC-SHA1 bytes;  hmacSHA256 key msg  raw HMAC-SHA256 bytes.
//	                              key and msg are strings or raw bytes, so HMACs chain:
//	                              hmacSHA256 (hmacSHA256 (print "TC3" (secret "key")) $date) "sms"
//	hex b, base64 b               lower-case hex, standard base64 of a string or raw bytes
//	hmacSHA256Hex key msg         hex HMAC-SHA256;  hmacSHA256Base64 key msg  the same in base64
//	sha256Hex s, md5Hex s         hex digests (md5 only because some gateways sign with it)
//	percentEncode s               RFC 3986 percent-encoding: all but A-Z a-z 0-9 - _ . ~ as %XX
//	                              (Alibaba Cloud's: space %20, * %2A, ~ kept)
//	canonicalQuery "k" v ...      k=v pairs percent-encoded, sorted by key, joined by &
//	utc "layout" .Timestamp       Unix seconds as UTC time in a Go layout ("2006-01-02T15:04:05Z")
//	e164 .Phone                   +8613800000001: numbers without a country code are taken as Chinese
//	upper s, lower s
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
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
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
	AckURL      string
	Hazard      string
	Place       string
	ID          int64
	Timestamp   int64
	TimestampMs int64
	Nonce       string
	UUID        string
	// Host and Body are filled in as the templates run: Host after the
	// url, Body after the body.
	Host string
	Body string
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
	for _, s := range all {
		// Forms the template functions can give a secret, besides the
		// raw, URL-escaped and base64 ones the Redactor knows.
		n.redact.Add(percentEncode(s.Reveal()), hex.EncodeToString([]byte(s.Reveal())))
	}
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
	if _, _, _, err := n.build(&Request{Phone: "13800000000", Text: "test", Title: "test", ID: 1, Nonce: "0", UUID: "0"}); err != nil {
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
		"jsonObject":    jsonObject,
		"hmacSHA1":      hmacFunc(sha1.New),
		"hmacSHA256":    hmacFunc(sha256.New),
		"hmacSHA256Hex": func(key, msg string) string { return hex.EncodeToString(mac(sha256.New, []byte(key), []byte(msg))) },
		"hmacSHA256Base64": func(key, msg string) string {
			return base64.StdEncoding.EncodeToString(mac(sha256.New, []byte(key), []byte(msg)))
		},
		"hex":            encodeFunc(hex.EncodeToString),
		"base64":         encodeFunc(base64.StdEncoding.EncodeToString),
		"sha256Hex":      encodeFunc(func(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }),
		"md5Hex":         func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) },
		"percentEncode":  percentEncode,
		"canonicalQuery": canonicalQuery,
		"utc":            func(layout string, sec int64) string { return time.Unix(sec, 0).UTC().Format(layout) },
		"e164":           e164,
		"upper":          strings.ToUpper,
		"lower":          strings.ToLower,
	}).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("sms.%s: %w", key, err)
	}
	return t, nil
}

func mac(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}

// rawBytes are the raw bytes of an HMAC: they feed another HMAC, hex or
// base64, and print as a reminder of that, never as the bytes (an HMAC
// key derived from a secret must not land in a request by mistake).
type rawBytes []byte

func (rawBytes) String() string { return "(raw bytes: pass them to hex or base64)" }

// raw is a template argument that may be text or raw bytes (an HMAC's).
// Its error names the type, never the value: it may be a secret.
func raw(v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return []byte(v), nil
	case rawBytes:
		return v, nil
	case []byte:
		return v, nil
	}
	return nil, fmt.Errorf("want a string or bytes, got a %T", v)
}

// hmacFunc returns a template function computing raw HMAC bytes.
func hmacFunc(h func() hash.Hash) func(key, msg any) (rawBytes, error) {
	return func(key, msg any) (rawBytes, error) {
		k, err := raw(key)
		if err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		m, err := raw(msg)
		if err != nil {
			return nil, fmt.Errorf("message: %w", err)
		}
		return mac(h, k, m), nil
	}
}

// encodeFunc makes an encoder of bytes take a string or bytes.
func encodeFunc(enc func([]byte) string) func(any) (string, error) {
	return func(v any) (string, error) {
		b, err := raw(v)
		if err != nil {
			return "", err
		}
		return enc(b), nil
	}
}

// percentEncode encodes s per RFC 3986: every byte but the unreserved
// A-Z a-z 0-9 - _ . ~ becomes %XX (upper-case hex). It is Alibaba Cloud's
// "percentEncode" (URLEncoder with + as %20, * as %2A and %7E back to ~)
// and the encoding of Tencent Cloud's canonical query string.
func percentEncode(s string) string {
	const digits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(digits[c>>4])
			b.WriteByte(digits[c&15])
		}
	}
	return b.String()
}

// canonicalQuery joins key-value pairs as k=v with both percent-encoded,
// sorted by the encoded key, separated by &: Alibaba Cloud's
// CanonicalizedQueryString. A key may appear once.
func canonicalQuery(kv ...string) (string, error) {
	if len(kv)%2 != 0 {
		return "", errors.New("canonicalQuery takes key value pairs: the number of arguments is odd")
	}
	pairs := make([][2]string, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		pairs = append(pairs, [2]string{percentEncode(kv[i]), percentEncode(kv[i+1])})
	}
	slices.SortFunc(pairs, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			if p[0] == pairs[i-1][0] {
				return "", fmt.Errorf("canonicalQuery: key %q given twice", p[0])
			}
			b.WriteByte('&')
		}
		b.WriteString(p[0])
		b.WriteByte('=')
		b.WriteString(p[1])
	}
	return b.String(), nil
}

// jsonObject returns a JSON object of string values, keys sorted.
func jsonObject(kv ...string) (string, error) {
	if len(kv)%2 != 0 {
		return "", errors.New("jsonObject takes key value pairs: the number of arguments is odd")
	}
	m := make(map[string]string, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		if _, dup := m[kv[i]]; dup {
			return "", fmt.Errorf("jsonObject: key %q given twice", kv[i])
		}
		m[kv[i]] = kv[i+1]
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// e164 writes a phone number with its country code: +CC... Numbers
// written with + or 00 keep theirs; 11-digit numbers starting with 1 (a
// mainland mobile number) get +86; other numbers are taken to start with
// their country code (8613800000001).
func e164(phone string) string {
	phone = strings.TrimSpace(phone)
	switch {
	case strings.HasPrefix(phone, "+"):
		return phone
	case strings.HasPrefix(phone, "00"):
		return "+" + phone[2:]
	case len(phone) == 11 && phone[0] == '1':
		return "+86" + phone
	}
	return "+" + phone
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
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
	r.Host = pu.Host
	b, err := exec("body", n.body)
	if err != nil {
		return
	}
	r.Body = b
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
		Phone: phone, Text: cutRunes(m.Text, n.c.maxLength()), Title: m.Title, AckURL: m.AckURL, ID: m.ID,
		Timestamp: now.Unix(), TimestampMs: now.UnixMilli(), Nonce: hex.EncodeToString(nonce[:]), UUID: newUUID(),
	}
	if len(m.Alerts) > 0 {
		r.Hazard = notify.Hazard(m.Locale, m.Alerts[0].Rule)
		r.Place = notify.Place(m.Locale, &m.Alerts[0])
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
	why := fmt.Sprintf("the answer has no %s", s.JSONField)
	if ok {
		why = fmt.Sprintf("%s is %q, not %q", s.JSONField, cutRunes(got, 80), s.Equals)
	}
	retry := ok && slices.Contains(s.Retry, got)
	if s.RetryField != "" {
		if v, ok := lookup(doc, s.RetryField); ok {
			why += fmt.Sprintf(", %s is %q", s.RetryField, cutRunes(v, 80))
			retry = retry || slices.Contains(s.Retry, v)
		}
	}
	err := fmt.Errorf("%s: %s: %s", what, n.redact.String(why), notify.Snippet(body, n.redact))
	if retry {
		return notify.Retryable(notify.ReasonProvider, 0, err)
	}
	return notify.Permanent(notify.ReasonProvider, err)
}

// lookup finds a dotted path (object keys, array indexes) in a JSON
// document and returns it as text.
func lookup(doc any, path string) (string, bool) {
	for p := range strings.SplitSeq(path, ".") {
		switch d := doc.(type) {
		case map[string]any:
			v, ok := d[p]
			if !ok {
				return "", false
			}
			doc = v
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(d) {
				return "", false
			}
			doc = d[i]
		default:
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
