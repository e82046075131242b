// Package tlsutil builds chargewatch's TLS configurations from PEM files:
// the HTTP server's certificate and the MQTT client's CA and optional
// client certificate. Certificates and keys are read again when their
// files change (checked at most every few seconds, at a handshake), so a
// renewed certificate takes effect without a restart; a file that cannot be
// loaded keeps the previous certificate in use and is reported. Every
// certificate's expiry is exported as a metric, so an alert can fire weeks
// before it runs out.
package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Uses label the expiry metric.
const (
	UseHTTP       = "http"        // the HTTP server's certificate
	UseMQTTCA     = "mqtt_ca"     // the CAs the MQTT client trusts (mqtt.tls.ca_file)
	UseMQTTClient = "mqtt_client" // the MQTT client certificate
)

// recheck is how often a key pair's files are looked at again.
const recheck = 5 * time.Second

// KeyPair is a certificate and key loaded from PEM files and reloaded when
// they change.
type KeyPair struct {
	certFile, keyFile string
	log               *slog.Logger
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string // sizes and modification times of both files
	checked time.Time
	errs    atomic.Int64 // failed reloads
}

// LoadKeyPair loads a certificate (with its chain) and its key.
func LoadKeyPair(certFile, keyFile string, log *slog.Logger) (*KeyPair, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	k := &KeyPair{certFile: certFile, keyFile: keyFile, log: log, now: time.Now}
	stamp, err := k.stampNow()
	if err != nil {
		return nil, err
	}
	c, err := load(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	k.cert, k.stamp, k.checked = c, stamp, k.now()
	return k, nil
}

func load(certFile, keyFile string) (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("certificate %s with key %s: %w", certFile, keyFile, err)
	}
	if c.Leaf == nil && len(c.Certificate) > 0 {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, fmt.Errorf("certificate %s: %w", certFile, err)
		}
	}
	return &c, nil
}

func (k *KeyPair) stampNow() (string, error) {
	var s string
	for _, f := range []string{k.certFile, k.keyFile} {
		st, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		s += fmt.Sprintf("%d:%d;", st.Size(), st.ModTime().UnixNano())
	}
	return s, nil
}

// Current returns the certificate, loading it again first if its files
// changed since the last look (at most every few seconds).
func (k *KeyPair) Current() *tls.Certificate {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if now.Sub(k.checked) < recheck {
		return k.cert
	}
	k.checked = now
	stamp, err := k.stampNow()
	if err != nil || stamp == k.stamp {
		if err != nil {
			k.errs.Add(1)
			k.log.Warn("cannot look at the certificate files; keeping the loaded certificate", "cert_file", k.certFile, "err", err)
		}
		return k.cert
	}
	c, err := load(k.certFile, k.keyFile)
	if err != nil {
		// Often a renewal half done (new certificate, old key): try again
		// at the next look.
		k.errs.Add(1)
		k.log.Warn("cannot load the changed certificate; keeping the previous one", "err", err)
		return k.cert
	}
	k.cert, k.stamp = c, stamp
	k.log.Info("certificate reloaded", "cert_file", k.certFile, "subject", c.Leaf.Subject.String(), "not_after", c.Leaf.NotAfter)
	return k.cert
}

// Certificates returns the leaf certificate, for the expiry metric.
func (k *KeyPair) Certificates() []*x509.Certificate {
	if c := k.Current(); c != nil && c.Leaf != nil {
		return []*x509.Certificate{c.Leaf}
	}
	return nil
}

// ServerConfig returns a TLS server configuration that serves the key
// pair's current certificate: TLS 1.2 or later.
func ServerConfig(k *KeyPair) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return k.Current(), nil
		},
	}
}

// ClientFiles name the PEM files of a TLS client.
type ClientFiles struct {
	CAFile     string // CAs to trust instead of the system's; empty: the system roots
	CertFile   string // client certificate, with KeyFile; optional
	KeyFile    string
	ServerName string // name to verify the server's certificate against; empty: the URL's host
}

// Client is a TLS client configuration with what it was built from.
type Client struct {
	Config *tls.Config
	CAs    []*x509.Certificate // from CAFile
	Pair   *KeyPair            // nil without a client certificate
}

// NewClient builds a client configuration: TLS 1.2 or later, the CAs of
// CAFile (or the system roots), and the client certificate if given
// (reloaded when its files change).
func NewClient(f ClientFiles, log *slog.Logger) (*Client, error) {
	c := &Client{Config: &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.ServerName}}
	if f.CAFile != "" {
		pool, cas, err := LoadCAs(f.CAFile)
		if err != nil {
			return nil, err
		}
		c.Config.RootCAs, c.CAs = pool, cas
	}
	if (f.CertFile == "") != (f.KeyFile == "") {
		return nil, errors.New("cert_file and key_file go together: set both for a client certificate, or neither")
	}
	if f.CertFile != "" {
		k, err := LoadKeyPair(f.CertFile, f.KeyFile, log)
		if err != nil {
			return nil, err
		}
		c.Pair = k
		c.Config.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return k.Current(), nil
		}
	}
	return c, nil
}

// LoadCAs reads every certificate of a PEM file.
func LoadCAs(file string) (*x509.CertPool, []*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	var cas []*x509.Certificate
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		pool.AddCert(c)
		cas = append(cas, c)
	}
	if len(cas) == 0 {
		return nil, nil, fmt.Errorf("%s: no PEM certificate in it", file)
	}
	return pool, cas, nil
}

// Expiry exports chargewatch_tls_certificate_expiry_timestamp_seconds{use,
// subject}: when each watched certificate stops being valid (Unix
// seconds), read at every scrape so a reloaded certificate shows at once.
// Alert on `... - time() < 21 * 86400`.
type Expiry struct {
	desc, errDesc *prometheus.Desc

	mu      sync.Mutex
	sources []source
}

type source struct {
	use   string
	certs func() []*x509.Certificate
	errs  *atomic.Int64 // nil: nothing is reloaded
}

// NewExpiry returns the collector; register it, then Watch certificates.
func NewExpiry() *Expiry {
	return &Expiry{
		desc: prometheus.NewDesc("chargewatch_tls_certificate_expiry_timestamp_seconds",
			"When a certificate chargewatch uses expires (its NotAfter), in Unix seconds; use is http, mqtt_ca or mqtt_client.",
			[]string{"use", "subject"}, nil),
		errDesc: prometheus.NewDesc("chargewatch_tls_certificate_reload_errors_total",
			"Times a changed certificate or key could not be loaded (the previous one stays in use).",
			[]string{"use"}, nil),
	}
}

// Watch adds the certificates a function returns under a use label.
func (e *Expiry) Watch(use string, certs func() []*x509.Certificate) {
	e.mu.Lock()
	e.sources = append(e.sources, source{use: use, certs: certs})
	e.mu.Unlock()
}

// WatchKeyPair adds a key pair, with its reload errors.
func (e *Expiry) WatchKeyPair(use string, k *KeyPair) {
	e.mu.Lock()
	e.sources = append(e.sources, source{use: use, certs: k.Certificates, errs: &k.errs})
	e.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (e *Expiry) Describe(ch chan<- *prometheus.Desc) {
	ch <- e.desc
	ch <- e.errDesc
}

// Collect implements prometheus.Collector.
func (e *Expiry) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	sources := slices.Clone(e.sources)
	e.mu.Unlock()
	// Two certificates with one subject (an old and a new CA during a CA
	// change): the later expiry is the one that keeps things working.
	expiry := map[[2]string]time.Time{}
	var order [][2]string
	for _, s := range sources {
		for _, c := range s.certs() {
			key := [2]string{s.use, c.Subject.String()}
			t, ok := expiry[key]
			if !ok {
				order = append(order, key)
			}
			if !ok || c.NotAfter.After(t) {
				expiry[key] = c.NotAfter
			}
		}
		if s.errs != nil {
			ch <- prometheus.MustNewConstMetric(e.errDesc, prometheus.CounterValue, float64(s.errs.Load()), s.use)
		}
	}
	for _, key := range order {
		ch <- prometheus.MustNewConstMetric(e.desc, prometheus.GaugeValue, float64(expiry[key].Unix()), key[0], key[1])
	}
}
