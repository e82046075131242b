package alertmanager

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"
)

// Config configures forwarding to Alertmanager (channels.alertmanager of
// the notification config).
//
//	alertmanager:
//	  urls: [http://127.0.0.1:9093]   # every instance of an HA cluster
//	  resend_interval: 1m
//	  timeout: 10s
//	  labels: {env: prod}             # added to every alert
//	  # basic_auth: {username: cw, password_file: /etc/chargewatch/am.password}
//	  # bearer_token_file: /etc/chargewatch/am.token
type Config struct {
	URLs []string `yaml:"urls"`
	// ResendInterval is how often open alerts are posted again; default
	// 1m. Alerts carry endsAt four intervals ahead.
	ResendInterval time.Duration `yaml:"resend_interval"`
	// Timeout bounds one request; default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// Labels are added to every alert.
	Labels          map[string]string `yaml:"labels"`
	BasicAuth       *BasicAuth        `yaml:"basic_auth"`
	BearerToken     string            `yaml:"bearer_token"` // env:NAME
	BearerTokenFile string            `yaml:"bearer_token_file"`
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	Username     string `yaml:"username"`
	Password     string `yaml:"password"` // env:NAME
	PasswordFile string `yaml:"password_file"`
}

// Defaults.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultResendInterval = time.Minute
)

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Config) resend() time.Duration {
	if c.ResendInterval > 0 {
		return c.ResendInterval
	}
	return DefaultResendInterval
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// reserved are the labels chargewatch sets.
var reserved = map[string]bool{
	"alertname": true, "severity": true, "alert_id": true, "place": true, "district": true, "street": true,
	"community": true, "building": true, "unit": true, "device": true, "port": true, "source": true,
}

// Validate checks the config without loading secrets.
func (c *Config) Validate() error {
	var errs []error
	if len(c.URLs) == 0 {
		errs = append(errs, errors.New("alertmanager.urls: give at least one Alertmanager URL, e.g. http://127.0.0.1:9093"))
	}
	for i, s := range c.URLs {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("alertmanager.urls[%d]: not an http(s) base URL without query", i))
		}
	}
	if c.ResendInterval < 0 || c.Timeout < 0 {
		errs = append(errs, errors.New("alertmanager: resend_interval and timeout cannot be negative"))
	}
	for k, v := range c.Labels {
		switch {
		case !labelName.MatchString(k):
			errs = append(errs, fmt.Errorf("alertmanager.labels: %q is not a valid label name", k))
		case reserved[k]:
			errs = append(errs, fmt.Errorf("alertmanager.labels: %q is set by chargewatch", k))
		case v == "":
			errs = append(errs, fmt.Errorf("alertmanager.labels.%s: empty value", k))
		}
	}
	if c.BasicAuth != nil && (c.BearerToken != "" || c.BearerTokenFile != "") {
		errs = append(errs, errors.New("alertmanager: give basic_auth or bearer_token, not both"))
	}
	if c.BasicAuth != nil && (c.BasicAuth.Username == "" || (c.BasicAuth.Password == "" && c.BasicAuth.PasswordFile == "")) {
		errs = append(errs, errors.New("alertmanager.basic_auth needs username and password or password_file"))
	}
	return errors.Join(errs...)
}
