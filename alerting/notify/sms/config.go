package sms

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Config configures the SMS gateway (channels.sms of the notification
// config). Ready-made configs for Alibaba Cloud and Tencent Cloud SMS are
// in examples/notifications. Example for a gateway that takes JSON with an
// HMAC signature:
//
//	sms:
//	  url: https://sms.example.com/v1/send
//	  method: POST
//	  content_type: application/json
//	  headers:
//	    X-Api-Key: '{{secret "api_key"}}'
//	    X-Signature: '{{hmacSHA256Hex (secret "api_secret") (print .Timestamp .Nonce .Phone)}}'
//	  body: |
//	    {"to": {{json .Phone}}, "text": {{json .Text}}, "ts": {{.Timestamp}}, "nonce": {{json .Nonce}}, "ref": "{{.ID}}"}
//	  secrets:
//	    api_key: env:CW_SMS_API_KEY
//	    api_secret: file:/etc/chargewatch/sms.secret
//	  success:
//	    status: [200]
//	    json_field: code      # dotted path into the JSON answer (keys, array indexes: data.0.code)
//	    equals: "0"
//	    retry: ["1001"]       # values of json_field (or retry_field) worth retrying (e.g. "busy")
//	    # retry_field: error.code   # a second field checked against retry
//	  timeout: 10s
//	  max_length: 300
type Config struct {
	URL         string            `yaml:"url"`
	Method      string            `yaml:"method"`       // POST (default), PUT or GET (no body)
	ContentType string            `yaml:"content_type"` // default application/json; charset=utf-8
	Headers     map[string]string `yaml:"headers"`
	Body        string            `yaml:"body"`
	// Secrets are named secrets for the templates, each "env:NAME" or
	// "file:/path" (mode 0600).
	Secrets map[string]string `yaml:"secrets"`
	Success Success           `yaml:"success"`
	// Timeout bounds one request; default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// MaxLength cuts .Text to this many characters; default 300.
	MaxLength int `yaml:"max_length"`
}

// Success says which answers mean the gateway took the message. Any 2xx
// status is success unless Status lists the accepted ones; with
// JSONField, that field of the JSON answer must also equal Equals. A
// field is a dotted path of object keys and array indexes:
// "Response.SendStatusSet.0.Code". A failed answer is retried when the
// JSONField's value, or RetryField's, is one of Retry; otherwise it fails
// the message at once (and the outbox falls back to the next contact).
type Success struct {
	Status    []int    `yaml:"status"`
	JSONField string   `yaml:"json_field"`
	Equals    string   `yaml:"equals"`
	Retry     []string `yaml:"retry"`
	// RetryField is a second field checked against Retry, for gateways
	// that answer errors elsewhere than successes (Tencent Cloud:
	// Response.Error.Code).
	RetryField string `yaml:"retry_field"`
}

// Defaults.
const (
	DefaultTimeout   = 10 * time.Second
	DefaultMaxLength = 300
)

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Config) maxLength() int {
	if c.MaxLength > 0 {
		return c.MaxLength
	}
	return DefaultMaxLength
}

func (c *Config) method() string {
	if c.Method == "" {
		return http.MethodPost
	}
	return strings.ToUpper(c.Method)
}

func (c *Config) contentType() string {
	if c.ContentType == "" {
		return "application/json; charset=utf-8"
	}
	return c.ContentType
}

// Validate checks the config without loading secrets or parsing templates.
func (c *Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.URL) == "" {
		errs = append(errs, errors.New("sms.url is required: the gateway's endpoint (a template)"))
	}
	switch c.method() {
	case http.MethodPost, http.MethodPut:
		if strings.TrimSpace(c.Body) == "" {
			errs = append(errs, fmt.Errorf("sms.body is required with method %s: a template of the request body", c.method()))
		}
	case http.MethodGet:
		if c.Body != "" {
			errs = append(errs, errors.New("sms.body must be empty with method GET: put the fields in the url template"))
		}
	default:
		errs = append(errs, fmt.Errorf("sms.method %q: use POST, PUT or GET", c.Method))
	}
	if c.Timeout < 0 || c.MaxLength < 0 {
		errs = append(errs, errors.New("sms.timeout and sms.max_length cannot be negative"))
	}
	for _, s := range c.Success.Status {
		if s < 200 || s > 299 {
			errs = append(errs, fmt.Errorf("sms.success.status: %d is not a 2xx status", s))
		}
	}
	if c.Success.JSONField == "" && (c.Success.Equals != "" || len(c.Success.Retry) > 0 || c.Success.RetryField != "") {
		errs = append(errs, errors.New("sms.success: equals, retry and retry_field need json_field"))
	}
	if c.Success.JSONField != "" && c.Success.Equals == "" {
		errs = append(errs, fmt.Errorf("sms.success.json_field %q needs equals: the value that means the gateway took the message (e.g. \"OK\")", c.Success.JSONField))
	}
	if c.Success.RetryField != "" && len(c.Success.Retry) == 0 {
		errs = append(errs, errors.New("sms.success.retry_field needs retry: the values of it worth retrying"))
	}
	for _, f := range [...]struct{ key, path string }{{"json_field", c.Success.JSONField}, {"retry_field", c.Success.RetryField}} {
		if f.path == "" {
			continue
		}
		if err := checkPath(f.path); err != nil {
			errs = append(errs, fmt.Errorf("sms.success.%s %q: %w", f.key, f.path, err))
		}
	}
	for name, ref := range c.Secrets {
		if !strings.HasPrefix(ref, "env:") && !strings.HasPrefix(ref, "file:") {
			errs = append(errs, fmt.Errorf("sms.secrets.%s: write env:NAME or file:/path, never the secret itself", name))
		}
	}
	return errors.Join(errs...)
}

// checkPath checks a dotted JSON path: keys and array indexes, none empty.
func checkPath(path string) error {
	for p := range strings.SplitSeq(path, ".") {
		if strings.TrimSpace(p) != p || p == "" {
			return errors.New("empty or padded part: write keys and array indexes joined by dots, like Response.SendStatusSet.0.Code")
		}
	}
	return nil
}
