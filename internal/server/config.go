package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chargewatch/chargewatch/alerting/notify"
	"github.com/chargewatch/chargewatch/internal/tlsutil"
)

// Config is the chargewatch server's configuration file (YAML). Every key
// is documented in docs/configuration.md and examples/chargewatch.yaml.
type Config struct {
	// DataDir holds the durable logs and, by default, the registry and
	// alert databases.
	DataDir string `yaml:"data_dir"`
	// Registry is the path of the registry database (SQLite).
	Registry string `yaml:"registry"`
	HTTP     struct {
		Listen string `yaml:"listen"`
		// TLS serves HTTPS with this certificate (reloaded when its
		// files change); empty serves plain HTTP.
		TLS struct {
			// CertFile is the server certificate (PEM, with its
			// intermediates) for the names clients use.
			CertFile string `yaml:"cert_file"`
			// KeyFile is its private key (PEM), readable by the service only.
			KeyFile string `yaml:"key_file"`
		} `yaml:"tls"`
	} `yaml:"http"`
	MQTT struct {
		URL      string `yaml:"url"`
		ClientID string `yaml:"client_id"`
		// Username is the telemetry session's broker account
		// (`chargewatch mqtt-auth` makes it: <client_id>-telemetry).
		Username string `yaml:"username"`
		// PasswordFile holds its password (mode 0600; other modes are
		// refused).
		PasswordFile string `yaml:"password_file"`
		// EventsUsername is the events session's own account
		// (<client_id>-events); required with username, because the
		// broker makes the username the client id.
		EventsUsername string `yaml:"events_username"`
		// EventsPasswordFile holds its password (mode 0600).
		EventsPasswordFile string        `yaml:"events_password_file"`
		KeepAlive          time.Duration `yaml:"keepalive"`
		// TLS for ssl:// URLs: ca_file replaces the system roots, cert_file
		// and key_file give a client certificate, server_name overrides
		// the name checked in the broker's certificate.
		TLS MQTTTLS `yaml:"tls"`
	} `yaml:"mqtt"`
	InfluxDB struct {
		URL             string `yaml:"url"`
		Database        string `yaml:"database"`
		RetentionPolicy string `yaml:"retention_policy"`
		// Username is the InfluxDB user the writer, the downsampler and
		// the alert measurements log in as; empty: no authentication.
		Username string `yaml:"username"`
		// PasswordFile holds that user's password (mode 0600 or 0400,
		// other modes are refused); empty: no password.
		PasswordFile string        `yaml:"password_file"`
		Timeout      time.Duration `yaml:"timeout"`
	} `yaml:"influxdb"`
	Ingest struct {
		TelemetryLogBytes ByteSize      `yaml:"telemetry_log_bytes"`
		EventLogBytes     ByteSize      `yaml:"event_log_bytes"`
		BatchPoints       int           `yaml:"batch_points"`
		BatchWait         time.Duration `yaml:"batch_wait"`
		MaxPast           time.Duration `yaml:"max_past"`
		MaxFuture         time.Duration `yaml:"max_future"`
		DrainGrace        time.Duration `yaml:"drain_grace"`
		// Downsample keeps hourly rollups (retention policy "rollup") of
		// every hour that readings touched, late ones included, for long
		// dashboard ranges (docs/dashboards.md).
		Downsample bool `yaml:"downsample"`
		// Adapters is the accounts file of devices already installed
		// (Tasmota, Shelly, Zigbee2MQTT, ThingsBoard: docs/adapters.md);
		// empty: none.
		Adapters string `yaml:"adapters"`
	} `yaml:"ingest"`
	RegistryPoll time.Duration `yaml:"registry_poll"`
	Alerting     struct {
		// Enabled runs the alerting engine on the ingest logs.
		Enabled bool `yaml:"enabled"`
		// DB is the alert database (SQLite); default <data_dir>/alerts.db.
		DB string `yaml:"db"`
		// Rules is an optional rule configuration file (docs/alerting.md);
		// empty uses the defaults.
		Rules string `yaml:"rules"`
		// Synchronous is SQLite's synchronous setting for the alert
		// database: NORMAL survives kill -9, FULL a power cut too.
		Synchronous string `yaml:"synchronous"`
		// SnapshotInterval is how often open alerts and buildings are
		// written to InfluxDB for the dashboards.
		SnapshotInterval time.Duration `yaml:"snapshot_interval"`
		// Notifications is the notification configuration file (routing,
		// escalation ladders, channels: docs/notifications.md); empty sends
		// no notifications.
		Notifications string `yaml:"notifications"`
		// DispatchDB is the notification outbox (SQLite); default
		// <data_dir>/dispatch.db.
		DispatchDB string `yaml:"dispatch_db"`
	} `yaml:"alerting"`
}

// MQTTTLS is the mqtt.tls section.
type MQTTTLS struct {
	// CAFile holds the CA certificates (PEM) to verify the broker with,
	// instead of the system's.
	CAFile string `yaml:"ca_file"`
	// CertFile is a client certificate (PEM), with KeyFile; optional.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the client certificate's key (PEM).
	KeyFile string `yaml:"key_file"`
	// ServerName is the name to verify in the broker's certificate;
	// empty: the host of mqtt.url.
	ServerName string `yaml:"server_name"`
}

// set reports whether any TLS key is given.
func (t MQTTTLS) set() bool { return t != MQTTTLS{} }

// ByteSize is a size in bytes that may be written with a unit: 512MiB, 4GiB.
type ByteSize int64

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.m
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a size: write a whole number of bytes, or of KiB, MiB, GiB or TiB (1536MiB, not 1.5GiB)", n.Line, n.Value)
	}
	if v > math.MaxInt64/mult {
		return fmt.Errorf("line %d: %q is too large a size", n.Line, n.Value)
	}
	*b = ByteSize(v * mult)
	return nil
}

// Defaults returns a configuration with every default filled in.
func Defaults() Config {
	var c Config
	c.DataDir = "/var/lib/chargewatch"
	c.HTTP.Listen = "127.0.0.1:9466"
	c.MQTT.URL = "tcp://127.0.0.1:1883"
	c.MQTT.ClientID = "chargewatch-ingest"
	c.MQTT.KeepAlive = 30 * time.Second
	c.InfluxDB.URL = "http://127.0.0.1:8086"
	c.InfluxDB.Database = "chargewatch"
	c.InfluxDB.RetentionPolicy = "raw"
	c.InfluxDB.Timeout = 30 * time.Second
	c.Ingest.TelemetryLogBytes = 4 << 30
	c.Ingest.EventLogBytes = 512 << 20
	c.Ingest.BatchPoints = 5000
	c.Ingest.BatchWait = 200 * time.Millisecond
	c.Ingest.MaxPast = 10 * 24 * time.Hour
	c.Ingest.MaxFuture = 5 * time.Minute
	c.Ingest.DrainGrace = 10 * time.Second
	c.Ingest.Downsample = true
	c.RegistryPoll = 2 * time.Second
	c.Alerting.Enabled = true
	c.Alerting.Synchronous = "NORMAL"
	c.Alerting.SnapshotInterval = time.Minute
	return c
}

// LoadConfig reads and validates a configuration file. Unknown keys are
// errors; all problems are reported together.
func LoadConfig(path string) (Config, error) {
	c := Defaults()
	data, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	// A second document (after "---") would be silently ignored.
	for {
		var more yaml.Node
		err := dec.Decode(&more)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || !emptyDocument(&more) {
			return c, fmt.Errorf("config %s: more than one YAML document: keep the whole configuration in one (remove the \"---\" line)", path)
		}
	}
	if c.Registry == "" {
		c.Registry = filepath.Join(c.DataDir, "registry.db")
	}
	if c.Alerting.DB == "" {
		c.Alerting.DB = filepath.Join(c.DataDir, "alerts.db")
	}
	if c.Alerting.DispatchDB == "" {
		c.Alerting.DispatchDB = filepath.Join(c.DataDir, "dispatch.db")
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("config %s:\n%w", path, err)
	}
	return c, nil
}

// emptyDocument reports whether a YAML document holds nothing (a lone
// "---" at the end of a file).
func emptyDocument(n *yaml.Node) bool {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	return n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// Validate checks values and reports every problem, naming the key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("  %s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.DataDir == "" {
		bad("data_dir", "must be set: the durable logs live there")
	}
	if u, err := url.Parse(c.MQTT.URL); err == nil && u.User != nil {
		// Never echo it: the URL may hold a password.
		bad("mqtt.url", "carries a user name or password: put the user in mqtt.username and the password in mqtt.password_file, never in the URL")
	} else if err != nil || (u.Scheme != "tcp" && u.Scheme != "ssl" && u.Scheme != "mqtt" && u.Scheme != "mqtts") || u.Host == "" {
		bad("mqtt.url", "%q is not a broker URL: use tcp://host:port or ssl://host:port", c.MQTT.URL)
	}
	if c.MQTT.ClientID == "" {
		bad("mqtt.client_id", "must be set: the persistent session is keyed by it")
	}
	if u, err := url.Parse(c.MQTT.URL); err == nil && (u.Scheme == "tcp" || u.Scheme == "mqtt") && c.MQTT.TLS.set() {
		bad("mqtt.tls", "is set but mqtt.url %q is plain MQTT: use ssl://host:8883", c.MQTT.URL)
	}
	if (c.MQTT.TLS.CertFile == "") != (c.MQTT.TLS.KeyFile == "") {
		bad("mqtt.tls", "cert_file and key_file go together: set both for a client certificate, or neither")
	}
	if c.MQTT.Username != "" && c.MQTT.EventsUsername == "" {
		bad("mqtt.events_username", "must be set when mqtt.username is: each of the two sessions needs an account of its own, because the broker makes the username the client id (use_username_as_clientid; chargewatch mqtt-auth makes both)")
	}
	if c.MQTT.EventsPasswordFile != "" && c.MQTT.EventsUsername == "" {
		bad("mqtt.events_password_file", "is set without mqtt.events_username")
	}
	if c.MQTT.PasswordFile != "" && c.MQTT.Username == "" {
		bad("mqtt.password_file", "is set without mqtt.username")
	}
	if (c.HTTP.TLS.CertFile == "") != (c.HTTP.TLS.KeyFile == "") {
		bad("http.tls", "cert_file and key_file go together: set both to serve HTTPS, or neither")
	}
	if u, err := url.Parse(c.InfluxDB.URL); err == nil && u.User != nil {
		bad("influxdb.url", "carries a user name or password: put the user in influxdb.username and the password in influxdb.password_file, never in the URL")
	} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("influxdb.url", "%q is not an InfluxDB URL: use http://host:8086", c.InfluxDB.URL)
	}
	if c.InfluxDB.Database == "" {
		bad("influxdb.database", "must be set")
	}
	if c.Ingest.TelemetryLogBytes < 16<<20 {
		bad("ingest.telemetry_log_bytes", "%d is too small: use at least 16MiB", c.Ingest.TelemetryLogBytes)
	}
	if c.Ingest.EventLogBytes < 16<<20 {
		bad("ingest.event_log_bytes", "%d is too small: use at least 16MiB", c.Ingest.EventLogBytes)
	}
	if c.Ingest.BatchPoints < 1 || c.Ingest.BatchPoints > 100000 {
		bad("ingest.batch_points", "%d is outside 1..100000", c.Ingest.BatchPoints)
	}
	if c.Ingest.BatchWait < 0 || c.Ingest.BatchWait > 10*time.Second {
		bad("ingest.batch_wait", "%s is outside 0..10s", c.Ingest.BatchWait)
	}
	if c.Ingest.MaxPast <= 0 || c.Ingest.MaxPast > 60*24*time.Hour {
		bad("ingest.max_past", "%s is outside 0..60 days", c.Ingest.MaxPast)
	}
	if c.Ingest.MaxFuture < 0 || c.Ingest.MaxFuture > 24*time.Hour {
		bad("ingest.max_future", "%s is outside 0..24h", c.Ingest.MaxFuture)
	}
	if c.RegistryPoll <= 0 {
		bad("registry_poll", "must be positive")
	}
	if c.Alerting.Synchronous != "NORMAL" && c.Alerting.Synchronous != "FULL" {
		bad("alerting.synchronous", "%q: use NORMAL or FULL", c.Alerting.Synchronous)
	}
	if c.Alerting.SnapshotInterval < time.Second {
		bad("alerting.snapshot_interval", "%s is too short: use at least 1s", c.Alerting.SnapshotInterval)
	}
	return errors.Join(errs...)
}

// CheckFiles checks the files the configuration names: secrets readable
// only by their owner, certificates and keys that load. check-config and
// New call it; every problem is reported, naming the key.
func (c *Config) CheckFiles() error {
	var errs []error
	for _, s := range []struct{ key, path string }{
		{"mqtt.password", c.MQTT.PasswordFile}, {"mqtt.events_password", c.MQTT.EventsPasswordFile},
		{"influxdb.password", c.InfluxDB.PasswordFile},
	} {
		if _, err := readSecret(s.key, s.path); err != nil {
			errs = append(errs, fmt.Errorf("  %w", err))
		}
	}
	if t := c.MQTT.TLS; t.set() {
		if _, err := tlsutil.NewClient(tlsutil.ClientFiles{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile}, nil); err != nil {
			errs = append(errs, fmt.Errorf("  mqtt.tls: %w", err))
		}
	}
	if t := c.HTTP.TLS; t.CertFile != "" {
		if _, err := tlsutil.LoadKeyPair(t.CertFile, t.KeyFile, nil); err != nil {
			errs = append(errs, fmt.Errorf("  http.tls: %w", err))
		}
	}
	return errors.Join(errs...)
}

// readSecret reads the secret of config key KEY_file from path, as
// notifier secrets are read: a regular file that only its owner may read
// (mode 0600 or 0400), surrounding white space trimmed. Errors name the key
// and the file, never the value. An empty path is no secret.
func readSecret(key, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	sec, err := notify.LoadSecret(key, "", path)
	if err != nil {
		return "", err
	}
	return sec.Reveal(), nil
}
