package webhook

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Config configures the webhook notifier (channels.webhook of the
// notification config). The URL of each request is the contact's address
// in the registry; the secret that signs it comes from here.
//
//	webhook:
//	  secret_file: /etc/chargewatch/webhook.secret   # or secret: env:CW_WEBHOOK_SECRET
//	  timeout: 10s
//	  receivers:                                     # optional: own secrets per receiver
//	    - url_prefix: https://119.example.org/
//	      secret_file: /etc/chargewatch/fire-brigade.secret
type Config struct {
	// Secret ("env:NAME") or SecretFile (a path, mode 0600) holds the
	// secret that signs every request. Required.
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	// Receivers give URLs that start with a prefix their own secret; the
	// longest matching prefix wins.
	Receivers []Receiver `yaml:"receivers"`
	// Timeout bounds one request; default 10s.
	Timeout time.Duration `yaml:"timeout"`
}

// Receiver is a webhook receiver with its own secret.
type Receiver struct {
	URLPrefix  string `yaml:"url_prefix"`
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
}

// DefaultTimeout bounds one request unless configured.
const DefaultTimeout = 10 * time.Second

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// Validate checks the config without loading secrets.
func (c *Config) Validate() error {
	var errs []error
	if c.Secret == "" && c.SecretFile == "" {
		errs = append(errs, errors.New("webhook: secret or secret_file is required: receivers check with it that a request comes from chargewatch"))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("webhook.timeout cannot be negative"))
	}
	for i, r := range c.Receivers {
		u, err := url.Parse(r.URLPrefix)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("webhook.receivers[%d].url_prefix must start with http:// or https:// and a host", i))
		}
		if r.Secret == "" && r.SecretFile == "" {
			errs = append(errs, fmt.Errorf("webhook.receivers[%d]: secret or secret_file is required", i))
		}
	}
	return errors.Join(errs...)
}
